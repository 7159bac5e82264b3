// SPDX-License-Identifier: GPL-2.0-only
// Rules about locks that GPUVM calls take themselves or that live inside the GEM
// (§B.2): gem-freed-under-gpuva-lock, gpuva-lock-recursion, deferred-cleanup-resv-held.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

void gem_freed_prepare(Model& m, const On& o, Frame& f) {
  Ans h = m.held_gem_mutex(o.e, o.vm);
  f.gpuva_is_gem_mutex = h.v;  // yes: current holds obj->gpuva.lock at entry
  if (h.v == Tri::unknown) {
    // Only unknown if the lock could be the in-GEM mutex at all.
    const char* why = "";
    if (m.gpuva_lock_kind(o.e, o.vm, &why) == GpuvaLock::bo_resv) f.gpuva_is_gem_mutex = Tri::no;
  }
  if (o.e.has(S_BO_REFCOUNT)) {
    f.bo_refcount = o.e.sget(S_BO_REFCOUNT);
    f.bo_refcount_known = true;
  }
}

void gem_freed_under_gpuva_lock(Model& m, const On& o, const Frame& f) {
  if (f.gpuva_is_gem_mutex == Tri::no) return;
  if (f.bo_refcount_known && f.bo_refcount != 1) return;
  if (f.gpuva_is_gem_mutex == Tri::unknown || !f.bo_refcount_known) {
    m.unknown(id::gem_freed_under_gpuva_lock, Severity::error, o.e, o.subj(),
              !f.bo_refcount_known ? "the GEM refcount (bo_refcount) was not in the put's snapshot"
                                   : "whether current held the GEM's gpuva.lock is not known");
    return;
  }
  m.violation(id::gem_freed_under_gpuva_lock, Severity::error, o.e, o.subj(),
              fmt::format("destroying {} dropped the last GEM reference (GEM refcount 1) while "
                          "tid {} ({}) holds that GEM's gpuva.lock: the mutex is freed while held",
                          o.e.fn == Fn::va_unlink ? "drm_gpuva_unlink (its inlined drm_gpuvm_bo_put)"
                                                  : "drm_gpuvm_bo_put",
                          o.e.tid, o.e.comm));
}

void gpuva_lock_recursion_entry(Model& m, const On& o, Frame& f) {
  const Event& e = o.e;
  if (e.fn == Fn::bo_obtain_prealloc && m.feat_self_locks != Tri::yes) return;
  Ans h = m.held_gem_mutex(e, o.vm);
  if (h.v == Tri::no) return;
  if (e.fn == Fn::bo_put_deferred) {
    // Locks only when this is the last reference.
    if (e.has(S_REFCOUNT) && e.sget(S_REFCOUNT) != 1) return;
    if (h.v == Tri::yes && m.locks_complete) {
      f.recursion_pending = true;  // decided by the nested lock attempt
      return;
    }
    m.unknown(id::gpuva_lock_recursion, Severity::error, e, o.subj(),
              h.v == Tri::unknown ? h.why
                                : "drm_gpuvm_bo_put_deferred locks the gpuva mutex only on its last reference "
                                  "and lock coverage is not complete: its nested lock attempt cannot be observed");
    return;
  }
  if (h.v == Tri::unknown) {
    m.unknown(id::gpuva_lock_recursion, Severity::error, e, o.subj(), h.why);
    return;
  }
  f.recursion_pending = false;
  m.violation(id::gpuva_lock_recursion, Severity::error, e, o.subj(),
              fmt::format("{} takes the GEM's gpuva.lock itself but tid {} ({}) already holds it: self-deadlock",
                          fn_name(e.fn), e.tid, e.comm));
}

