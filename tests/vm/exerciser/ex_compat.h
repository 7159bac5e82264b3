/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shims over the drm_gpuvm API differences between the kernels the exerciser
 * runs on (Debian 6.12 and 7.2). The EX_HAVE_* macros come from feature tests
 * on the headers in Kbuild, so a backport is handled like the release that
 * introduced the change.
 */
#ifndef GPUVM_EXERCISER_EX_COMPAT_H
#define GPUVM_EXERCISER_EX_COMPAT_H

#include <drm/drm_gpuvm.h>

/* 7.0: drm_gpuvm_bo_obtain() became drm_gpuvm_bo_obtain_locked(). */
static inline struct drm_gpuvm_bo *ex_obtain(struct drm_gpuvm *vm,
					     struct drm_gem_object *obj)
{
#ifdef EX_HAVE_OBTAIN_LOCKED
	return drm_gpuvm_bo_obtain_locked(vm, obj);
#else
	return drm_gpuvm_bo_obtain(vm, obj);
#endif
}

/*
 * The same series made drm_gpuvm_bo_obtain_prealloc() take the GEM's
 * gpuva.lock itself and WARN unless the VM is in immediate mode; the tracer
 * keys the behaviour on the same symbol (feature prealloc_self_locks).
 */
#ifdef EX_HAVE_OBTAIN_LOCKED
#define EX_PREALLOC_SELF_LOCKS 1
#else
#define EX_PREALLOC_SELF_LOCKS 0
#endif

#ifdef EX_HAVE_IMMEDIATE
#define EX_VM_IMMEDIATE DRM_GPUVM_IMMEDIATE_MODE
#else
#define EX_VM_IMMEDIATE 0
#endif

/*
 * A panthor-style VM: pre-allocated vm_bos. Where obtain_prealloc locks by
 * itself it must be an immediate-mode VM (as panthor's is there), otherwise
 * every obtain_prealloc is a mode mismatch.
 */
#define EX_VM_PREALLOC_FLAGS \
	(DRM_GPUVM_RESV_PROTECTED | (EX_PREALLOC_SELF_LOCKS ? EX_VM_IMMEDIATE : 0))

/* 7.x removed drm_gpuva_init(); it only ever filled in these fields. */
static inline void ex_gpuva_init(struct drm_gpuva *va, u64 addr, u64 range,
				 struct drm_gem_object *obj, u64 offset)
{
#ifdef EX_HAVE_GPUVA_INIT
	drm_gpuva_init(va, addr, range, obj, offset);
#else
	va->va.addr = addr;
	va->va.range = range;
	va->gem.obj = obj;
	va->gem.offset = offset;
#endif
}

#endif
