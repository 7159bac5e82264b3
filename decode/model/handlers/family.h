// SPDX-License-Identifier: GPL-2.0-only
// What the handler families (one file per family of traced functions) share: small
// lookups used on every event (inline: this is the hot path) and the entry/exit
// handlers dispatch.cpp calls. An entry handler fills the Frame its exit will read and
// returns whether to push it (entry-only calls and ignored nested calls push nothing).
// A Slot& stays valid until its address leaves the table (only the oldest tombstones
// do, in LifecycleTable::destroy). Not a public header.
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

// The lifecycle an entry is about: the latest generation (possibly DESTROYED), or an
// adopted one for an address never seen.
inline Slot* latest(Model& m, uint64_t addr) {
  Slot* s = m.table.find(addr);
  return (s && s->gen) ? s : nullptr;
}

// VM facts carried by any snapshot. The VM's ops are judged at their first sight, on
// whatever event carries them (alloc-free-asymmetric is snapshot-only, §E.2): a VM
// created before the trace shows its ops first on a vm_bo call.
inline void absorb_vm(Model& m, const Event& e, uint64_t vm) {
  constexpr uint32_t kOps = bit(S_OPS_VM_BO_ALLOC) | bit(S_OPS_VM_BO_FREE);
  if (!vm || !(e.present & (bit(S_VM_RESV) | bit(S_VM_FLAGS) | kOps))) return;
  VmState& v = m.vm(vm);
  if (e.has(S_VM_RESV)) v.resv = e.get(S_VM_RESV);
  if (e.has(S_VM_FLAGS)) {
    v.flags = static_cast<uint32_t>(e.get(S_VM_FLAGS));
    v.flags_known = true;
  }
  if ((e.present & kOps) == kOps && !v.ops_seen) rules::alloc_free_asymmetric(m, e, vm);
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
// T10 ret 1: the final put of the live vm_bo at `addr` (drm_gpuvm_bo_put's exit, or an
// unlink whose put was inlined) destroys it; `what` is the replay note.
void destroy_final(Model& m, const Event& e, const Task& t, uint64_t addr, LifeState from, std::string_view what);
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
void unlink_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched);
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

// Exit of a function whose exit changes nothing the model tracks.
inline void no_exit(Model&, const Event&, Task&, const Frame&, bool) {}

// ---- which handlers each traced function has ----
// dispatch.cpp calls Handler<F> for every function of decode/fn_table.h: a function
// without a GVT_HANDLES line below is a compile error (incomplete type Handler<F>).
template <Fn F>
struct Handler;
#define GVT_HANDLES(fn_, entry_, exit_)                                                    \
  template <>                                                                              \
  struct Handler<Fn::fn_> {                                                                \
    static bool entry(Model& m, const Event& e, Task& t, Frame& f) { return entry_(m, e, t, f); } \
    static void exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {   \
      exit_(m, e, t, f, matched);                                                          \
    }                                                                                      \
  };

GVT_HANDLES(gpuvm_init, gpuvm_init_entry, gpuvm_init_exit)
GVT_HANDLES(gpuvm_put, gpuvm_put_entry, gpuvm_put_exit)
GVT_HANDLES(gpuvm_free, gpuvm_free_entry, no_exit)
GVT_HANDLES(bo_create, create_entry, create_exit)
GVT_HANDLES(bo_obtain, obtain_entry, obtain_exit)
GVT_HANDLES(bo_obtain_locked, obtain_entry, obtain_exit)
GVT_HANDLES(bo_obtain_prealloc, prealloc_entry, prealloc_exit)
GVT_HANDLES(bo_find, obtain_entry, obtain_exit)
GVT_HANDLES(bo_put, put_entry, put_exit)
GVT_HANDLES(bo_put_deferred, put_entry, put_exit)
GVT_HANDLES(bo_deferred_cleanup, cleanup_entry, cleanup_exit)
GVT_HANDLES(bo_extobj_add, extobj_entry, extobj_exit)
GVT_HANDLES(bo_evict, evict_entry, evict_exit)
GVT_HANDLES(va_link, link_entry, link_exit)
GVT_HANDLES(va_unlink, unlink_entry, unlink_exit)
GVT_HANDLES(va_unlink_defer, unlink_entry, unlink_defer_exit)
GVT_HANDLES(va_insert, va_tree_entry, va_insert_exit)
GVT_HANDLES(va_remove, va_tree_entry, va_remove_exit)
GVT_HANDLES(vm_validate, vm_call_entry, no_exit)
GVT_HANDLES(vm_prepare_objects, vm_call_entry, no_exit)
GVT_HANDLES(vm_exec_lock, vm_call_entry, exec_lock_exit)
GVT_HANDLES(vm_exec_lock_array, vm_call_entry, exec_lock_exit)
GVT_HANDLES(vm_exec_lock_range, vm_call_entry, exec_lock_exit)
GVT_HANDLES(vm_resv_add_fence, add_fence_entry, no_exit)
GVT_HANDLES(bo_unmap_ops_create, unmap_ops_entry, no_exit)
GVT_HANDLES(ww_mutex_lock, ww_lock_entry, lock_exit)
GVT_HANDLES(ww_mutex_lock_interruptible, ww_lock_entry, lock_exit)
GVT_HANDLES(ww_mutex_trylock, ww_trylock_entry, lock_exit)
GVT_HANDLES(ww_mutex_unlock, ww_unlock_entry, no_exit)
GVT_HANDLES(mutex_lock, mutex_lock_entry, lock_exit)
GVT_HANDLES(mutex_lock_interruptible, mutex_lock_entry, lock_exit)
GVT_HANDLES(mutex_lock_killable, mutex_lock_entry, lock_exit)
GVT_HANDLES(mutex_trylock, mutex_trylock_entry, lock_exit)
GVT_HANDLES(mutex_unlock, mutex_unlock_entry, no_exit)
GVT_HANDLES(sys_exit, sys_exit_entry, no_exit)
#undef GVT_HANDLES

}  // namespace gvt::model::handlers
