// SPDX-License-Identifier: GPL-2.0-only
/*
 * Objects of the exerciser: one drm_device on a platform device, VMs, GEM
 * objects and VAs, set up the way nouveau, xe and panthor set up theirs.
 */
#define pr_fmt(fmt) "gpuvm_exerciser: " fmt

#include <drm/drm_drv.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "ex.h"

struct drm_device *ex_drm;
static struct platform_device *ex_pdev;

/*
 * DRIVER_GEM is what makes drm_dev_alloc() set up the vma-offset manager that
 * drm_gem_object_release() touches; nothing here is ever registered.
 */
static const struct drm_driver ex_driver = {
	.driver_features = DRIVER_GEM,
	.name = "gpuvm_exerciser",
	.desc = "drm_gpuvm lifecycle exerciser",
	.major = 1,
};

int ex_core_init(void)
{
	ex_pdev = platform_device_register_simple("gpuvm_exerciser", -1, NULL, 0);
	if (IS_ERR(ex_pdev))
		return PTR_ERR(ex_pdev);

	ex_drm = drm_dev_alloc(&ex_driver, &ex_pdev->dev);
	if (IS_ERR(ex_drm)) {
		int ret = PTR_ERR(ex_drm);

		ex_drm = NULL;
		platform_device_unregister(ex_pdev);
		return ret;
	}
	return 0;
}

void ex_core_fini(void)
{
	drm_dev_put(ex_drm);
	platform_device_unregister(ex_pdev);
}

/*
 * Leaked objects keep pointers into this module (ops, GEM funcs, parked
 * memory): once anything leaks, the module must never unload.
 */
void ex_pin_module(const char *why)
{
	static bool pinned;

	if (pinned)
		return;
	pinned = true;
	__module_get(THIS_MODULE);
	pr_warn("module pinned: %s (objects leaked on purpose)\n", why);
}

/* ---- vm_bo allocation ---- */

struct ex_vm_bo {
	struct drm_gpuvm_bo base; /* first: GPUVM may kfree() &base */
	struct list_head parked;
};

static LIST_HEAD(ex_parked);
static DEFINE_SPINLOCK(ex_parked_lock);

static ex_alloc_hook_t ex_alloc_hook;
static void *ex_alloc_hook_arg;

void ex_set_alloc_hook(ex_alloc_hook_t hook, void *arg)
{
	ex_alloc_hook_arg = arg;
	WRITE_ONCE(ex_alloc_hook, hook);
}

static struct drm_gpuvm_bo *ex_vm_bo_alloc(void)
{
	struct ex_vm_bo *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	INIT_LIST_HEAD(&p->parked);
	return &p->base;
}

/* Runs the hook once (it may block) before allocating. */
static struct drm_gpuvm_bo *ex_vm_bo_alloc_pausing(void)
{
	ex_alloc_hook_t hook = xchg(&ex_alloc_hook, NULL);

	if (hook)
		hook(ex_alloc_hook_arg);
	return ex_vm_bo_alloc();
}

static void ex_vm_bo_free(struct drm_gpuvm_bo *vm_bo)
{
	kfree(container_of(vm_bo, struct ex_vm_bo, base));
}

/*
 * A destroyed vm_bo stays readable forever, so a later put or link through a
 * stale pointer hits refcount_t's saturation checks instead of freed memory.
 */
static void ex_vm_bo_park(struct drm_gpuvm_bo *vm_bo)
{
	struct ex_vm_bo *p = container_of(vm_bo, struct ex_vm_bo, base);

	spin_lock(&ex_parked_lock);
	list_add_tail(&p->parked, &ex_parked);
	spin_unlock(&ex_parked_lock);
	ex_pin_module("vm_bo memory parked");
}

/* ---- VMs ---- */

static void ex_vm_free(struct drm_gpuvm *gpuvm)
{
	kfree(container_of(gpuvm, struct ex_vm, base));
}

/*
 * What xe's vm_bo_validate amounts to for a BO that is already resident:
 * TTM moves it back and clears the evicted state under the BO's resv.
 */
