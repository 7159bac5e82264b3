// SPDX-License-Identifier: GPL-2.0-only
// ww_mutex_* and mutex_* (§C.1) and the return to user space: the per-task held-lock
// sets every lock rule reads.
#include "decode/model/handlers/family.h"

namespace gvt::model::handlers {

namespace {

void acquire(Task& t, uint64_t lock, const Event& e) {
  if (!lock) return;
  HeldLock& l = t.set(lock, LockState::held);
  l.acquired_observed = true;
  l.ts = e.ts;
  l.line = e.line;
  l.fn = e.fn;
}

}  // namespace

bool nested_in_ww(Task& t, const Event& e) {
  Frame* top = t.top();
  if (top && (is_ww_lock(top->fn) || top->fn == Fn::ww_mutex_trylock)) return true;
  return t.ww_unlock_pending && e.has(A_LOCK) && e.get(A_LOCK) == t.ww_unlock_addr;
}

bool ww_lock_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.addr = arg(e, A_LOCK);
  f.aux = arg(e, A_CTX);
  Frame* outer = t.top();
  bool replaced = outer && outer->fn == Fn::bo_deferred_cleanup &&
                  rules::deferred_cleanup_resv_held(m, e, t, *outer);
  // The rule looks only at NULL-context locks (its own first test): the usual
  // ww lock with a context makes no call.
  if (!replaced && e.has(A_CTX) && e.get(A_CTX) == 0) rules::lock_unbalanced_lock(m, e, t);
  return true;
}

bool ww_trylock_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.addr = arg(e, A_LOCK);
  return true;
}

bool ww_unlock_entry(Model& m, const Event& e, Task& t, Frame& f) {
  rules::lock_unbalanced_unlock(m, e, t);
  uint64_t lock = arg(e, A_LOCK);
  // An unlock by a non-owner still frees the mutex: its owner no longer holds it.
  if (lock && t.held(lock) != Tri::yes)
    for (auto it = m.tasks.begin(); it != m.tasks.end(); ++it)
      if (HeldLock* l = it.value().lock(lock); l && l->state == LockState::held)
        it.value().set(lock, LockState::not_held);
  if (lock) t.set(lock, LockState::not_held);
  t.ww_unlock_pending = true;
  t.ww_unlock_addr = lock;
  return false;
}

bool mutex_lock_entry(Model& m, const Event& e, Task& t, Frame& f) {
  if (nested_in_ww(t, e)) return false;
  f.addr = arg(e, A_LOCK);
  Frame* outer = t.top();
  if (outer && outer->fn == Fn::bo_put_deferred) rules::gpuva_lock_recursion_nested(m, e, t, *outer);
  return true;
}

bool mutex_trylock_entry(Model& m, const Event& e, Task& t, Frame& f) {
  if (nested_in_ww(t, e)) return false;
  f.addr = arg(e, A_LOCK);
  return true;
}

bool mutex_unlock_entry(Model& m, const Event& e, Task& t, Frame& f) {
  if (nested_in_ww(t, e)) return false;
  if (uint64_t lock = arg(e, A_LOCK)) t.set(lock, LockState::not_held);
  return false;
}

bool sys_exit_entry(Model& m, const Event& e, Task& t, Frame& f) {
  rules::lock_unbalanced_sys_exit(m, e, t);
  return false;
}

void lock_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  uint64_t lock = arg(e, A_LOCK);
  if (!lock && matched) lock = f.addr;
  if (!lock) return;
  switch (e.fn) {
    case Fn::ww_mutex_lock:
    case Fn::ww_mutex_lock_interruptible: {
      if (!e.has(RET)) return;
      int64_t r = e.ret_int();
      if (r == 0) acquire(t, lock, e);
      else if (r == kEALREADY) t.set(lock, LockState::held);
      else t.set(lock, LockState::not_held);  // -EDEADLK / -EINTR: not acquired
      return;
    }
    case Fn::ww_mutex_trylock:
    case Fn::mutex_trylock:
      if (e.has(RET) && e.ret_int() > 0) acquire(t, lock, e);
      return;
    case Fn::mutex_lock:
      acquire(t, lock, e);
      return;
    case Fn::mutex_lock_interruptible:
    case Fn::mutex_lock_killable:
      if (!e.has(RET) || e.ret_int() == 0) acquire(t, lock, e);
      else t.set(lock, LockState::not_held);
      return;
    default:
      return;
  }
}

}  // namespace gvt::model::handlers
