// SPDX-License-Identifier: GPL-2.0-only
#include "tests/model/builder.h"

#include <fmt/format.h>

namespace gvt::test {

std::string Collect::dump() const {
  std::string s;
  for (const auto& f : all)
    s += fmt::format("  {} {} {} line {} vm_bo 0x{:x} gen {}: {}{}\n",
                     f.kind == FindingKind::violation ? "violation"
                     : f.kind == FindingKind::unknown ? "unknown"
                                                      : "info",
                     f.rule, severity_name(f.severity), f.line, f.vm_bo, f.gen, f.message, f.reason);
  return s.empty() ? "  (no findings)\n" : s;
}

Ev::Ev(Feed& f, Fn fn, Phase ph, int32_t tid) : f_(f) {
  e_.fn = fn;
  e_.phase = ph;
  e_.tid = tid;
  e_.pid = tid;
  e_.comm = tid == 100 ? "drv" : "worker";
}

Ev& Ev::vmbo(uint64_t vm, uint64_t obj, uint64_t bo_resv, int refcount, bool on_gem, bool on_extobj,
             bool n_va, uint32_t flags, uint64_t vm_resv) {
  e_.set(S_VM, vm);
  e_.set(S_OBJ, obj);
  e_.set(S_VM_FLAGS, flags);
  e_.set(S_VM_RESV, vm_resv);
  e_.set(S_BO_RESV, bo_resv);
  e_.set(S_REFCOUNT, static_cast<uint64_t>(static_cast<int64_t>(refcount)));
  e_.set_tri(S_ON_GEM, tri_of(on_gem));
  e_.set_tri(S_ON_EXTOBJ, tri_of(on_extobj));
  e_.set_tri(S_ON_EVICT, Tri::no);
  e_.set_tri(S_EVICTED, Tri::no);
  e_.set_tri(S_N_VA_NONZERO, tri_of(n_va));
  return *this;
}

Ev& Ev::held(Tri vm_resv, Tri bo_resv, Tri gpuva) {
  e_.set_tri(S_HELD_VM_RESV, vm_resv);
  e_.set_tri(S_HELD_BO_RESV, bo_resv);
  e_.set_tri(S_HELD_GPUVA_LOCK, gpuva);
  return *this;
}

uint64_t Ev::send() {
  e_.ts = f_.ts += 1000;
  e_.line = ++f_.line;
  f_.chk.on_event(e_);
  return e_.line;
}

Header Feed::k612() {
  Header h;
  h.kernel = "6.12.95+deb12-amd64";
  h.clock = "monotonic";
  h.feat_deferred = Tri::no;
  h.feat_gpuva_mutex = Tri::no;
  h.feat_immediate_mode = Tri::no;
  h.coverage_put = "complete";
  h.coverage_locks = "complete";
  return h;
}

Header Feed::knew() {
  Header h = k612();
  h.kernel = "7.3.0-rc1";
  h.feat_deferred = Tri::yes;
  h.feat_gpuva_mutex = Tri::yes;
  h.feat_immediate_mode = Tri::yes;
  h.feat_prealloc_self_locks = Tri::yes;
  return h;
}

void Feed::init(uint64_t vm, uint32_t flags, uint64_t resv, int32_t tid) {
  exit(Fn::gpuvm_init, tid).a(A_GPUVM, vm).a(A_FLAGS, flags).a(A_R_OBJ, resv - 0x100).a(S_VM_RESV, resv)
      .a(S_OPS_VM_BO_ALLOC, 0).a(S_OPS_VM_BO_FREE, 0).send();
}

void Feed::lock(uint64_t l, uint64_t ctx, int64_t ret, int32_t tid) {
  exit(Fn::ww_mutex_lock, tid).a(A_LOCK, l).a(A_CTX, ctx).ret_int(ret).send();
}

void Feed::unlock(uint64_t l, Tri held, int32_t tid) {
  entry(Fn::ww_mutex_unlock, tid).a(A_LOCK, l).t(S_HELD, held).send();
}

void Feed::create(uint64_t bo, uint64_t vm, uint64_t obj, int32_t tid) {
  entry(Fn::bo_create, tid).a(A_GPUVM, vm).a(A_OBJ, obj).send();
  exit(Fn::bo_create, tid).a(A_GPUVM, vm).a(A_OBJ, obj).ret_addr(bo).send();
}

void Feed::obtain_new(uint64_t bo, uint64_t obj, uint64_t bo_resv, Tri held_gpuva, uint32_t flags, int32_t tid) {
  entry(Fn::bo_obtain, tid).a(A_GPUVM, V).a(A_OBJ, obj).a(S_VM_FLAGS, flags).a(S_VM_RESV, R)
      .a(S_BO_RESV, bo_resv).held(Tri::unknown, held_gpuva, held_gpuva).send();
  create(bo, V, obj, tid);
  exit(Fn::bo_obtain, tid).a(A_GPUVM, V).a(A_OBJ, obj).ret_addr(bo).send();
}

void Feed::link(uint64_t va, uint64_t bo, int refcount, bool on_gem, Tri held_gpuva, uint64_t obj,
                uint64_t bo_resv, uint32_t flags, int32_t tid) {
  entry(Fn::va_link, tid).a(A_VA, va).a(A_VM_BO, bo).vmbo(V, obj, bo_resv, refcount, on_gem, false,
                                                          refcount > 1, flags)
      .held(Tri::unknown, held_gpuva, held_gpuva).send();
  exit(Fn::va_link, tid).a(A_VA, va).a(A_VM_BO, bo).send();
}

void Feed::put(uint64_t bo, int refcount, bool destroyed, bool n_va, Tri held_gpuva, Tri held_vm_resv,
               uint64_t obj, uint64_t bo_resv, uint32_t flags, int32_t tid) {
  entry(Fn::bo_put, tid).a(A_VM_BO, bo).vmbo(V, obj, bo_resv, refcount, true, false, n_va, flags)
      .held(held_vm_resv, held_gpuva, held_gpuva).send();
  exit(Fn::bo_put, tid).a(A_VM_BO, bo).ret_bool(destroyed).send();
}

void Feed::deferred_cleanup_self_locked(uint64_t vm, uint64_t resv, int32_t tid) {
  entry(Fn::bo_deferred_cleanup, tid).a(A_GPUVM, vm).a(S_VM_FLAGS, kImmProt).t(S_HELD_VM_RESV, Tri::no).send();
  entry(Fn::ww_mutex_lock, tid).a(A_LOCK, resv).a(A_CTX, 0).t(S_HELD, Tri::no).send();
  exit(Fn::ww_mutex_lock, tid).a(A_LOCK, resv).a(A_CTX, 0).ret_int(0).send();
  unlock(resv, Tri::yes, tid);
  exit(Fn::bo_deferred_cleanup, tid).a(A_GPUVM, vm).send();
}

}  // namespace gvt::test
