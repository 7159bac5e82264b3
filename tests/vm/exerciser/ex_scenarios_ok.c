// SPDX-License-Identifier: GPL-2.0-only
/*
 * Correct scenarios: gpuvm-trace must report nothing for g1, g2, stress and
 * midflight (see scenarios.tsv). demo mixes correct and buggy sequences.
 */
#define pr_fmt(fmt) "gpuvm_exerciser: " fmt

#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "ex.h"

unsigned int ex_iterations = 1000;

/*
 * g1: nouveau bind + unbind of an external BO, VM flags 0 (spec §G G1).
 *   drm_gpuvm_init(V, 0)
 *   ww_mutex_lock(g) ; ex_obtain(V,G) {bo_create} ⟵B ; ww_mutex_unlock(g)
 *   drm_gpuvm_bo_extobj_add(B)                      flags 0: no lock required
 *   drm_exec: lock R, g ; drm_gpuva_insert ; drm_gpuva_link(va,B) ; unlock
 *   ww_mutex_lock(g) ; drm_gpuvm_bo_put(B) ⟵0 ; ww_mutex_unlock(g)
 *   drm_exec: lock R, g ; drm_gpuva_remove ; drm_gpuva_unlink {put ⟵1} ; unlock
 *   drm_gem_object_put(G) ; drm_gpuvm_put(V) {drm_gpuvm_free}   kref 1 → 0
 * Every gpuva-lock requirement is met with g held; nothing is reported.
 */
int sc_g1(void)
{
	struct drm_gpuva *va = NULL;
	struct ex_bo *bo = NULL;
	struct ex_vm *vm;
	int ret = -ENOMEM;

	vm = ex_vm_create("g1-nouveau", 0, EX_VM_PLAIN);
	if (!vm)
		return -ENOMEM;
	bo = ex_bo_create_external();
	if (bo)
		va = ex_va_alloc(bo, EX_VA_START);
	if (!va)
		goto out;

	ret = nv_bind(vm, bo, va);
	if (!ret)
		ret = nv_unbind(vm, bo, va);
	if (ret) {
		ex_pin_module("g1 failed half-way");
		return ret;
	}
out:
	kfree(va);
	if (bo)
		ex_bo_put(bo);
	ex_vm_put(vm);
	return ret;
}

/*
 * g2: xe bind + evict + exec + unbind, VM DRM_GPUVM_RESV_PROTECTED, one
 * external BO G (resv g) and one private BO P (resv R), spec §G G2.
 *   drm_exec: lock R, g, P (-EALREADY: P shares R, IGNORE_DUPLICATES)
 *     obtain(V,G) ⟵B ; extobj_add(B) (R held) ; insert ; link(va,B) ; put(B) ⟵0
 *     obtain(V,P) ⟵Bp ; extobj_add(Bp) (private: no-op, R held) ; insert ; link ; put ⟵0
 *   unlock
 *   ww_mutex_lock(g) ; drm_gpuvm_bo_evict(B, true) ; ww_mutex_unlock(g)   flag only
 *   ww_mutex_lock(R) ; drm_gpuvm_bo_evict(Bp, true) ; ww_mutex_unlock(R)  onto evict list
 *   drm_gpuvm_exec_lock {lock R ; prepare_objects {lock g; B → evict list}} ⟵0
 *     drm_gpuvm_validate {evict(B,false) ; evict(Bp,false)} ;
 *     drm_gpuvm_resv_add_fence ; unlock                 B is on the extobj list
 *   drm_exec: lock R, g, P ; remove+unlink(va) {put B ⟵1} ; remove+unlink(vaP) {put Bp ⟵1} ; unlock
 *   puts of G, P, V (V freed)
 * Nothing is reported.
 */
