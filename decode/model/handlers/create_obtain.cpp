// SPDX-License-Identifier: GPL-2.0-only
// drm_gpuvm_bo_create, _obtain, _obtain_locked, _obtain_prealloc and _find: how a
// vm_bo lifecycle starts (T1) and gains references (T2..T5).
#include "decode/model/handlers/family.h"

namespace gvt::model::handlers {

namespace {

// A vm_bo returned by obtain*/find: T2, T2', T3 (found side of T4), T5.
Slot* returned_registered(Model& m, const Event& e, const Task& t, uint64_t p, const Frame& f, bool* newly) {
  *newly = false;
  Slot* s = latest(m, p);
  if (!s) {
    Attrs a = m.attrs_from_snapshot(e, f.vm, f.obj);
    a.origin = Origin::adopted;
    m.table.adopt(p, LifeState::registered, a, m.death(e, t));
    s = latest(m, p);
    m.note(p, *s, LifeState::none, "adopted", true);
    return s;
  }
  if (!s->alive() || std::holds_alternative<Zombie>(s->st)) {
    // evidence in rule_catalog.cpp: its create was not seen; coverage is partial from here on.
    LifeState from = s->life();
    Attrs a = m.attrs_from_snapshot(e, f.vm, f.obj);
    a.origin = Origin::adopted;
    m.table.adopt(p, LifeState::registered, a, m.death(e, t, false));
    m.put_coverage_broken = true;
    s = latest(m, p);
    m.note(p, *s, from, "new gen (create unobserved)", true);
    *newly = true;
    return s;
  }
  LifeState from = s->life();
  if (from == LifeState::allocated) {
    LifecycleTable::t2_register(*s);  // T2 / T3
    *newly = true;
    m.note(p, *s, from, "registered");
  } else {
    LifecycleTable::t2b_ref_gain(*s, m.seq, m.who(e, t));  // T2' / T5
    m.note(p, *s, from, "ref +1");
  }
  return s;
}

}  // namespace

bool create_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.vm = arg(e, A_GPUVM);
  f.obj = arg(e, A_OBJ);
  absorb_vm(m, e, f.vm);
  return true;
}

// Frame::aux of a drm_gpuvm_bo_find that GPUVM itself calls from obtain*: on 7.x
// (Debian 7.2.12's drm_gpuvm.ko) obtain_locked and obtain_prealloc call the exported
// find out of line, under the lock the outer call was already judged for (obtain_prealloc
// takes the gpuva.lock itself first). Judging it again would report one unlocked obtain
// twice, and its return is the outer call's lookup, taken in at the outer exit.
constexpr uint64_t kGpuvmOwnLookup = 1;

bool obtain_entry(Model& m, const Event& e, Task& t, Frame& f) {
  if (e.fn == Fn::bo_find) {
    if (const Frame* parent = t.top();
        parent && (parent->fn == Fn::bo_obtain || parent->fn == Fn::bo_obtain_locked ||
                   parent->fn == Fn::bo_obtain_prealloc)) {
      f.aux = kGpuvmOwnLookup;
      return true;
    }
  }
  f.vm = arg(e, A_GPUVM);
  f.obj = arg(e, A_OBJ);
  absorb_vm(m, e, f.vm);
  On o{e, t, 0, nullptr, f.vm};
  f.held_gpuva = m.held_gpuva(e, t, nullptr, f.vm).v;
  rules::obtain_unlocked(m, o);
  if (e.fn == Fn::bo_obtain_locked) rules::mode_mismatch(m, o);
  seed_holds(m, e, t, f.vm, nullptr);
  return true;
}

bool prealloc_entry(Model& m, const Event& e, Task& t, Frame& f) {
  On o{e, t};
  Slot* s = vm_bo_entry(m, e, t, f, o);
  if (s) rules::prealloc_reused(m, o);
  f.held_gpuva = m.held_gpuva(e, t, o.attrs(), o.vm).v;
  rules::obtain_unlocked(m, o);
  rules::mode_mismatch(m, o);
  if (s) rules::gpuva_lock_recursion_entry(m, o, f);
  return true;
}

