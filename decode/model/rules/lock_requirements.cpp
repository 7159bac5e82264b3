// SPDX-License-Identifier: GPL-2.0-only
// The *-unlocked rules of rule_catalog.cpp: a GPUVM call entered without the lock its list needs
// (§A.3). Snapshot-only (evidence in rule_catalog.cpp): valid from the first event, adopted objects included.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

Subject On::subj() const {
  Subject sj;
  sj.vm_bo = addr;
  sj.vm = vm;
  if (s) {
    sj.gen = s->gen;
    if (const Attrs* a = s->attrs()) {
      sj.obj = a->obj;
      if (!sj.vm) sj.vm = a->vm;
    } else if (const Destroyed* d = s->dead()) {
      sj.obj = d->obj;
      if (!sj.vm) sj.vm = d->vm;
    }
  }
  if (!sj.obj && e.has(S_OBJ)) sj.obj = e.get(S_OBJ);
  if (!sj.obj && e.has(A_OBJ)) sj.obj = e.get(A_OBJ);
  return sj;
}

namespace {

std::string who(const Event& e) { return fmt::format("tid {} ({})", e.tid, e.comm); }

std::string resv_of(const Event& e, Field f) {
  return e.has(f) ? fmt::format(" {}", hex(e.get(f))) : std::string();
}

}  // namespace

void extobj_add_unlocked(Model& m, const On& o) {
  Ans prot = m.protected_vm(o.e, o.vm);
  if (prot.v == Tri::no) return;
  Ans held = m.held_vm_resv(o.e, o.t, o.vm);
  if (held.v == Tri::yes) return;
  Ans ext = m.external(o.e, o.attrs(), o.vm);
  Severity sev = ext.v == Tri::no ? Severity::warning : Severity::error;
  if (prot.v == Tri::unknown || held.v == Tri::unknown) {
    m.unknown(id::extobj_add_unlocked, sev, o.e, o.subj(),
              prot.v == Tri::unknown ? prot.why : held.why);
    return;
  }
  // Externality unknown: the violation is certain, its severity is not; say the lower.
  if (ext.v == Tri::unknown) sev = Severity::warning;
  m.violation(id::extobj_add_unlocked, sev, o.e, o.subj(),
              fmt::format("drm_gpuvm_bo_extobj_add on a RESV_PROTECTED VM without its dma-resv held: "
                          "VM resv{} not held by {}; {}",
                          resv_of(o.e, S_VM_RESV), who(o.e),
                          ext.v == Tri::yes ? "GEM is external (its resv differs): the extobj list is changed unlocked"
                          : ext.v == Tri::no ? "GEM is private (no list change, but lockdep would warn)"
                                           : "whether the GEM is external is not known"));
}

void evict_unlocked(Model& m, const On& o) {
  Ans held = m.held_bo_resv(o.e, o.t, o.attrs());
  if (held.v == Tri::yes) return;
  if (held.v == Tri::unknown) {
    m.unknown(id::evict_unlocked, Severity::error, o.e, o.subj(), held.why);
    return;
  }
  m.violation(id::evict_unlocked, Severity::error, o.e, o.subj(),
              fmt::format("drm_gpuvm_bo_evict without the BO's dma-resv held: BO resv{} not held by {}",
                          resv_of(o.e, S_BO_RESV), who(o.e)));
}

void obtain_unlocked(Model& m, const On& o) {
  if (o.e.fn == Fn::bo_obtain_prealloc) {
    // With prealloc_self_locks the call takes the lock itself (holding it is the bug).
    if (m.feat_self_locks == Tri::yes) return;
    if (m.feat_self_locks == Tri::unknown) {
      Ans held = m.held_gpuva(o.e, o.t, o.attrs(), o.vm);
      if (held.v != Tri::yes)
        m.unknown(id::obtain_unlocked, Severity::error, o.e, o.subj(),
                  "the trace header does not say whether drm_gpuvm_bo_obtain_prealloc takes the gpuva lock itself (features.prealloc_self_locks)");
      return;
    }
  }
  Ans held = m.held_gpuva(o.e, o.t, o.attrs(), o.vm);
  if (held.v == Tri::yes) return;
  if (held.v == Tri::unknown) {
    m.unknown(id::obtain_unlocked, Severity::error, o.e, o.subj(), held.why);
    return;
  }
  m.violation(id::obtain_unlocked, Severity::error, o.e, o.subj(),
              fmt::format("{} without the GEM's gpuva lock held by {}: the GEM's vm_bo list is "
                          "searched/extended unlocked (duplicate vm_bos possible)",
                          fn_name(o.e.fn), who(o.e)));
}

void link_unlocked(Model& m, const On& o) {
  Ans held = m.held_gpuva(o.e, o.t, o.attrs(), o.vm);
  if (held.v == Tri::yes) return;
  if (held.v == Tri::unknown) {
    m.unknown(id::link_unlocked, Severity::error, o.e, o.subj(), held.why);
    return;
  }
  m.violation(id::link_unlocked, Severity::error, o.e, o.subj(),
              fmt::format("{} without the GEM's gpuva lock held by {}: the vm_bo's VA list is changed unlocked",
                          fn_name(o.e.fn), who(o.e)));
}

void put_final_unlocked_prepare(Model& m, const On& o, Frame& f) {
  Ans gpuva = m.held_gpuva(o.e, o.t, o.attrs(), o.vm);
  Ans prot = m.protected_vm(o.e, o.vm);
  Ans vmr = prot.v == Tri::no ? Ans::yes() : m.held_vm_resv(o.e, o.t, o.vm);
  f.held_gpuva = gpuva.v;
  f.protected_vm = prot.v;
  f.held_vm_resv = vmr.v;
  bool bad = gpuva.v == Tri::no || (prot.v == Tri::yes && vmr.v == Tri::no);
  bool ok = gpuva.v == Tri::yes && (prot.v == Tri::no || vmr.v == Tri::yes);
  f.put_locks_bad = bad;
  f.put_locks_unknown = !bad && !ok;
  f.put_locks_why = gpuva.v == Tri::unknown ? gpuva.why : prot.v == Tri::unknown ? prot.why : vmr.why;
}

void put_final_unlocked(Model& m, const On& o, const Frame& f) {
  if (f.refcount_known && f.refcount != 1) return;  // not the trigger's "refcount 1"
  if (f.put_locks_unknown) {
    m.unknown(id::put_final_unlocked, Severity::error, o.e, o.subj(), f.put_locks_why);
    return;
  }
  if (!f.put_locks_bad) return;
  std::string missing;
  if (f.held_gpuva == Tri::no) missing = "the GEM's gpuva lock";
  if (f.protected_vm == Tri::yes && f.held_vm_resv == Tri::no)
    missing += missing.empty() ? "the VM's dma-resv (RESV_PROTECTED)" : " and the VM's dma-resv (RESV_PROTECTED)";
  m.violation(id::put_final_unlocked, Severity::error, o.e, o.subj(),
              fmt::format("{} dropped the last reference (refcount 1 → destroyed) without {} "
                          "held by {}: the vm_bo left the GEM/extobj/evict lists unlocked",
                          o.e.fn == Fn::va_unlink ? "drm_gpuva_unlink (its inlined drm_gpuvm_bo_put)"
                                                  : "drm_gpuvm_bo_put",
                          missing, who(o.e)));
}

}  // namespace gvt::model::rules