void gpuva_lock_recursion_nested(Model& m, const Event& e, Task& t, Frame& outer) {
  if (!outer.recursion_pending) return;
  Tri h = unknown_if_absent(e.tri(S_HELD));
  if (h == Tri::unknown && e.has(A_LOCK)) h = m.task_held(t, e.get(A_LOCK));
  outer.recursion_pending = false;
  Subject sj{outer.vm_bo, outer.gen, outer.vm, outer.obj};
  if (h == Tri::no) return;  // the entry snapshot was about another mutex
  // The put_deferred entry proved current held the gpuva mutex; this is the attempt.
  m.violation(id::gpuva_lock_recursion, Severity::error, e, sj,
              fmt::format("drm_gpuvm_bo_put_deferred dropped the last reference and locks the GEM's gpuva.lock{} "
                          "that tid {} ({}) already holds: self-deadlock",
                          e.has(A_LOCK) ? " " + hex(e.get(A_LOCK)) : std::string(), e.tid, e.comm));
}

void deferred_cleanup_prepare(Model& m, const Event& e, Task& t, Frame& f) {
  f.protected_vm = m.protected_vm(e, f.vm).v;
  f.held_vm_resv = m.held_vm_resv(e, t, f.vm).v;
  if (e.has(S_VM_RESV)) f.resv = e.get(S_VM_RESV);
  else if (VmState* v = m.vm_if(f.vm)) f.resv = v->resv;
  if (f.protected_vm == Tri::no || f.held_vm_resv == Tri::no) return;
  if (m.locks_complete && f.protected_vm == Tri::yes && f.held_vm_resv == Tri::yes) {
    f.recursion_pending = true;  // decided by the nested ww_mutex_lock(resv, NULL)
    return;
  }
  // The cleanup locks only when its list is non-empty: without lock coverage (or with
  // the mode or the hold unknown) the rule cannot be decided.
  VmState* v = m.vm_if(f.vm);
  if (v && !v->zombies.empty())
    m.unknown(id::deferred_cleanup_resv_held, Severity::error, e, Subject{0, 0, f.vm, 0},
              f.protected_vm == Tri::unknown ? "the VM's flags are not known"
              : f.held_vm_resv == Tri::unknown ? "whether current holds the VM resv is not known"
                                             : "lock coverage is not complete: the nested lock cannot be observed");
}

bool deferred_cleanup_resv_held(Model& m, const Event& e, Task& t, Frame& outer) {
  if (!e.has(A_CTX) || e.get(A_CTX) != 0) return false;
  uint64_t lock = arg(e, A_LOCK);
  if (outer.resv && lock && lock != outer.resv) return false;
  Tri held = unknown_if_absent(e.tri(S_HELD));
  if (held == Tri::unknown) held = outer.held_vm_resv;
  if (held == Tri::unknown && lock) held = m.task_held(t, lock);
  if (held != Tri::yes) return false;
  outer.recursion_pending = false;
  Subject sj{0, 0, outer.vm, 0};
  if (outer.protected_vm == Tri::unknown) {
    m.unknown(id::deferred_cleanup_resv_held, Severity::error, e, sj, "the VM's flags are not known");
    return true;
  }
  if (outer.protected_vm == Tri::no) return false;
  m.violation(id::deferred_cleanup_resv_held, Severity::error, e, sj,
              fmt::format("drm_gpuvm_bo_deferred_cleanup locks the VM resv{} with a NULL context while its "
                          "caller tid {} ({}) already holds it: self-deadlock",
                          lock ? " " + hex(lock) : std::string(), e.tid, e.comm));
  return true;
}

void pending_at_end(Model& m, const Frame& f, int32_t tid) {
  if (!f.recursion_pending) return;
  Subject sj{f.vm_bo, f.gen, f.vm, f.obj};
  std::string_view rule = f.fn == Fn::bo_deferred_cleanup ? id::deferred_cleanup_resv_held
                                                         : id::gpuva_lock_recursion;
  m.report(FindingKind::unknown, rule, Severity::error, nullptr, sj,
           fmt::format("{} (tid {}, line {}) never returned and its nested lock attempt was not observed",
                       fn_name(f.fn), tid, f.line));
}

}  // namespace gvt::model::rules
