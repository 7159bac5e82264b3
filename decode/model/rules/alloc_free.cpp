// SPDX-License-Identifier: GPL-2.0-only
// alloc-free-asymmetric (rule_catalog.cpp, §D.6): exactly one of ops->vm_bo_alloc / vm_bo_free set,
// judged at the first sight of the VM's ops.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

void alloc_free_asymmetric(Model& m, const Event& e, uint64_t vmaddr) {
  if (!vmaddr || !e.has(S_OPS_VM_BO_ALLOC) || !e.has(S_OPS_VM_BO_FREE)) return;
  VmState& v = m.vm(vmaddr);
  if (v.ops_seen) return;
  v.ops_seen = true;
  bool alloc = e.get(S_OPS_VM_BO_ALLOC) != 0;
  bool free = e.get(S_OPS_VM_BO_FREE) != 0;
  if (alloc == free) return;
  Subject sj{0, 0, vmaddr, 0};
  if (alloc) {
    m.violation(id::alloc_free_asymmetric, Severity::warning, e, sj,
                fmt::format("VM {} sets ops->vm_bo_alloc ({}) but not vm_bo_free: GPUVM kfree()s the driver's "
                            "allocation, which must then start with the drm_gpuvm_bo",
                            hex(vmaddr), hex(e.get(S_OPS_VM_BO_ALLOC))));
  } else {
    m.info(id::alloc_free_asymmetric, &e, sj,
           fmt::format("VM {} sets ops->vm_bo_free ({}) but not vm_bo_alloc: vm_bos are kzalloc()ed by GPUVM "
                       "and freed by the driver (legal, same kmalloc family, but asymmetric)",
                       hex(vmaddr), hex(e.get(S_OPS_VM_BO_FREE))));
  }
}

}  // namespace gvt::model::rules