int sc_g2(void)
{
	struct drm_gpuva *vas[2] = {};
	struct ex_bo *bos[2] = {};
	struct ex_vm *vm;
	int ret = -ENOMEM;
	int i;

	vm = ex_vm_create("g2-xe", DRM_GPUVM_RESV_PROTECTED, EX_VM_PLAIN);
	if (!vm)
		return -ENOMEM;
	bos[0] = ex_bo_create_external();
	bos[1] = ex_bo_create_private(vm);
	for (i = 0; i < 2; i++)
		if (bos[i])
			vas[i] = ex_va_alloc(bos[i], EX_VA_START + i * EX_VA_SIZE);
	if (!vas[0] || !vas[1])
		goto out;

	ret = xe_bind(vm, bos, vas, 2);
	if (!ret) {
		xe_evict(bos[0]);
		xe_evict(bos[1]);
		ret = xe_exec(vm);
	}
	if (!ret)
		ret = xe_unbind(vm, bos, vas, 2);
	if (ret) {
		ex_pin_module("g2 failed half-way");
		return ret;
	}
out:
	for (i = 0; i < 2; i++) {
		kfree(vas[i]);
		if (bos[i])
			ex_bo_put(bos[i]);
	}
	ex_vm_put(vm);
	return ret;
}

/*
 * stress: ex_iterations rounds, each a G1 bind/unbind on a nouveau-style VM
 * and a G2 bind/unbind (external + private BO) on an xe-style VM. Objects
 * live across rounds so the cost measured is the bind path itself.
 */
int sc_stress(void)
{
	struct drm_gpuva *nv_va = NULL, *xe_vas[2] = {};
	struct ex_bo *nv_bo = NULL, *xe_bos[2] = {};
	struct ex_vm *nv_vm, *xe_vm;
	unsigned int n, iters = READ_ONCE(ex_iterations);
	int ret = -ENOMEM;
	int i;

	nv_vm = ex_vm_create("stress-nouveau", 0, EX_VM_PLAIN);
	xe_vm = ex_vm_create("stress-xe", DRM_GPUVM_RESV_PROTECTED, EX_VM_PLAIN);
	if (!nv_vm || !xe_vm)
		goto out;
	nv_bo = ex_bo_create_external();
	xe_bos[0] = ex_bo_create_external();
	xe_bos[1] = ex_bo_create_private(xe_vm);
	if (nv_bo)
		nv_va = ex_va_alloc(nv_bo, EX_VA_START);
	for (i = 0; i < 2; i++)
		if (xe_bos[i])
			xe_vas[i] = ex_va_alloc(xe_bos[i], EX_VA_START + i * EX_VA_SIZE);
	if (!nv_va || !xe_vas[0] || !xe_vas[1])
		goto out;

	ret = 0;
	for (n = 0; n < iters && !ret; n++) {
		ret = nv_bind(nv_vm, nv_bo, nv_va);
		if (!ret)
			ret = nv_unbind(nv_vm, nv_bo, nv_va);
		if (!ret)
			ret = xe_bind(xe_vm, xe_bos, xe_vas, 2);
		if (!ret)
			ret = xe_unbind(xe_vm, xe_bos, xe_vas, 2);
		cond_resched();
	}
	if (ret) {
		ex_pin_module("stress failed half-way");
		return ret;
	}
	pr_info("stress: %u bind/unbind rounds (nouveau + xe style)\n", iters);
out:
	kfree(nv_va);
	for (i = 0; i < 2; i++) {
		kfree(xe_vas[i]);
		if (xe_bos[i])
			ex_bo_put(xe_bos[i]);
	}
	if (nv_bo)
		ex_bo_put(nv_bo);
	if (xe_vm)
		ex_vm_put(xe_vm);
	if (nv_vm)
		ex_vm_put(nv_vm);
	return ret;
}

