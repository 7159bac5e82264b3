// SPDX-License-Identifier: GPL-2.0-only
// Steps every handler family shares: taking in a snapshot, resolving the lifecycle an
// event is about, filling the frame its exit reads.
#include "decode/model/handlers/family.h"

namespace gvt::model::handlers {

// A live lifecycle takes what the snapshot says (refcount is never reconstructed).
void absorb(Model& m, Slot& s, const Event& e) {
  Attrs* a = s.attrs();
  if (!a) return;
  a->last_ts = e.ts;
  if (!a->vm && e.has(S_VM)) {
    a->vm = e.get(S_VM);
    VmState& v = m.vm(a->vm);
    a->vm_gen = v.gen;
    v.live_gens++;
  }
  if (!a->obj && e.has(S_OBJ)) a->obj = e.get(S_OBJ);
  if (e.has(S_BO_RESV)) a->bo_resv = e.get(S_BO_RESV);
  uint64_t vr = arg(e, S_VM_RESV);
  if (!vr && a->vm)
    if (VmState* v = m.vm_if(a->vm)) vr = v->resv;
  if (a->bo_resv && vr) a->external = tri_of(a->bo_resv != vr);
  if (e.has(S_REFCOUNT)) {
    a->refcount = static_cast<int32_t>(e.sget(S_REFCOUNT));
    a->refcount_known = true;
  }
  // A live vm_bo never leaves the extobj list: a "no" read after a "yes" is a snapshot
  // taken before another CPU's extobj_add (cross-CPU reordering), not a removal.
  if (is_present(e.tri(S_ON_EXTOBJ)) && a->extobj != Tri::yes) a->extobj = unknown_if_absent(e.tri(S_ON_EXTOBJ));
  if (is_present(e.tri(S_EVICTED))) a->evicted = unknown_if_absent(e.tri(S_EVICTED));
  if (is_present(e.tri(S_ON_EVICT))) a->on_evict = unknown_if_absent(e.tri(S_ON_EVICT));
}

// Snapshot facts about current's locks feed the held sets (§C.3): this is how locks
// taken before the trace started become known.
void seed_holds(Model& m, const Event& e, Task& t, uint64_t vm, const Attrs* a) {
  Tri hv = e.tri(S_HELD_VM_RESV);
  if (is_known(hv)) {
    uint64_t addr = arg(e, S_VM_RESV);
    if (!addr)
      if (VmState* v = m.vm_if(vm)) addr = v->resv;
    if (addr) t.set(addr, is_yes(hv) ? LockState::held : LockState::not_held);
  }
  Tri hb = e.tri(S_HELD_BO_RESV);
  if (is_known(hb)) {
    uint64_t addr = arg(e, S_BO_RESV, a ? a->bo_resv : 0);
    if (addr) t.set(addr, is_yes(hb) ? LockState::held : LockState::not_held);
  }
}

Slot* live_for(Model& m, uint64_t addr, const Event& e, const Task& t, uint64_t vm, uint64_t obj) {
  Slot* s = latest(m, addr);
  if (!s) return m.slot_for(addr, e, t, vm, obj);
  if (other_identity(m, *s, e)) {
    // In-stream proof of missed events, like a create returning a live address: the
    // kernel's snapshot names another GEM or VM than the generation the model holds
    // there, so that one ended unseen and the slab gave its memory to a new vm_bo.
    LifeState from = s->life();
    bool sure = true;
    LifeState st = m.adopted_state(e, &sure);
    Attrs a = m.attrs_from_snapshot(e, vm, obj);
    a.origin = Origin::adopted;
    m.lost_epoch++;
    a.sync_epoch = sure ? m.lost_epoch : m.lost_epoch - 1;
    m.table.adopt(addr, st, a, m.death(e, t, false));
    s = latest(m, addr);
    m.note(addr, *s, from, "new gen (snapshot names another GEM/VM)", true);
    return s;
  }
  m.resync(*s, e);
  return s;
}

bool other_identity(const Model& m, const Slot& s, const Event& e) {
  const Attrs* a = s.attrs();
  if (!a || !m.uncertain(*a)) return false;  // fully observed: the model knows better
  if (a->obj && e.has(S_OBJ) && e.get(S_OBJ) && e.get(S_OBJ) != a->obj) return true;
  return a->vm && e.has(S_VM) && e.get(S_VM) && e.get(S_VM) != a->vm;
}

void fill_frame(Frame& f, uint64_t addr, const Slot* s, uint64_t vm) {
  f.vm_bo = addr;
  f.vm = vm;
  if (!s) return;
  f.gen = s->gen;
  if (const Attrs* a = s->attrs()) {
    f.obj = a->obj;
    if (!f.vm) f.vm = a->vm;
  } else if (const Destroyed* d = s->dead()) {
    f.obj = d->obj;
    if (!f.vm) f.vm = d->vm;
  }
}

// The event acts on the live generation `s`: take in its snapshot and its VM, and point
// the rules' view `o` at them.
void take_live(Model& m, const Event& e, Task& t, On& o, Slot* s) {
  absorb(m, *s, e);
  o.s = s;
  o.vm = m.event_vm(e, s->attrs());
  absorb_vm(m, e, o.vm);
  seed_holds(m, e, t, o.vm, s->attrs());
}

// Entry of a call on one vm_bo that is not a put: extobj_add, evict, link,
// unmap_ops_create, obtain_prealloc. Returns the slot (nullptr when the generation is
// dead: use-after-free was judged and the model leaves it alone). Either way `o` is
// set up for the snapshot-only rules, which the caller evaluates too: one report per
// rule the call breaks (§E.1), a use-after-free does not hide the missing lock.
Slot* vm_bo_entry(Model& m, const Event& e, Task& t, Frame& f, On& o) {
  uint64_t addr = arg(e, A_VM_BO);
  o.addr = addr;
  o.vm = m.event_vm(e, nullptr);
  if (!addr) return nullptr;
  Slot* s = latest(m, addr);
  o.s = s;
  if (s) {
    o.vm = m.event_vm(e, s->attrs());
    if (!s->alive() || (e.fn == Fn::va_link && std::holds_alternative<Zombie>(s->st))) {
      if (!o.vm)
        if (const Destroyed* d = s->dead()) o.vm = d->vm;
      rules::use_after_free(m, o);
      f.reported_uaf = true;
      rules::refcount_saturated(m, o);
      // The lock rules read what current holds from this entry's snapshot.
      seed_holds(m, e, t, o.vm, nullptr);
      fill_frame(f, addr, s, o.vm);
      return nullptr;
    }
  }
  s = live_for(m, addr, e, t);
  take_live(m, e, t, o, s);
  rules::refcount_saturated(m, o);
  fill_frame(f, addr, s, o.vm);
  return s;
}

void make_zombie(Model& m, uint64_t addr, Slot& s, LifeState from) {
  Attrs* a = s.attrs();
  if (a && a->vm) {
    if (a->indexed) {
      auto it = m.registered.find({a->vm, a->obj});
      if (it != m.registered.end() && it->second == addr) m.registered.erase(it);
      a->indexed = false;
    }
    m.vm(a->vm).zombies.emplace_back(addr, s.gen);
  }
  if (a && a->in_suspects) {
    m.extobj_suspects.erase(addr);
    a->in_suspects = false;
  }
  LifecycleTable::t11_zombie(s, m.seq, m.who_now());  // T11
  m.note(addr, s, from, "zombie");
}

void destroy_final(Model& m, const Event& e, const Task& t, uint64_t addr, LifeState from, std::string_view what) {
  Slot* s = latest(m, addr);
  Attrs* a = s->attrs();
  bool certain = a && !m.uncertain(*a);
  m.table.destroy(addr, *s, m.death(e, t, certain));
  if (Slot* q = latest(m, addr)) m.note(addr, *q, from, what);
}

}  // namespace gvt::model::handlers
