// SPDX-License-Identifier: GPL-2.0-only
// --stats bookkeeping of the checker (TraceStats of checker.h). Internal to the model.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include <tsl/robin_map.h>

#include "decode/event.h"
#include "decode/model/checker.h"
#include "decode/model/lifecycle.h"

namespace gvt::model {

class StatsCollector {
 public:
  explicit StatsCollector(size_t top) : top_(top) {}

  void event(const Event& e) {
    size_t fn = e.fn < Fn::count_ ? static_cast<size_t>(e.fn) : 0;
    out_.fn_events[fn][e.phase == Phase::exit ? 1 : 0]++;
  }
  void finding(const Finding& f);
  // A lifecycle ended: `d` is its tombstone (observed or not).
  void ended(uint64_t addr, uint32_t gen, const Attrs& a, const Destroyed& d);
  // End of trace: counts the lifecycles still alive (open lifetimes end at `last_ts`)
  // and orders the results.
  void finish(LifecycleTable& table, uint64_t last_ts);
  const TraceStats& stats() const { return out_; }

 private:
  void consider(const TraceStats::Lifetime& l);

  size_t top_;
  TraceStats out_;
  tsl::robin_map<uint64_t, TraceStats::VmCounts, AddrHash> vms_;
  std::map<std::string_view, TraceStats::RuleCounts> rules_;
  std::vector<TraceStats::Lifetime> heap_;  // min-heap on duration: the shortest kept is on top
};

}  // namespace gvt::model