/*
 * concurrent: two kthreads, each bound to its own CPU, run correct bind/unbind
 * cycles at the same time (a G1 and a G2 round on objects of their own), then
 * each makes a burst of EX_BURST vm_bos that are alive together:
 *   per BO: ww_mutex_lock(g) ; obtain(V,G) {bo_create} ; ww_mutex_unlock(g)
 *   then per BO: ww_mutex_lock(g) ; drm_gpuvm_bo_put(B) ⟵1 ; ww_mutex_unlock(g)
 * Both threads' probes fire on two CPUs at once: on 7.x the tracer's ring-buffer
 * reservations contend there (issue 13). Correct code: nothing is reported, and
 * a tracer that loses no event reports no unknown either.
 */
#define EX_CONC_ROUNDS 150
#define EX_BURST 160

struct ex_conc {
	struct completion start, done;
	int ret;
};

static int ex_conc_burst(void)
{
	struct drm_gpuvm_bo **vm_bos;
	struct ex_bo **bos;
	struct ex_vm *vm;
	int i, n = 0, ret = -ENOMEM;

	vm = ex_vm_create("burst-nouveau", 0, EX_VM_PLAIN);
	bos = kcalloc(EX_BURST, sizeof(*bos), GFP_KERNEL);
	vm_bos = kcalloc(EX_BURST, sizeof(*vm_bos), GFP_KERNEL);
	if (!vm || !bos || !vm_bos)
		goto out;
	for (n = 0; n < EX_BURST; n++) {
		bos[n] = ex_bo_create_external();
		if (!bos[n])
			goto out;
	}
	ret = 0;
	for (i = 0; i < n && !ret; i++) {
		dma_resv_lock(bos[i]->base.resv, NULL);
		vm_bos[i] = ex_obtain(&vm->base, &bos[i]->base);
		dma_resv_unlock(bos[i]->base.resv);
		if (IS_ERR(vm_bos[i])) {
			ret = PTR_ERR(vm_bos[i]);
			vm_bos[i] = NULL;
		}
	}
	for (i = 0; i < n; i++) {
		if (!vm_bos[i])
			continue;
		dma_resv_lock(bos[i]->base.resv, NULL);
		drm_gpuvm_bo_put(vm_bos[i]);
		dma_resv_unlock(bos[i]->base.resv);
	}
out:
	for (i = 0; i < n; i++)
		if (bos[i])
			ex_bo_put(bos[i]);
	kfree(vm_bos);
	kfree(bos);
	if (vm)
		ex_vm_put(vm);
	return ret;
}

static int ex_conc_thread(void *arg)
{
	struct ex_conc *c = arg;
	struct drm_gpuva *nv_va = NULL, *xe_vas[2] = {};
	struct ex_bo *nv_bo = NULL, *xe_bos[2] = {};
	struct ex_vm *nv_vm, *xe_vm;
	int i, n, ret = -ENOMEM;

	/* Both threads start together: the point is overlapping probes. */
	wait_for_completion(&c->start);
	nv_vm = ex_vm_create("conc-nouveau", 0, EX_VM_PLAIN);
	xe_vm = ex_vm_create("conc-xe", DRM_GPUVM_RESV_PROTECTED, EX_VM_PLAIN);
	if (!nv_vm || !xe_vm)
		goto out;
	nv_bo = ex_bo_create_external();
	xe_bos[0] = ex_bo_create_external();
	xe_bos[1] = ex_bo_create_private(xe_vm);
	if (nv_bo)
		nv_va = ex_va_alloc(nv_bo, EX_VA_START);
	for (i = 0; i < 2; i++)
		if (xe_bos[i])
			xe_vas[i] = ex_va_alloc(xe_bos[i], EX_VA_START + i * EX_VA_SIZE);
	if (!nv_va || !xe_vas[0] || !xe_vas[1])
		goto out;
	ret = 0;
	for (n = 0; n < EX_CONC_ROUNDS && !ret; n++) {
		ret = nv_bind(nv_vm, nv_bo, nv_va);
		if (!ret)
			ret = nv_unbind(nv_vm, nv_bo, nv_va);
		if (!ret)
			ret = xe_bind(xe_vm, xe_bos, xe_vas, 2);
		if (!ret)
			ret = xe_unbind(xe_vm, xe_bos, xe_vas, 2);
		cond_resched();
	}
	if (!ret)
		ret = ex_conc_burst();
out:
	kfree(nv_va);
	for (i = 0; i < 2; i++) {
		kfree(xe_vas[i]);
		if (xe_bos[i])
			ex_bo_put(xe_bos[i]);
	}
	if (nv_bo)
		ex_bo_put(nv_bo);
	if (xe_vm)
		ex_vm_put(xe_vm);
	if (nv_vm)
		ex_vm_put(nv_vm);
	c->ret = ret;
	complete(&c->done);
	return 0;
}

