// SPDX-License-Identifier: GPL-2.0-only
// The rules catalogue (rule_catalog.h). Texts are plain ASCII without markup so that
// the terminal, the man page generator and the README table can all use them as is.
#include "decode/model/rule_catalog.h"

#include <array>

#include "decode/model/rule_ids.h"

namespace gvt::model {
namespace {

namespace id = rules::id;

constexpr std::array kRules{
    RuleInfo{
        id::extobj_add_unlocked, "error (external GEM); warning (private GEM)",
        "a vm_bo was added to the VM's external-object list without the VM's dma-resv held",
        "On a VM created with DRM_GPUVM_RESV_PROTECTED the extobj list is protected by the "
        "VM's own dma-resv (vm->r_obj->resv) instead of a spinlock. drm_gpuvm_bo_extobj_add "
        "asserts that lock before it even looks at whether the GEM is external, because "
        "drm_gpuvm_prepare_objects and the destroy path walk and edit the same list under "
        "that lock.",
        "The caller changed (or, for a private GEM, could have changed) the extobj list "
        "while another thread may walk it: a corrupted list or a missed fence on an "
        "external BO. For a private GEM nothing was listed, but lockdep would warn on a "
        "debug kernel, hence a warning.",
        "Take the VM resv around the call (dma_resv_lock(vm->r_obj->resv, NULL) or inside "
        "the drm_exec loop that already locks it), the way panthor and xe wrap their "
        "obtain + extobj_add.",
        "drm_gpuvm_bo_extobj_add, drm_gpuvm_prepare_objects, ww_mutex_lock, ww_mutex_unlock",
        "Snapshot-only: the held_vm_resv snapshot (or this task's observed lock events) "
        "and the VM flags. Unknown when the VM flags or the lock state are not known."},
    RuleInfo{
        id::evict_unlocked, "error",
        "a vm_bo's eviction state changed without the BO's dma-resv held",
        "drm_gpuvm_bo_evict sets vm_bo->evicted and moves the vm_bo on or off the VM's "
        "evict list. Both are read by drm_gpuvm_validate under the BO's reservation, so "
        "the kernel asserts obj->resv is held on every call.",
        "An eviction flag or evict-list entry was written while validation may read it: "
        "the next submission can skip re-validating a BO that was moved, or validate one "
        "twice.",
        "Call drm_gpuvm_bo_evict (or drm_gpuvm_bo_gem_evict) only from paths that hold "
        "the BO's reservation, typically the TTM move callback.",
        "drm_gpuvm_bo_evict, drm_gpuvm_bo_gem_evict, drm_gpuvm_validate",
        "Snapshot-only: held_bo_resv at entry, or this task's lock events on obj->resv."},
    RuleInfo{
        id::obtain_unlocked, "error",
        "a vm_bo lookup or registration ran without the GEM's gpuva lock",
        "The GEM's list of vm_bos (obj->gpuva.list) is protected by the gpuva lock: the "
        "GEM's dma-resv, or on kernels with a gpuva mutex in immediate mode "
        "obj->gpuva.lock. Lookup and append must happen under it so that one (VM, GEM) "
        "pair has one vm_bo.",
        "Two threads can both miss each other's vm_bo and register duplicates, or walk "
        "the list while it is edited.",
        "Hold the gpuva lock (drm_gem_gpuva_set_lock names it) around drm_gpuvm_bo_obtain, "
        "drm_gpuvm_bo_find and drm_gpuvm_bo_obtain_prealloc, e.g. inside the drm_exec "
        "loop that locks the BO.",
        "drm_gpuvm_bo_obtain, drm_gpuvm_bo_obtain_locked, drm_gpuvm_bo_obtain_prealloc, "
        "drm_gpuvm_bo_find, drm_gpuvm_bo_unmap_ops_create",
        "Snapshot-only: held_gpuva_lock. Unknown when the gpuva lock could not be "
        "resolved (a driver-private lock without a locator)."},
    RuleInfo{
        id::link_unlocked, "error",
        "a VA was linked to or unlinked from a vm_bo without the GEM's gpuva lock",
        "drm_gpuva_link and drm_gpuva_unlink edit the vm_bo's list of VAs and its "
        "reference count; the kernel asserts the gpuva lock because eviction and unmap "
        "walk the same lists.",
        "The VA list was edited concurrently with its readers; with an unlink the put "
        "that follows may also destroy the vm_bo without its locks.",
        "Take the gpuva lock around drm_gpuva_link/drm_gpuva_unlink (panthor takes its "
        "gpuva list lock in panthor_vma_link/unlink), or use the deferred variants in "
        "immediate mode.",
        "drm_gpuva_link, drm_gpuva_unlink",
        "Snapshot-only: held_gpuva_lock at entry."},
    RuleInfo{
        id::put_final_unlocked, "error",
        "the put that destroyed a vm_bo ran without the locks destruction needs",
        "The last drm_gpuvm_bo_put unlinks the vm_bo from the GEM's list (gpuva lock) and, "
        "on a RESV_PROTECTED VM, from the extobj and evict lists (VM resv). The kernel "
        "asserts both when the reference count reaches zero.",
        "A destroy edited lists that other threads may walk at the same time. Puts that "
        "were not final are not reported: only the one that actually destroyed.",
        "Hold the gpuva lock and, for protected VMs, the VM resv around any put that may "
        "be the last, or use drm_gpuvm_bo_put_deferred in immediate mode.",
        "drm_gpuvm_bo_put, drm_gpuva_unlink, drm_gpuvm_bo_obtain_prealloc",
        "Snapshot-only: refcount and held_* at entry, return value at exit (a "
        "drm_gpuva_unlink with the put inlined, e.g. arm64: the entry's refcount 1)."},
    RuleInfo{
        id::gem_freed_under_gpuva_lock, "error",
        "a destroy dropped the last GEM reference while the caller held a lock inside that GEM",
        "Destroying a vm_bo drops its GEM reference. When that is the last one the GEM is "
        "freed, and with it obj->gpuva.lock, which the caller may be holding: unlocking "
        "it afterwards touches freed memory.",
        "The caller holds the GEM's gpuva mutex across a put that frees the GEM.",
        "Take an extra GEM reference before the put and drop it after unlocking (as "
        "panthor does), or use the deferred put.",
        "drm_gpuvm_bo_put, drm_gpuvm_bo_deferred_cleanup, mutex_unlock",
        "Needs the GEM refcount and held_gpuva_lock at the put's entry."},
    RuleInfo{
        id::gpuva_lock_recursion, "error",
        "a call that takes obj->gpuva.lock itself was made with that lock already held",
        "On kernels with a GEM gpuva mutex, drm_gpuvm_bo_obtain_prealloc (self-locking "
        "variant), drm_gpuva_unlink_defer and the last drm_gpuvm_bo_put_deferred lock "
        "obj->gpuva.lock themselves. A mutex is not recursive.",
        "The task would deadlock on itself (or, with lockdep, get a recursive-locking "
        "report).",
        "Drop the gpuva lock before these calls, e.g. end the Rust lock_gpuva() guard "
        "scope before a deferred put.",
        "drm_gpuvm_bo_obtain_prealloc, drm_gpuva_unlink_defer, drm_gpuvm_bo_put_deferred, "
        "mutex_lock",
        "Always-locking calls: snapshot-only. bo_put_deferred locks only on its last "
        "reference, so it needs the nested mutex_lock event (lock coverage)."},
    RuleInfo{
        id::deferred_cleanup_resv_held, "error",
        "drm_gpuvm_bo_deferred_cleanup was called with the VM resv already held",
        "On a protected VM the cleanup locks the VM's dma-resv itself with a NULL acquire "
        "context to unlink the zombies. A NULL-context ww lock cannot report -EALREADY, "
        "so a caller already holding it deadlocks.",
        "The task entered the cleanup holding the VM resv and the cleanup tried to take it "
        "again.",
        "Call the cleanup after the drm_exec/VM resv section ends (e.g. from a work item).",
        "drm_gpuvm_bo_deferred_cleanup, ww_mutex_lock",
        "Needs the nested ww_mutex_lock event; an empty defer list locks nothing and is "
        "not reported."},
    RuleInfo{
        id::mode_mismatch, "warning",
        "an API meant for one GPUVM mode was used on a VM in the other mode",
        "Deferred puts and unlink_defer exist for VMs in DRM_GPUVM_IMMEDIATE_MODE (the "
        "gpuva lock is then a mutex that may not be taken in the fence signalling path); "
        "drm_gpuvm_bo_obtain_locked allocates under the gpuva lock and is for the other "
        "mode. The kernel warns (drm_WARN) on misuse.",
        "The driver mixes the two modes' locking schemes: allocations or lock acquisitions "
        "where the mode forbids them.",
        "Use the variant matching the flags the VM was created with.",
        "drm_gpuvm_bo_put_deferred, drm_gpuva_unlink_defer, drm_gpuvm_bo_obtain_prealloc, "
        "drm_gpuvm_bo_obtain_locked, drm_gpuvm_init",
        "Needs the VM flags and the kernel's features in the trace header."},
    RuleInfo{
        id::double_put, "error",
        "a vm_bo reference was dropped when none was left",
        "Every drm_gpuvm_bo_put must balance a reference the caller owns (from create, "
        "obtain, find, get or a VA link). After the last put the vm_bo is freed (or "
        "becomes a zombie awaiting deferred cleanup).",
        "The put ran on freed memory: a kernel with KASAN would report a use-after-free "
        "in the put, without it the refcount underflows or another object is corrupted. "
        "The finding names who created the vm_bo and who destroyed it.",
        "Find the path that put twice (typically an error path that drops a reference its "
        "caller also drops, or a pre-allocation that is both put and obtained); keep one "
        "owner per reference.",
        "drm_gpuvm_bo_put, drm_gpuvm_bo_put_deferred, drm_gpuva_unlink",
        "Needs the destruction observed and complete put coverage (every path that can "
        "drop a reference probed) and no lost events since; or a refcount <= 0 read at "
        "the put's entry."},
    RuleInfo{
        id::destroy_while_mapped, "error",
        "the last vm_bo reference was dropped while VAs were still linked to it",
        "Each linked VA owns one reference of its vm_bo, so the count cannot reach zero "
        "while a VA is linked unless somebody dropped a reference it did not own.",
        "An over-put: the VAs now point to freed memory and their unlink will be a "
        "use-after-free.",
        "Look for the extra put (often in an error path); unlink VAs before dropping the "
        "last references.",
        "drm_gpuvm_bo_put, drm_gpuvm_bo_put_deferred, drm_gpuva_unlink_defer",
        "Snapshot-only for puts (list.gpuva at entry)."},
    RuleInfo{
        id::use_after_free, "error",
        "a vm_bo was used after it was destroyed, or through a stale pointer",
        "Once the last reference is gone the vm_bo memory is freed (or a zombie waiting "
        "for deferred cleanup); no GPUVM call may be made on it, and a VA must be "
        "unlinked from the vm_bo it was linked to, not a new one at the same address.",
        "A call operated on freed memory: extobj_add, evict, link or an obtain_prealloc "
        "argument after destruction, a link on a zombie, or an unlink whose vm_bo was "
        "destroyed and reallocated meanwhile. The finding names who created and who "
        "destroyed the generation used.",
        "Keep the pointer only while owning a reference; after drm_gpuvm_bo_obtain_prealloc "
        "use its return value, never the pre-allocation pointer.",
        "drm_gpuvm_bo_extobj_add, drm_gpuvm_bo_evict, drm_gpuva_link, drm_gpuva_unlink, "
        "drm_gpuvm_bo_obtain_prealloc",
        "Needs the destruction observed, complete put coverage and no lost events since."},
    RuleInfo{
        id::refcount_saturated, "error",
        "a vm_bo's refcount_t was read negative (saturated)",
        "refcount_t saturates at a negative value after an underflow or overflow and then "
        "stays there; the kernel has already printed a refcount warning.",
        "Earlier reference bugs (a double put, most often) left the object leaked in a "
        "saturated state.",
        "Find the earlier over-put; the saturation is its consequence.",
        "drm_gpuvm_bo_put, drm_gpuvm_bo_get",
        "Snapshot-only: any refcount snapshot."},
    RuleInfo{
        id::prealloc_reused, "error (refcount > 1 alone: warning)",
        "drm_gpuvm_bo_obtain_prealloc got a vm_bo that is not a fresh pre-allocation",
        "The argument must be a vm_bo straight from drm_gpuvm_bo_create: one reference, "
        "on no list. When a vm_bo for the pair already exists, the pre-allocation is "
        "released without being unlinked, so a listed one would leave a dangling list "
        "entry; an extra reference would leak it.",
        "The driver passed a vm_bo it had already registered or listed (or shared), "
        "mixing up its pre-allocation and the registered vm_bo.",
        "Create a new vm_bo for every obtain_prealloc and use only the returned pointer "
        "afterwards.",
        "drm_gpuvm_bo_obtain_prealloc, drm_gpuvm_bo_create",
        "List and refcount part: snapshot-only; the state part needs the history."},
    RuleInfo{
        id::link_unregistered, "error",
        "a VA was linked to a vm_bo that is not on its GEM's vm_bo list",
        "drm_gpuva_link does not register the vm_bo with the GEM; it must already be "
        "there (from obtain or obtain_prealloc), otherwise eviction and lookups cannot "
        "reach the VA and a second vm_bo for the same pair can appear.",
        "A pre-allocated vm_bo was used directly instead of the one obtain returned.",
        "Link VAs only to the vm_bo returned by drm_gpuvm_bo_obtain*.",
        "drm_gpuva_link, drm_gpuvm_bo_obtain_prealloc, drm_gpuvm_bo_create",
        "Snapshot-only: on_gem at the link's entry."},
    RuleInfo{
        id::duplicate_vm_bo, "error",
        "two live registered vm_bos exist for one (VM, GEM) pair",
        "GPUVM keeps at most one vm_bo per (VM, GEM); lookups return the first match, so a "
        "second one is invisible to find/obtain while still holding references and "
        "mappings.",
        "Registration happened without the gpuva lock, or behind GPUVM's back; one of the "
        "two will leak or be evicted inconsistently.",
        "Serialise obtain under the gpuva lock; never append to obj->gpuva.list directly.",
        "drm_gpuvm_bo_obtain, drm_gpuvm_bo_obtain_prealloc, drm_gpuvm_bo_find",
        "Walk form: snapshot-only. Tracker form: needs both registrations observed."},
    RuleInfo{
        id::extobj_missing, "error (at fence/exec); info (at link)",
        "a job fence was added while an external BO mapped in the VM is not on the extobj list",
        "drm_gpuvm_resv_add_fence and drm_gpuvm_exec_lock only reach external BOs through "
        "the VM's extobj list. A mapped external BO missing from it gets no fence and no "
        "lock: it can be evicted or freed while the GPU still uses it.",
        "The driver mapped an external BO without drm_gpuvm_bo_extobj_add (the review "
        "version of the Rust obtain did so only for its own pre-allocation).",
        "Call drm_gpuvm_bo_extobj_add after every obtain of an external BO, under the VM "
        "resv.",
        "drm_gpuvm_bo_extobj_add, drm_gpuvm_resv_add_fence, drm_gpuvm_exec_lock, drm_gpuva_link",
        "Needs the vm_bo's links and extobj adds observed since it was first seen."},
    RuleInfo{
        id::deferred_never_cleaned, "warning (at VM teardown); info (at trace end)",
        "zombie vm_bos were never reclaimed by drm_gpuvm_bo_deferred_cleanup",
        "Deferred puts leave zombies on vm->bo_defer that keep their VM and GEM "
        "references until the driver calls drm_gpuvm_bo_deferred_cleanup.",
        "The VM is torn down (only GPUVM-internal references left) without draining the "
        "defer list: GEMs and their pages stay pinned.",
        "Call drm_gpuvm_bo_deferred_cleanup on teardown and after deferred puts.",
        "drm_gpuvm_bo_put_deferred, drm_gpuva_unlink_defer, drm_gpuvm_bo_deferred_cleanup, "
        "drm_gpuvm_put",
        "Needs the VM observed since drm_gpuvm_init, complete put coverage, no lost events."},
    RuleInfo{
        id::vm_bo_leak_at_vm_destroy, "warning (a: VM kept alive); error (b: VM freed)",
        "a VM is kept alive only by its own vm_bos and VAs, or was freed with live vm_bos",
        "Each vm_bo and each inserted VA holds a VM reference. A driver that drops its own "
        "last VM reference while vm_bos remain leaks the VM (a); a VM freed while vm_bos "
        "or list entries remain leaves them pointing to freed memory (b); the kernel warns "
        "in drm_gpuvm_free.",
        "vm_bos (or VAs) were leaked on the close path, pinning the VM, the GEMs and "
        "memory; or the VM was freed under them.",
        "Unmap and put every vm_bo before the last drm_gpuvm_put.",
        "drm_gpuvm_put, drm_gpuvm_free, drm_gpuva_insert, drm_gpuva_remove, drm_gpuvm_bo_put",
        "(a) needs the VM observed since drm_gpuvm_init and complete put coverage; (b) the "
        "list form is snapshot-only, the tracked form needs the history."},
    RuleInfo{
        id::lock_unbalanced, "error",
        "a ww mutex was unlocked by a task that did not own it, locked recursively, or held across the return to user space",
        "A ww_mutex (the dma-resv lock) may only be unlocked by its owner, may not be taken "
        "again with a NULL context by the task that holds it, and may not be held when a "
        "syscall returns.",
        "A double unlock, an unlock on the wrong path, a self-deadlock, or a lock leaked to "
        "user space (lockdep's recursive-locking and held-lock-at-exit reports).",
        "Balance every dma_resv_lock with one dma_resv_unlock on every path; use a drm_exec "
        "context when several BOs are locked.",
        "ww_mutex_lock, ww_mutex_lock_interruptible, ww_mutex_trylock, ww_mutex_unlock",
        "Non-owner and recursion: snapshot-only. Held at syscall exit: needs the "
        "acquisition observed."},
    RuleInfo{
        id::alloc_free_asymmetric, "info; warning when only vm_bo_alloc is set",
        "exactly one of the VM's vm_bo_alloc/vm_bo_free callbacks is set",
        "Without vm_bo_free, GPUVM kfree()s what vm_bo_alloc returned, which is only right "
        "if the struct drm_gpuvm_bo is at offset 0 of a kmalloc allocation. With only "
        "vm_bo_free the driver frees what GPUVM kzalloc'ed.",
        "Allocation and release of vm_bos are done by different parties; legal in some "
        "layouts, a memory corruption in others.",
        "Set both callbacks or neither.",
        "drm_gpuvm_init, drm_gpuvm_bo_create, drm_gpuvm_bo_put",
        "Needs the VM's ops snapshot at drm_gpuvm_init."},
    RuleInfo{
        id::vm_bo_leak, "info",
        "a vm_bo was idle at the end of the trace",
        "A vm_bo still allocated but never registered, or registered without mappings, "
        "keeps its VM and GEM alive; normally it is put soon after its last use.",
        "Possibly a missing put on an error path; at trace end this is only a hint, "
        "hence info (--idle filters out recently used ones).",
        "Check the error paths after drm_gpuvm_bo_create/obtain for a missing put.",
        "drm_gpuvm_bo_create, drm_gpuvm_bo_obtain, drm_gpuvm_bo_put",
        "ALLOCATED leaks need the creation observed."},
};

}  // namespace

std::span<const RuleInfo> rule_catalog() { return kRules; }

const RuleInfo* find_rule(std::string_view rule) {
  for (const RuleInfo& r : kRules)
    if (r.id == rule) return &r;
  return nullptr;
}

}  // namespace gvt::model
