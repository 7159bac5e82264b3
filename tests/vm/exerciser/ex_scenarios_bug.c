// SPDX-License-Identifier: GPL-2.0-only
/*
 * Buggy scenarios, one per rule of vm_bo-lifecycle.md §E.1 that the 6.12
 * kernel can exhibit. Each is a correct nouveau (flags 0), xe
 * (RESV_PROTECTED) or panthor (RESV_PROTECTED, pre-allocated vm_bos) flow
 * with exactly one step replaced by the bug, marked BUG below. The comment
 * of each lists the calls the tracer sees and why scenarios.tsv expects
 * what it does. Notation as in spec §G: V VM, R VM resv, G external GEM
 * with resv g, B vm_bo, P pre-allocation, ⟵ return value.
 *
 * The kernel (no lockdep) stays silent on every locking bug; only the
 * refcount bugs print a refcount_t WARN. Nothing here oopses: memory that a
 * stale pointer still reaches is parked (EX_VM_PARKING) or leaked, and the
 * module pins itself whenever it leaks.
 */
#define pr_fmt(fmt) "gpuvm_exerciser: " fmt

#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ex.h"

/* On an unexpected error (ENOMEM, EINTR) leak everything and stop. */
#define EX_CHECK(expr)                                   \
	do {                                             \
		ret = (expr);                            \
		if (ret) {                               \
			ex_pin_module(__func__);         \
			return ret;                      \
		}                                        \
	} while (0)

/* Only once no vm_bo, VA or lock refers to the objects any more. */
void ex_set_fini(struct ex_set *s)
{
	kfree(s->va[0]);
	kfree(s->va[1]);
	if (s->bo)
		ex_bo_put(s->bo);
	if (s->vm)
		ex_vm_put(s->vm);
}

int ex_set_init(struct ex_set *s, const char *name,
		enum drm_gpuvm_flags flags, enum ex_vm_kind kind)
{
	memset(s, 0, sizeof(*s));
	s->vm = ex_vm_create(name, flags, kind);
	if (s->vm)
		s->bo = ex_bo_create_external();
	if (s->bo) {
		s->va[0] = ex_va_alloc(s->bo, EX_VA_START);
		s->va[1] = ex_va_alloc(s->bo, EX_VA_START + EX_VA_SIZE);
	}
	if (!s->va[0] || !s->va[1]) {
		ex_set_fini(s);
		return -ENOMEM;
	}
	return 0;
}

static void ex_lock(struct ex_bo *bo)
{
	dma_resv_lock(bo->base.resv, NULL);
}

static void ex_unlock(struct ex_bo *bo)
{
	dma_resv_unlock(bo->base.resv);
}

/*
 * extobj-add-unlocked (spec X1), xe, protected VM:
 *   drm_exec lock R, g ; obtain(V,G) ⟵B (g held)
 *   drm_exec_unlock_obj(R) → ww_mutex_unlock(R)
 *   BUG drm_gpuvm_bo_extobj_add(B): protected, G external, R not held
 *       → extobj-add-unlocked error (the list changes: G is external)
 *   insert ; link(va,B) (g held) ; put(B) ⟵0 ; unlock g
 *   xe unbind (R, g held) ; teardown
 * Expected: extobj-add-unlocked:violation:error:1.
 */
int sc_extobj_add_unlocked(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "x1-xe", DRM_GPUVM_RESV_PROTECTED, EX_VM_PLAIN));
	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	vm_bo = ex_obtain(&s.vm->base, &s.bo->base);
	if (IS_ERR(vm_bo)) {
		drm_exec_fini(&exec);
		EX_CHECK(PTR_ERR(vm_bo));
	}
	drm_exec_unlock_obj(&exec, s.vm->base.r_obj);
	drm_gpuvm_bo_extobj_add(vm_bo); /* BUG */
	ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
	if (!ret)
		drm_gpuva_link(s.va[0], vm_bo);
	drm_gpuvm_bo_put(vm_bo);
	drm_exec_fini(&exec);
	EX_CHECK(ret);
	EX_CHECK(xe_unbind(s.vm, &s.bo, s.va, 1));
	ex_set_fini(&s);
	return 0;
}