int sc_concurrent(void)
{
	struct ex_conc c[2];
	struct task_struct *t[2];
	int cpu[2], i, ret = 0;

	cpu[0] = cpumask_first(cpu_online_mask);
	cpu[1] = cpumask_next(cpu[0], cpu_online_mask);
	if (cpu[1] >= nr_cpu_ids) {
		pr_err("concurrent: needs two online CPUs\n");
		return -EOPNOTSUPP;
	}
	for (i = 0; i < 2; i++) {
		init_completion(&c[i].start);
		init_completion(&c[i].done);
		c[i].ret = 0;
		t[i] = kthread_create(ex_conc_thread, &c[i], "gvt-conc/%d", cpu[i]);
		if (IS_ERR(t[i])) {
			ret = PTR_ERR(t[i]);
			/* the first thread is not started yet: run it to its end */
			while (--i >= 0) {
				c[i].ret = -ECANCELED;
				complete(&c[i].start);
				wait_for_completion(&c[i].done);
			}
			return ret;
		}
		kthread_bind(t[i], cpu[i]);
		wake_up_process(t[i]);
	}
	for (i = 0; i < 2; i++)
		complete(&c[i].start);
	for (i = 0; i < 2; i++) {
		wait_for_completion(&c[i].done);
		if (c[i].ret && !ret)
			ret = c[i].ret;
	}
	if (ret) {
		ex_pin_module("concurrent failed half-way");
		return ret;
	}
	pr_info("concurrent: 2 x %d bind/unbind rounds on CPUs %d and %d, 2 x %d vm_bos burst\n",
		EX_CONC_ROUNDS, cpu[0], cpu[1], EX_BURST);
	return 0;
}

/*
 * midflight: objects and locks that exist before the tracer attaches.
 * midflight-setup starts a kthread that, on an xe-style (protected) VM with
 * an external BO, does
 *   drm_gpuvm_init ; drm_exec lock R, g ; obtain(V,G) ⟵B ; drm_gpuva_insert
 * and then waits, still holding R and g. midflight-finish (run while
 * tracing) lets it complete correctly:
 *   extobj_add(B) ; link(va,B) ; put(B) ⟵0 ; remove(va) ; unlink(va) {put ⟵1} ;
 *   ww_mutex_unlock(g) ; ww_mutex_unlock(R) ; put G ; drm_gpuvm_put(V) {free}
 * The tracer adopts B from its snapshot (on_gem → REGISTERED) and sees the
 * locks held by current through the owner word: nothing is reported.
 */
struct ex_midflight {
	struct completion ready, go, done;
	int ret;
};

static struct ex_midflight *midflight;

