// SPDX-License-Identifier: GPL-2.0-only
// lock-unbalanced (rule_catalog.cpp): ww lock misuse — unlock by a non-owner, NULL-context
// recursion, and a lock acquired during a syscall still held on return to user space.
// Evaluated only with evidence: the `held` snapshot of the lock call, or this task's own
// observed lock events since the trace started (or since the last loss).
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

void lock_unbalanced_unlock(Model& m, const Event& e, Task& t) {
  if (!e.has(A_LOCK)) return;
  uint64_t lock = e.get(A_LOCK);
  Tri held = unknown_if_absent(e.tri(S_HELD));
  bool from_snapshot = held != Tri::unknown;
  if (!from_snapshot) held = m.task_held(t, lock);
  if (held != Tri::no) return;
  m.violation(id::lock_unbalanced, Severity::error, e, Subject{},
              fmt::format("ww_mutex_unlock of {} by tid {} ({}) which does not own it ({}): double unlock or "
                          "unlock by another task",
                          hex(lock), e.tid, e.comm,
                          from_snapshot ? "the owner word names another task or none"
                                        : "this task already released it"));
}

void lock_unbalanced_lock(Model& m, const Event& e, Task& t) {
  if (!e.has(A_LOCK) || !e.has(A_CTX) || e.get(A_CTX) != 0) return;
  uint64_t lock = e.get(A_LOCK);
  Tri held = unknown_if_absent(e.tri(S_HELD));
  if (held == Tri::unknown) held = m.task_held(t, lock);
  if (held != Tri::yes) return;
  m.violation(id::lock_unbalanced, Severity::error, e, Subject{},
              fmt::format("{} with a NULL acquire context on {} which tid {} ({}) already owns: self-deadlock "
                          "(recursive locking)",
                          fn_name(e.fn), hex(lock), e.tid, e.comm));
}

void lock_unbalanced_sys_exit(Model& m, const Event& e, Task& t) {
  for (HeldLock& l : t.locks) {
    if (l.state != LockState::held || !l.acquired_observed) continue;
    l.acquired_observed = false;  // one report per acquisition
    if (!m.locks_complete) {
      // The release may have gone through a path that was not probed.
      m.unknown(id::lock_unbalanced, Severity::error, e, Subject{},
                fmt::format("{} acquired during this syscall looks still held, but lock coverage is not complete",
                            hex(l.addr)));
      continue;
    }
    m.violation(id::lock_unbalanced, Severity::error, e, Subject{},
                fmt::format("tid {} ({}) returns to user space holding {} acquired by {} at ts {}{} during "
                            "this syscall",
                            e.tid, e.comm, hex(l.addr), fn_name(l.fn), l.ts,
                            l.line ? fmt::format(" (line {})", l.line) : std::string()));
  }
}

}  // namespace gvt::model::rules
