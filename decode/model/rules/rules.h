// SPDX-License-Identifier: GPL-2.0-only
// One function per rule of the rules catalogue (decode/model/rule_catalog.cpp) (grouped by family, one file per
// family). The dispatcher (model/handlers.cpp) calls each at the event its trigger
// names; a rule emits a violation when its trigger holds on known inputs, an unknown
// (with the missing evidence) when it could hold but an input is unknown, nothing
// otherwise.
#pragma once

#include <cstdint>

#include "decode/model/model.h"

namespace gvt::model::rules {

// What the rules see of the vm_bo an event is about.
struct On {
  const Event& e;
  Task& t;
  uint64_t addr = 0;   // vm_bo address (0 = none)
  Slot* s = nullptr;   // its latest generation (may be DESTROYED)
  uint64_t vm = 0;
  Subject subj() const;
  const Attrs* attrs() const { return s ? s->attrs() : nullptr; }
};

// --- lock requirements (lock_requirements.cpp): snapshot-only ---
void extobj_add_unlocked(Model& m, const On& o);                 // bo_extobj_add entry
void evict_unlocked(Model& m, const On& o);                      // bo_evict entry
void obtain_unlocked(Model& m, const On& o);                     // find/obtain*/unmap_ops entry
void link_unlocked(Model& m, const On& o);                       // va_link / va_unlink entry
void put_final_unlocked_prepare(Model& m, const On& o, Frame& f);  // bo_put entry
void put_final_unlocked(Model& m, const On& o, const Frame& f);    // bo_put exit ret 1

// --- GEM-embedded gpuva mutex (gpuva_mutex.cpp) ---
void gem_freed_prepare(Model& m, const On& o, Frame& f);         // bo_put entry
void gem_freed_under_gpuva_lock(Model& m, const On& o, const Frame& f);  // bo_put exit ret 1
void gpuva_lock_recursion_entry(Model& m, const On& o, Frame& f);  // prealloc / unlink_defer / put_deferred entry
// A nested mutex_lock entry of current inside a self-locking call.
void gpuva_lock_recursion_nested(Model& m, const Event& e, Task& t, Frame& outer);
void deferred_cleanup_prepare(Model& m, const Event& e, Task& t, Frame& f);  // cleanup entry
// A nested ww_mutex_lock entry inside bo_deferred_cleanup; true when reported (it then
// replaces lock-unbalanced for this event).
bool deferred_cleanup_resv_held(Model& m, const Event& e, Task& t, Frame& outer);
void pending_at_end(Model& m, const Frame& f, int32_t tid);      // frames still open at trace end

// --- mode (mode_mismatch.cpp) ---
void mode_mismatch(Model& m, const On& o);

// --- references (references.cpp) ---
// double-put at a put entry; true when the put is on a dead generation (the model then
// leaves the lifecycle alone).
bool double_put(Model& m, const On& o, Frame& f, const Frame* parent);
void refcount_saturated(Model& m, const On& o);
void destroy_while_mapped_prepare(Model& m, const On& o, Frame& f);
void destroy_while_mapped(Model& m, const On& o, const Frame& f);          // final put / put_deferred
// va_unlink_defer → ZOMBIE, or va_unlink's inlined final put: judged on the VA count
// after the unlink (the entry's list.gpuva still holds the VA being unlinked).
void destroy_while_mapped_at_unlink(Model& m, const On& o, const Frame& f);
// va_unlink exit with an inlined put whose finality is unknown (`why`): the rules a
// final put would trigger answer unknown where their other evidence says they could.
void inlined_put_undecided(Model& m, const On& o, const Frame& f, const char* why);

// --- stale pointers (use_after_free.cpp) ---
// true when reported (or unknown): the event operates on a dead generation.
bool use_after_free(Model& m, const On& o);
bool use_after_free_unlink(Model& m, const On& o, const LinkRec* key, Frame& f);

// --- registration (registration.cpp) ---
void prealloc_reused(Model& m, const On& o);
void link_unregistered(Model& m, const On& o);
void duplicate_vm_bo(Model& m, const On& o, const Frame& f, bool newly_registered);

// --- external objects (extobj_missing.cpp) ---
void extobj_missing(Model& m, const Event& e, Task& t, uint64_t vm);
void extobj_missing_at_link(Model& m, const On& o);              // info

// --- VM teardown (vm_teardown.cpp) ---
void vm_put_entry(Model& m, const Event& e, uint64_t vm);
void vm_put_exit(Model& m, const Event& e, uint64_t vm);
void vm_free(Model& m, const Event& e, uint64_t vm);             // (b), before T15

// --- locks (lock_unbalanced.cpp) ---
void lock_unbalanced_unlock(Model& m, const Event& e, Task& t);
void lock_unbalanced_lock(Model& m, const Event& e, Task& t);
void lock_unbalanced_sys_exit(Model& m, const Event& e, Task& t);

// --- ops (alloc_free.cpp) ---
void alloc_free_asymmetric(Model& m, const Event& e, uint64_t vm);

// --- end of trace (leaks.cpp) ---
void at_end(Model& m);

}  // namespace gvt::model::rules