/*
 * evict-unlocked, xe, protected VM:
 *   xe bind of G (R, g held: obtain, extobj_add, insert, link, put ⟵0)
 *   BUG drm_gpuvm_bo_evict(B, true) with g not held → evict-unlocked error
 *       (external + protected: only the flag changes, no list)
 *   xe unbind (R, g held: unlink's put ⟵1) ; teardown
 * Expected: evict-unlocked:violation:error:1.
 */
int sc_evict_unlocked(void)
{
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "evict-xe", DRM_GPUVM_RESV_PROTECTED, EX_VM_PLAIN));
	EX_CHECK(xe_bind(s.vm, &s.bo, s.va, 1));
	drm_gpuvm_bo_evict(s.va[0]->vm_bo, true); /* BUG */
	EX_CHECK(xe_unbind(s.vm, &s.bo, s.va, 1));
	ex_set_fini(&s);
	return 0;
}

/*
 * obtain-unlocked, nouveau, flags 0:
 *   BUG ex_obtain(V,G) {create ⟵B} ⟵B with g not held
 *       → obtain-unlocked error
 *   extobj_add(B) ; drm_exec R, g: insert, link ; lock g ; put(B) ⟵0 ; unlock g
 *   nouveau unbind (g held) ; teardown
 * Expected: obtain-unlocked:violation:error:1.
 */
int sc_obtain_unlocked(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "obtain-nouveau", 0, EX_VM_PLAIN));
	vm_bo = ex_obtain(&s.vm->base, &s.bo->base); /* BUG */
	EX_CHECK(PTR_ERR_OR_ZERO(vm_bo));
	drm_gpuvm_bo_extobj_add(vm_bo);
	ret = ex_exec_lock(&exec, s.vm, &s.bo, 1);
	if (!ret) {
		ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
		if (!ret)
			drm_gpuva_link(s.va[0], vm_bo);
		drm_exec_fini(&exec);
	}
	ex_lock(s.bo);
	drm_gpuvm_bo_put(vm_bo);
	ex_unlock(s.bo);
	EX_CHECK(ret);
	EX_CHECK(nv_unbind(s.vm, s.bo, s.va[0]));
	ex_set_fini(&s);
	return 0;
}

/*
 * stack-memo (the tracer's per-task stack memo, issue 10), nouveau, flags 0:
 *   lock g ; memo_call_a: memo_obtain: obtain(V,G) {create ⟵B} ⟵B ; unlock g
 *   memo_call_b: memo_obtain: BUG obtain(V,G) ⟵B (found) with g not held
 *       → obtain-unlocked error
 *   twice from one call site: lock g ; memo_call_a: memo_obtain: obtain(V,G) ⟵B ;
 *       put(B) ; unlock g
 *   extobj_add(B) ; drm_exec R, g: insert, link ; lock g ; put(B) ; put(B) ;
 *   unlock g ; nouveau unbind (g held) ; teardown
 * memo_call_a and memo_call_b are the same code calling the same helper, so both
 * obtains come from the same return address at the same stack depth in the same
 * syscall: only the return address into memo_call_a / memo_call_b differs. The
 * finding's stack must name memo_call_b; a tracer that reused the first call's
 * stack would name memo_call_a (vm_scenario_test checks it). The loop makes the
 * same call twice from one place, the second time with the same frames above it:
 * there the memo must reuse the stack (`live -v` counts it, vm_scenario_test too).
 * Expected: obtain-unlocked:violation:error:1.
 */
static struct drm_gpuvm_bo *memo_sink;
static unsigned int memo_repeat = 2; /* read once per round: the loop stays one call site */

static noinline __attribute__((noipa)) struct drm_gpuvm_bo *memo_obtain(struct drm_gpuvm *vm,
									 struct drm_gem_object *obj)
{
	struct drm_gpuvm_bo *vm_bo = ex_obtain(vm, obj);

	WRITE_ONCE(memo_sink, vm_bo); /* not a tail call: this frame stays */
	return vm_bo;
}

static noinline __attribute__((noipa)) struct drm_gpuvm_bo *memo_call_a(struct drm_gpuvm *vm,
									 struct drm_gem_object *obj)
{
	struct drm_gpuvm_bo *vm_bo = memo_obtain(vm, obj);

	WRITE_ONCE(memo_sink, vm_bo);
	return vm_bo;
}

