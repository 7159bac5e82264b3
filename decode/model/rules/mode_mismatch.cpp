// SPDX-License-Identifier: GPL-2.0-only
// mode-mismatch (rule_catalog.cpp, §B.2): an API used in the GPUVM mode it drm_WARNs about.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

void mode_mismatch(Model& m, const On& o) {
  const Event& e = o.e;
  bool wants_immediate = false;
  switch (e.fn) {
    case Fn::bo_put_deferred:
    case Fn::va_unlink_defer:
      wants_immediate = true;
      break;
    case Fn::bo_obtain_prealloc:
      // Only the self-locking version warns outside immediate mode.
      if (m.feat_self_locks != Tri::yes) return;
      wants_immediate = true;
      break;
    case Fn::bo_obtain_locked:
      wants_immediate = false;
      break;
    default:
      return;
  }
  Ans imm = m.immediate_vm(e, o.vm);
  if (imm.v == Tri::unknown) {
    m.unknown(id::mode_mismatch, Severity::warning, e, o.subj(), imm.why);
    return;
  }
  bool is_imm = imm.v == Tri::yes;
  if (is_imm == wants_immediate) return;
  m.violation(id::mode_mismatch, Severity::warning, e, o.subj(),
              fmt::format("{} on a VM {} DRM_GPUVM_IMMEDIATE_MODE: the kernel drm_WARNs (this API is for {} mode)",
                          fn_name(e.fn), is_imm ? "with" : "without",
                          wants_immediate ? "immediate" : "staged"));
}

}  // namespace gvt::model::rules
