/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal CO-RE views of the kernel types the probes read. The build machine's kernel
 * has no DRM, so its BTF cannot provide these: they are written by hand with only the
 * fields used, and libbpf relocates every access against the target kernel's vmlinux
 * and module BTF at load time. Names match the kernel (CO-RE matches by name);
 * `___suffix` flavours describe layouts that differ between kernels and are only
 * dereferenced behind a bpf_core_field_exists() check.
 */
#ifndef GPUVM_TYPES_BPF_H
#define GPUVM_TYPES_BPF_H

#define __co_re __attribute__((preserve_access_index))

struct list_head {
	struct list_head *next, *prev;
} __co_re;

struct llist_node {
	struct llist_node *next;
} __co_re;

struct llist_head {
	struct llist_node *first;
} __co_re;

typedef struct {
	int counter;
} atomic_t;

typedef struct {
	long counter;
} atomic_long_t;

typedef struct refcount_struct {
	atomic_t refs;
} __co_re refcount_t;

struct kref {
	refcount_t refcount;
} __co_re;

struct task_struct {
	void *stack;
	unsigned int flags;
	int tgid;
	struct task_struct *real_parent;
} __co_re;

/* Non-RT mutex: the owner word holds the task pointer, flags in bits 0-2. */
struct mutex {
	atomic_long_t owner;
} __co_re;

/* PREEMPT_RT: struct mutex and struct rt_mutex (ww_mutex.base) both start with a
 * struct rt_mutex_base whose owner has RT_MUTEX_HAS_WAITERS in bit 0. */
struct rt_mutex_base {
	struct task_struct *owner;
} __co_re;

struct ww_acquire_ctx;

struct ww_mutex {
	struct mutex base;
	struct ww_acquire_ctx *ctx;
} __co_re;

struct dma_resv {
	struct ww_mutex lock;
} __co_re;

enum drm_gpuvm_flags {
	DRM_GPUVM_RESV_PROTECTED = 1,
	/* Only present from 6.18 ("gem: simplify gpuvm locking"); the value is
	 * relocated with bpf_core_enum_value(), never assumed. */
	DRM_GPUVM_IMMEDIATE_MODE = 2,
};

struct drm_gpuvm_ops {
	void *vm_bo_alloc;
	void *vm_bo_free;
} __co_re;

struct drm_gem_object {
	struct kref refcount;
	struct dma_resv *resv;
	struct {
		struct list_head list;
	} gpuva;
} __co_re;

/* 6.18+ ("gem: simplify gpuvm locking"): the gpuva list has its own mutex. */
struct drm_gem_object___gpuva_mutex {
	struct {
		struct list_head list;
		struct mutex lock;
	} gpuva;
} __co_re;

/* <= 6.17 with CONFIG_LOCKDEP: a custom gpuva lock set by drm_gem_gpuva_set_lock(). */
struct lockdep_map;
struct drm_gem_object___lockdep {
	struct {
		struct list_head list;
		struct lockdep_map *lock_dep_map;
	} gpuva;
} __co_re;

struct drm_gpuvm {
	const char *name;
	enum drm_gpuvm_flags flags;
	struct kref kref;
	const struct drm_gpuvm_ops *ops;
	struct drm_gem_object *r_obj;
	struct {
		struct list_head list;
	} extobj;
	struct {
		struct list_head list;
	} evict;
} __co_re;

/* 6.19+ (8e4865faf7a9 "drm/gpuvm: add deferred vm_bo cleanup"). */
struct drm_gpuvm___defer {
	struct llist_head bo_defer;
} __co_re;

struct drm_gpuvm_bo {
	struct drm_gpuvm *vm;
	struct drm_gem_object *obj;
	bool evicted;
	struct kref kref;
	struct {
		struct list_head gpuva;
		struct {
			struct list_head gem;
			struct list_head extobj;
			struct list_head evict;
		} entry;
	} list;
} __co_re;

/* 6.19+ (8e4865faf7a9): zombies wait on vm->bo_defer through this node. */
struct drm_gpuvm_bo___defer {
	struct {
		struct {
			struct llist_node bo_defer;
		} entry;
	} list;
} __co_re;

struct drm_gpuva {
	struct drm_gpuvm *vm;
	struct drm_gpuvm_bo *vm_bo;
	struct {
		__u64 addr;
		__u64 range;
	} va;
	struct {
		__u64 offset;
		struct drm_gem_object *obj;
	} gem;
} __co_re;

struct drm_gpuvm_exec {
	struct drm_gpuvm *vm;
} __co_re;

#endif /* GPUVM_TYPES_BPF_H */