static noinline __attribute__((noipa)) struct drm_gpuvm_bo *memo_call_b(struct drm_gpuvm *vm,
									 struct drm_gem_object *obj)
{
	struct drm_gpuvm_bo *vm_bo = memo_obtain(vm, obj);

	WRITE_ONCE(memo_sink, vm_bo);
	return vm_bo;
}

int sc_stack_memo(void)
{
	struct drm_gpuvm_bo *a, *b, *c;
	struct drm_exec exec;
	struct ex_set s;
	unsigned int i;
	int ret;

	EX_CHECK(ex_set_init(&s, "memo-nouveau", 0, EX_VM_PLAIN));
	ex_lock(s.bo);
	a = memo_call_a(&s.vm->base, &s.bo->base);
	ex_unlock(s.bo);
	EX_CHECK(PTR_ERR_OR_ZERO(a));
	b = memo_call_b(&s.vm->base, &s.bo->base); /* BUG */
	if (IS_ERR(b)) {
		ex_lock(s.bo);
		drm_gpuvm_bo_put(a);
		ex_unlock(s.bo);
		EX_CHECK(PTR_ERR(b));
	}
	for (i = 0; i < READ_ONCE(memo_repeat); i++) {
		ex_lock(s.bo);
		c = memo_call_a(&s.vm->base, &s.bo->base);
		if (!IS_ERR(c))
			drm_gpuvm_bo_put(c);
		ex_unlock(s.bo);
	}
	drm_gpuvm_bo_extobj_add(b);
	ret = ex_exec_lock(&exec, s.vm, &s.bo, 1);
	if (!ret) {
		ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
		if (!ret)
			drm_gpuva_link(s.va[0], b);
		drm_exec_fini(&exec);
	}
	ex_lock(s.bo);
	drm_gpuvm_bo_put(b);
	drm_gpuvm_bo_put(a);
	ex_unlock(s.bo);
	EX_CHECK(ret);
	EX_CHECK(nv_unbind(s.vm, s.bo, s.va[0]));
	ex_set_fini(&s);
	return 0;
}

/*
 * link-unlocked, nouveau, flags 0:
 *   lock g ; obtain ⟵B ; unlock g ; extobj_add(B)
 *   drm_exec lock R only ; insert ; BUG link(va,B) with g not held
 *       → link-unlocked error ; unlock R
 *   lock g ; put(B) ⟵0 ; unlock g ; nouveau unbind (g held) ; teardown
 * Expected: link-unlocked:violation:error:1.
 */
int sc_link_unlocked(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "link-nouveau", 0, EX_VM_PLAIN));
	ex_lock(s.bo);
	vm_bo = ex_obtain(&s.vm->base, &s.bo->base);
	ex_unlock(s.bo);
	EX_CHECK(PTR_ERR_OR_ZERO(vm_bo));
	drm_gpuvm_bo_extobj_add(vm_bo);
	ret = ex_exec_lock(&exec, s.vm, NULL, 0);
	if (!ret) {
		ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
		if (!ret)
			drm_gpuva_link(s.va[0], vm_bo); /* BUG */
		drm_exec_fini(&exec);
	}
	ex_lock(s.bo);
	drm_gpuvm_bo_put(vm_bo);
	ex_unlock(s.bo);
	EX_CHECK(ret);
	EX_CHECK(nv_unbind(s.vm, s.bo, s.va[0]));
	ex_set_fini(&s);
	return 0;
}

/*
 * put-final-unlocked, nouveau, flags 0, an error path:
 *   lock g ; obtain ⟵B ; unlock g ; extobj_add(B)
 *   drm_exec lock R, g ; drm_gpuva_insert(V, va outside the VM) ⟵-EINVAL ; unlock
 *   BUG error path: drm_gpuvm_bo_put(B) ⟵1 (refcount 1) with g not held
 *       → put-final-unlocked error (flags 0: the gpuva lock g is what is missing)
 *   teardown
 * Expected: put-final-unlocked:violation:error:1.
 */
