// SPDX-License-Identifier: GPL-2.0-only
// Kernel function names of trace-format.md <-> gvt::Fn.
#include <array>
#include <string_view>

#include "decode/event.h"

namespace gvt {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Fn::count_)> kNames = {
    "",  // unknown
    "drm_gpuvm_init",
    "drm_gpuvm_put",
    "drm_gpuvm_free",
    "drm_gpuvm_bo_create",
    "drm_gpuvm_bo_obtain",
    "drm_gpuvm_bo_obtain_locked",
    "drm_gpuvm_bo_obtain_prealloc",
    "drm_gpuvm_bo_find",
    "drm_gpuvm_bo_put",
    "drm_gpuvm_bo_put_deferred",
    "drm_gpuvm_bo_deferred_cleanup",
    "drm_gpuvm_bo_extobj_add",
    "drm_gpuvm_bo_evict",
    "drm_gpuva_link",
    "drm_gpuva_unlink",
    "drm_gpuva_unlink_defer",
    "drm_gpuva_insert",
    "drm_gpuva_remove",
    "drm_gpuvm_validate",
    "drm_gpuvm_prepare_objects",
    "drm_gpuvm_exec_lock",
    "drm_gpuvm_exec_lock_array",
    "drm_gpuvm_exec_lock_range",
    "drm_gpuvm_resv_add_fence",
    "drm_gpuvm_bo_unmap_ops_create",
    "ww_mutex_lock",
    "ww_mutex_lock_interruptible",
    "ww_mutex_trylock",
    "ww_mutex_unlock",
    "mutex_lock",
    "mutex_lock_interruptible",
    "mutex_lock_killable",
    "mutex_trylock",
    "mutex_unlock",
    "sys_exit",
};

// Every name is unique: checked at compile time so a typo in the table cannot make
// two functions share a name.
constexpr bool names_unique() {
  for (size_t i = 1; i < kNames.size(); ++i) {
    if (kNames[i].empty()) return false;
    for (size_t j = i + 1; j < kNames.size(); ++j)
      if (kNames[i] == kNames[j]) return false;
  }
  return true;
}
static_assert(names_unique());

}  // namespace

std::string_view fn_name(Fn f) {
  auto i = static_cast<size_t>(f);
  return i < kNames.size() ? kNames[i] : std::string_view{};
}

Fn fn_from_name(std::string_view name) {
  // 35 names, looked up once per JSONL event: the length filter rejects most
  // candidates before a byte is compared, which is cheaper than hashing the name.
  for (size_t i = 1; i < kNames.size(); ++i)
    if (kNames[i].size() == name.size() && kNames[i] == name) return static_cast<Fn>(i);
  return Fn::unknown;
}

}  // namespace gvt
