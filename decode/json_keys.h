// SPDX-License-Identifier: GPL-2.0-only
// The "args" and "snap" keys of an event (trace-format.md), in canonical output order,
// with their JSON type and where they live in gvt::Event. Reader and writer share this
// table, so a key added here is read, written and converted everywhere at once.
#pragma once

#include <cstdint>
#include <string_view>

#include "decode/event.h"

namespace gvt::json {

enum class Kind : uint8_t {
  addr,     // "0x..." string -> Event::v[Field]
  u64,      // unsigned integer -> Event::v[Field]
  i64,      // signed integer -> Event::v[Field] (two's complement)
  str,      // string -> Event::name / vm_name (Field bit marks presence)
  boolean,  // JSON bool -> Tri (absent/no/yes) in Event::small[Small]
  tri,      // "yes"/"no"/"unknown" -> Tri in Event::small[Small]
};

struct Key {
  std::string_view name;
  Kind kind;
  uint8_t index;  // Field for addr/u64/i64/str, Small for boolean/tri
};

inline constexpr Key kArgKeys[] = {
    {"gpuvm", Kind::addr, A_GPUVM},      {"obj", Kind::addr, A_OBJ},
    {"vm_bo", Kind::addr, A_VM_BO},      {"va", Kind::addr, A_VA},
    {"lock", Kind::addr, A_LOCK},        {"ctx", Kind::addr, A_CTX},
    {"r_obj", Kind::addr, A_R_OBJ},      {"ops", Kind::addr, A_OPS},
    {"exec", Kind::addr, A_EXEC},        {"flags", Kind::u64, A_FLAGS},
    {"num_fences", Kind::u64, A_NUM_FENCES}, {"name", Kind::str, A_NAME},
    {"evict", Kind::boolean, A_EVICT},
};

inline constexpr Key kSnapKeys[] = {
    {"vm", Kind::addr, S_VM},
    {"obj", Kind::addr, S_OBJ},
    {"vm_bo", Kind::addr, S_VM_BO},
    {"vm_flags", Kind::u64, S_VM_FLAGS},
    {"vm_kref", Kind::i64, S_VM_KREF},
    {"vm_resv", Kind::addr, S_VM_RESV},
    {"bo_resv", Kind::addr, S_BO_RESV},
    {"bo_refcount", Kind::i64, S_BO_REFCOUNT},
    {"refcount", Kind::i64, S_REFCOUNT},
    {"on_gem", Kind::boolean, S_ON_GEM},
    {"on_extobj", Kind::boolean, S_ON_EXTOBJ},
    {"on_evict", Kind::boolean, S_ON_EVICT},
    {"on_defer", Kind::boolean, S_ON_DEFER},
    {"evicted", Kind::boolean, S_EVICTED},
    {"n_va_nonzero", Kind::boolean, S_N_VA_NONZERO},
    {"held_vm_resv", Kind::tri, S_HELD_VM_RESV},
    {"held_bo_resv", Kind::tri, S_HELD_BO_RESV},
    {"held_gpuva_lock", Kind::tri, S_HELD_GPUVA_LOCK},
    {"held", Kind::tri, S_HELD},
    {"ops_vm_bo_alloc", Kind::addr, S_OPS_VM_BO_ALLOC},
    {"ops_vm_bo_free", Kind::addr, S_OPS_VM_BO_FREE},
    {"vm_name", Kind::str, S_VM_NAME},
    {"gem_list_same_vm", Kind::u64, S_GEM_LIST_SAME_VM},
};

// Presence masks, to decide whether "args" / "snap" objects are written at all.
constexpr uint32_t field_mask(const Key* b, const Key* e) {
  uint32_t m = 0;
  for (; b != e; ++b)
    if (b->kind != Kind::boolean && b->kind != Kind::tri) m |= 1u << b->index;
  return m;
}
constexpr uint32_t small_mask(const Key* b, const Key* e) {
  uint32_t m = 0;
  for (; b != e; ++b)
    if (b->kind == Kind::boolean || b->kind == Kind::tri) m |= 3u << (2 * b->index);
  return m;
}
inline constexpr uint32_t kArgFields = field_mask(std::begin(kArgKeys), std::end(kArgKeys));
inline constexpr uint32_t kSnapFields = field_mask(std::begin(kSnapKeys), std::end(kSnapKeys));
inline constexpr uint32_t kArgSmall = small_mask(std::begin(kArgKeys), std::end(kArgKeys));
inline constexpr uint32_t kSnapSmall = small_mask(std::begin(kSnapKeys), std::end(kSnapKeys));

// Every Field except RET, STACK and SYMBOL, and every Small, appears exactly once.
static_assert((kArgFields & kSnapFields) == 0 && (kArgSmall & kSnapSmall) == 0);
static_assert((kArgFields | kSnapFields | bit(RET) | bit(STACK) | bit(SYMBOL)) ==
              (FIELD_COUNT_ == 32 ? ~0u : (1u << FIELD_COUNT_) - 1));
static_assert((kArgSmall | kSnapSmall) == (1u << (2 * SMALL_COUNT_)) - 1);

// Fields whose value is a string (v[] holds nothing; the view is in Event).
inline constexpr uint32_t kStringFields = bit(A_NAME) | bit(S_VM_NAME) | bit(SYMBOL);

// Functions returning a pointer: an integer `ret` is then an ERR_PTR errno.
constexpr bool returns_pointer(Fn f) {
  return f > Fn::unknown && f < Fn::count_ && fn_info(f).ret == FnRet::PTR;
}

}  // namespace gvt::json
