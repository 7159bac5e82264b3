// SPDX-License-Identifier: GPL-2.0-only
// Public face of the lifecycle model and rule checker: a RecordSink that turns a
// stream of trace records into findings (lint, live) and per-event state changes
// (replay). Internals live in model/ (lifecycle.h: the state machine of spec §D;
// rules/: one unit per rule of rule_catalog.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decode/event.h"
#include "decode/model/finding.h"

namespace gvt {

// Public lifecycle states (spec §D.2), for display.
enum class LifeState : uint8_t { none, allocated, registered, zombie, destroyed };
std::string_view life_state_name(LifeState s);

// One vm_bo lifecycle touched by an event, and what the event did to it.
struct Transition {
  uint64_t vm_bo = 0;
  uint32_t gen = 0;
  LifeState from = LifeState::none;
  LifeState to = LifeState::none;
  bool adopted = false;     // this event created an adopted generation (§D.7)
  std::string note;         // short human text: "ref +1", "n_va 1", "extobj", ...
};

// Replay's view: called once per event after the model applied it, with the
// lifecycles it touched (possibly none: lock events, VM events).
class TransitionObserver {
 public:
  virtual ~TransitionObserver() = default;
  virtual void on_applied(const Event& e, std::span<const Transition> touched) = 0;
  // A lifecycle ended (DESTROYED, or closed as destroyed-unobserved).
  virtual void on_closed(uint64_t /*vm_bo*/, uint32_t /*gen*/) {}
};

// Which findings are reported (lint/replay --rule and --vm, live --tid and --vm). A
// filter never changes what the model sees: every event still updates it (another
// task's lock events, another VM's puts, the create of a vm_bo a selected task later
// puts), so no finding appears or changes verdict because of a filter. It only decides
// which findings reach the sink and the summary's counts (and so the exit status);
// the others are counted in Summary::hidden.
struct FindingFilter {
  std::vector<std::string_view> rules;  // rule IDs of the catalogue (static storage); empty: all
  std::optional<uint64_t> vm;           // only findings about this VM (its address)
  // Only findings raised at an event of one of these tasks; a finding raised at the end
  // of the trace (no task: the leak rules) is selected by the task that created the vm_bo.
  std::vector<int32_t> tids;
  bool active() const { return !rules.empty() || vm.has_value() || !tids.empty(); }
  bool selects(const Finding& f) const;
};

struct CheckerOptions {
  bool report_info = false;      // --info
  uint64_t idle_ns = 0;          // --idle for vm-bo-leak (0 = every idle vm_bo at end)
  FindingFilter filter;
  // --stats: collect TraceStats (off by default: the per-event cost is one counter, but
  // the lifetime bookkeeping touches every lifecycle end).
  bool stats = false;
  size_t stats_top = 10;
  // Apply the trace header's "filter" (record --tid/--vm, decode/header_filter.h) when
  // `filter` is empty; Summary::recorded_filter then says which.
  bool recorded_filter = false;         // how many of the longest lifetimes TraceStats keeps
};

// What `--stats` prints: where the events went, what was found, and the vm_bos that
// lived longest. Collected while the trace is read; memory O(VMs + rules + stats_top).
struct TraceStats {
  // Events per logical function and phase ([fn][0] entries, [fn][1] exits).
  std::array<std::array<uint64_t, 2>, static_cast<size_t>(Fn::count_)> fn_events{};
  // Reported findings (after the filter) per rule, by verdict and severity.
  struct RuleCounts {
    uint64_t errors = 0, warnings = 0, unknown = 0, infos = 0;
  };
  std::vector<std::pair<std::string_view, RuleCounts>> rules;  // sorted by rule ID
  // vm_bo lifecycles (generations) per VM address, counted when they end or at the end
  // of the trace; vm 0: the lifecycle's VM was never seen.
  struct VmCounts {
    uint64_t vm = 0;
    uint64_t vm_bos = 0;
    uint64_t live_at_end = 0;
  };
  std::vector<VmCounts> vms;  // most vm_bos first
  // One lifetime: from its creation (or first sight, `adopted`: created before the
  // trace, so the duration is a lower bound) to its observed destruction (or the last
  // event of the trace, `open`: still alive, a lower bound too). Lifecycles whose end was
  // not observed (an address reused without its destruction in the trace) are left out:
  // their duration is not known.
  struct Lifetime {
    uint64_t vm_bo = 0, vm = 0, obj = 0;
    uint32_t gen = 0;
    uint64_t created_ts = 0, end_ts = 0;
    int32_t created_tid = 0, end_tid = 0;
    bool adopted = false, open = false;
    uint64_t duration() const { return end_ts >= created_ts ? end_ts - created_ts : 0; }
  };
  std::vector<Lifetime> longest;  // longest first, at most CheckerOptions::stats_top
};

struct Summary {
  uint64_t events = 0;
  uint64_t vm_bos = 0;           // lifecycles seen (generations)
  uint64_t violations = 0;
  uint64_t errors = 0;
  uint64_t warnings = 0;
  uint64_t infos = 0;
  uint64_t unknown = 0;
  uint64_t lost = 0;             // events lost (sum of lost records)
  uint64_t skipped_lines = 0;    // --keep-going
  uint64_t unknown_records = 0;  // records of unknown type
  uint64_t unknown_fn = 0;       // events naming a function this version does not know
  uint64_t unmatched_exits = 0;  // exits whose entry was not seen (mid-flight start)
  bool footer = false;
  uint64_t damaged = 0;          // --salvage: damaged .gvt regions skipped (set by the reader's caller)
  bool filtered = false;         // a FindingFilter was active: the counts above are of selected findings
  uint64_t hidden = 0;           // findings the filter did not select
  std::string recorded_filter;   // the header's filter, when applied ("--tid 151 ...")
};

class Checker : public RecordSink {
 public:
  Checker(CheckerOptions opts, FindingSink& findings, TransitionObserver* observer = nullptr);
  ~Checker() override;
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  void on_header(const Header&) override;
  void on_event(const Event&) override;
  void on_lost(const Lost&) override;
  void on_stack(const StackRec&) override;
  void on_footer(const Footer&) override;
  void on_opaque(const Opaque&) override;
  void on_skipped(uint64_t line, std::string_view why) override;

  // End of trace: end-of-trace rules (vm-bo-leak, deferred-never-cleaned info).
  void finish();
  const Summary& summary() const;

  // --stats (CheckerOptions::stats): complete after finish(); nullptr when not collected.
  const TraceStats* stats() const;

  // The stack record with this id, if seen (for printing findings).
  const StackRec* stack(uint64_t id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gvt
