// SPDX-License-Identifier: GPL-2.0-only
// Per-task state: the call stack that matches entries with exits (nested GPUVM calls,
// lock calls inside lock calls, exits whose entry predates the trace), and the set of
// locks the task is known to hold or not to hold (§C.1, §C.3).
#pragma once

#include <cstdint>
#include <vector>

#include "decode/event.h"
#include "model/lifecycle.h"

namespace gvt::model {

// What an entry left for its exit (and for events nested inside the call).
struct Frame {
  Fn fn = Fn::unknown;
  uint64_t seq = 0;           // event sequence number of the entry
  uint64_t line = 0;
  uint64_t addr = 0;          // main pointer argument (vm_bo / gpuvm / lock / va)
  uint64_t vm_bo = 0;         // vm_bo the call is about (resolved at entry)
  uint32_t gen = 0;
  uint64_t vm = 0, obj = 0;
  uint64_t aux = 0;           // obtain: vm_bo created by a nested bo_create; lock: ctx
  uint64_t resv = 0;          // deferred_cleanup: VM resv
  int64_t bo_refcount = 0;
  int32_t refcount = 0;
  bool refcount_known = false;
  bool bo_refcount_known = false;
  K n_va_nonzero = K::unknown;
  K held_gpuva = K::unknown;   // at entry
  K held_vm_resv = K::unknown;
  K protected_vm = K::unknown;
  K gpuva_is_gem_mutex = K::unknown;
  bool put_locks_bad = false;      // put-final-unlocked decided at exit
  bool put_locks_unknown = false;
  const char* put_locks_why = nullptr;
  bool recursion_pending = false;  // gpuva-lock-recursion / deferred-cleanup-resv-held
  bool reported_uaf = false;       // one report per root cause (nested put)
  bool reported_double_put = false;
};

enum class LockState : uint8_t { not_held, held };

struct HeldLock {
  uint64_t addr = 0;
  uint64_t ts = 0;            // acquisition
  uint64_t line = 0;
  LockState state = LockState::not_held;
  bool acquired_observed = false;  // by a lock event of this task (not a snapshot)
  Fn fn = Fn::unknown;
};

class Task {
 public:
  static constexpr size_t kMaxDepth = 32;
  static constexpr size_t kMaxHeld = 64;    // locks a task holds at once (drm_exec: many)
  static constexpr size_t kNotHeld = 8;     // recent "does not hold" facts kept

  std::vector<Frame> stack;
  std::vector<HeldLock> locks;          // state == held
  HeldLock not_held[kNotHeld];          // state == not_held, replaced round-robin
  uint32_t not_held_next = 0;
  uint32_t comm = 0;
  const char* comm_ptr = nullptr;  // the reader's string last seen for this task
  size_t comm_len = 0;
  uint64_t ww_unlock_addr = 0;  // a mutex_unlock right after ww_mutex_unlock is nested
  bool ww_unlock_pending = false;

  Frame* top() { return stack.empty() ? nullptr : &stack.back(); }
  // Innermost open frame of `fn`, or nullptr.
  Frame* open(Fn fn);
  // Pushes (dropping the entry when the stack is implausibly deep).
  Frame* push(const Frame& f);
  // Pops the innermost frame of `fn` and everything above it (calls whose exit the
  // recorder never emits). False when no such frame is open.
  bool pop(Fn fn, Frame* out);

  // nullptr = nothing known about this lock for this task.
  HeldLock* lock(uint64_t addr);
  K held(uint64_t addr);
  // A fact about current and `addr`, from a snapshot or a lock event.
  HeldLock& set(uint64_t addr, LockState st);
  void forget_all();

 private:
  HeldLock& put(const HeldLock& l);
};

}  // namespace gvt::model
