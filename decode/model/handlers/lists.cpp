// SPDX-License-Identifier: GPL-2.0-only
// drm_gpuvm_bo_extobj_add and drm_gpuvm_bo_evict: a vm_bo joining its VM's extobj
// list (T6) and evict list (T7).
#include "decode/model/handlers/family.h"

namespace gvt::model::handlers {

bool extobj_entry(Model& m, const Event& e, Task& t, Frame& f) {
  On o{e, t};
  vm_bo_entry(m, e, t, f, o);
  if (o.addr) rules::extobj_add_unlocked(m, o);  // also after a use-after-free
  return true;
}

bool evict_entry(Model& m, const Event& e, Task& t, Frame& f) {
  On o{e, t};
  f.aux = static_cast<uint64_t>(unknown_if_absent(e.tri(A_EVICT)));
  vm_bo_entry(m, e, t, f, o);
  if (o.addr) rules::evict_unlocked(m, o);  // also after a use-after-free
  return true;
}

void extobj_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (f.reported_uaf) return;
  uint64_t addr = matched ? f.vm_bo : arg(e, A_VM_BO);
  Slot* s = addr ? latest(m, addr) : nullptr;
  if (!s || !s->alive() || (matched && s->gen != f.gen)) return;
  Attrs* a = s->attrs();
  Tri on = unknown_if_absent(e.tri(S_ON_EXTOBJ));
  // Without a snapshot: the call appends every external vm_bo (idempotent).
  if (on == Tri::unknown && a->external == Tri::yes) on = Tri::yes;
  if (on == Tri::unknown && a->external == Tri::no) on = Tri::no;
  LifeState from = s->life();
  LifecycleTable::t6_extobj(*s, on);  // T6
  absorb(m, *s, e);
  m.update_suspect(addr, *s);
  m.note(addr, *s, from, on == Tri::yes ? "extobj" : "extobj_add");
}

void evict_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (f.reported_uaf) return;
  uint64_t addr = matched ? f.vm_bo : arg(e, A_VM_BO);
  Slot* s = addr ? latest(m, addr) : nullptr;
  if (!s || !s->alive() || (matched && s->gen != f.gen)) return;
  // The entry's argument when the entry was seen, else the exit's copy of it.
  Tri ev = matched ? static_cast<Tri>(f.aux) : unknown_if_absent(e.tri(A_EVICT));
  LifeState from = s->life();
  LifecycleTable::t7_evict(*s, ev, unknown_if_absent(e.tri(S_ON_EVICT)));  // T7
  absorb(m, *s, e);
  m.note(addr, *s, from, ev == Tri::yes ? "evicted" : "evict");
}

}  // namespace gvt::model::handlers
