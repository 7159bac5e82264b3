// SPDX-License-Identifier: GPL-2.0-only
// drm_gpuva_link, _unlink, _unlink_defer, _insert, _remove and
// drm_gpuvm_bo_unmap_ops_create: the VAs mapping a vm_bo (T8, T9; T11 for
// unlink_defer) and the per-VM VA counts.
#include "decode/model/handlers/family.h"

namespace gvt::model::handlers {

bool link_entry(Model& m, const Event& e, Task& t, Frame& f) {
  On o{e, t};
  f.addr = arg(e, A_VA);
  if (vm_bo_entry(m, e, t, f, o)) rules::link_unregistered(m, o);
  rules::link_unlocked(m, o);
  return true;
}

bool unlink_entry(Model& m, const Event& e, Task& t, Frame& f) {
  uint64_t va = arg(e, A_VA);
  f.addr = va;
  const LinkRec* key = nullptr;
  LinkRec rec;
  if (auto it = m.vas.find(va); va && it != m.vas.end() && it->second.linked) {
    rec = LinkRec{it->second.vm_bo, it->second.epoch, it->second.gen};
    key = &rec;
    if (it->second.inserted)
      it.value().linked = false;
    else
      m.vas.erase(it);
  }
  // The key recorded at link wins (a stale va->vm_bo is what use-after-free is about);
  // else the recorder's read of va->vm_bo. But a key from before a loss may be stale
  // itself (the VA unlinked and relinked unseen, while the slab handed its vm_bo's
  // address to another one): then the read, the kernel's own pointer, decides.
  uint64_t read = arg(e, A_VM_BO) ? arg(e, A_VM_BO) : arg(e, S_VM_BO);
  if (key && key->epoch != m.lost_epoch && read && read != key->vm_bo) key = nullptr;
  uint64_t addr = key ? key->vm_bo : read;
  Slot* s = addr ? latest(m, addr) : nullptr;
  On o{e, t, addr, s, m.event_vm(e, s ? s->attrs() : nullptr)};
  fill_frame(f, addr, s, o.vm);
  bool uaf = rules::use_after_free_unlink(m, o, key, f);
  if (!uaf && addr) {
    s = live_for(m, addr, e, t);
    take_live(m, e, t, o, s);
    fill_frame(f, addr, s, o.vm);
    rules::refcount_saturated(m, o);
  }
  snapshot_refcount(f, e);
  if (e.fn == Fn::va_unlink) {
    rules::link_unlocked(m, o);
  } else {
    rules::mode_mismatch(m, o);
    if (!uaf) rules::gpuva_lock_recursion_entry(m, o, f);
  }
  if (!uaf && s && s->alive() && key && key->gen == s->gen) {
    LifeState from = s->life();
    LifecycleTable::t9_unlink(*s);  // T9
    m.update_suspect(addr, *s);
    m.note(addr, *s, from, "n_va -1");
  }
  return true;
}

bool unmap_ops_entry(Model& m, const Event& e, Task& t, Frame& f) {
  On o{e, t};
  vm_bo_entry(m, e, t, f, o);
  if (o.addr) rules::obtain_unlocked(m, o);  // also after a use-after-free
  return true;
}

bool va_tree_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.addr = arg(e, A_VA);
  f.vm = arg(e, A_GPUVM);
  return true;
}

void link_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (f.reported_uaf) return;
  uint64_t addr = matched ? f.vm_bo : arg(e, A_VM_BO);
  uint64_t va = matched ? f.addr : arg(e, A_VA);
  if (!addr) return;
  Slot* s = matched ? latest(m, addr) : live_for(m, addr, e, t);
  if (!s || !s->alive() || (matched && s->gen != f.gen)) return;
  LifeState from = s->life();
  LifecycleTable::t8_link(*s, m.seq, m.who(e, t));  // T8
  absorb(m, *s, e);
  if (va) {
    VaRec& r = m.vas[va];
    r.vm_bo = addr;
    r.epoch = m.lost_epoch;
    r.gen = s->gen;
    r.linked = true;
  }
  m.update_suspect(addr, *s);
  m.note(addr, *s, from, "n_va +1");
  On o{e, t, addr, s, m.event_vm(e, s->attrs())};
  rules::extobj_missing_at_link(m, o);
}

void unlink_defer_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (!matched || f.reported_uaf || !f.vm_bo) return;
  Slot* s = latest(m, f.vm_bo);
  if (!s || !s->alive() || s->gen != f.gen || std::holds_alternative<Zombie>(s->st)) return;
  Attrs* a = s->attrs();
  LifeState from = s->life();
  if (!f.refcount_known || a->gain_seq > f.seq) {
    // T11 cannot be decided: unknown until the next snapshot.
    mark_uncertain(*s);
    return;
  }
  if (f.refcount != 1) {
    LifecycleTable::t10_ref_drop(*s, m.who(e, t));
    m.note(f.vm_bo, *s, from, "ref -1");
    return;
  }
  On o{e, t, f.vm_bo, s, f.vm};
  rules::destroy_while_mapped_unlink_defer(m, o, f);
  make_zombie(m, f.vm_bo, *latest(m, f.vm_bo), from);
}

void va_insert_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  uint64_t va = arg(e, A_VA) ? arg(e, A_VA) : f.addr;
  uint64_t vm = arg(e, A_GPUVM) ? arg(e, A_GPUVM) : f.vm;
  if (!va || !vm || (e.has(RET) && e.ret_int() != 0)) return;
  VaRec& r = m.vas[va];
  if (!r.inserted) {
    r.inserted = true;
    r.vm = vm;
    m.vm(vm).inserted_vas++;
  }
}

void va_remove_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  uint64_t va = arg(e, A_VA) ? arg(e, A_VA) : f.addr;
  auto it = m.vas.find(va);
  if (it == m.vas.end() || !it->second.inserted) return;
  if (VmState* v = m.vm_if(it->second.vm); v && v->inserted_vas > 0) v->inserted_vas--;
  if (it->second.linked)
    it.value().inserted = false;
  else
    m.vas.erase(it);
}

}  // namespace gvt::model::handlers
