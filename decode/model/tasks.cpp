// SPDX-License-Identifier: GPL-2.0-only
#include "decode/model/tasks.h"


namespace gvt::model {

Frame* Task::open(Fn fn) {
  for (size_t i = stack.size(); i-- > 0;)
    if (stack[i].fn == fn) return &stack[i];
  return nullptr;
}

HeldLock& Task::change(HeldLock* l, uint64_t addr, LockState st) {
  if (l) {
    // Move the fact to the other set.
    HeldLock moved = *l;
    if (l->state == LockState::held) {
      locks.erase(locks.begin() + (l - locks.data()));
    } else {
      l->addr = 0;
    }
    moved.state = st;
    moved.acquired_observed = false;
    return put(moved);
  }
  HeldLock n;
  n.addr = addr;
  n.state = st;
  return put(n);
}

HeldLock& Task::put(const HeldLock& l) {
  if (l.state == LockState::held) {
    // Beyond the cap the oldest fact is forgotten: later answers about it are unknown.
    if (locks.size() >= kMaxHeld) locks.erase(locks.begin());
    locks.push_back(l);
    return locks.back();
  }
  HeldLock& slot = not_held[not_held_next];
  not_held_next = (not_held_next + 1) % kNotHeld;
  slot = l;
  return slot;
}

void Task::forget_all() {
  locks.clear();
  for (auto& l : not_held) l = HeldLock{};
}

}  // namespace gvt::model
