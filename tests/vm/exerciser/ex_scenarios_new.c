// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scenarios for what only newer kernels have (Debian 7.2 here): immediate mode
 * (DRM_GPUVM_IMMEDIATE_MODE), the per-GEM gpuva.lock mutex, deferred vm_bo
 * cleanup (drm_gpuvm_bo_put_deferred, drm_gpuva_unlink_defer,
 * drm_gpuvm_bo_deferred_cleanup) and the obtain_prealloc that takes the
 * gpuva.lock itself. On kernels without them every scenario here fails with
 * -EOPNOTSUPP and scenarios.tsv does not run it there.
 *
 * Flows follow the Rust GPUVM binding / Tyr (spec §G G3): VM flags
 * IMMEDIATE_MODE | RESV_PROTECTED, pre-allocated vm_bos, links under the
 * GEM's gpuva.lock, releases deferred. Notation as in ex_scenarios_bug.c;
 * M = the GEM's gpuva.lock mutex.
 *
 * Two rules are about self-deadlocks (a GPUVM call locking what its caller
 * holds). The kernel really blocks there; a "rescuer" kthread waits until
 * the scenario sleeps on its own lock, makes itself the lock's owner and
 * releases it, so the call goes on and the guest survives. The tracer judges
 * the call at its entry (and at the nested lock attempt), before the rescue.
 */
#define pr_fmt(fmt) "gpuvm_exerciser: " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/slab.h>

#include "ex.h"

#if defined(EX_HAVE_DEFERRED) && defined(EX_HAVE_IMMEDIATE) && defined(EX_HAVE_OBTAIN_LOCKED)

#define EX_TYR_FLAGS (DRM_GPUVM_IMMEDIATE_MODE | DRM_GPUVM_RESV_PROTECTED)

#define EX_CHECK(expr)                                   \
	do {                                             \
		ret = (expr);                            \
		if (ret) {                               \
			ex_pin_module(__func__);         \
			return ret;                      \
		}                                        \
	} while (0)

static struct mutex *ex_gpuva_mutex(struct ex_bo *bo)
{
	return &bo->base.gpuva.lock;
}

/*
 * Tyr map (G3 lines 1-4): P = create(V,G) ; obtain_prealloc(P) {lock M ;
 * find ; unlock M} ⟵P ; lock R ; extobj_add(P) ; unlock R ; insert(va) ;
 * lock M ; link(va,P) ; unlock M. The caller owns the obtain reference.
 */
static int ty_map(struct ex_set *s, struct drm_gpuva *va,
		  struct drm_gpuvm_bo **out)
{
	struct drm_gpuvm_bo *pre, *vm_bo;
	int ret;

	pre = drm_gpuvm_bo_create(&s->vm->base, &s->bo->base);
	if (!pre)
		return -ENOMEM;
	vm_bo = drm_gpuvm_bo_obtain_prealloc(pre);
	dma_resv_lock(ex_vm_resv(s->vm), NULL);
	drm_gpuvm_bo_extobj_add(vm_bo);
	dma_resv_unlock(ex_vm_resv(s->vm));
	ret = drm_gpuva_insert(&s->vm->base, va);
	if (ret) {
		drm_gpuvm_bo_put_deferred(vm_bo);
		drm_gpuvm_bo_deferred_cleanup(&s->vm->base);
		return ret;
	}
	mutex_lock(ex_gpuva_mutex(s->bo));
	drm_gpuva_link(va, vm_bo);
	mutex_unlock(ex_gpuva_mutex(s->bo));
	*out = vm_bo;
	return 0;
}

/* Tyr unmap (G3 lines 6-7): remove(va) ; unlink_defer(va) ; deferred_cleanup(V). */
static void ty_unmap(struct ex_set *s, struct drm_gpuva *va)
{
	drm_gpuva_remove(va);
	drm_gpuva_unlink_defer(va);
	drm_gpuvm_bo_deferred_cleanup(&s->vm->base);
}

/* ---- the rescuer of the self-deadlock scenarios ---- */

