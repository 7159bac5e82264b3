// SPDX-License-Identifier: GPL-2.0-only
// Public face of the lifecycle model and rule checker: a RecordSink that turns a
// stream of trace records into findings (lint, live) and per-event state changes
// (replay). Internals live in model/ (lifecycle.h: the state machine of spec §D;
// rules/: one unit per rule of rule_catalog.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

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

struct CheckerOptions {
  bool report_info = false;      // --info
  uint64_t idle_ns = 0;          // --idle for vm-bo-leak (0 = every idle vm_bo at end)
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

  // The stack record with this id, if seen (for printing findings).
  const StackRec* stack(uint64_t id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gvt
