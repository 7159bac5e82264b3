/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gpuvm_exerciser: a driver-like user of drm_gpuvm that commits chosen
 * lifecycle bugs on purpose, so gpuvm-trace can be checked against a real
 * kernel. Shared declarations of the object helpers (ex_core.c), the
 * driver-style building blocks (ex_drivers.c) and the scenarios.
 */
#ifndef GPUVM_EXERCISER_EX_H
#define GPUVM_EXERCISER_EX_H

#include <drm/drm_device.h>
#include <drm/drm_exec.h>
#include <drm/drm_gem.h>
#include <drm/drm_gpuvm.h>
#include <linux/dma-resv.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include "ex_compat.h"

/* VA space of every VM: [EX_VA_START, EX_VA_START + EX_VA_RANGE). */
#define EX_VA_START 0x100000ULL
#define EX_VA_RANGE (1ULL << 32)
#define EX_VA_SIZE 0x10000ULL

extern struct drm_device *ex_drm;

/*
 * How a VM allocates and frees its vm_bos. The kind picks the drm_gpuvm_ops.
 */
enum ex_vm_kind {
	EX_VM_PLAIN,      /* GPUVM kzalloc/kfree, like nouveau and xe */
	EX_VM_PARKING,    /* vm_bo_alloc + vm_bo_free that parks memory forever */
	EX_VM_ALLOC_ONLY, /* only vm_bo_alloc: GPUVM kfree()s what we allocated */
	EX_VM_PAUSING,    /* vm_bo_alloc can pause to let another task obtain */
	EX_VM_KIND_COUNT,
};

struct ex_vm {
	struct drm_gpuvm base;
};

struct ex_bo {
	struct drm_gem_object base;
	/* private BOs borrow the VM's resv: keep its owner GEM alive */
	struct drm_gem_object *resv_owner;
	/* free keeps the memory (leaked, module pinned): a mutex inside stays usable */
	bool park_on_free;
};

/* ex_core.c */
int ex_core_init(void);
void ex_core_fini(void);
void ex_pin_module(const char *why);

struct ex_vm *ex_vm_create(const char *name, enum drm_gpuvm_flags flags,
			   enum ex_vm_kind kind);
static inline void ex_vm_put(struct ex_vm *vm)
{
	drm_gpuvm_put(&vm->base);
}

static inline struct dma_resv *ex_vm_resv(struct ex_vm *vm)
{
	return drm_gpuvm_resv(&vm->base);
}

struct ex_bo *ex_bo_create_external(void);
struct ex_bo *ex_bo_create_private(struct ex_vm *vm);
static inline void ex_bo_put(struct ex_bo *bo)
{
	drm_gem_object_put(&bo->base);
}

struct drm_gpuva *ex_va_alloc(struct ex_bo *bo, u64 addr);

static inline bool ex_vm_immediate(struct ex_vm *vm)
{
	return vm->base.flags & EX_VM_IMMEDIATE;
}

/*
 * The gpuva lock of an immediate-mode VM is the GEM's own gpuva.lock mutex,
 * taken on top of the resvs a bind job holds (panthor, the Rust binding).
 * On other VMs it is the BO's resv, which the callers of these already hold
 * through drm_exec: then they do nothing.
 */
static inline void ex_va_lock(struct ex_vm *vm, struct ex_bo *bo)
{
#ifdef EX_HAVE_IMMEDIATE
	if (ex_vm_immediate(vm))
		mutex_lock(&bo->base.gpuva.lock);
#endif
}

static inline void ex_va_unlock(struct ex_vm *vm, struct ex_bo *bo)
{
#ifdef EX_HAVE_IMMEDIATE
	if (ex_vm_immediate(vm))
		mutex_unlock(&bo->base.gpuva.lock);
#endif
}

/* Pausing allocator of EX_VM_PAUSING (duplicate-vm-bo scenario). */
typedef void (*ex_alloc_hook_t)(void *arg);
void ex_set_alloc_hook(ex_alloc_hook_t hook, void *arg);

/* ex_drivers.c: correct sequences in the style of real drivers */
int ex_exec_lock(struct drm_exec *exec, struct ex_vm *vm, struct ex_bo **bos,
		 unsigned int n);
int nv_bind(struct ex_vm *vm, struct ex_bo *bo, struct drm_gpuva *va);
int nv_unbind(struct ex_vm *vm, struct ex_bo *bo, struct drm_gpuva *va);
int xe_bind(struct ex_vm *vm, struct ex_bo **bos, struct drm_gpuva **vas,
	    unsigned int n);
int xe_unbind(struct ex_vm *vm, struct ex_bo **bos, struct drm_gpuva **vas,
	      unsigned int n);
void xe_evict(struct ex_bo *bo);
int xe_exec(struct ex_vm *vm);

/* A VM with one external BO and two VAs of it (ex_scenarios_bug.c). */
struct ex_set {
	struct ex_vm *vm;
	struct ex_bo *bo;
	struct drm_gpuva *va[2];
};
int ex_set_init(struct ex_set *s, const char *name, enum drm_gpuvm_flags flags,
		enum ex_vm_kind kind);
/* Only once no vm_bo, VA or lock refers to the objects any more. */
void ex_set_fini(struct ex_set *s);

/* scenarios; each returns 0 when it ran as designed */
int sc_g1(void);
int sc_g2(void);
int sc_stress(void);
int sc_concurrent(void);
int sc_resv_churn(void);
int sc_midflight_setup(void);
int sc_midflight_finish(void);
void ex_midflight_fini(void);
int sc_demo(void);

int sc_extobj_add_unlocked(void);
int sc_evict_unlocked(void);
int sc_obtain_unlocked(void);
int sc_stack_memo(void);
int sc_link_unlocked(void);
int sc_put_final_unlocked(void);
int sc_unlink_unlocked(void);
int sc_double_put(void);
int sc_destroy_while_mapped(void);
int sc_use_after_free(void);
int sc_prealloc_reused(void);
int sc_link_unregistered(void);
int sc_vm_bo_leak_at_vm_destroy(void);
int sc_alloc_free_asymmetric(void);
int sc_duplicate_vm_bo(void);
int sc_lock_unbalanced(void);
int sc_extobj_missing(void);

/*
 * ex_scenarios_new.c: immediate mode, gpuva.lock, deferred cleanup and the
 * self-locking obtain_prealloc (kernels that have them; -EOPNOTSUPP elsewhere)
 */
int sc_g3(void);
int sc_g3_put_deferred(void);
int sc_deferred_never_cleaned(void);
int sc_deferred_cleanup_resv_held(void);
int sc_gpuva_lock_recursion(void);
int sc_mode_mismatch(void);
int sc_put_final_unlocked_mutex(void);
int sc_link_unlocked_mutex(void);
int sc_gem_freed_under_gpuva_lock(void);
int sc_obtain_unlocked_find(void);

extern unsigned int ex_iterations;

#endif
