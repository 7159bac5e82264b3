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
  index_.max_load_factor(0.8f);
}

Slot* LifecycleTable::find_slow(uint64_t addr) {
  auto it = index_.find(addr);
  if (it == index_.end()) return nullptr;
  Slot* s = &slot(it->second);
  cache_[cache_pos(addr)] = {addr, s};
  return s;
}

Slot& LifecycleTable::get_or_add(uint64_t addr) {
  // The same insertions and erasures, in the same order, as a map of whole slots had:
  // the table's iteration order (leak reports at the end) depends on them.
  auto [it, added] = index_.try_emplace(addr, 0);
  if (!added) return slot(it->second);
  uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    if (used_ / kChunk == chunks_.size()) {
      auto* p = static_cast<Slot*>(big_map(kHugePage));
      std::uninitialized_value_construct_n(p, kChunk);
      chunks_.emplace_back(p);
    }
    i = used_++;
  }
  it.value() = i;
  return slot(i);
}

void LifecycleTable::erase(BigMap<uint64_t, uint32_t, AddrHash>::iterator it) {
  if (auto& c = cache_[cache_pos(it->first)]; c.first == it->first) c = {0, nullptr};
  uint32_t i = it->second;
  slot(i) = Slot{};
  free_.push_back(i);
  index_.erase(it);
}

Slot& LifecycleTable::t1_create(uint64_t addr, const Attrs& a, const DeathInfo& now,
                                uint32_t* closed_gen) {
  *closed_gen = 0;
  Slot& t = get_or_add(addr);
  if (t.alive()) {
    if (t.gen != 0) {
      // §D.1: a create at a live address means its end was not observed.
      *closed_gen = t.gen;
      DeathInfo d = now;
      d.certain = false;
      destroy(addr, t, d, /*observed=*/false);
    }
  }
  t.gen++;
  t.st = Allocated{a};
  Attrs& na = std::get<Allocated>(t.st).a;
  if (!na.created.known()) na.created = now.who;
  if (!na.last_ref.known()) na.last_ref = na.created;
  ev_.lifecycle_started(addr, t);
  return t;
}

Slot& LifecycleTable::adopt(uint64_t addr, LifeState st, const Attrs& a, const DeathInfo& now) {
  Slot& t = get_or_add(addr);
  if (t.alive() && t.gen != 0) {
    DeathInfo d = now;
    d.certain = false;
    destroy(addr, t, d, /*observed=*/false);
  }
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
    auto it = index_.find(old_addr);
    if (it != index_.end() && old_addr != addr) {
      const Slot& o = slot(it->second);
      if (o.gen == old_gen && !o.alive()) erase(it);
    }
  }
}

}  // namespace gvt::model
