// SPDX-License-Identifier: GPL-2.0-only
#include "decode/model/lifecycle.h"

#include <string_view>

namespace gvt {

std::string_view life_state_name(LifeState s) {
  switch (s) {
    case LifeState::none: return "none";
    case LifeState::allocated: return "ALLOCATED";
    case LifeState::registered: return "REGISTERED";
    case LifeState::zombie: return "ZOMBIE";
    case LifeState::destroyed: return "DESTROYED";
  }
  return "none";
}

}  // namespace gvt

namespace gvt::model {

LifecycleTable::LifecycleTable(LifecycleEvents& ev, size_t cap) : ev_(ev), cap_(cap) {
  map_.max_load_factor(0.8f);
}

Slot* LifecycleTable::find(uint64_t addr) {
  // Consecutive events mostly name the same vm_bo: one remembered lookup.
  if (addr == last_addr_ && last_) return last_;
  auto it = map_.find(addr);
  if (it == map_.end()) return nullptr;
  last_addr_ = addr;
  last_ = &it.value();
  return last_;
}

Slot& LifecycleTable::t1_create(uint64_t addr, const Attrs& a, const DeathInfo& now,
                                uint32_t* closed_gen) {
  *closed_gen = 0;
  last_ = nullptr;
  Slot& s = map_[addr];
  if (s.alive()) {
    if (s.gen != 0) {
      // §D.1: a create at a live address means its end was not observed.
      *closed_gen = s.gen;
      DeathInfo d = now;
      d.certain = false;
      destroy(addr, s, d, /*observed=*/false);
    }
  }
  Slot& t = map_[addr];
  t.gen++;
  t.st = Allocated{a};
  Attrs& na = std::get<Allocated>(t.st).a;
  if (!na.created.known()) na.created = now.who;
  if (!na.last_ref.known()) na.last_ref = na.created;
  ev_.lifecycle_started(addr, t);
  return t;
}

Slot& LifecycleTable::adopt(uint64_t addr, LifeState st, const Attrs& a, const DeathInfo& now) {
  last_ = nullptr;
  Slot& s = map_[addr];
  if (s.alive() && s.gen != 0) {
    DeathInfo d = now;
    d.certain = false;
    destroy(addr, s, d, /*observed=*/false);
  }
  Slot& t = map_[addr];
  t.gen++;
  switch (st) {
    case LifeState::registered: t.st = Registered{a}; break;
    case LifeState::zombie: t.st = Zombie{a, 0}; break;
    default: t.st = Allocated{a}; break;
  }
  if (Attrs* na = t.attrs(); na && !na->created.known()) {
    na->created = now.who;
    na->created.adopted = 1;
    na->last_ref = na->created;
  }
  ev_.lifecycle_started(addr, t);
  return t;
}

void LifecycleTable::t2_register(Slot& s) {
  if (auto* p = std::get_if<Allocated>(&s.st)) {
    Attrs a = p->a;
    s.st = Registered{a};
  }
}

void LifecycleTable::t2b_ref_gain(Slot& s, uint64_t seq, const Who& by) {
  if (Attrs* a = s.attrs()) {
    a->last_ref = by;
    a->gain_seq = seq;
    if (a->refcount_known) a->refcount++;
  }
}

void LifecycleTable::t6_extobj(Slot& s, Tri on_extobj) {
  if (Attrs* a = s.attrs()) a->extobj = on_extobj;
}

void LifecycleTable::t7_evict(Slot& s, Tri evict, Tri on_evict) {
  if (Attrs* a = s.attrs()) {
    a->evicted = evict;
    a->on_evict = on_evict;
  }
}

void LifecycleTable::t8_link(Slot& s, uint64_t seq, const Who& by) {
  if (Attrs* a = s.attrs()) {
    a->last_ref = by;
    a->n_va++;
    a->gain_seq = seq;
    if (a->refcount_known) a->refcount++;
  }
}

void LifecycleTable::t9_unlink(Slot& s) {
  if (Attrs* a = s.attrs()) {
    if (a->n_va > 0) a->n_va--;
  }
}

void LifecycleTable::t10_ref_drop(Slot& s, uint64_t seq, const Who& by) {
  if (Attrs* a = s.attrs()) {
    a->last_ref = by;
    a->drop_seq = seq;
    if (a->refcount_known) a->refcount--;
  }
}

void LifecycleTable::t11_zombie(Slot& s, uint64_t seq, const Who& by) {
  if (Attrs* a = s.attrs()) {
    Attrs frozen = *a;
    frozen.last_ref = by;
    frozen.refcount = 0;
    frozen.refcount_known = true;
    s.st = Zombie{frozen, seq};
  }
}

void LifecycleTable::destroy(uint64_t addr, Slot& s, const DeathInfo& d, bool observed) {
  const Attrs* a = s.attrs();
  if (!a) return;
  Destroyed t;
  t.ts = d.ts;
  t.vm = a->vm;
  t.obj = a->obj;
  t.epoch = d.epoch;
  t.line = d.line;
  t.tid = d.tid;
  t.comm = d.comm;
  t.observed = observed;
  t.certain = d.certain && observed;
  t.created = a->created;
  t.by = d.who;
  Attrs copy = *a;
  uint32_t gen = s.gen;
  s.st = t;
  ev_.lifecycle_ended(addr, gen, copy);
  // Bound the tombstones: drop the oldest one still in place.
  if (ring_.size() < cap_) {
    ring_.emplace_back(addr, gen);
  } else {
    auto [old_addr, old_gen] = ring_[ring_head_];
    ring_[ring_head_] = {addr, gen};
    ring_head_ = (ring_head_ + 1) % cap_;
    auto it = map_.find(old_addr);
    if (it != map_.end() && it->second.gen == old_gen && !it->second.alive() &&
        old_addr != addr) {
      map_.erase(it);  // moves other entries: callers re-find their slot after destroy()
      last_ = nullptr;
    }
  }
}

}  // namespace gvt::model
