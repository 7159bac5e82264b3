// SPDX-License-Identifier: GPL-2.0-only
// Per-task state: the call stack that matches entries with exits (nested GPUVM calls,
// lock calls inside lock calls, exits whose entry predates the trace), and the set of
// locks the task is known to hold or not to hold (§C.1, §C.3).
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "decode/event.h"
#include "decode/model/lifecycle.h"

namespace gvt::model {

// What an entry left for its exit (and for events nested inside the call).
struct Frame {
  Fn fn = Fn::unknown;
  uint64_t seq = 0;           // event sequence number of the entry
  uint64_t line = 0;
  uint64_t stack = 0;         // the entry's stack record: it has the probed function's frame
  bool has_stack = false;
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
  Tri n_va_nonzero = Tri::unknown;
  Tri held_gpuva = Tri::unknown;   // at entry
  Tri held_vm_resv = Tri::unknown;
  Tri protected_vm = Tri::unknown;
  Tri gpuva_is_gem_mutex = Tri::unknown;
  bool put_locks_bad = false;      // put-final-unlocked decided at exit
  bool put_locks_unknown = false;
  const char* put_locks_why = nullptr;
  bool recursion_pending = false;  // gpuva-lock-recursion / deferred-cleanup-resv-held
  bool reported_uaf = false;       // one report per root cause (nested put)
  bool reported_double_put = false;
  bool nested_put = false;         // va_unlink: a bo_put event on its vm_bo came inside it
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

// The open calls of one task, innermost last. Unlike a std::vector, storage beyond
// size() stays in place: an entry builds its frame where it will live (prepare, then
// commit) and an exit reads the frame it popped where it lies, which saves copying a
// Frame twice per call. A popped frame stays valid until the next prepare().
static_assert(std::is_trivially_destructible_v<Frame>);

class FrameStack {
 public:
  static constexpr size_t kMaxDepth = 32;

  bool empty() const { return n_ == 0; }
  size_t size() const { return n_; }
  Frame* begin() { return buf_.data(); }
  Frame* end() { return buf_.data() + n_; }
  const Frame* begin() const { return buf_.data(); }
  const Frame* end() const { return buf_.data() + n_; }
  Frame& back() { return buf_[n_ - 1]; }
  Frame& operator[](size_t i) { return buf_[i]; }
  void clear() { n_ = 0; }
  void reserve(size_t n) { buf_.reserve(n); }

  // A fresh (default) frame just above the top, not yet on the stack: top() and
  // open() do not see it. When the stack is implausibly deep the entry is dropped and
  // `scratch` (the caller's, so that no task carries a spare Frame) is used instead.
  Frame& prepare(Frame& scratch) {
    if (n_ < buf_.size()) {
      // Frame is trivially destructible: re-constructing in place writes the defaults
      // directly instead of building a temporary and copying it.
      return *std::construct_at(&buf_[n_]);
    }
    if (n_ < kMaxDepth) return buf_.emplace_back();
    return *std::construct_at(&scratch);
  }
  // Puts the prepared frame on the stack.
  void commit() {
    if (n_ < buf_.size()) ++n_;
  }
  // Pops the innermost frame of `fn` and everything above it; the popped frame is
  // returned in place (valid until the next prepare()), nullptr when none is open.
  Frame* pop(Fn fn) {
    for (size_t i = n_; i-- > 0;) {
      if (buf_[i].fn == fn) {
        n_ = i;
        return &buf_[i];
      }
    }
    return nullptr;
  }

 private:
  std::vector<Frame> buf_;  // grows to the deepest nesting seen, never shrinks
  size_t n_ = 0;
};

class Task {
 public:
  static constexpr size_t kMaxDepth = FrameStack::kMaxDepth;
  static constexpr size_t kMaxHeld = 64;    // locks a task holds at once (drm_exec: many)
  static constexpr size_t kNotHeld = 8;     // recent "does not hold" facts kept

  FrameStack stack;
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
  // Pops the innermost frame of `fn` and everything above it (calls whose exit the
  // recorder never emits). nullptr when no such frame is open; else the frame, valid
  // until the next stack.prepare().
  Frame* pop(Fn fn) { return stack.pop(fn); }

  // Inline (lock, held, set's no-change case): every lock event and most vm_bo
  // snapshots ask these, and under QEMU/TCG, where the live consumer runs in the
  // guest tests and benches, each call and return is a costly indirect jump.
  // nullptr = nothing known about this lock for this task.
  HeldLock* lock(uint64_t addr) {
    for (auto& l : locks)
      if (l.addr == addr) return &l;
    for (auto& l : not_held)
      if (l.addr == addr) return &l;
    return nullptr;
  }
  Tri held(uint64_t addr) {
    if (addr == 0) return Tri::unknown;
    HeldLock* l = lock(addr);
    if (!l) return Tri::unknown;
    return tri_of(l->state == LockState::held);
  }
  // A fact about current and `addr`, from a snapshot or a lock event.
  HeldLock& set(uint64_t addr, LockState st) {
    HeldLock* l = lock(addr);
    if (l && l->state == st) return *l;
    return change(l, addr, st);
  }
  void forget_all();

 private:
  // set() when the fact is new or flips; `l` is lock(addr).
  HeldLock& change(HeldLock* l, uint64_t addr, LockState st);
  HeldLock& put(const HeldLock& l);
};

}  // namespace gvt::model