int sc_put_final_unlocked(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct drm_gpuva *bad_va;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "putfinal-nouveau", 0, EX_VM_PLAIN));
	bad_va = ex_va_alloc(s.bo, EX_VA_START + EX_VA_RANGE);
	if (!bad_va)
		EX_CHECK(-ENOMEM);
	ex_lock(s.bo);
	vm_bo = ex_obtain(&s.vm->base, &s.bo->base);
	ex_unlock(s.bo);
	EX_CHECK(PTR_ERR_OR_ZERO(vm_bo));
	drm_gpuvm_bo_extobj_add(vm_bo);
	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	ret = drm_gpuva_insert(&s.vm->base, bad_va);
	drm_exec_fini(&exec);
	if (ret != -EINVAL) {
		pr_err("put-final-unlocked: insert outside the VM gave %d, not -EINVAL\n", ret);
		EX_CHECK(ret ? ret : -EIO);
	}
	drm_gpuvm_bo_put(vm_bo); /* BUG */
	kfree(bad_va);
	ex_set_fini(&s);
	return 0;
}

/*
 * unlink-unlocked (spec X3), nouveau, flags 0:
 *   nouveau bind (G1 lines 2-9)
 *   drm_exec lock R only ; remove(va) ; BUG unlink(va) {put(B) ⟵1} with g not held
 *       → link-unlocked error at the unlink
 *       → put-final-unlocked error at its nested final put (refcount 1, ret 1)
 *   unlock R ; teardown
 * Expected: link-unlocked:violation:error:1 put-final-unlocked:violation:error:1.
 */
int sc_unlink_unlocked(void)
{
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "x3-nouveau", 0, EX_VM_PLAIN));
	EX_CHECK(nv_bind(s.vm, s.bo, s.va[0]));
	EX_CHECK(ex_exec_lock(&exec, s.vm, NULL, 0));
	drm_gpuva_remove(s.va[0]);
	drm_gpuva_unlink(s.va[0]); /* BUG */
	drm_exec_fini(&exec);
	ex_set_fini(&s);
	return 0;
}

/*
 * double-put (spec X2), nouveau, flags 0, vm_bo memory parked:
 *   nouveau bind + unbind (G1 lines 1-12): B destroyed, its memory parked
 *   lock g ; BUG drm_gpuvm_bo_put(B) through the stale pointer: refcount 0
 *       at entry, B's generation DESTROYED → double-put error ; unlock g
 *       (kernel: "refcount_t: underflow; use-after-free." WARN, B saturated)
 *   teardown (V freed; parked B is never touched again)
 * The VM has both vm_bo_alloc and vm_bo_free: no alloc-free-asymmetric.
 * Expected: double-put:violation:error:1.
 */
int sc_double_put(void)
{
	struct drm_gpuvm_bo *stale;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "x2-nouveau", 0, EX_VM_PARKING));
	EX_CHECK(nv_bind(s.vm, s.bo, s.va[0]));
	stale = s.va[0]->vm_bo;
	EX_CHECK(nv_unbind(s.vm, s.bo, s.va[0]));
	ex_lock(s.bo);
	drm_gpuvm_bo_put(stale); /* BUG */
	ex_unlock(s.bo);
	ex_set_fini(&s);
	return 0;
}

/*
 * destroy-while-mapped (spec X2 variant), nouveau, flags 0, memory parked:
 *   nouveau bind (G1 lines 1-9): B refcount 1, owned by the linked va
 *   lock g ; BUG drm_gpuvm_bo_put(B) ⟵1 while va is still linked
 *       (entry snapshot: list.gpuva non-empty) → destroy-while-mapped error ;
 *       unlock g                            (no kernel message)
 *   cleanup: drm_exec R, g ; drm_gpuva_remove(va) ; unlock ; va leaked (it
 *   sits on parked B's VA list) ; puts of G and V (V freed)
 * The later drm_gpuva_unlink(va) that spec X2 mentions would be a second
 * bug (use-after-free) and is not done.
 * Expected: destroy-while-mapped:violation:error:1.
 */
int sc_destroy_while_mapped(void)
{
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "mapped-nouveau", 0, EX_VM_PARKING));
	EX_CHECK(nv_bind(s.vm, s.bo, s.va[0]));
	ex_lock(s.bo);
	drm_gpuvm_bo_put(s.va[0]->vm_bo); /* BUG */
	ex_unlock(s.bo);
	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	drm_gpuva_remove(s.va[0]);
	drm_exec_fini(&exec);
	s.va[0] = NULL; /* leaked: still on the parked vm_bo's VA list */
	ex_set_fini(&s);
	return 0;
}

