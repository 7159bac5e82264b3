// SPDX-License-Identifier: GPL-2.0-only
// drm_gpuvm_init, _put, _free and the calls that act on a whole VM (validate,
// prepare_objects, exec_lock*, resv_add_fence): VM generations (T15) and the VM-wide
// rules.
#include "decode/model/handlers/family.h"

namespace gvt::model::handlers {

bool vm_call_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.vm = arg(e, A_GPUVM);
  absorb_vm(m, e, f.vm);
  return true;
}

bool add_fence_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.vm = arg(e, A_GPUVM);
  absorb_vm(m, e, f.vm);
  rules::extobj_missing(m, e, t, f.vm);
  return true;
}

bool gpuvm_init_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.vm = arg(e, A_GPUVM);
  return true;
}

bool gpuvm_put_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.vm = arg(e, A_GPUVM);
  absorb_vm(m, e, f.vm);
  rules::vm_put_entry(m, e, f.vm);
  return true;
}

bool gpuvm_free_entry(Model& m, const Event& e, Task& t, Frame& f) {
  uint64_t vm = arg(e, A_GPUVM);
  rules::vm_free(m, e, vm);
  // T15: the VM generation is closed; its lifecycles keep their (now stale) vm_gen.
  m.vm_erase(vm);
  return false;
}

void exec_lock_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (e.has(RET) && e.ret_int() == 0) rules::extobj_missing(m, e, t, f.vm ? f.vm : arg(e, A_GPUVM));
}

void gpuvm_init_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  uint64_t vm = arg(e, A_GPUVM) ? arg(e, A_GPUVM) : f.vm;
  if (!vm) return;
  VmState& v = m.vm(vm);
  if (v.put_pending || v.put_unknown) m.pending_vm_puts--;
  v = VmState{};
  v.gen = ++m.vm_gens;
  v.partial = false;
  v.init_epoch = m.lost_epoch;
  if (e.has(A_FLAGS)) {
    v.flags = static_cast<uint32_t>(e.get(A_FLAGS));
    v.flags_known = true;
  }
  absorb_vm(m, e, vm);
}

void gpuvm_put_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  rules::vm_put_exit(m, e, f.vm ? f.vm : arg(e, A_GPUVM));
}

}  // namespace gvt::model::handlers
