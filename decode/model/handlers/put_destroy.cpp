// SPDX-License-Identifier: GPL-2.0-only
// drm_gpuvm_bo_put, _put_deferred and _deferred_cleanup: how a vm_bo lifecycle loses
// references and ends, directly (T10) or through the zombie list (T11, T12).
#include "decode/model/handlers/family.h"

namespace gvt::model::handlers {

bool put_entry(Model& m, const Event& e, Task& t, Frame& f) {
  uint64_t addr = arg(e, A_VM_BO);
  f.vm_bo = addr;
  if (!addr) return true;  // NULL put: no-op
  Slot* s = latest(m, addr);
  On o{e, t, addr, s, m.event_vm(e, s ? s->attrs() : nullptr)};
  if (s && !o.vm)
    if (const Destroyed* d = s->dead()) o.vm = d->vm;
  Frame* parent = t.top();
  // A real put inside an unlink: that unlink's put is this one, not an inlined copy.
  if (parent && parent->fn == Fn::va_unlink && parent->vm_bo == addr) parent->nested_put = true;
  fill_frame(f, addr, s, o.vm);
  if (e.fn == Fn::bo_put_deferred) rules::mode_mismatch(m, o);
  if (rules::double_put(m, o, f, parent)) {
    rules::refcount_saturated(m, o);
    return true;
  }
  if (s && !s->alive()) {
    // A live object where the model has a tombstone: its create was not observed.
    bool sure = true;
    LifeState st = m.adopted_state(e, &sure);
    Attrs a = m.attrs_from_snapshot(e, 0, 0);
    a.origin = Origin::adopted;
    m.table.adopt(addr, st, a, m.death(e, t));
    m.put_coverage_broken = true;
    s = latest(m, addr);
    m.note(addr, *s, LifeState::destroyed, "re-created unobserved", true);
  } else {
    s = live_for(m, addr, e, t);
  }
  take_live(m, e, t, o, s);
  fill_frame(f, addr, s, o.vm);
  snapshot_refcount(f, e);
  rules::refcount_saturated(m, o);
  rules::destroy_while_mapped_prepare(m, o, f);
  if (e.fn == Fn::bo_put) {
    rules::put_final_unlocked_prepare(m, o, f);
    rules::gem_freed_prepare(m, o, f);
  } else {
    rules::gpuva_lock_recursion_entry(m, o, f);
  }
  return true;
}

bool cleanup_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.vm = arg(e, A_GPUVM);
  absorb_vm(m, e, f.vm);
  rules::deferred_cleanup_prepare(m, e, t, f);
  return true;
}

void put_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (f.reported_double_put || !f.vm_bo || !e.has(RET)) return;
  uint64_t addr = f.vm_bo;
  Slot* s = latest(m, addr);
  if (!s || !s->alive() || (matched && s->gen != f.gen)) return;
  On o{e, t, addr, s, f.vm ? f.vm : m.event_vm(e, s->attrs())};
  LifeState from = s->life();
  if (!ret_true(e)) {
    LifecycleTable::t10_ref_drop(*s, m.seq, m.who(e, t));  // T10 / T13, ret 0
    m.note(addr, *s, from, "ref -1");
    return;
  }
  if (e.fn == Fn::bo_put) {
    if (matched) {
      rules::put_final_unlocked(m, o, f);
      rules::gem_freed_under_gpuva_lock(m, o, f);
      rules::destroy_while_mapped(m, o, f);
    }
    destroy_final(m, e, t, addr, from, "destroyed");  // T10 ret 1
    return;
  }
  // bo_put_deferred ret true: T11.
  if (matched) rules::destroy_while_mapped(m, o, f);
  make_zombie(m, addr, *latest(m, addr), from);
}

// T12: every zombie pushed before the cleanup's entry is freed; later ones may be.
void cleanup_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  uint64_t vm = f.vm ? f.vm : arg(e, A_GPUVM);
  VmState* v = m.vm_if(vm);
  if (!v) return;
  std::vector<std::pair<uint64_t, uint32_t>> zombies;
  zombies.swap(v->zombies);
  std::vector<std::pair<uint64_t, uint32_t>> keep;
  for (auto [addr, gen] : zombies) {
    Slot* s = latest(m, addr);
    if (!s || s->gen != gen || !std::holds_alternative<Zombie>(s->st)) continue;
    const Zombie& z = std::get<Zombie>(s->st);
    if (matched && z.pushed_seq < f.seq) {
      bool certain = !m.uncertain(z.a);
      m.table.destroy(addr, *s, m.death(e, t, certain));
      if (Slot* q = latest(m, addr)) m.note(addr, *q, LifeState::zombie, "freed by deferred cleanup");
    } else {
      mark_uncertain(*s);
      keep.emplace_back(addr, gen);
    }
  }
  if (VmState* v2 = m.vm_if(vm)) v2->zombies = std::move(keep);
}

}  // namespace gvt::model::handlers