void create_exit(Model& m, const Event& e, Task& t, const Frame& f, bool) {
  if (!e.ret_is_ptr()) return;
  uint64_t p = e.get(RET);
  Attrs a;
  a.vm = f.vm ? f.vm : arg(e, A_GPUVM);
  a.obj = f.obj ? f.obj : arg(e, A_OBJ);
  a.last_ts = e.ts;
  a.sync_epoch = m.lost_epoch;
  a.refcount = 1;
  a.refcount_known = true;
  a.n_va_exact = true;
  a.extobj = Tri::no;
  a.evicted = Tri::no;
  a.on_evict = Tri::no;
  a.origin = Origin::observed;
  uint32_t closed = 0;
  m.table.t1_create(p, a, m.death(e, t, false), &closed);  // T1
  if (closed) {
    // In-stream proof of missed events: the kernel handed out an address the model
    // believed live, so its destroying put was never seen, and whatever else was
    // missed with it (puts of other vm_bos, VM references) is unknown too. Treat it
    // as a loss here: history rules answer unknown until snapshots re-synchronise.
    // Only this new generation is fully observed.
    m.lost_epoch++;
  }
  Slot* s = latest(m, p);
  if (closed)
    if (Attrs* na = s->attrs()) na->sync_epoch = m.lost_epoch;
  absorb(m, *s, e);
  m.note(p, *s, LifeState::none, closed ? "created (previous gen closed unobserved)" : "created");
  // Tell an enclosing obtain that this vm_bo is its own creation (T2).
  if (Frame* parent = t.top(); parent && (parent->fn == Fn::bo_obtain || parent->fn == Fn::bo_obtain_locked))
    parent->aux = p;
}

void obtain_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (matched && e.fn == Fn::bo_find && f.aux == kGpuvmOwnLookup) return;
  if (!e.ret_is_ptr()) return;
  uint64_t p = e.get(RET);
  Frame fr = f;
  if (!fr.vm) fr.vm = arg(e, A_GPUVM);
  if (!fr.obj) fr.obj = arg(e, A_OBJ);
  Slot* s = latest(m, p);
  bool newly = false;
  if (e.fn != Fn::bo_find && fr.aux == p && s && std::holds_alternative<Allocated>(s->st)) {
    LifecycleTable::t2_register(*s);  // T2: created inside this call
    newly = true;
    m.note(p, *s, LifeState::allocated, "registered");
  } else {
    s = returned_registered(m, e, t, p, fr, &newly);
  }
  absorb(m, *s, e);
  if (Attrs* a = s->attrs()) {
    if (!a->vm && fr.vm) {
      a->vm = fr.vm;
      VmState& v = m.vm(a->vm);
      a->vm_gen = v.gen;
      v.live_gens++;
    }
    if (!a->obj) a->obj = fr.obj;
  }
  On o{e, t, p, s, fr.vm};
  rules::duplicate_vm_bo(m, o, fr, newly);
}

void prealloc_exit(Model& m, const Event& e, Task& t, const Frame& f, bool) {
  if (!e.ret_is_ptr() || f.reported_uaf) return;
  uint64_t r = e.get(RET);
  uint64_t a = f.vm_bo ? f.vm_bo : arg(e, A_VM_BO);
  bool newly = false;
  Slot* s;
  if (r == a) {
    s = latest(m, r);
    if (!s) return;
    if (std::holds_alternative<Allocated>(s->st)) {
      LifecycleTable::t2_register(*s);  // T3
      newly = true;
      m.note(r, *s, LifeState::allocated, "registered");
    }
  } else {
    Frame fr = f;
    returned_registered(m, e, t, r, fr, &newly);  // T4, found side
    // T4: the pre-allocation is gone (K612: already by the nested put ⟵1).
    if (Slot* p = latest(m, a); p && p->alive() && p->gen == f.gen) {
      LifeState from = p->life();
      Attrs* pa = p->attrs();
      bool certain = pa && !m.uncertain(*pa);
      m.table.destroy(a, *p, m.death(e, t, certain));
      if (Slot* q = latest(m, a)) m.note(a, *q, from, "pre-allocation freed");
    }
    s = latest(m, r);
    if (!s) return;
  }
  absorb(m, *s, e);
  On o{e, t, r, s, m.event_vm(e, s->attrs())};
  rules::duplicate_vm_bo(m, o, f, newly);
}

}  // namespace gvt::model::handlers