static int midflight_thread(void *arg)
{
	struct ex_midflight *mf = arg;
	struct drm_gpuvm_bo *vm_bo;
	struct drm_gpuva *va = NULL;
	struct ex_bo *bo = NULL;
	struct drm_exec exec;
	struct ex_vm *vm;
	int ret = -ENOMEM;

	vm = ex_vm_create("midflight-xe", DRM_GPUVM_RESV_PROTECTED, EX_VM_PLAIN);
	if (vm)
		bo = ex_bo_create_external();
	if (bo)
		va = ex_va_alloc(bo, EX_VA_START);
	if (!va)
		goto fail;
	ret = ex_exec_lock(&exec, vm, &bo, 1);
	if (ret)
		goto fail;
	vm_bo = ex_obtain(&vm->base, &bo->base);
	if (IS_ERR(vm_bo)) {
		ret = PTR_ERR(vm_bo);
		drm_exec_fini(&exec);
		goto fail;
	}
	ret = drm_gpuva_insert(&vm->base, va);
	if (ret) {
		drm_gpuvm_bo_put(vm_bo);
		drm_exec_fini(&exec);
		goto fail;
	}

	mf->ret = 0;
	complete(&mf->ready);
	/* TASK_IDLE: waiting for the tracer to attach may outlast the hung-task timeout */
	wait_for_completion_state(&mf->go, TASK_IDLE);

	drm_gpuvm_bo_extobj_add(vm_bo);
	drm_gpuva_link(va, vm_bo);
	drm_gpuvm_bo_put(vm_bo);
	drm_gpuva_remove(va);
	drm_gpuva_unlink(va);
	drm_exec_fini(&exec);
	kfree(va);
	ex_bo_put(bo);
	ex_vm_put(vm);
	kthread_complete_and_exit(&mf->done, 0);

fail:
	/* whatever exists here holds no lock and no vm_bo: safe to leak */
	ex_pin_module("midflight setup failed");
	mf->ret = ret;
	complete(&mf->ready);
	kthread_complete_and_exit(&mf->done, ret);
}

int sc_midflight_setup(void)
{
	struct task_struct *t;
	struct ex_midflight *mf;

	if (midflight) {
		pr_err("midflight-setup: already set up; write midflight-finish first\n");
		return -EBUSY;
	}
	mf = kzalloc(sizeof(*mf), GFP_KERNEL);
	if (!mf)
		return -ENOMEM;
	init_completion(&mf->ready);
	init_completion(&mf->go);
	init_completion(&mf->done);
	t = kthread_run(midflight_thread, mf, "gpuvm_ex_midflt");
	if (IS_ERR(t)) {
		kfree(mf);
		return PTR_ERR(t);
	}
	wait_for_completion(&mf->ready);
	if (mf->ret) {
		int ret = mf->ret;

		wait_for_completion(&mf->done);
		kfree(mf);
		return ret;
	}
	midflight = mf;
	return 0;
}

int sc_midflight_finish(void)
{
	if (!midflight) {
		pr_err("midflight-finish: nothing in flight; write midflight-setup first\n");
		return -EINVAL;
	}
	complete(&midflight->go);
	wait_for_completion(&midflight->done);
	kfree(midflight);
	midflight = NULL;
	return 0;
}

/* Module unload with a setup pending: finish it so no lock stays held. */
void ex_midflight_fini(void)
{
	if (midflight)
		sc_midflight_finish();
}

/* demo: G1, G2 and three buggy sequences, for the README demo. */
int sc_demo(void)
{
	int (*const steps[])(void) = {
		sc_g1, sc_g2, sc_extobj_add_unlocked, sc_double_put,
		sc_put_final_unlocked,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		ret = steps[i]();
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * resv-churn (a benchmark workload, not in scenarios.tsv): ex_iterations x 64
 * lock/unlock pairs on the resv of a GEM that no GPUVM object uses. The tracer
 * probes ww_mutex_lock/unlock but must not watch this lock: this measures its cost
 * per hit on the unwatched path (tests/bench/live.sh).
 */
int sc_resv_churn(void)
{
	unsigned int n, iters = READ_ONCE(ex_iterations) * 64;
	struct ex_bo *bo = ex_bo_create_external();

	if (!bo)
		return -ENOMEM;
	for (n = 0; n < iters; n++) {
		dma_resv_lock(bo->base.resv, NULL);
		dma_resv_unlock(bo->base.resv);
		if (!(n & 1023))
			cond_resched();
	}
	ex_bo_put(bo);
	return 0;
}