/*
 * panthor-style map preparation, protected VM: pre-allocate outside the
 * locks, obtain_prealloc under R and g, extobj_add, insert.
 */
static int pt_map_prepare(struct ex_set *s, struct drm_exec *exec,
			  struct drm_gpuvm_bo **pre, struct drm_gpuvm_bo **vm_bo,
			  struct drm_gpuva *va)
{
	int ret;

	*pre = drm_gpuvm_bo_create(&s->vm->base, &s->bo->base);
	if (!*pre)
		return -ENOMEM;
	ret = ex_exec_lock(exec, s->vm, &s->bo, 1);
	if (ret)
		return ret;
	*vm_bo = drm_gpuvm_bo_obtain_prealloc(*pre);
	drm_gpuvm_bo_extobj_add(*vm_bo);
	ret = drm_gpuva_insert(&s->vm->base, va);
	if (ret)
		drm_exec_fini(exec);
	return ret;
}

/*
 * use-after-free (spec X4), panthor-like, protected VM, memory parked:
 *   P0 = create(V,G) ; drm_exec R, g ; obtain_prealloc(P0) ⟵P0 (=B) ;
 *   extobj_add(B) ; insert(va0) ; link(va0,B) ; put(B) ⟵0 ; unlock
 *   P1 = create(V,G) ; drm_exec R, g ;
 *   obtain_prealloc(P1) {put(P1) ⟵1} ⟵B   (P1 destroyed and parked; B +1)
 *   extobj_add(B) ; insert(va1) ;
 *   BUG link(va1, P1): the pre-allocation pointer after obtain_prealloc
 *       returned another vm_bo → use-after-free error (P1's generation is
 *       DESTROYED). Kernel: "refcount_t: addition on 0; use-after-free." WARN.
 *   put(B) ⟵0 ; unlock
 *   cleanup: drm_exec R, g ; remove(va0) ; unlink(va0) {put(B) ⟵1} ;
 *   remove(va1) ; unlock ; va1 leaked (on parked P1's VA list) ; puts of G, V
 * Spec X4 names use-after-free as the outcome and link-unregistered as the
 * outcome of a different variant (P linked before being obtained), so only
 * use-after-free is expected although P1's snapshot is also off the GEM list.
 * Expected: use-after-free:violation:error:1.
 */
int sc_use_after_free(void)
{
	struct drm_gpuvm_bo *pre, *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "x4-panthor", EX_VM_PREALLOC_FLAGS, EX_VM_PARKING));
	EX_CHECK(pt_map_prepare(&s, &exec, &pre, &vm_bo, s.va[0]));
	ex_va_lock(s.vm, s.bo);
	drm_gpuva_link(s.va[0], vm_bo);
	ex_va_unlock(s.vm, s.bo);
	drm_gpuvm_bo_put(vm_bo);
	drm_exec_fini(&exec);

	EX_CHECK(pt_map_prepare(&s, &exec, &pre, &vm_bo, s.va[1]));
	if (vm_bo == pre) {
		pr_err("use-after-free: obtain_prealloc registered the second pre-allocation\n");
		drm_exec_fini(&exec);
		EX_CHECK(-EIO);
	}
	ex_va_lock(s.vm, s.bo);
	drm_gpuva_link(s.va[1], pre); /* BUG */
	ex_va_unlock(s.vm, s.bo);
	drm_gpuvm_bo_put(vm_bo);
	drm_exec_fini(&exec);

	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	drm_gpuva_remove(s.va[0]);
	ex_va_lock(s.vm, s.bo);
	drm_gpuva_unlink(s.va[0]);
	ex_va_unlock(s.vm, s.bo);
	drm_gpuva_remove(s.va[1]);
	drm_exec_fini(&exec);
	s.va[1] = NULL; /* leaked: on the parked pre-allocation's VA list */
	ex_set_fini(&s);
	return 0;
}

