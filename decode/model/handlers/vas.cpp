// SPDX-License-Identifier: GPL-2.0-only
// drm_gpuva_link, _unlink, _unlink_defer, _insert, _remove and
// drm_gpuvm_bo_unmap_ops_create: the VAs mapping a vm_bo (T8, T9; T11 for
// unlink_defer; T10 for an unlink whose drm_gpuvm_bo_put the compiler inlined) and the
// per-VM VA counts.
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
  // drm_gpuvm_bo_put inlined into this unlink (header): what a bo_put entry would check.
  const bool inline_put = e.fn == Fn::va_unlink && m.unlink_puts && !uaf && addr;
  bool put_reported = false;
  if (inline_put && rules::double_put(m, o, f, nullptr)) {
    put_reported = true;
    rules::refcount_saturated(m, o);
  }
  if (!uaf && addr && !put_reported) {
    s = live_for(m, addr, e, t);
    take_live(m, e, t, o, s);
    fill_frame(f, addr, s, o.vm);
    rules::refcount_saturated(m, o);
  }
  snapshot_refcount(f, e);
  if (e.fn == Fn::va_unlink) {
    rules::link_unlocked(m, o);
    if (inline_put && !put_reported) {
      // The locks and GEM refcount the final put would need, as at a bo_put entry.
      // destroy-while-mapped is decided at the exit from the VA count after this unlink
      // (the entry's list.gpuva still holds the VA being unlinked).
      rules::put_final_unlocked_prepare(m, o, f);
      rules::gem_freed_prepare(m, o, f);
    }
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

namespace {

// A reference drop of vm_bo `addr` by a call still open on some task (its decrement may
// lie on either side of the unlink's).
bool put_open(const Model& m, uint64_t addr) {
  for (auto it = m.tasks.begin(); it != m.tasks.end(); ++it)
    for (const Frame& f : it->second.stack)
      if (f.vm_bo == addr && (f.fn == Fn::bo_put || f.fn == Fn::bo_put_deferred || f.fn == Fn::va_unlink ||
                              f.fn == Fn::va_unlink_defer))
        return true;
  return false;
}

}  // namespace

// drm_gpuva_unlink with drm_gpuvm_bo_put inlined (the header's coverage.put_inlined_in
// lists it; GCC's choice on arm64): the put of va->vm_bo, read at the entry, happens
// inside the call and no bo_put event shows it. Decided like put_exit, from the entry's
// refcount instead of a return value: 1 is the final put (T10 ret 1), more a drop
// (T10 ret 0). Without a snapshot, or when another drop of that vm_bo may have
// interleaved, or a gain may have come before the decrement, the outcome is unknown.
void unlink_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (!m.unlink_puts) return;
  if (!matched) {
    // Entry not seen: the put happened, on whatever vm_bo the VA had.
    auto it = m.vas.find(arg(e, A_VA));
    if (it != m.vas.end() && it->second.linked)
      if (Slot* s = latest(m, it->second.vm_bo); s && s->alive()) mark_uncertain(*s);
    return;
  }
  if (f.reported_uaf || f.reported_double_put || f.nested_put || !f.vm_bo) return;
  const uint64_t addr = f.vm_bo;
  Slot* s = latest(m, addr);
  if (!s || !s->alive() || s->gen != f.gen || std::holds_alternative<Zombie>(s->st)) return;
  Attrs* a = s->attrs();
  On o{e, t, addr, s, f.vm ? f.vm : m.event_vm(e, a)};
  LifeState from = s->life();
  const char* why = !f.refcount_known                              ? "no refcount snapshot at drm_gpuva_unlink's entry"
                    : a->drop_seq > f.seq || put_open(m, addr)     ? "another reference drop of the vm_bo ran "
                                                                     "concurrently with drm_gpuva_unlink"
                    : f.refcount == 1 && a->gain_seq > f.seq       ? "a reference gain of the vm_bo was observed "
                                                                     "during drm_gpuva_unlink"
                                                                   : nullptr;
  if (why) {
    rules::inlined_put_undecided(m, o, f, why);
    mark_uncertain(*s);
    return;
  }
  if (f.refcount != 1) {
    LifecycleTable::t10_ref_drop(*s, m.seq, m.who(e, t));  // T10, not the last reference
    m.note(addr, *s, from, "ref -1 (inlined put)");
    return;
  }
  rules::put_final_unlocked(m, o, f);
  rules::gem_freed_under_gpuva_lock(m, o, f);
  rules::destroy_while_mapped_at_unlink(m, o, f);
  destroy_final(m, e, t, addr, from, "destroyed (inlined put)");  // T10, the last reference
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
    LifecycleTable::t10_ref_drop(*s, m.seq, m.who(e, t));
    m.note(f.vm_bo, *s, from, "ref -1");
    return;
  }
  On o{e, t, f.vm_bo, s, f.vm};
  rules::destroy_while_mapped_at_unlink(m, o, f);
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