static int ex_vm_bo_validate(struct drm_gpuvm_bo *vm_bo, struct drm_exec *exec)
{
	drm_gpuvm_bo_evict(vm_bo, false);
	return 0;
}

static const struct drm_gpuvm_ops ex_vm_ops[EX_VM_KIND_COUNT] = {
	[EX_VM_PLAIN] = {
		.vm_free = ex_vm_free,
		.vm_bo_validate = ex_vm_bo_validate,
	},
	[EX_VM_PARKING] = {
		.vm_free = ex_vm_free,
		.vm_bo_alloc = ex_vm_bo_alloc,
		.vm_bo_free = ex_vm_bo_park,
		.vm_bo_validate = ex_vm_bo_validate,
	},
	[EX_VM_ALLOC_ONLY] = {
		.vm_free = ex_vm_free,
		.vm_bo_alloc = ex_vm_bo_alloc,
		.vm_bo_validate = ex_vm_bo_validate,
	},
	[EX_VM_PAUSING] = {
		.vm_free = ex_vm_free,
		.vm_bo_alloc = ex_vm_bo_alloc_pausing,
		.vm_bo_free = ex_vm_bo_free,
		.vm_bo_validate = ex_vm_bo_validate,
	},
};

struct ex_vm *ex_vm_create(const char *name, enum drm_gpuvm_flags flags,
			   enum ex_vm_kind kind)
{
	struct drm_gem_object *r_obj;
	struct ex_vm *vm;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return NULL;
	r_obj = drm_gpuvm_resv_object_alloc(ex_drm);
	if (!r_obj) {
		kfree(vm);
		return NULL;
	}
	drm_gpuvm_init(&vm->base, name, flags, ex_drm, r_obj, EX_VA_START,
		       EX_VA_RANGE, 0, 0, &ex_vm_ops[kind]);
	/* drm_gpuvm_init took its own reference, as in xe and nouveau */
	drm_gem_object_put(r_obj);
	return vm;
}

/* ---- GEM objects ---- */

static void ex_bo_free(struct drm_gem_object *obj)
{
	struct ex_bo *bo = container_of(obj, struct ex_bo, base);
	struct drm_gem_object *resv_owner = bo->resv_owner;

	drm_gem_object_release(obj);
	if (bo->park_on_free)
		ex_pin_module("GEM memory parked");
	else
		kfree(bo);
	drm_gem_object_put(resv_owner);
}

static const struct drm_gem_object_funcs ex_bo_funcs = {
	.free = ex_bo_free,
};

static struct ex_bo *ex_bo_create(struct dma_resv *shared_resv,
				  struct drm_gem_object *resv_owner)
{
	struct ex_bo *bo = kzalloc(sizeof(*bo), GFP_KERNEL);

	if (!bo)
		return NULL;
	bo->base.funcs = &ex_bo_funcs;
	/* drm_gem_private_object_init() keeps a resv set before it */
	bo->base.resv = shared_resv;
	drm_gem_private_object_init(ex_drm, &bo->base, PAGE_SIZE);
	/* without it obtaining a vm_bo walks an uninitialised list */
	drm_gem_gpuva_init(&bo->base);
	if (resv_owner) {
		drm_gem_object_get(resv_owner);
		bo->resv_owner = resv_owner;
	}
	return bo;
}

/* External BO: its own resv, like a shared or imported buffer. */
struct ex_bo *ex_bo_create_external(void)
{
	return ex_bo_create(NULL, NULL);
}

/* Private BO: shares the VM's resv (xe's and nouveau's VM-local BOs). */
struct ex_bo *ex_bo_create_private(struct ex_vm *vm)
{
	return ex_bo_create(ex_vm_resv(vm), vm->base.r_obj);
}

struct drm_gpuva *ex_va_alloc(struct ex_bo *bo, u64 addr)
{
	struct drm_gpuva *va = kzalloc(sizeof(*va), GFP_KERNEL);

	if (!va)
		return NULL;
	ex_gpuva_init(va, addr, EX_VA_SIZE, &bo->base, 0);
	INIT_LIST_HEAD(&va->gem.entry);
	return va;
}