/*
 * prealloc-reused, panthor-like, protected VM: the driver keeps the vm_bo of
 * a previous map as "pre-allocation" for the next one.
 *   P0 = create(V,G) ; drm_exec R, g ; obtain_prealloc(P0) ⟵B ; extobj_add ;
 *   insert(va0) ; link(va0,B) ; unlock   (the driver keeps its reference: 2)
 *   drm_exec R, g ;
 *   BUG obtain_prealloc(B): B is REGISTERED, on the GEM list, refcount 2
 *       → prealloc-reused error. Kernel: find +1, nested put(B) ⟵0, returns
 *       B: the references still add up, nothing else goes wrong.
 *   extobj_add(B) ; insert(va1) ; link(va1,B) ; put(B) ⟵0 ; unlock
 *   drm_exec R, g ; remove+unlink(va0) {put ⟵0} ; remove+unlink(va1) {put ⟵1}
 *   unlock ; teardown
 * Expected: prealloc-reused:violation:error:1.
 */
int sc_prealloc_reused(void)
{
	struct drm_gpuvm_bo *pre, *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "reuse-panthor", EX_VM_PREALLOC_FLAGS, EX_VM_PLAIN));
	EX_CHECK(pt_map_prepare(&s, &exec, &pre, &vm_bo, s.va[0]));
	ex_va_lock(s.vm, s.bo);
	drm_gpuva_link(s.va[0], vm_bo);
	ex_va_unlock(s.vm, s.bo);
	drm_exec_fini(&exec);

	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	vm_bo = drm_gpuvm_bo_obtain_prealloc(vm_bo); /* BUG */
	drm_gpuvm_bo_extobj_add(vm_bo);
	ret = drm_gpuva_insert(&s.vm->base, s.va[1]);
	if (!ret) {
		ex_va_lock(s.vm, s.bo);
		drm_gpuva_link(s.va[1], vm_bo);
		ex_va_unlock(s.vm, s.bo);
	}
	drm_gpuvm_bo_put(vm_bo);
	drm_exec_fini(&exec);
	EX_CHECK(ret);

	EX_CHECK(xe_unbind(s.vm, &s.bo, s.va, 1));
	EX_CHECK(xe_unbind(s.vm, &s.bo, s.va + 1, 1));
	ex_set_fini(&s);
	return 0;
}

/*
 * link-unregistered, panthor-like, protected VM: a pre-allocation linked
 * without ever being obtained.
 *   P = create(V,G) ⟵P (ALLOCATED)
 *   drm_exec R, g ; insert(va) ; BUG link(va,P): P not on the GEM list
 *       → link-unregistered error ; unlock
 *   drm_exec R, g ; remove(va) ; unlink(va) {put(P) ⟵0} ;
 *   put(P) ⟵1 (the driver drops its unused pre-allocation: legal, locks
 *   held, no VA left) ; unlock ; teardown
 * Expected: link-unregistered:violation:error:1.
 */
int sc_link_unregistered(void)
{
	struct drm_gpuvm_bo *pre;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "unreg-panthor", EX_VM_PREALLOC_FLAGS, EX_VM_PLAIN));
	pre = drm_gpuvm_bo_create(&s.vm->base, &s.bo->base);
	if (!pre)
		EX_CHECK(-ENOMEM);
	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
	if (!ret) {
		ex_va_lock(s.vm, s.bo);
		drm_gpuva_link(s.va[0], pre); /* BUG */
		ex_va_unlock(s.vm, s.bo);
	}
	drm_exec_fini(&exec);
	EX_CHECK(ret);

	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	drm_gpuva_remove(s.va[0]);
	ex_va_lock(s.vm, s.bo);
	drm_gpuva_unlink(s.va[0]);
	drm_gpuvm_bo_put(pre);
	ex_va_unlock(s.vm, s.bo);
	drm_exec_fini(&exec);
	ex_set_fini(&s);
	return 0;
}

/*
 * vm-bo-leak-at-vm-destroy, nouveau, flags 0: the close path forgets the
 * obtain reference.
 *   lock g ; obtain ⟵B ; unlock g ; extobj_add(B) ; drm_exec R, g: insert,
 *   link ; unlock      BUG: no put(B) of the obtain reference
 *   nouveau unbind: remove(va) ; unlink(va) {put(B) ⟵0}   refcount 1 left
 *   put(G) (B still holds G)
 *   drm_gpuvm_put(V): kref 2 at entry (driver + B); kref-1 = 1 = live vm_bos
 *       (1) + inserted VAs (0) > 0, no vm_free follows
 *       → vm-bo-leak-at-vm-destroy warning (form a)
 *   V, R, B and G leak (module pinned); "vm-bo-leak" is info only.
 * Expected: vm-bo-leak-at-vm-destroy:violation:warning:1.
 */
