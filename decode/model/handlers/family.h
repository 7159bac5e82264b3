// SPDX-License-Identifier: GPL-2.0-only
// What the handler families (one file per family of traced functions) share: small
// lookups used on every event (inline: this is the hot path) and the entry/exit
// handlers dispatch.cpp calls. An entry handler fills the Frame its exit will read and
// returns whether to push it (entry-only calls and ignored nested calls push nothing).
// Slot pointers are re-fetched after any table change (robin_map moves entries on
// insert/erase). Not a public header.
#pragma once

#include "decode/model/model.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::handlers {

using rules::On;

inline bool is_ww_lock(Fn f) { return f == Fn::ww_mutex_lock || f == Fn::ww_mutex_lock_interruptible; }
inline bool is_mutex_lock(Fn f) {
  return f == Fn::mutex_lock || f == Fn::mutex_lock_interruptible || f == Fn::mutex_lock_killable;
}

inline bool ret_true(const Event& e) { return e.has(RET) && e.get(RET) != 0 && e.ret_kind != RetKind::err; }

inline uint64_t arg(const Event& e, Field f) { return e.has(f) ? e.get(f) : 0; }

// The lifecycle an entry is about: the latest generation (possibly DESTROYED), or an
// adopted one for an address never seen.
inline Slot* latest(Model& m, uint64_t addr) {
  Slot* s = m.table.find(addr);
  return (s && s->gen) ? s : nullptr;
}

// VM facts carried by any snapshot.
inline void absorb_vm(Model& m, const Event& e, uint64_t vm) {
  if (!vm || (!e.has(S_VM_RESV) && !e.has(S_VM_FLAGS))) return;
  VmState& v = m.vm(vm);
  if (e.has(S_VM_RESV)) v.resv = e.get(S_VM_RESV);
  if (e.has(S_VM_FLAGS)) {
    v.flags = static_cast<uint32_t>(e.get(S_VM_FLAGS));
    v.flags_known = true;
  }
}

inline void mark_uncertain(Slot& s) {
  if (Attrs* a = s.attrs()) a->sync_epoch = ~0ull;
}

inline void snapshot_refcount(Frame& f, const Event& e) {
  if (e.has(S_REFCOUNT)) {
    f.refcount = static_cast<int32_t>(e.sget(S_REFCOUNT));
    f.refcount_known = true;
  }
}

// ---- shared steps (common.cpp) ----
void absorb(Model& m, Slot& s, const Event& e);
void seed_holds(Model& m, const Event& e, Task& t, uint64_t vm, const Attrs* a);
Slot* live_for(Model& m, uint64_t addr, const Event& e, const Task& t, uint64_t vm = 0, uint64_t obj = 0);
// The live generation at an address is not the vm_bo the snapshot describes (§D.1-like proof of a gap).
bool other_identity(const Model& m, const Slot& s, const Event& e);
void fill_frame(Frame& f, uint64_t addr, const Slot* s, uint64_t vm);
void take_live(Model& m, const Event& e, Task& t, On& o, Slot* s);
Slot* vm_bo_entry(Model& m, const Event& e, Task& t, Frame& f, On& o);
// T11: a live vm_bo becomes a zombie on its VM's deferred list.
void make_zombie(Model& m, uint64_t addr, Slot& s, LifeState from);
// A mutex call made by ww_mutex_* itself (§C.1): ignored (locks.cpp).
bool nested_in_ww(Task& t, const Event& e);

// ---- create / obtain (create_obtain.cpp) ----
bool create_entry(Model& m, const Event& e, Task& t, Frame& f);
bool obtain_entry(Model& m, const Event& e, Task& t, Frame& f);
bool prealloc_entry(Model& m, const Event& e, Task& t, Frame& f);
void create_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void obtain_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void prealloc_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);

// ---- put / destroy (put_destroy.cpp) ----
bool put_entry(Model& m, const Event& e, Task& t, Frame& f);
bool cleanup_entry(Model& m, const Event& e, Task& t, Frame& f);
void put_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void cleanup_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);

// ---- the VM's extobj and evict lists (lists.cpp) ----
bool extobj_entry(Model& m, const Event& e, Task& t, Frame& f);
bool evict_entry(Model& m, const Event& e, Task& t, Frame& f);
void extobj_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void evict_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);

// ---- VAs (vas.cpp) ----
bool link_entry(Model& m, const Event& e, Task& t, Frame& f);
bool unlink_entry(Model& m, const Event& e, Task& t, Frame& f);
bool unmap_ops_entry(Model& m, const Event& e, Task& t, Frame& f);
bool va_tree_entry(Model& m, const Event& e, Task& t, Frame& f);
void link_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void unlink_defer_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void va_insert_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void va_remove_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);

// ---- locks (locks.cpp) ----
bool ww_lock_entry(Model& m, const Event& e, Task& t, Frame& f);
bool ww_trylock_entry(Model& m, const Event& e, Task& t, Frame& f);
bool ww_unlock_entry(Model& m, const Event& e, Task& t, Frame& f);
bool mutex_lock_entry(Model& m, const Event& e, Task& t, Frame& f);
bool mutex_trylock_entry(Model& m, const Event& e, Task& t, Frame& f);
bool mutex_unlock_entry(Model& m, const Event& e, Task& t, Frame& f);
bool sys_exit_entry(Model& m, const Event& e, Task& t, Frame& f);
void lock_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);

// ---- the VM (vm.cpp) ----
bool vm_call_entry(Model& m, const Event& e, Task& t, Frame& f);
bool add_fence_entry(Model& m, const Event& e, Task& t, Frame& f);
bool gpuvm_init_entry(Model& m, const Event& e, Task& t, Frame& f);
bool gpuvm_put_entry(Model& m, const Event& e, Task& t, Frame& f);
bool gpuvm_free_entry(Model& m, const Event& e, Task& t, Frame& f);
void exec_lock_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void gpuvm_init_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
void gpuvm_put_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);

}  // namespace gvt::model::handlers
