// SPDX-License-Identifier: GPL-2.0-only
// Stable rule IDs. What each one means is in the rules catalogue
// (decode/model/rule_catalog.cpp, `gpuvm-trace explain ID`). Findings keep string_views
// into these literals, so they must stay static.
#pragma once

#include <array>
#include <string_view>

namespace gvt::model::rules::id {

inline constexpr std::string_view extobj_add_unlocked = "extobj-add-unlocked";
inline constexpr std::string_view evict_unlocked = "evict-unlocked";
inline constexpr std::string_view obtain_unlocked = "obtain-unlocked";
inline constexpr std::string_view link_unlocked = "link-unlocked";
inline constexpr std::string_view put_final_unlocked = "put-final-unlocked";
inline constexpr std::string_view gem_freed_under_gpuva_lock = "gem-freed-under-gpuva-lock";
inline constexpr std::string_view gpuva_lock_recursion = "gpuva-lock-recursion";
inline constexpr std::string_view deferred_cleanup_resv_held = "deferred-cleanup-resv-held";
inline constexpr std::string_view mode_mismatch = "mode-mismatch";
inline constexpr std::string_view double_put = "double-put";
inline constexpr std::string_view destroy_while_mapped = "destroy-while-mapped";
inline constexpr std::string_view use_after_free = "use-after-free";
inline constexpr std::string_view refcount_saturated = "refcount-saturated";
inline constexpr std::string_view prealloc_reused = "prealloc-reused";
inline constexpr std::string_view link_unregistered = "link-unregistered";
inline constexpr std::string_view duplicate_vm_bo = "duplicate-vm-bo";
inline constexpr std::string_view extobj_missing = "extobj-missing";
inline constexpr std::string_view deferred_never_cleaned = "deferred-never-cleaned";
inline constexpr std::string_view vm_bo_leak_at_vm_destroy = "vm-bo-leak-at-vm-destroy";
inline constexpr std::string_view lock_unbalanced = "lock-unbalanced";
inline constexpr std::string_view alloc_free_asymmetric = "alloc-free-asymmetric";
inline constexpr std::string_view vm_bo_leak = "vm-bo-leak";

// Every ID above: the catalogue test checks each one is explained.
inline constexpr std::array all{
    extobj_add_unlocked,
    evict_unlocked,
    obtain_unlocked,
    link_unlocked,
    put_final_unlocked,
    gem_freed_under_gpuva_lock,
    gpuva_lock_recursion,
    deferred_cleanup_resv_held,
    mode_mismatch,
    double_put,
    destroy_while_mapped,
    use_after_free,
    refcount_saturated,
    prealloc_reused,
    link_unregistered,
    duplicate_vm_bo,
    extobj_missing,
    deferred_never_cleaned,
    vm_bo_leak_at_vm_destroy,
    lock_unbalanced,
    alloc_free_asymmetric,
    vm_bo_leak,
};

}  // namespace gvt::model::rules::id