int sc_vm_bo_leak_at_vm_destroy(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "leak-nouveau", 0, EX_VM_PLAIN));
	ex_lock(s.bo);
	vm_bo = ex_obtain(&s.vm->base, &s.bo->base);
	ex_unlock(s.bo);
	EX_CHECK(PTR_ERR_OR_ZERO(vm_bo));
	drm_gpuvm_bo_extobj_add(vm_bo);
	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
	if (!ret)
		drm_gpuva_link(s.va[0], vm_bo);
	drm_exec_fini(&exec);
	EX_CHECK(ret);
	/* BUG: the obtain reference of vm_bo is never dropped */
	EX_CHECK(nv_unbind(s.vm, s.bo, s.va[0]));
	ex_pin_module("vm-bo-leak-at-vm-destroy leaks its VM");
	ex_set_fini(&s); /* the VM put does not free it: the vm_bo holds it */
	return 0;
}

/*
 * alloc-free-asymmetric: a nouveau bind + unbind (as g1) on a VM whose ops
 * set vm_bo_alloc but not vm_bo_free, so GPUVM kfree()s what the driver
 * allocated (legal here: drm_gpuvm_bo is at offset 0 of a kzalloc).
 *   drm_gpuvm_init(ops: vm_bo_alloc set, vm_bo_free NULL)
 *       → alloc-free-asymmetric warning at first sight of the ops
 *   rest as g1: nothing else.
 * Expected: alloc-free-asymmetric:violation:warning:1.
 */
int sc_alloc_free_asymmetric(void)
{
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "asym-nouveau", 0, EX_VM_ALLOC_ONLY));
	EX_CHECK(nv_bind(s.vm, s.bo, s.va[0]));
	EX_CHECK(nv_unbind(s.vm, s.bo, s.va[0]));
	ex_set_fini(&s);
	return 0;
}

/*
 * duplicate-vm-bo, nouveau, flags 0: an unlocked obtain races a correct one.
 * The race is made deterministic by the VM's vm_bo_alloc, which parks the
 * buggy caller inside drm_gpuvm_bo_create() until another task has
 * obtained the same (V, G):
 *   writer: BUG obtain(V,G) with g not held → obtain-unlocked error
 *             { lookup: none ; create { vm_bo_alloc: start T, wait for T }
 *   T:        lock g ; obtain(V,G) {create ⟵B1} ⟵B1 (REGISTERED) ; unlock g
 *   writer:     create ⟵B2 } ⟵B2: second live REGISTERED vm_bo of (V, G)
 *             → duplicate-vm-bo error (tracker form: g not held by writer)
 *   lock g ; put(B1) ⟵1 ; put(B2) ⟵1 ; unlock g ; teardown
 * Expected: obtain-unlocked:violation:error:1 duplicate-vm-bo:violation:error:1.
 */
struct ex_dup {
	struct ex_set *s;
	struct drm_gpuvm_bo *other;
	struct completion done;
};

static int dup_thread(void *arg)
{
	struct ex_dup *d = arg;

	ex_lock(d->s->bo);
	d->other = ex_obtain(&d->s->vm->base, &d->s->bo->base);
	ex_unlock(d->s->bo);
	kthread_complete_and_exit(&d->done, 0);
}

static void dup_hook(void *arg)
{
	struct ex_dup *d = arg;
	struct task_struct *t;

	t = kthread_run(dup_thread, d, "gpuvm_ex_dup");
	if (IS_ERR(t)) {
		d->other = ERR_CAST(t);
		complete(&d->done);
		return;
	}
	wait_for_completion(&d->done);
}

int sc_duplicate_vm_bo(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct ex_dup d = {};
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "dup-nouveau", 0, EX_VM_PAUSING));
	d.s = &s;
	init_completion(&d.done);
	ex_set_alloc_hook(dup_hook, &d);
	vm_bo = ex_obtain(&s.vm->base, &s.bo->base); /* BUG */
	ex_set_alloc_hook(NULL, NULL);
	EX_CHECK(PTR_ERR_OR_ZERO(vm_bo));
	if (IS_ERR_OR_NULL(d.other) || d.other == vm_bo) {
		pr_err("duplicate-vm-bo: the racing obtain did not run\n");
		EX_CHECK(-EIO);
	}
	ex_lock(s.bo);
	drm_gpuvm_bo_put(d.other);
	drm_gpuvm_bo_put(vm_bo);
	ex_unlock(s.bo);
	ex_set_fini(&s);
	return 0;
}