struct ex_rescue {
	struct mutex *m;
	struct ww_mutex *ww; /* set: release through ww_mutex_unlock */
	struct completion done;
	bool waited;
};

static int rescue_thread(void *arg)
{
	struct ex_rescue *r = arg;
	long owner;
	int i;

	/* Until the scenario sleeps on the lock it owns (waiters bit), max ~10 s. */
	for (i = 0; i < 1000; i++) {
		if (atomic_long_read(&r->m->owner) & 0x1) {
			r->waited = true;
			break;
		}
		msleep(10);
	}
	/*
	 * Only the owner may unlock: take ownership over (flags kept), so the
	 * unlock is the rescuer's own and wakes the sleeping scenario.
	 */
	owner = atomic_long_read(&r->m->owner);
	while (!atomic_long_try_cmpxchg(&r->m->owner, &owner,
					(long)current | (owner & 0x7)))
		;
	if (r->ww)
		ww_mutex_unlock(r->ww);
	else
		mutex_unlock(r->m);
	kthread_complete_and_exit(&r->done, 0);
}

static int rescue_arm(struct ex_rescue *r, struct mutex *m, struct ww_mutex *ww)
{
	struct task_struct *t;

	r->m = m;
	r->ww = ww;
	r->waited = false;
	init_completion(&r->done);
	t = kthread_run(rescue_thread, r, "gpuvm_ex_rescue");
	return PTR_ERR_OR_ZERO(t);
}

static void rescue_wait(struct ex_rescue *r, const char *who)
{
	wait_for_completion(&r->done);
	if (!r->waited)
		pr_warn("%s: the call never blocked on its lock (no self-deadlock?)\n", who);
}

/*
 * g3: Tyr map + unmap, spec §G G3. Nothing is reported.
 *   ty_map ; put_deferred(P) ⟵false ; deferred_cleanup(V) (empty: no lock)
 *   remove(va) ; unlink_defer(va) {lock M ; ref 1 → 0: ZOMBIE ; unlock M}
 *   deferred_cleanup(V) {lock R (NULL ctx) ; off extobj ; unlock R ; free}
 *   puts of G and V (V freed)
 */
int sc_g3(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "g3-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	EX_CHECK(ty_map(&s, s.va[0], &vm_bo));
	if (drm_gpuvm_bo_put_deferred(vm_bo)) {
		pr_err("g3: put_deferred of the obtain reference was the last one\n");
		EX_CHECK(-EIO);
	}
	drm_gpuvm_bo_deferred_cleanup(&s.vm->base);
	ty_unmap(&s, s.va[0]);
	ex_set_fini(&s);
	return 0;
}

/*
 * g3-put-deferred: a pre-allocation obtained and released without ever
 * being mapped (a Tyr bind that fails after obtain). Nothing is reported.
 *   P = create ; obtain_prealloc(P) ⟵P ; lock R ; extobj_add(P) ; unlock R
 *   put_deferred(P) ⟵true {lock M ; ZOMBIE ; unlock M}
 *   deferred_cleanup(V) {lock R ; unlock R} : P destroyed ; puts of G, V
 */
int sc_g3_put_deferred(void)
{
	struct drm_gpuvm_bo *pre, *vm_bo;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "g3d-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	pre = drm_gpuvm_bo_create(&s.vm->base, &s.bo->base);
	if (!pre)
		EX_CHECK(-ENOMEM);
	vm_bo = drm_gpuvm_bo_obtain_prealloc(pre);
	dma_resv_lock(ex_vm_resv(s.vm), NULL);
	drm_gpuvm_bo_extobj_add(vm_bo);
	dma_resv_unlock(ex_vm_resv(s.vm));
	if (!drm_gpuvm_bo_put_deferred(vm_bo)) {
		pr_err("g3-put-deferred: the only reference was not the last\n");
		EX_CHECK(-EIO);
	}
	drm_gpuvm_bo_deferred_cleanup(&s.vm->base);
	ex_set_fini(&s);
	return 0;
}

