// SPDX-License-Identifier: GPL-2.0-only
/*
 * Correct building blocks, each following a real driver's call order:
 * nouveau (VM flags 0) for nv_*, xe (DRM_GPUVM_RESV_PROTECTED) for xe_*.
 * Scenarios combine them and replace exactly one step with a bug.
 */
#include <linux/dma-fence.h>

#include "ex.h"

/*
 * drm_exec over the VM's resv and some BOs, as both drivers' bind jobs do.
 * Private BOs share the VM's resv: IGNORE_DUPLICATES turns the -EALREADY
 * from ww_mutex_lock_interruptible() into success, exactly as in xe.
 */
int ex_exec_lock(struct drm_exec *exec, struct ex_vm *vm, struct ex_bo **bos,
		 unsigned int n)
{
	unsigned int i;
	int ret = 0;

	drm_exec_init(exec, DRM_EXEC_INTERRUPTIBLE_WAIT |
			    DRM_EXEC_IGNORE_DUPLICATES, 0);
	drm_exec_until_all_locked(exec) {
		if (vm) {
			ret = drm_gpuvm_prepare_vm(&vm->base, exec, 0);
			drm_exec_retry_on_contention(exec);
			if (ret)
				break;
		}
		for (i = 0; i < n; i++) {
			ret = drm_exec_lock_obj(exec, &bos[i]->base);
			drm_exec_retry_on_contention(exec);
			if (ret)
				break;
		}
		if (ret)
			break;
	}
	if (ret)
		drm_exec_fini(exec);
	return ret;
}

/*
 * nouveau bind, spec §G G1 lines 2-9: obtain under the BO's resv, add to the
 * extobj list (spinlock path, flags 0), insert + link under drm_exec, then
 * drop the obtain reference under the BO's resv again.
 */
int nv_bind(struct ex_vm *vm, struct ex_bo *bo, struct drm_gpuva *va)
{
	struct drm_gpuvm_bo *vm_bo;
	struct drm_exec exec;
	int ret;

	dma_resv_lock(bo->base.resv, NULL);
	vm_bo = ex_obtain(&vm->base, &bo->base);
	dma_resv_unlock(bo->base.resv);
	if (IS_ERR(vm_bo))
		return PTR_ERR(vm_bo);

	drm_gpuvm_bo_extobj_add(vm_bo);

	ret = ex_exec_lock(&exec, vm, &bo, 1);
	if (!ret) {
		ret = drm_gpuva_insert(&vm->base, va);
		if (!ret)
			drm_gpuva_link(va, vm_bo);
		drm_exec_fini(&exec);
	}

	dma_resv_lock(bo->base.resv, NULL);
	drm_gpuvm_bo_put(vm_bo);
	dma_resv_unlock(bo->base.resv);
	return ret;
}

/* nouveau unbind, §G G1 lines 10-12: the unlink's put is the final one. */
int nv_unbind(struct ex_vm *vm, struct ex_bo *bo, struct drm_gpuva *va)
{
	struct drm_exec exec;
	int ret;

	ret = ex_exec_lock(&exec, vm, &bo, 1);
	if (ret)
		return ret;
	drm_gpuva_remove(va);
	drm_gpuva_unlink(va);
	drm_exec_fini(&exec);
	return 0;
}

/*
 * xe bind, §G G2: everything under the VM resv and every BO's resv (one
 * drm_exec): obtain, extobj_add (a no-op for private BOs), insert + link,
 * drop the obtain reference.
 */
int xe_bind(struct ex_vm *vm, struct ex_bo **bos, struct drm_gpuva **vas,
	    unsigned int n)
{
	struct drm_gpuvm_bo *vm_bo;
	struct drm_exec exec;
	unsigned int i;
	int ret;

	ret = ex_exec_lock(&exec, vm, bos, n);
	if (ret)
		return ret;
	for (i = 0; i < n && !ret; i++) {
		vm_bo = ex_obtain(&vm->base, &bos[i]->base);
		if (IS_ERR(vm_bo)) {
			ret = PTR_ERR(vm_bo);
			break;
		}
		drm_gpuvm_bo_extobj_add(vm_bo);
		ret = drm_gpuva_insert(&vm->base, vas[i]);
		if (!ret)
			drm_gpuva_link(vas[i], vm_bo);
		drm_gpuvm_bo_put(vm_bo);
	}
	drm_exec_fini(&exec);
	return ret;
}

/* xe unbind: remove + unlink (final put) under the VM and BO resvs. */
int xe_unbind(struct ex_vm *vm, struct ex_bo **bos, struct drm_gpuva **vas,
	      unsigned int n)
{
	struct drm_exec exec;
	unsigned int i;
	int ret;

	ret = ex_exec_lock(&exec, vm, bos, n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		drm_gpuva_remove(vas[i]);
		ex_va_lock(vm, bos[i]);
		drm_gpuva_unlink(vas[i]);
		ex_va_unlock(vm, bos[i]);
	}
	drm_exec_fini(&exec);
	return 0;
}

/*
 * TTM eviction of one BO as xe_bo_move() reports it: with the BO's resv
 * held, every vm_bo of the GEM is flagged (drm_gpuvm_bo_gem_evict() is
 * inline: the tracer sees one drm_gpuvm_bo_evict per vm_bo).
 */
void xe_evict(struct ex_bo *bo)
{
	dma_resv_lock(bo->base.resv, NULL);
	drm_gpuvm_bo_gem_evict(&bo->base, true);
	dma_resv_unlock(bo->base.resv);
}

/*
 * A job submission: lock the VM resv and every extobj through
 * drm_gpuvm_exec_lock(), revalidate evicted BOs, attach the job's fence
 * (a signalled stub stands in for the hardware fence), unlock.
 */
int xe_exec(struct ex_vm *vm)
{
	struct drm_gpuvm_exec vm_exec = {
		.vm = &vm->base,
		.flags = DRM_EXEC_INTERRUPTIBLE_WAIT,
		.num_fences = 1,
	};
	struct dma_fence *fence;
	int ret;

	ret = drm_gpuvm_exec_lock(&vm_exec);
	if (ret)
		return ret;
	ret = drm_gpuvm_exec_validate(&vm_exec);
	if (!ret) {
		fence = dma_fence_get_stub();
		drm_gpuvm_exec_resv_add_fence(&vm_exec, fence,
					      DMA_RESV_USAGE_BOOKKEEP,
					      DMA_RESV_USAGE_BOOKKEEP);
		dma_fence_put(fence);
	}
	drm_gpuvm_exec_unlock(&vm_exec);
	return ret;
}
