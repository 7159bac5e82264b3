// SPDX-License-Identifier: GPL-2.0-only
// What the checker reports: the findings stream of trace-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gvt {

enum class Severity : uint8_t { info = 0, warning = 1, error = 2 };
std::string_view severity_name(Severity s);

enum class FindingKind : uint8_t {
  violation,  // certain given the trace
  unknown,    // a rule applies but evidence is missing (lost events, partial history...)
  info,       // reported only with --info
};

// One event in the life of the vm_bo a finding is about: KASAN's "Allocated by task N"
// and "Freed by task M", with the task, time, trace line and stack of the call.
struct FindingWho {
  bool set = false;
  bool adopted = false;   // `created` only: first seen here, created before the trace
  uint64_t ts = 0;
  int32_t tid = 0;
  std::string comm;
  std::string_view fn;    // logical function name (static storage)
  uint64_t line = 0;      // 0 = none
  bool has_stack = false;
  uint64_t stack = 0;
};

// A lock relevant to a lock rule and who held it at the finding (lockdep's "held
// locks"), as far as the trace knows: lock events and held_* snapshots seen so far.
struct FindingLock {
  std::string_view name;  // "vm_resv", "bo_resv", "lock" or "held" (current's other locks)
  uint64_t addr = 0;
  struct Holder {
    int32_t tid = 0;
    std::string comm;
    uint64_t since_ts = 0;  // 0 = known held only from a snapshot
    uint64_t line = 0;
  };
  std::vector<Holder> holders;  // empty: no task the trace knows of held it
};

struct Finding {
  FindingKind kind = FindingKind::violation;
  std::string_view rule;  // stable rule ID of the rules catalogue (decode/model/rule_catalog.cpp) (static storage)
  Severity severity = Severity::error;
  uint64_t ts = 0;
  int32_t tid = 0;
  std::string comm;
  std::string_view fn;  // logical function name ("" when not at an event)
  uint64_t vm_bo = 0;   // 0 = not about one vm_bo
  uint32_t gen = 0;
  uint64_t vm = 0;
  uint64_t obj = 0;
  uint64_t line = 0;    // JSONL line of the triggering event (0 = none)
  std::string message;  // for violations and infos
  std::string reason;   // for unknowns: which evidence is missing
  bool has_stack = false;
  uint64_t stack = 0;   // id of a stack record
  bool incomplete_trace = false;  // rests on a trace with skipped lines (--keep-going)
  // Evidence (optional fields of the findings stream). Rules about a destroyed or
  // wrong generation, and the leak rules: the vm_bo's creation, its destruction, and
  // the last reference change before the finding. Lock rules: `locks`.
  FindingWho created;
  FindingWho destroyed;
  FindingWho last_ref;
  bool has_locks = false;
  std::vector<FindingLock> locks;
};

class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void on_finding(const Finding&) = 0;
};

}  // namespace gvt