/*
 * deferred-never-cleaned (spec X5, Asahi teardown): the unmap defers the
 * release and nobody runs the cleanup.
 *   ty_map ; put_deferred ⟵false ; deferred_cleanup (empty)
 *   remove(va) ; unlink_defer(va) → ZOMBIE ; BUG no deferred_cleanup(V)
 *   put(G) ; drm_gpuvm_put(V): kref 2 at entry (driver + zombie), 1 left =
 *   the zombie's → vm-bo-leak-at-vm-destroy (a) and deferred-never-cleaned
 *   warnings. V, the zombie and G leak (module pinned).
 */
int sc_deferred_never_cleaned(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "x5-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	EX_CHECK(ty_map(&s, s.va[0], &vm_bo));
	drm_gpuvm_bo_put_deferred(vm_bo);
	drm_gpuvm_bo_deferred_cleanup(&s.vm->base);
	drm_gpuva_remove(s.va[0]);
	drm_gpuva_unlink_defer(s.va[0]);
	/* BUG: no drm_gpuvm_bo_deferred_cleanup() */
	ex_pin_module("deferred-never-cleaned leaks its VM");
	ex_set_fini(&s);
	return 0;
}

/*
 * deferred-cleanup-resv-held: the cleanup runs with the VM resv held.
 *   ty_map ; put_deferred ⟵false ; deferred_cleanup (empty)
 *   remove(va) ; unlink_defer(va) → ZOMBIE
 *   lock R (NULL ctx)
 *   BUG deferred_cleanup(V) { ww_mutex_lock(R, NULL) by its owner: the
 *       kernel self-deadlocks here → deferred-cleanup-resv-held error at
 *       that nested lock ; [rescuer: owns R, ww_mutex_unlock(R)] ; ⟵0 ;
 *       off extobj ; unlock R ; zombie freed }
 *   (R is no longer held: no unlock) ; puts of G, V (V freed)
 */
int sc_deferred_cleanup_resv_held(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct ex_rescue r;
	struct dma_resv *resv;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "cleanup-held-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	EX_CHECK(ty_map(&s, s.va[0], &vm_bo));
	drm_gpuvm_bo_put_deferred(vm_bo);
	drm_gpuvm_bo_deferred_cleanup(&s.vm->base);
	drm_gpuva_remove(s.va[0]);
	drm_gpuva_unlink_defer(s.va[0]);

	resv = ex_vm_resv(s.vm);
	dma_resv_lock(resv, NULL);
	ret = rescue_arm(&r, &resv->lock.base, &resv->lock);
	if (ret) {
		dma_resv_unlock(resv);
		EX_CHECK(ret);
	}
	drm_gpuvm_bo_deferred_cleanup(&s.vm->base); /* BUG */
	rescue_wait(&r, "deferred-cleanup-resv-held");
	ex_set_fini(&s);
	return 0;
}

/*
 * gpuva-lock-recursion: obtain_prealloc, which locks the GEM's gpuva.lock
 * itself, called inside the caller's own M section (a Rust lock_gpuva()
 * guard scope).
 *   P = create(V,G) ; lock M
 *   BUG obtain_prealloc(P) entered with M held → gpuva-lock-recursion error
 *       { lock M: self-deadlock ; [rescuer: owns M, unlock M] ; find ;
 *       append ; unlock M } ⟵P (M is no longer held: no unlock)
 *   lock R ; extobj_add(P) ; unlock R ; put_deferred(P) ⟵true ;
 *   deferred_cleanup(V) ; puts of G, V
 */
int sc_gpuva_lock_recursion(void)
{
	struct drm_gpuvm_bo *pre, *vm_bo;
	struct ex_rescue r;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "recursion-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	pre = drm_gpuvm_bo_create(&s.vm->base, &s.bo->base);
	if (!pre)
		EX_CHECK(-ENOMEM);
	mutex_lock(ex_gpuva_mutex(s.bo));
	ret = rescue_arm(&r, ex_gpuva_mutex(s.bo), NULL);
	if (ret) {
		mutex_unlock(ex_gpuva_mutex(s.bo));
		EX_CHECK(ret);
	}
	vm_bo = drm_gpuvm_bo_obtain_prealloc(pre); /* BUG */
	rescue_wait(&r, "gpuva-lock-recursion");
	dma_resv_lock(ex_vm_resv(s.vm), NULL);
	drm_gpuvm_bo_extobj_add(vm_bo);
	dma_resv_unlock(ex_vm_resv(s.vm));
	drm_gpuvm_bo_put_deferred(vm_bo);
	drm_gpuvm_bo_deferred_cleanup(&s.vm->base);
	ex_set_fini(&s);
	return 0;
}