/*
 * lock-unbalanced, nouveau, flags 0: an error path unlocks the BO twice.
 *   lock g ; obtain ⟵B ; unlock g ; extobj_add ; drm_exec R, g: insert, link
 *   lock g ; put(B) ⟵0 ; unlock g ;
 *   BUG ww_mutex_unlock(g) again: the owner word no longer names current
 *       → lock-unbalanced error. (Kernel without DEBUG_MUTEXES: the second
 *       unlock finds owner 0 and no waiters and returns; silent.)
 *   nouveau unbind ; teardown
 * Expected: lock-unbalanced:violation:error:1.
 */
int sc_lock_unbalanced(void)
{
	struct drm_gpuvm_bo *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "unbal-nouveau", 0, EX_VM_PLAIN));
	ex_lock(s.bo);
	vm_bo = ex_obtain(&s.vm->base, &s.bo->base);
	ex_unlock(s.bo);
	EX_CHECK(PTR_ERR_OR_ZERO(vm_bo));
	drm_gpuvm_bo_extobj_add(vm_bo);
	ret = ex_exec_lock(&exec, s.vm, &s.bo, 1);
	if (!ret) {
		ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
		if (!ret)
			drm_gpuva_link(s.va[0], vm_bo);
		drm_exec_fini(&exec);
	}
	ex_lock(s.bo);
	drm_gpuvm_bo_put(vm_bo);
	ex_unlock(s.bo);
	ex_unlock(s.bo); /* BUG */
	EX_CHECK(ret);
	EX_CHECK(nv_unbind(s.vm, s.bo, s.va[0]));
	ex_set_fini(&s);
	return 0;
}

/*
 * extobj-missing, xe, protected VM: the bind forgets extobj_add, so job
 * submission never locks (nor fences) the external BO.
 *   drm_exec R, g ; obtain ⟵B ; BUG no extobj_add(B) ; insert ; link(va,B)
 *       (info only: external, not on the extobj list) ; put(B) ⟵0 ; unlock
 *   drm_gpuvm_exec_lock {lock R ; prepare_objects: extobj list empty} ⟵0:
 *       B live, n_va 1, external, not on the extobj list, g not held
 *       → extobj-missing error
 *   drm_gpuvm_validate ⟵0 ; unlock R   (no fence is added: one report)
 *   xe unbind ; teardown
 * Expected: extobj-missing:violation:error:1.
 */
int sc_extobj_missing(void)
{
	struct drm_gpuvm_exec vm_exec = {
		.flags = DRM_EXEC_INTERRUPTIBLE_WAIT,
		.num_fences = 1,
	};
	struct drm_gpuvm_bo *vm_bo;
	struct drm_exec exec;
	struct ex_set s;
	int ret;

	EX_CHECK(ex_set_init(&s, "missing-xe", DRM_GPUVM_RESV_PROTECTED, EX_VM_PLAIN));
	EX_CHECK(ex_exec_lock(&exec, s.vm, &s.bo, 1));
	vm_bo = ex_obtain(&s.vm->base, &s.bo->base);
	if (IS_ERR(vm_bo)) {
		drm_exec_fini(&exec);
		EX_CHECK(PTR_ERR(vm_bo));
	}
	/* BUG: no drm_gpuvm_bo_extobj_add(vm_bo) */
	ret = drm_gpuva_insert(&s.vm->base, s.va[0]);
	if (!ret)
		drm_gpuva_link(s.va[0], vm_bo);
	drm_gpuvm_bo_put(vm_bo);
	drm_exec_fini(&exec);
	EX_CHECK(ret);

	vm_exec.vm = &s.vm->base;
	EX_CHECK(drm_gpuvm_exec_lock(&vm_exec));
	ret = drm_gpuvm_exec_validate(&vm_exec);
	drm_gpuvm_exec_unlock(&vm_exec);
	EX_CHECK(ret);

	EX_CHECK(xe_unbind(s.vm, &s.bo, s.va, 1));
	ex_set_fini(&s);
	return 0;
}
