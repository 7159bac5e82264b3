// SPDX-License-Identifier: GPL-2.0-only
// extobj-missing (rule_catalog.cpp): at a job's fence point, an external BO mapped in the VM is not
// on the extobj list and its resv is not locked, so the job fence will miss it. Needs
// the vm_bo's links and extobj adds observed since adoption (evidence in rule_catalog.cpp). Candidates are kept
// in Model::extobj_suspects (mapped, external, not on the extobj list), so the check
// costs nothing while the list is empty.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

void extobj_missing(Model& m, const Event& e, Task& t, uint64_t vm) {
  if (m.extobj_suspects.empty() || !vm) return;
  std::vector<std::pair<uint64_t, uint32_t>> hits;
  for (const auto& [addr, gen] : m.extobj_suspects) {
    Slot* s = m.table.find(addr);
    const Attrs* a = s ? s->attrs() : nullptr;
    if (!a || s->gen != gen || a->vm != vm) continue;
    hits.emplace_back(addr, gen);
  }
  for (const auto& [addr, gen] : hits) {
    Slot* s = m.table.find(addr);
    Attrs* a = s->attrs();
    Subject sj{addr, gen, vm, a->obj};
    Tri held = m.task_held(t, a->bo_resv);
    if (held == Tri::yes) continue;
    a->reported_extobj_missing = true;
    a->in_suspects = false;
    m.extobj_suspects.erase(addr);
    if (held == Tri::unknown || m.uncertain(*a)) {
      m.unknown(id::extobj_missing, Severity::error, e, sj,
                held == Tri::unknown ? "whether current holds the BO's resv is not known (no snapshot or lock event of this task on it)"
                                   : "events were lost since the vm_bo's links/extobj state were observed");
      continue;
    }
    m.violation(id::extobj_missing, Severity::error, e, sj,
                fmt::format("{}: external GEM {} is mapped in VM {} ({} VA(s) via vm_bo {}) but is not on the "
                            "VM's extobj list and its resv {} is not locked by tid {} ({}): the job fence will "
                            "not reach it",
                            fn_name(e.fn), hex(a->obj), hex(vm), a->n_va, hex(addr), hex(a->bo_resv), e.tid,
                            e.comm));
  }
}

void extobj_missing_at_link(Model& m, const On& o) {
  if (!m.opts.report_info) return;
  const Attrs* a = o.attrs();
  if (!a || a->external != Tri::yes || a->extobj != Tri::no) return;
  m.info(id::extobj_missing, &o.e, o.subj(),
         fmt::format("drm_gpuva_link maps external GEM {} through vm_bo {} before it is on the VM's extobj list "
                     "(drm_gpuvm_bo_extobj_add not yet called)",
                     hex(a->obj), hex(o.addr)));
}

}  // namespace gvt::model::rules