/*
 * mode-mismatch: an xe-style (staged, RESV_PROTECTED) VM released through
 * the immediate-mode API.
 *   xe bind of G (R, g held) ; get(B) (invisible)
 *   BUG put_deferred(B) ⟵false on a non-immediate VM → mode-mismatch
 *       warning (the kernel's drm_WARN fires too: "WARNING: ... drm_gpuvm")
 *   xe unbind ; teardown
 */
int sc_mode_mismatch(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "mismatch-xe", DRM_GPUVM_RESV_PROTECTED, EX_VM_PLAIN));
	EX_CHECK(xe_bind(s.vm, &s.bo, s.va, 1));
	vm_bo = drm_gpuvm_bo_get(s.va[0]->vm_bo);
	drm_gpuvm_bo_put_deferred(vm_bo); /* BUG */
	EX_CHECK(xe_unbind(s.vm, &s.bo, s.va, 1));
	ex_set_fini(&s);
	return 0;
}

/*
 * put-final-unlocked-mutex: on an immediate VM the gpuva lock of a final
 * put is M, not the BO's resv.
 *   P = create ; obtain_prealloc(P) ⟵P ; lock R ; extobj_add(P)
 *   error path: BUG put(P) ⟵1 with R held but not M → put-final-unlocked
 *   unlock R ; puts of G, V
 */
int sc_put_final_unlocked_mutex(void)
{
	struct drm_gpuvm_bo *pre, *vm_bo;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "putfinal-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	pre = drm_gpuvm_bo_create(&s.vm->base, &s.bo->base);
	if (!pre)
		EX_CHECK(-ENOMEM);
	vm_bo = drm_gpuvm_bo_obtain_prealloc(pre);
	dma_resv_lock(ex_vm_resv(s.vm), NULL);
	drm_gpuvm_bo_extobj_add(vm_bo);
	drm_gpuvm_bo_put(vm_bo); /* BUG */
	dma_resv_unlock(ex_vm_resv(s.vm));
	ex_set_fini(&s);
	return 0;
}

/*
 * link-unlocked-mutex: the link of a Tyr map under the resvs a staged driver
 * would hold (R and g through drm_exec) instead of M.
 *   P = create ; obtain_prealloc(P) ⟵P
 *   drm_exec R, g ; extobj_add(P) ; insert(va)
 *   BUG link(va,P) without M → link-unlocked error ; unlock g, R
 *   put_deferred ⟵false ; deferred_cleanup (empty) ; ty_unmap ; teardown
 */
int sc_link_unlocked_mutex(void)
{
	struct drm_gpuvm_bo *pre, *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "link-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	pre = drm_gpuvm_bo_create(&s.vm->base, &s.bo->base);
	if (!pre)
		EX_CHECK(-ENOMEM);
	vm_bo = drm_gpuvm_bo_obtain_prealloc(pre);
	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	drm_gpuvm_bo_extobj_add(vm_bo);
	ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
	if (!ret)
		drm_gpuva_link(s.va[0], vm_bo); /* BUG */
	drm_exec_fini(&exec);
	EX_CHECK(ret);
	drm_gpuvm_bo_put_deferred(vm_bo);
	drm_gpuvm_bo_deferred_cleanup(&s.vm->base);
	ty_unmap(&s, s.va[0]);
	ex_set_fini(&s);
	return 0;
}

/*
 * obtain-unlocked-mutex: a lookup on an immediate VM under the BO's resv
 * (the staged-mode gpuva lock) instead of M. obtain_prealloc cannot be
 * unlocked any more (it locks M itself); drm_gpuvm_bo_find still can.
 *   ty_map (M around link) ; lock g
 *   BUG find(V,G) ⟵B without M → obtain-unlocked error
 *   unlock g ; put_deferred(B) ⟵false (the find's reference)
 *   put_deferred ⟵false (the obtain's) ; ty_unmap ; teardown
 */
int sc_obtain_unlocked_find(void)
{
	struct drm_gpuvm_bo *vm_bo, *found;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "find-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	EX_CHECK(ty_map(&s, s.va[0], &vm_bo));
	dma_resv_lock(s.bo->base.resv, NULL);
	found = drm_gpuvm_bo_find(&s.vm->base, &s.bo->base); /* BUG */
	dma_resv_unlock(s.bo->base.resv);
	if (found != vm_bo) {
		pr_err("obtain-unlocked-mutex: find returned %p, not %p\n", found, vm_bo);
		EX_CHECK(-EIO);
	}
	drm_gpuvm_bo_put_deferred(found);
	drm_gpuvm_bo_put_deferred(vm_bo);
	drm_gpuvm_bo_deferred_cleanup(&s.vm->base);
	ty_unmap(&s, s.va[0]);
	ex_set_fini(&s);
	return 0;
}

/*
 * gem-freed-under-gpuva-lock: the vm_bo holds the last GEM reference and is
 * destroyed inside an M section, so the GEM (and M in it) is freed while M
 * is held. The GEM's memory is parked so the unlock that follows stays safe.
 *   P = create ; obtain_prealloc(P) ⟵P ; lock R ; extobj_add ; put(G): the
 *   driver's GEM reference goes, P holds the last one (GEM refcount 1)
 *   lock M ; BUG put(P) ⟵1 (R and M held: no put-final-unlocked) destroys P
 *       and frees G → gem-freed-under-gpuva-lock error
 *   unlock M (parked memory) ; unlock R ; put V
 */
int sc_gem_freed_under_gpuva_lock(void)
{
	struct drm_gpuvm_bo *pre, *vm_bo;
	struct mutex *m;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "gemfree-tyr", EX_TYR_FLAGS, EX_VM_PLAIN));
	s.bo->park_on_free = true;
	m = ex_gpuva_mutex(s.bo);
	pre = drm_gpuvm_bo_create(&s.vm->base, &s.bo->base);
	if (!pre)
		EX_CHECK(-ENOMEM);
	vm_bo = drm_gpuvm_bo_obtain_prealloc(pre);
	dma_resv_lock(ex_vm_resv(s.vm), NULL);
	drm_gpuvm_bo_extobj_add(vm_bo);
	ex_bo_put(s.bo);
	s.bo = NULL;
	mutex_lock(m);
	drm_gpuvm_bo_put(vm_bo); /* BUG */
	mutex_unlock(m);
	dma_resv_unlock(ex_vm_resv(s.vm));
	ex_set_fini(&s);
	return 0;
}

#else /* kernels without immediate mode / deferred cleanup */

static int ex_unsupported(const char *name)
{
	pr_err("%s: this kernel has no immediate mode / deferred vm_bo cleanup\n", name);
	return -EOPNOTSUPP;
}

int sc_g3(void) { return ex_unsupported("g3"); }
int sc_g3_put_deferred(void) { return ex_unsupported("g3-put-deferred"); }
int sc_deferred_never_cleaned(void) { return ex_unsupported("deferred-never-cleaned"); }
int sc_deferred_cleanup_resv_held(void) { return ex_unsupported("deferred-cleanup-resv-held"); }
int sc_gpuva_lock_recursion(void) { return ex_unsupported("gpuva-lock-recursion"); }
int sc_mode_mismatch(void) { return ex_unsupported("mode-mismatch"); }
int sc_put_final_unlocked_mutex(void) { return ex_unsupported("put-final-unlocked-mutex"); }
int sc_link_unlocked_mutex(void) { return ex_unsupported("link-unlocked-mutex"); }
int sc_obtain_unlocked_find(void) { return ex_unsupported("obtain-unlocked-mutex"); }
int sc_gem_freed_under_gpuva_lock(void) { return ex_unsupported("gem-freed-under-gpuva-lock"); }

#endif
