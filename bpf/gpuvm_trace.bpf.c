// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpuvm-trace kernel side: one record per logical GPUVM / lock call phase, with the
 * snapshot of vm_bo-lifecycle.md §D.3 read at that moment. Every program exists in
 * two mechanisms (fentry/fexit and kprobe/kretprobe); user space autoloads and
 * attaches only those its probe plan picks, to the symbols it picks
 * (bpf_program__set_attach_target / attach_kprobe), so one object serves every
 * kernel. All memory reads are CO-RE probe reads: a failed read leaves the field
 * absent (unknown), never guessed.
 *
 * Why one ~900-line file: it is one BPF object (one skeleton, one set of maps), and
 * its helpers are static __always_inline so that each program keeps only the branch
 * of its constant `fn`; splitting it would need BPF static linking (bpftool gen
 * object) for no gain in what a reader must hold in mind. The sections below run
 * maps -> snapshot readers -> record emission -> GPUVM calls -> lock calls -> the
 * programs generated from decode/fn_table.h.
 */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#if defined(__TARGET_ARCH_arm64)
/* arm64's uapi register block (asm/ptrace.h; a stable ABI) for bpf_tracing.h's
 * PT_REGS_*: declared here so that the arm64 object builds on any build machine,
 * whose asm/ headers are its own architecture's. */
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
struct pt_regs;
#else
#include <asm/ptrace.h>
#endif
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gpuvm_types.bpf.h"
#include "gpuvm_trace.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load (skeleton rodata). */
const volatile __u32 cfg = 0;
const volatile __u32 filter_tgid = 0;
const volatile char filter_comm[GVT_TASK_COMM_LEN] = {};
/* Unread bytes at which a producer wakes the reader (see submit()). */
const volatile __u32 wake_bytes = 256u << 10;

#define LIST_POISON1 0xdead000000000100ULL
#define MUTEX_FLAGS 0x07ULL
#define RT_MUTEX_HAS_WAITERS 0x01ULL
#define GEM_WALK_MAX 32
#define TREE_DEPTH_MAX 8

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space (--ringbuf-mb) */
} rb SEC(".maps");

/* Kernel stacks, deduplicated in the kernel: records carry the id. Without
 * BPF_F_REUSE_STACKID an id never changes meaning, so user space reads each id
 * once; a stack whose bucket holds another one goes to `stacks_spill`. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, GVT_MAX_FRAMES * sizeof(__u64));
} stacks SEC(".maps");

/* Where a stack goes when its bucket in `stacks` holds another one (-EEXIST): the
 * bucket is hash & (size - 1) with a fixed hash, so a hundred distinct stacks collide
 * somewhere in 16384 buckets in about one run in four, and the colliding record (maybe a
 * finding's evidence) would have none. Only such stacks come here (a few in a
 * thousand), so this map rarely sees a collision of its own: with k of them in 16384
 * buckets, about k*k/32768. Its ids carry GVT_STACK_SPILL. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, GVT_MAX_FRAMES * sizeof(__u64));
} stacks_spill SEC(".maps");

/* Records whose stack was wanted but stored in neither map: reported at the end, not
 * a loss (the record itself was written). */
__u64 stacks_lost = 0;

/* Lock addresses of interest: every VM/BO resv (ww) and gpuva mutex seen in GPUVM
 * events. LRU so that an insert never fails on a long run. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} watch_ww SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} watch_mutex SEC(".maps");

/* vm_bos known live: added when a create/obtain/find returns one, removed when a
 * put or unlink may have dropped the last reference. Only decides whether a record
 * needs its stack (an event on a vm_bo not known live may be a use after free);
 * an evicted entry costs an extra stack, never a missing one. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} live_vm_bo SEC(".maps");

/* Tasks holding a watched lock (task_state.holds > 0): gates the sys_exit program. */
__u64 n_holding = 0;

/* The same for tasks that can return to user space (not kernel threads), and how many
 * times one became a holder: user space reads them around the sys_exit program's
 * skipped runs. On kernels whose syscall tracepoints run preemptible (7.x) a task
 * preempted inside that program makes the kernel skip it for other tasks on its CPU;
 * a skipped run can only have lost a record if some user task held a watched lock
 * then, which these two bound (bpf/tracer.cpp). Kernel threads never reach sys_exit. */
__u64 n_user_holding = 0;
__u64 user_hold_starts = 0;

#define PF_KTHREAD 0x00200000u

static __always_inline bool current_kthread(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	unsigned int flags = 0;

	/* Unreadable: counted as a user task (its skipped sys_exit runs stay losses). */
	return !bpf_core_read(&flags, sizeof(flags), &t->flags) && (flags & PF_KTHREAD);
}

/* The stack of an enclosing GPUVM call that was unwound (obtain*, unlink), per task, so
 * that the call it makes itself (the create inside an obtain, the final put inside an
 * unlink) carries that stack instead of unwinding the same frames again: unwinding is
 * most of a record's cost, and the outer call's stack names the same caller. The nested
 * call checks the objects too (the create's VM and GEM are the obtain's, the put's vm_bo
 * is the one the unlink drops), and the entry goes at the outer call's exit, so a stale
 * entry (an exit not seen) is never taken for another call's stack; when in doubt the
 * nested call unwinds itself. fn == 0: none. */
struct outer_stack {
	__u64 k0, k1;
	__s32 stack_id;
	__u32 fn;
};

/* The lock call a task is inside (emitted entry), so that its exit is written only
 * when its entry was, and nested mutex calls inside a ww call are ignored (§C.1).
 * fn == 0: none. */
struct lockcall {
	__u64 lock;
	__u32 fn;
	__u32 pad;
};

/* kprobe entry arguments for the matching kretprobe (fexit gets them for free), one
 * slot per logical function, valid while its bit in kargs_valid is set. */
struct argval {
	__u64 a[3];
};

/* Everything the programs keep per thread, in task-local storage: one pointer chase
 * from current instead of a hash of the tid per map (a third of the lock programs'
 * cost was hash-map bookkeeping), no capacity to fill, and freed with the task (a
 * hash entry of a task that died holding a lock outlived it, and its tid's next
 * owner inherited it). Made on first need; a failed creation (no memory, or the
 * storage busy on this CPU because a program it interrupted was inside it) is
 * counted as lost evidence (GVT_DROP_MAP) where a record depends on it. */
struct task_state {
	struct lockcall lc;
	__u32 holds;     /* watched locks acquired and not released: gates sys_exit */
	__u32 user;      /* counted in n_user_holding */
	struct outer_stack outer;
	__u64 kargs_valid; /* 1 << fn */
	struct argval kargs[GVT_FN_COUNT_];
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} tstate SEC(".maps");

static __always_inline struct task_state *task_state(bool create)
{
	return bpf_task_storage_get(&tstate, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* Records that could not be written (and lost evidence), all CPUs: stamped into every
 * record (hdr.drop_seq) so that user space places each loss right before the first
 * record made after it, not at its next poll (by then later records had reached the
 * model, which took their missing history for violations). One atomic counter rather
 * than per-CPU ones: the ring buffer orders records across CPUs, so must the count. */
__u64 drop_seq = 0;

/* Drops per CPU and per logical function, by cause (enum gvt_drop_cause): the
 * remedy differs (a larger buffer helps a full one only). Touched on drops only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GVT_FN_COUNT_);
	__type(key, __u32);
	__type(value, struct gvt_drop_stat);
} drop_stats SEC(".maps");

static __always_inline void count_drop(int fn, int cause)
{
	__u32 k = fn;
	struct gvt_drop_stat *s = bpf_map_lookup_elem(&drop_stats, &k);

	__sync_fetch_and_add(&drop_seq, 1);
	/* Atomic although per CPU: a preempted program may share the slot. */
	if (s && cause >= 0 && cause < GVT_DROP_CAUSES_)
		__sync_fetch_and_add(&s->n[cause], 1);
}

static __always_inline bool pass_filter(void)
{
	/* No helper call without a filter: every program asks. */
	if ((cfg & GVT_CFG_FILTER_TGID) && (__u32)(bpf_get_current_pid_tgid() >> 32) != filter_tgid)
		return false;
	if (cfg & GVT_CFG_FILTER_TREE) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();
		bool found = false;

		for (int i = 0; i < TREE_DEPTH_MAX && t; i++) {
			int pid = 0;

			if (bpf_core_read(&pid, sizeof(pid), &t->tgid))
				break;
			if ((__u32)pid == filter_tgid) {
				found = true;
				break;
			}
			if (bpf_core_read(&t, sizeof(t), &t->real_parent))
				break;
		}
		if (!found)
			return false;
	}
	if (cfg & GVT_CFG_FILTER_COMM) {
		char comm[GVT_TASK_COMM_LEN];

		bpf_get_current_comm(comm, sizeof(comm));
		for (int i = 0; i < GVT_TASK_COMM_LEN; i++) {
			if (comm[i] != filter_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	return true;
}

static __always_inline void set_v(struct gvt_raw_event *e, int f, __u64 x)
{
	e->present |= 1u << f;
	e->v[f] = x;
}

static __always_inline void set_small(struct gvt_raw_event *e, int s, __u32 x)
{
	e->small = (e->small & ~(3u << (2 * s))) | ((x & 3u) << (2 * s));
}

/* §C.3: does task `cur` (the one running this probe) own the mutex at `m`? */
static __always_inline __u32 held_by(__u64 m, __u64 cur)
{
	__u64 owner = 0;

	if (!m)
		return GVT_V_UNKNOWN;
	/* PREEMPT_RT builds struct mutex on struct rt_mutex_base (RT locking merged
	 * for 5.15): no atomic owner word, owner pointer with a waiters bit (§C.3). */
	if (bpf_core_field_exists(((struct mutex *)0)->owner)) {
		if (bpf_core_read(&owner, sizeof(owner), &((struct mutex *)m)->owner.counter))
			return GVT_V_UNKNOWN;
		owner &= ~MUTEX_FLAGS;
	} else {
		if (bpf_core_read(&owner, sizeof(owner), &((struct rt_mutex_base *)m)->owner))
			return GVT_V_UNKNOWN;
		owner &= ~RT_MUTEX_HAS_WAITERS;
	}
	return owner == cur ? GVT_V_YES : GVT_V_NO;
}

static __always_inline __u32 held_by_current(__u64 m)
{
	return held_by(m, bpf_get_current_task());
}

/* The ww_mutex inside a dma_resv (offset 0 on every kernel examined, §C.2, but
 * relocated anyway). */
static __always_inline __u64 resv_lock(__u64 resv)
{
	if (!resv)
		return 0;
	return (__u64)&((struct dma_resv *)resv)->lock.base;
}

/* §F.4: YES on a list, NO initialised-empty or deleted, ABSENT if unreadable. */
static __always_inline __u32 list_state(const void *node)
{
	struct list_head *next = 0;

	if (bpf_probe_read_kernel(&next, sizeof(next), node))
		return GVT_V_ABSENT;
	if (!next)
		return GVT_V_ABSENT; /* zeroed memory: neither initialised nor deleted */
	if ((__u64)next == (__u64)node || (__u64)next == LIST_POISON1)
		return GVT_V_NO;
	return GVT_V_YES;
}

static __always_inline bool vm_immediate(__u64 flags)
{
	/* DRM_GPUVM_IMMEDIATE_MODE: 6.18 ("gem: simplify gpuvm locking"); bit 1 was
	 * driver-private USERBITS before, so only the BTF enum value may say so. */
	if (!bpf_core_enum_value_exists(enum drm_gpuvm_flags, DRM_GPUVM_IMMEDIATE_MODE))
		return false;
	return flags & bpf_core_enum_value(enum drm_gpuvm_flags, DRM_GPUVM_IMMEDIATE_MODE);
}

static __always_inline void watch(void *map, __u64 lock)
{
	__u8 one = 1;

	/* Lookup first: most snapshots name locks already watched, and an LRU update
	 * costs a lock and an element allocation. */
	if (lock && !bpf_map_lookup_elem(map, &lock))
		bpf_map_update_elem(map, &lock, &one, BPF_ANY);
}

struct vmsnap {
	__u64 resv;
	__u64 flags;
	bool ok_flags;
};

/* What snap_vm reads besides flags and resv: each read is a helper call, so only
 * what a rule of the function uses (vm_kref: drm_gpuvm_put's teardown rule; ops:
 * alloc-free-asymmetric, judged at the first sight of a VM's ops). */
#define SNAP_OPS 1u
#define SNAP_KREF 2u

/* VM part of the snapshot; returns what the lock snapshot needs. */
static __always_inline struct vmsnap snap_vm(struct gvt_raw_event *e, struct drm_gpuvm *vm,
					     __u32 what)
{
	struct vmsnap s = {};
	struct drm_gem_object *r_obj = 0;
	const struct drm_gpuvm_ops *o = 0;
	__u32 flags = 0;
	int kref = 0;
	bool ok_robj;

	if (!vm)
		return s;
	set_v(e, GVT_S_VM, (__u64)vm);
	if (!bpf_core_read(&flags, sizeof(flags), &vm->flags)) {
		set_v(e, GVT_S_VM_FLAGS, flags);
		s.flags = flags;
		s.ok_flags = true;
	}
	if ((what & SNAP_KREF) && !bpf_core_read(&kref, sizeof(kref), &vm->kref.refcount.refs.counter))
		set_v(e, GVT_S_VM_KREF, (__u64)(__s64)kref);
	/* ops and r_obj are adjacent on every kernel so far: one read for both. */
	if ((what & SNAP_OPS) && bpf_core_field_offset(vm->r_obj) == bpf_core_field_offset(vm->ops) + 8) {
		__u64 pr[2] = {};

		ok_robj = !bpf_probe_read_kernel(pr, sizeof(pr), &vm->ops);
		o = (const void *)pr[0];
		r_obj = (void *)pr[1];
		if (!ok_robj)
			o = 0;
	} else {
		ok_robj = !bpf_core_read(&r_obj, sizeof(r_obj), &vm->r_obj);
		if ((what & SNAP_OPS) && bpf_core_read(&o, sizeof(o), &vm->ops))
			o = 0;
	}
	if (ok_robj && r_obj && !bpf_core_read(&s.resv, sizeof(s.resv), &r_obj->resv) && s.resv) {
		set_v(e, GVT_S_VM_RESV, s.resv);
		watch(&watch_ww, resv_lock(s.resv));
	} else {
		s.resv = 0;
	}
	if (o) {
		__u64 f[2] = {};
		__u32 oa = bpf_core_field_offset(((struct drm_gpuvm_ops *)0)->vm_bo_alloc);
		__u32 of = bpf_core_field_offset(((struct drm_gpuvm_ops *)0)->vm_bo_free);

		/* Adjacent on every kernel so far: one read for both. */
		if (of == oa + 8 ? !bpf_probe_read_kernel(f, sizeof(f), &o->vm_bo_alloc)
				 : !bpf_core_read(&f[0], sizeof(f[0]), &o->vm_bo_alloc) &&
					   !bpf_core_read(&f[1], sizeof(f[1]), &o->vm_bo_free)) {
			set_v(e, GVT_S_OPS_VM_BO_ALLOC, f[0]);
			set_v(e, GVT_S_OPS_VM_BO_FREE, f[1]);
		}
	}
	return s;
}

/* GEM part; returns the BO resv (0 when unreadable). */
static __always_inline __u64 snap_obj(struct gvt_raw_event *e, struct drm_gem_object *obj)
{
	__u64 resv = 0;
	int ref = 0;

	if (!obj)
		return 0;
	set_v(e, GVT_S_OBJ, (__u64)obj);
	if (!bpf_core_read(&ref, sizeof(ref), &obj->refcount.refcount.refs.counter))
		set_v(e, GVT_S_BO_REFCOUNT, (__u64)(__s64)ref);
	if (bpf_core_read(&resv, sizeof(resv), &obj->resv) || !resv)
		return 0;
	set_v(e, GVT_S_BO_RESV, resv);
	watch(&watch_ww, resv_lock(resv));
	return resv;
}

/* held_vm_resv / held_bo_resv / held_gpuva_lock (§C.3, §C.4). */
static __always_inline void snap_holds(struct gvt_raw_event *e, struct vmsnap vs,
				       struct drm_gem_object *obj, __u64 bo_resv)
{
	__u64 cur = bpf_get_current_task();
	/* One owner read per distinct lock: a private BO shares the VM's resv, and the
	 * gpuva lock is mostly the BO resv. */
	__u32 vm_held = held_by(resv_lock(vs.resv), cur);
	__u32 bo_held = bo_resv == vs.resv ? vm_held : held_by(resv_lock(bo_resv), cur);
	__u32 gpuva = GVT_V_UNKNOWN;

	set_small(e, GVT_S_HELD_VM_RESV, vm_held);
	set_small(e, GVT_S_HELD_BO_RESV, bo_held);
	if (!obj) {
		set_small(e, GVT_S_HELD_GPUVA_LOCK, GVT_V_UNKNOWN);
		return;
	}
	/* 6.18 "gem: simplify gpuvm locking": obj->gpuva.lock in immediate mode. */
	if (bpf_core_field_exists(((struct drm_gem_object___gpuva_mutex *)0)->gpuva.lock)) {
		if (!vs.ok_flags) {
			gpuva = GVT_V_UNKNOWN;
		} else if (vm_immediate(vs.flags)) {
			__u64 m = (__u64)&((struct drm_gem_object___gpuva_mutex *)obj)->gpuva.lock;

			watch(&watch_mutex, m);
			gpuva = held_by(m, cur);
		} else {
			gpuva = bo_held;
		}
	} else if (bpf_core_field_exists(((struct drm_gem_object___lockdep *)0)->gpuva.lock_dep_map)) {
		/* <= 6.17 LOCKDEP kernels record a driver's custom lock here; its type is
		 * not known to us, so such GEMs stay unknown (§C.4). */
		struct lockdep_map *dm = 0;

		if (bpf_core_read(&dm, sizeof(dm),
				  &((struct drm_gem_object___lockdep *)obj)->gpuva.lock_dep_map))
			gpuva = GVT_V_UNKNOWN;
		else if (dm)
			gpuva = GVT_V_UNKNOWN;
		else
			gpuva = bo_held;
	} else {
		/* K612 without LOCKDEP: the gpuva lock is obj->resv unless a driver set a
		 * custom one, which leaves no trace in memory (§C.4). */
		gpuva = bo_held;
	}
	set_small(e, GVT_S_HELD_GPUVA_LOCK, gpuva);
}

/* vm_bo attributes and list membership (§D.3, §F.4). */
static __always_inline void snap_vm_bo_lists(struct gvt_raw_event *e, struct drm_gpuvm_bo *vb)
{
	set_small(e, GVT_S_ON_GEM, list_state(&vb->list.entry.gem));
	set_small(e, GVT_S_ON_EXTOBJ, list_state(&vb->list.entry.extobj));
	set_small(e, GVT_S_ON_EVICT, list_state(&vb->list.entry.evict));
	/* 6.19+ deferred cleanup (8e4865faf7a9): llist node, self = off list. */
	if (bpf_core_field_exists(((struct drm_gpuvm_bo___defer *)0)->list.entry.bo_defer)) {
		struct llist_node *n = 0;
		void *node = &((struct drm_gpuvm_bo___defer *)vb)->list.entry.bo_defer;

		if (!bpf_probe_read_kernel(&n, sizeof(n), node))
			set_small(e, GVT_S_ON_DEFER, (__u64)n == (__u64)node ? GVT_V_NO : GVT_V_YES);
	}
}

/* The vm_bo's own fields one read at a time: kernels whose drm_gpuvm_bo outgrows the
 * buffer of snap_vm_bo. */
static __always_inline void snap_vm_bo_fields(struct gvt_raw_event *e, struct drm_gpuvm_bo *vb,
					      struct drm_gpuvm **vm, struct drm_gem_object **obj)
{
	struct list_head *next = 0;
	int ref = 0;
	__u8 ev = 0;

	if (!bpf_core_read(&ref, sizeof(ref), &vb->kref.refcount.refs.counter))
		set_v(e, GVT_S_REFCOUNT, (__u64)(__s64)ref);
	if (!bpf_core_read(&ev, sizeof(ev), &vb->evicted))
		set_small(e, GVT_S_EVICTED, ev ? GVT_V_YES : GVT_V_NO);
	snap_vm_bo_lists(e, vb);
	if (!bpf_core_read(&next, sizeof(next), &vb->list.gpuva.next) && next &&
	    (__u64)next != LIST_POISON1)
		set_small(e, GVT_S_N_VA_NONZERO,
			  (__u64)next == (__u64)&vb->list.gpuva ? GVT_V_NO : GVT_V_YES);
	if (bpf_core_read(vm, sizeof(*vm), &vb->vm))
		*vm = 0;
	if (bpf_core_read(obj, sizeof(*obj), &vb->obj))
		*obj = 0;
}

/* list_state() of a node whose `next` was already read. */
static __always_inline __u32 list_state_of(__u64 next, __u64 node)
{
	if (!next)
		return GVT_V_ABSENT;
	if (next == node || next == LIST_POISON1)
		return GVT_V_NO;
	return GVT_V_YES;
}

#define VB_BUF_BYTES 128
/* A field of a struct copied whole into `buf` (`sz` bytes): false if the kernel's
 * struct places it beyond the copy. Offsets and sizes are CO-RE constants, so the
 * verifier keeps only one side of the test. */
#define BUF_GET(buf, sz, field, out)                                                   \
	({                                                                             \
		__u32 off_ = bpf_core_field_offset(field);                             \
		bool ok_ = off_ + sizeof(out) <= (sz);                                 \
		if (ok_)                                                               \
			out = *(__typeof__(out) *)((char *)(buf) + off_);              \
		ok_;                                                                   \
	})

/* The vm_bo snapshot (§D.3): its own fields from one copy of the struct (each probe
 * read is a helper call, nine of them were most of a vm_bo record's cost), then the
 * VM's and the GEM's. */
static __always_inline void snap_vm_bo(struct gvt_raw_event *e, struct drm_gpuvm_bo *vb,
				       bool holds)
{
	__u64 buf[VB_BUF_BYTES / 8];
	const __u32 sz = bpf_core_type_size(struct drm_gpuvm_bo);
	struct drm_gpuvm *vm = 0;
	struct drm_gem_object *obj = 0;
	struct vmsnap vs = {};
	__u64 bo_resv = 0, next = 0;
	int ref = 0;
	__u8 ev = 0;

	if (!vb)
		return;
	if (sz > sizeof(buf)) {
		snap_vm_bo_fields(e, vb, &vm, &obj);
	} else if (!bpf_probe_read_kernel(buf, sz, vb)) {
		if (BUF_GET(buf, sz, ((struct drm_gpuvm_bo *)0)->kref.refcount.refs.counter, ref))
			set_v(e, GVT_S_REFCOUNT, (__u64)(__s64)ref);
		if (BUF_GET(buf, sz, ((struct drm_gpuvm_bo *)0)->evicted, ev))
			set_small(e, GVT_S_EVICTED, ev ? GVT_V_YES : GVT_V_NO);
		if (BUF_GET(buf, sz, ((struct drm_gpuvm_bo *)0)->list.entry.gem.next, next))
			set_small(e, GVT_S_ON_GEM, list_state_of(next, (__u64)&vb->list.entry.gem));
		if (BUF_GET(buf, sz, ((struct drm_gpuvm_bo *)0)->list.entry.extobj.next, next))
			set_small(e, GVT_S_ON_EXTOBJ, list_state_of(next, (__u64)&vb->list.entry.extobj));
		if (BUF_GET(buf, sz, ((struct drm_gpuvm_bo *)0)->list.entry.evict.next, next))
			set_small(e, GVT_S_ON_EVICT, list_state_of(next, (__u64)&vb->list.entry.evict));
		/* 6.19+ deferred cleanup (8e4865faf7a9): llist node, self = off list. */
		if (bpf_core_field_exists(((struct drm_gpuvm_bo___defer *)0)->list.entry.bo_defer)) {
			__u64 node = (__u64)&((struct drm_gpuvm_bo___defer *)vb)->list.entry.bo_defer;

			if (BUF_GET(buf, sz, ((struct drm_gpuvm_bo___defer *)0)->list.entry.bo_defer.next, next))
				set_small(e, GVT_S_ON_DEFER, next == node ? GVT_V_NO : GVT_V_YES);
		}
		if (BUF_GET(buf, sz, ((struct drm_gpuvm_bo *)0)->list.gpuva.next, next) && next &&
		    next != LIST_POISON1)
			set_small(e, GVT_S_N_VA_NONZERO,
				  next == (__u64)&vb->list.gpuva ? GVT_V_NO : GVT_V_YES);
		if (!BUF_GET(buf, sz, ((struct drm_gpuvm_bo *)0)->vm, vm))
			vm = 0;
		if (!BUF_GET(buf, sz, ((struct drm_gpuvm_bo *)0)->obj, obj))
			obj = 0;
	}
	vs = snap_vm(e, vm, SNAP_OPS);
	bo_resv = snap_obj(e, obj);
	if (holds)
		snap_holds(e, vs, obj, bo_resv);
}

/* Extension gem_list_same_vm: vm_bos of `vm` on obj->gpuva.list, bounded walk.
 * Absent when the walk does not reach the head again. */
static __always_inline void walk_gem_list(struct gvt_raw_event *e, struct drm_gpuvm *vm,
					  struct drm_gem_object *obj)
{
	struct list_head *head, *node = 0;
	__u64 off = bpf_core_field_offset(((struct drm_gpuvm_bo *)0)->list.entry.gem);
	__u32 same = 0;

	if (!vm || !obj)
		return;
	head = &obj->gpuva.list;
	if (bpf_core_read(&node, sizeof(node), &head->next))
		return;
	for (int i = 0; i < GEM_WALK_MAX; i++) {
		struct drm_gpuvm_bo *vb;
		struct drm_gpuvm *owner = 0;

		if (!node || (__u64)node == LIST_POISON1)
			return;
		if ((__u64)node == (__u64)head) {
			set_v(e, GVT_S_GEM_LIST_SAME_VM, same);
			return;
		}
		vb = (struct drm_gpuvm_bo *)((__u64)node - off);
		if (bpf_core_read(&owner, sizeof(owner), &vb->vm))
			return;
		if (owner == vm)
			same++;
		if (bpf_probe_read_kernel(&node, sizeof(node), &node->next))
			return;
	}
}

/* A failed reservation: was the ring full, or refused although it had room? On
 * 6.x the producer lock spins; on 7.x it is a resilient spinlock (rqspinlock) that
 * may give up (timeout, suspected deadlock), and then the reservation fails with room
 * left: a larger buffer would not help there.
 * The room is read after the failure, so a consumer freeing space in between could
 * make a full ring look roomy: only clearly roomy rings (more than 64 KiB beyond
 * the record) count as refused. */
static __always_inline int drop_cause(void *ring, __u64 size)
{
	__u64 need = (size + 8 + 7) & ~7ULL; /* + the kernel's record header */
	__u64 used = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
	__u64 cap = bpf_ringbuf_query(ring, BPF_RB_RING_SIZE);

	return used + need + (64u << 10) <= cap ? GVT_DROP_REFUSED : GVT_DROP_FULL;
}

/* Record sizes (constants, as the verifier wants): the program of gpuvm_init writes the
 * names, other GPUVM records stop before them, lock records after v[RET]. */
enum rec_size { REC_FULL, REC_GPUVM, REC_LOCK };

static __always_inline __u32 rec_bytes(enum rec_size k)
{
	return k == REC_FULL ? GVT_RAW_EVENT_SIZE : k == REC_GPUVM ? GVT_RAW_GPUVM_SIZE : GVT_RAW_LOCK_SIZE;
}

static __always_inline struct gvt_raw_event *reserve(int fn, enum rec_size k)
{
	struct gvt_raw_event *e;

	if (k == REC_FULL)
		e = bpf_ringbuf_reserve(&rb, GVT_RAW_EVENT_SIZE, 0);
	else if (k == REC_GPUVM)
		e = bpf_ringbuf_reserve(&rb, GVT_RAW_GPUVM_SIZE, 0);
	else
		e = bpf_ringbuf_reserve(&rb, GVT_RAW_LOCK_SIZE, 0);
	if (!e) {
		count_drop(fn, drop_cause(&rb, rec_bytes(k)));
		return 0;
	}
	e->hdr.magic = GVT_RAW_MAGIC;
	e->hdr.kind = GVT_RAW_EVENT;
	e->hdr.pad0 = 0;
	e->hdr.size = rec_bytes(k);
	e->hdr.ts = bpf_ktime_get_ns();
	e->hdr.cpu = bpf_get_smp_processor_id();
	__u64 id = bpf_get_current_pid_tgid();
	e->hdr.pid = id >> 32;
	e->hdr.tid = (__u32)id;
	/* Read after the reservation succeeded: any drop counted before this point was
	 * made before this record, and the consumer sees it no later than this record. */
	e->hdr.drop_seq = (__u32)*(volatile __u64 *)&drop_seq;
	bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
	e->stack_id = -1;
	e->present = 0;
	e->small = 0;
	e->ret_kind = GVT_RET_NONE;
	return e;
}

/* 1 from a forced wakeup until the reader has drained the ring (it writes 0 then). */
__u32 wake_sent = 0;
/* Record bytes submitted since the reader last drained the ring (it writes 0 then).
 * Plain adds from every CPU: a lost update only undercounts, which delays a wakeup
 * at most to the reader's poll timeout. Counting here instead of asking the ring
 * (bpf_ringbuf_query) saves a helper call on every record. */
__u64 unread_bytes = 0;

/* Wake the reader only once data piles up, and once per drain: a wakeup is an
 * irq_work (a self-IPI) plus a task wakeup, run inside the submitting program and
 * paid by the traced task, and while a busy reader kept wake_bytes pending every
 * record forced one. The reader polls every 100 ms anyway. Two CPUs may both see 0
 * and both wake it: harmless. */
static __always_inline void submit(struct gvt_raw_event *e)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (!*(volatile __u32 *)&wake_sent) {
		__u64 n = *(volatile __u64 *)&unread_bytes + e->hdr.size;

		*(volatile __u64 *)&unread_bytes = n;
		if (n >= wake_bytes) {
			*(volatile __u32 *)&wake_sent = 1;
			flags = BPF_RB_FORCE_WAKEUP;
		}
	}
	bpf_ringbuf_submit(e, flags);
}

static __always_inline bool is_lock_fn(int fn)
{
	return fn >= GVT_FN_ww_mutex_lock && fn <= GVT_FN_mutex_unlock;
}

static __always_inline bool is_ww_fn(int fn)
{
	return fn >= GVT_FN_ww_mutex_lock && fn <= GVT_FN_ww_mutex_unlock;
}

/* Phases written and return kinds per function: decode/fn_table.h. */
#define GVT_EMITS_ENTRY(phase) ((phase) == GVT_PH_ENTRY)
#define GVT_EMITS_EXIT(phase) ((phase) == GVT_PH_EXIT)
#define GVT_EMITS_BOTH(phase) true
#define GVT_EMITS_CASE_(group, num, name, sym, alt, nargs, ret, phases, absent) \
	case GVT_FN_##name:                                                      \
		return GVT_EMITS_##phases(phase);
#define GVT_RET_CASE_(group, num, name, sym, alt, nargs, ret, phases, absent) \
	case GVT_FN_##name:                                                    \
		return GVT_RET_##ret;

static __always_inline bool emits(int fn, int phase)
{
	switch (fn) {
	GVT_FUNCTIONS(GVT_EMITS_CASE_)
	default:
		return true;
	}
}

static __always_inline __u8 ret_kind(int fn)
{
	switch (fn) {
	GVT_FUNCTIONS(GVT_RET_CASE_)
	default:
		return GVT_RET_NONE;
	}
}

static __always_inline __u32 get_small(const struct gvt_raw_event *e, int s)
{
	return (e->small >> (2 * s)) & 3u;
}

/* A lock the rules may require is not known to be held by current. */
static __always_inline bool not_held(const struct gvt_raw_event *e, int s)
{
	return get_small(e, s) != GVT_V_YES;
}

/* Refcount at entry <= 1 (a possibly-final put), <= 0 or saturated, or unreadable. */
static __always_inline bool ref_low(const struct gvt_raw_event *e)
{
	if (!(e->present & (1u << GVT_S_REFCOUNT)))
		return true;
	return (__s64)e->v[GVT_S_REFCOUNT] <= 1;
}

/* RESV_PROTECTED VM, or flags unknown. */
static __always_inline bool vm_protected(const struct gvt_raw_event *e)
{
	if (!(e->present & (1u << GVT_S_VM_FLAGS)))
		return true;
	return e->v[GVT_S_VM_FLAGS] & bpf_core_enum_value(enum drm_gpuvm_flags, DRM_GPUVM_RESV_PROTECTED);
}

static __always_inline bool vm_bo_live(__u64 vb)
{
	return vb && bpf_map_lookup_elem(&live_vm_bo, &vb);
}

static __always_inline void vm_bo_born(__u64 vb)
{
	__u8 one = 1;

	if (vb && vb < (__u64)-4095 && !bpf_map_lookup_elem(&live_vm_bo, &vb))
		bpf_map_update_elem(&live_vm_bo, &vb, &one, BPF_ANY);
}

static __always_inline void vm_bo_maybe_dead(__u64 vb)
{
	bpf_map_delete_elem(&live_vm_bo, &vb);
}

static __always_inline __s32 get_stack(void *ctx)
{
	long id = bpf_get_stackid(ctx, &stacks, 0);

	if (id == -17 /* EEXIST: the bucket holds another stack */) {
		id = bpf_get_stackid(ctx, &stacks_spill, 0);
		if (id >= 0)
			id |= GVT_STACK_SPILL;
	}
	if (id < 0)
		__sync_fetch_and_add(&stacks_lost, 1);
	return id;
}

/*
 * --stacks=needed: does this record's stack possibly become a finding's evidence?
 * Unwinding is most of a record's cost, and most records never matter: an entry
 * needs its stack when a lock a rule requires is not held by current, the vm_bo
 * refcount is <= 1 (possibly-final put, double put, saturation), the vm_bo is not
 * known live (use after free), or the call is a create, lookup or VM-level call
 * (rare, and evidence for the report). Exits never need one: findings decided at
 * an exit carry the entry's stack. The conditions follow vm_bo-lifecycle.md §E.1.
 */
static __always_inline bool stack_needed(const struct gvt_raw_event *e, int fn, bool entry,
					 __u64 a0, __u64 a1)
{
	if (cfg & GVT_CFG_STACKS_ALL)
		return true;
	if (fn == GVT_FN_gpuvm_init)
		return true; /* written at exit only */
	if (!entry)
		return false;
	switch (fn) {
	case GVT_FN_bo_put:
		return ref_low(e) || not_held(e, GVT_S_HELD_GPUVA_LOCK) ||
		       (vm_protected(e) && not_held(e, GVT_S_HELD_VM_RESV)) || !vm_bo_live(a0);
	case GVT_FN_bo_unmap_ops_create:
		return not_held(e, GVT_S_HELD_GPUVA_LOCK) || !vm_bo_live(a0);
	case GVT_FN_bo_extobj_add:
		return (vm_protected(e) && not_held(e, GVT_S_HELD_VM_RESV)) || !vm_bo_live(a0);
	case GVT_FN_bo_evict:
		return not_held(e, GVT_S_HELD_BO_RESV) || !vm_bo_live(a0);
	case GVT_FN_va_link:
		return not_held(e, GVT_S_HELD_GPUVA_LOCK) || get_small(e, GVT_S_ON_GEM) != GVT_V_YES ||
		       !vm_bo_live(a1);
	case GVT_FN_va_unlink:
		if (!(e->present & (1u << GVT_S_VM_BO)))
			return false; /* no vm_bo: a no-op */
		return not_held(e, GVT_S_HELD_GPUVA_LOCK) || ref_low(e) ||
		       !vm_bo_live(e->v[GVT_S_VM_BO]);
	case GVT_FN_va_insert:
	case GVT_FN_va_remove:
		return false; /* no rule reports on these */
	default:
		return true;
	}
}

static __always_inline bool is_outer_fn(int fn)
{
	return fn == GVT_FN_bo_obtain || fn == GVT_FN_bo_obtain_locked ||
	       fn == GVT_FN_bo_obtain_prealloc || fn == GVT_FN_va_unlink;
}

/* Enclosing calls whose stack a nested call may carry (see outer_stacks): the objects
 * that identify the nested call, 0 when this record is no such call. */
static __always_inline bool outer_keys(const struct gvt_raw_event *e, int fn, __u64 a0, __u64 a1,
				       __u64 *k0, __u64 *k1)
{
	switch (fn) {
	case GVT_FN_bo_obtain:
	case GVT_FN_bo_obtain_locked:
		*k0 = a0; /* its create / find: (vm, obj) */
		*k1 = a1;
		return true;
	case GVT_FN_bo_obtain_prealloc:
		*k0 = a0; /* the put of the argument on the found path */
		*k1 = 0;
		return true;
	case GVT_FN_va_unlink:
		*k0 = (e->present & (1u << GVT_S_VM_BO)) ? e->v[GVT_S_VM_BO] : 0; /* its put */
		*k1 = 0;
		return *k0 != 0;
	default:
		return false;
	}
}

/* A nested call's stack from its enclosing call, or < 0. */
static __always_inline __s32 outer_stack_of(int fn, __u64 a0, __u64 a1)
{
	struct task_state *st;
	struct outer_stack *o;
	bool in_obtain;

	if (fn != GVT_FN_bo_create && fn != GVT_FN_bo_find && fn != GVT_FN_bo_put)
		return -1;
	st = task_state(false);
	if (!st || !st->outer.fn)
		return -1;
	o = &st->outer;
	in_obtain = o->fn == GVT_FN_bo_obtain || o->fn == GVT_FN_bo_obtain_locked;
	if (fn == GVT_FN_bo_put ? (in_obtain || o->k0 != a0)
				: (!in_obtain || o->k0 != a0 || o->k1 != a1))
		return -1;
	return o->stack_id;
}

/*
 * Stack memo (x86-64 fentry entries, --stacks=needed). Unwinding is most of a stacked
 * record's cost, and drivers make the same call from the same place over and over
 * (each round of a bind loop, each ioctl of a kind). Each task keeps the last
 * MEMO_WAYS stacks it unwound, keyed by the function, the return address into its
 * caller and the syscall the task is in. A later call with the same key takes the
 * remembered id only if the stack's next MEMO_LEVELS return addresses still sit in
 * the same stack slots above the caller's, i.e. the same chain of frames up to there
 * (the return addresses a finding names: the bad call's caller and theirs); else
 * it unwinds. --stacks=all always unwinds.
 *
 * Where the caller's return address comes from: the fentry trampoline's frame, just
 * above the program's ctx (the saved arguments, maybe the return value slot). Where
 * the trampoline is called from the function's first instruction (6.12), the return
 * address into the function (+ 5, or + 9 behind an IBT endbr) lies just below the
 * caller's; where it is jumped to (7.x), its own return address is the caller's, and
 * is recognised by the direct call to the function just before it. The word is found
 * per function at the first stacked call and checked on every call: where it is not
 * found (another trampoline layout, ftrace sharing the site), the memo stays off for
 * that function, and a tail call into it (its return address leads elsewhere) is not
 * memoised.
 *
 * Why global functions and bpf_loop: the lookup and the remembering loop over ways,
 * levels and stack words. Inlined into each of the ~45 entry programs (19b0d9a), the
 * verifier walked those loops on every path that reaches them, and loading took 6x as
 * long (2.7-3.9 s -> 18.7-21.5 s in the 7.2 guest). A global function is verified
 * once, on its own, with only its scalar arguments known; so the programs pass it the
 * ctx as an address (read through probe reads, never dereferenced) and unwind
 * themselves, since only they may hand their ctx to bpf_get_stack. Loops whose exit
 * index the rest of a function uses are bpf_loop callbacks: unrolled, each exit was
 * a path of its own to the end.
 */
#define MEMO_WAYS 4    /* stacks remembered per task */
#define MEMO_LEVELS 4  /* return addresses above the caller's checked before a reuse */
#define MEMO_WINDOW 64 /* stack words above the caller's return slot searched for them */

/* A stack unwound at a call, reused by a later call of the same task from the same
 * place. levels == 0: empty. */
struct stack_memo {
	__u64 caller_ret;       /* the traced function's return address */
	__u64 sys[4];           /* the syscall the task is in: user ip, number, two arguments */
	__u64 ret[MEMO_LEVELS]; /* the next return addresses of the stack... */
	__u8 slot[MEMO_LEVELS]; /* ...and where they sat: words above the caller's slot */
	__s32 stack_id;
	__u16 fn;
	__u8 levels;
	__u8 pad;
};

/* Per task: the memo, the key of the call being looked up (pending, written by a
 * missed lookup, read by the store after the caller unwound) and the buffers of a
 * store. Per task, not per CPU: a program may be preempted between the lookup and
 * the store, and another task's call on this CPU must not overwrite them. */
struct task_memo {
	struct stack_memo way[MEMO_WAYS];
	struct stack_memo pending;
	__u64 pending_slot; /* the address of the caller's return slot */
	__u32 next;         /* the way the next new stack replaces */
	__u32 pad;
	__u64 ips[GVT_MAX_FRAMES];
	__u64 win[MEMO_WINDOW];
};

/* Stacks taken from the memo and calls that unwound after looking there (-v). */
__u64 stack_memo_hits = 0;
__u64 stack_memo_misses = 0;

#if defined(__TARGET_ARCH_x86)
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_memo);
} tmemo SEC(".maps");

struct pt_regs___gvt {
	unsigned long di, si, orig_ax, ip;
} __attribute__((preserve_access_index));

/* Per function: the ctx word holding its return address into its caller, | TRAMP_JMP
 * for a jumped-to trampoline; 0 unknown, 0xff none. */
#define TRAMP_FNS 64
_Static_assert(GVT_FN_COUNT_ <= TRAMP_FNS, "tramp_word too small");
__u8 tramp_word[TRAMP_FNS] = {};
#define TRAMP_SEARCH 12
/* Unwound frames searched for the caller's return address: the trampoline's and the
 * BPF program's own frames come first. */
#define MEMO_CALLER_DEPTH 12

/* Results of gvt_memo_lookup besides a stack id. */
#define MEMO_MISS (-1)  /* unwind, then gvt_memo_store */
#define MEMO_NONE (-2)  /* unwind, nothing to remember */

/* Does the code before return address ret call ip (a direct call rel32)? */
static __always_inline bool calls_fn(__u64 ret, __u64 ip)
{
	__u8 c[8];
	__s32 rel;

	if (bpf_probe_read_kernel(c, sizeof(c), (void *)(ret - 5)) || c[0] != 0xe8)
		return false;
	rel = (__s32)((__u32)c[1] | (__u32)c[2] << 8 | (__u32)c[3] << 16 | (__u32)c[4] << 24);
	return ret + (__s64)rel == ip;
}

#define TRAMP_JMP 0x40

/* Is v the return address into the function at ip from a trampoline called by its
 * first instruction (a 5-byte call, or behind a 4-byte IBT endbr)? */
static __always_inline bool ret_into_fn(__u64 v, __u64 ip)
{
	return v == ip + 5 || v == ip + 9;
}

struct tramp_search {
	__u64 ctx, ip, caller_ret;
	__u32 word; /* as tramp_word */
};

/* Word idx + 1 above ctx: the return address into the function, or the caller's? */
static long tramp_search_word(__u32 idx, void *data)
{
	struct tramp_search *ts = data;
	__u32 j = idx + 1;
	__u64 v[2] = {};

	if (bpf_probe_read_kernel(v, sizeof(v), (void *)(ts->ctx + j * 8)))
		return 1;
	if (ret_into_fn(v[0], ts->ip)) {
		ts->word = j + 1;
		ts->caller_ret = v[1];
		return 1;
	}
	if (calls_fn(v[0], ts->ip)) {
		ts->word = j | TRAMP_JMP;
		ts->caller_ret = v[0];
		return 1;
	}
	return 0;
}

/* The word of ctx that holds the traced function's return address into its caller
 * (read into *caller_ret), or 0. Two trampoline entries exist: called from the
 * function's first instruction, the return address into the function (+ 5, or + 9
 * behind an IBT endbr) lies just below the caller's; jumped to (newer kernels, no
 * such word), the caller's return address is the trampoline's own, and it is
 * recognised by the direct call to ip just before it (then a tail call into the
 * function is not memoised: its return address leads elsewhere). */
static __always_inline __u32 tramp_frame(__u64 ctx, __u32 fn, __u64 ip, __u64 *caller_ret)
{
	__u8 w = tramp_word[fn & (TRAMP_FNS - 1)];
	__u64 v[2] = {};

	if (w == 0xff)
		return 0;
	if (w) {
		__u32 j = w & 15;

		if (w & TRAMP_JMP) {
			if (bpf_probe_read_kernel(v, sizeof(v[0]), (void *)(ctx + j * 8)) || !calls_fn(v[0], ip))
				return 0;
			*caller_ret = v[0];
			return j;
		}
		if (bpf_probe_read_kernel(v, sizeof(v), (void *)(ctx + (j - 1) * 8)) ||
		    !ret_into_fn(v[0], ip)) {
			/* The trampoline was rebuilt (another program attached to the
			 * function or left it): look again once at the next call. */
			tramp_word[fn & (TRAMP_FNS - 1)] = 0;
			return 0;
		}
		*caller_ret = v[1];
		return j;
	}
	{
		struct tramp_search ts = { .ctx = ctx, .ip = ip };

		bpf_loop(TRAMP_SEARCH, tramp_search_word, &ts, 0);
		if (ts.word) {
			tramp_word[fn & (TRAMP_FNS - 1)] = ts.word;
			*caller_ret = ts.caller_ret;
			return ts.word & 15;
		}
	}
	tramp_word[fn & (TRAMP_FNS - 1)] = 0xff;
	return 0;
}

struct memo_match {
	struct task_memo *tm;
	const struct stack_memo *key;
	__u64 caller_slot;
	__s32 id; /* the match's stack id, or -1 */
};

/* Way i against the key: same place, and the same return addresses in its slots? */
static long memo_match_way(__u32 i, void *data)
{
	struct memo_match *mm = data;
	const struct stack_memo *key = mm->key;
	struct stack_memo *m;
	__u32 top;

	if (i >= MEMO_WAYS)
		return 1;
	barrier_var(i);
	m = &mm->tm->way[i & (MEMO_WAYS - 1)];
	if (m->stack_id < 0 || !m->levels || m->levels > MEMO_LEVELS || m->fn != key->fn ||
	    m->caller_ret != key->caller_ret || m->sys[0] != key->sys[0] || m->sys[1] != key->sys[1] ||
	    m->sys[2] != key->sys[2] || m->sys[3] != key->sys[3])
		return 0;
	top = m->slot[(m->levels - 1) & (MEMO_LEVELS - 1)];
	if (!top || top > MEMO_WINDOW ||
	    bpf_probe_read_kernel(mm->tm->win, top * sizeof(__u64), (void *)(mm->caller_slot + 8)))
		return 0;
	for (int k = 0; k < MEMO_LEVELS; k++) {
		__u32 o = m->slot[k];

		if (k >= m->levels)
			break;
		if (!o || o > MEMO_WINDOW || mm->tm->win[(o - 1) & (MEMO_WINDOW - 1)] != m->ret[k])
			return 0;
	}
	mm->id = m->stack_id;
	return 1;
}

/* A remembered stack id for the call of fn (ip: its address) whose fentry ctx sits at
 * ctx, or MEMO_MISS (the key is left pending: unwind, then gvt_memo_store) or
 * MEMO_NONE. Loads through the task's BTF pointers are plain loads, not helper calls:
 * this runs on every stacked record and must cost far less than the unwind it saves. */
__noinline int gvt_memo_lookup(__u64 ctx, __u64 ip, __u32 fn)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct stack_memo key = {};
	struct pt_regs___gvt *r;
	struct task_memo *tm;
	__u64 caller_slot;
	__u32 w;

	w = tramp_frame(ctx, fn, ip, &key.caller_ret);
	if (!w)
		return MEMO_NONE;
	caller_slot = ctx + w * 8;
	r = (struct pt_regs___gvt *)bpf_task_pt_regs(t);
	if (!r)
		return MEMO_NONE;
	/* Only on the task's own stack: in an interrupt the frames below the handler
	 * belong to whatever the task was doing, which no key here captures. */
	if (caller_slot <= (__u64)t->stack || caller_slot >= (__u64)r)
		return MEMO_NONE;
	key.sys[0] = r->ip;
	key.sys[1] = r->orig_ax;
	key.sys[2] = r->di;
	key.sys[3] = r->si;
	key.fn = fn;
	tm = bpf_task_storage_get(&tmemo, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tm)
		return MEMO_NONE;
	{
		struct memo_match mm = { .tm = tm, .key = &key, .caller_slot = caller_slot, .id = -1 };

		bpf_loop(MEMO_WAYS, memo_match_way, &mm, 0);
		if (mm.id >= 0) {
			__sync_fetch_and_add(&stack_memo_hits, 1);
			return mm.id;
		}
	}
	__sync_fetch_and_add(&stack_memo_misses, 1);
	tm->pending = key;
	tm->pending_slot = caller_slot;
	return MEMO_MISS;
}

struct memo_scan {
	struct task_memo *tm;
	struct stack_memo *m;
	__u32 first; /* ips index of the first level */
	__u32 k;
	__u64 n; /* ips read */
};

/* Is ips[i] the caller's return address (the first level follows)? */
static long memo_find_caller(__u32 i, void *data)
{
	struct memo_scan *s = data;

	if (i + 1 >= s->n || i >= GVT_MAX_FRAMES)
		return 1;
	barrier_var(i);
	if (s->tm->ips[i & (GVT_MAX_FRAMES - 1)] != s->tm->pending.caller_ret)
		return 0;
	s->first = i + 1;
	return 1;
}

/* One stack word (idx) against the next level's return address. */
static long memo_scan_word(__u32 idx, void *data)
{
	struct memo_scan *s = data;
	__u32 k = s->k, i = s->first + s->k;
	__u64 r;

	if (k >= MEMO_LEVELS || i >= GVT_MAX_FRAMES || idx >= MEMO_WINDOW)
		return 1;
	/* The masks are no-ops after the checks above, kept from the compiler for the
	 * verifier, which does not see those checks on the register it indexes with. */
	barrier_var(i);
	barrier_var(idx);
	barrier_var(k);
	r = s->tm->ips[i & (GVT_MAX_FRAMES - 1)];
	if (!r)
		return 1; /* the stack ends here */
	if (s->tm->win[idx & (MEMO_WINDOW - 1)] == r) {
		s->m->ret[k & (MEMO_LEVELS - 1)] = r;
		s->m->slot[k & (MEMO_LEVELS - 1)] = idx + 1;
		s->k = k + 1;
	}
	return 0;
}

/* Remembers the pending call's stack (id), unwound a second time by the caller into
 * the task's ips (nbytes): finds its return addresses above the caller's. */
__noinline int gvt_memo_store(__s32 id, __s64 nbytes)
{
	struct task_memo *tm = bpf_task_storage_get(&tmemo, bpf_get_current_task_btf(), 0, 0);
	struct memo_scan scan = {};
	struct stack_memo *m;
	__u64 n = nbytes / sizeof(__u64);
	__u32 w;

	if (!tm || id < 0 || nbytes <= 0 || !tm->pending.fn)
		return 0;
	scan.tm = tm;
	scan.n = n;
	scan.first = GVT_MAX_FRAMES;
	bpf_loop(MEMO_CALLER_DEPTH, memo_find_caller, &scan, 0);
	if (scan.first >= GVT_MAX_FRAMES ||
	    bpf_probe_read_kernel(tm->win, sizeof(tm->win), (void *)(tm->pending_slot + 8))) {
		tm->pending.fn = 0;
		return 0;
	}
	w = tm->next++ & (MEMO_WAYS - 1);
	m = &tm->way[w];
	*m = tm->pending;
	tm->pending.fn = 0;
	m->stack_id = -1; /* unusable until complete */
	m->levels = 0;
	scan.m = m;
	bpf_loop(MEMO_WINDOW, memo_scan_word, &scan, 0);
	if (!scan.k)
		return 0; /* the caller's caller sits too far above: nothing to check with */
	m->levels = scan.k;
	m->stack_id = id;
	return 1;
}

/* Functions whose records are stacked only for a buggy call, or once per VM, gain
 * nothing from a memo, and each program that calls the global functions costs more to
 * load (their verification and JIT: ~25 ms a program in the 7.2 guest under TCG). */
static __always_inline bool memo_worth(int fn)
{
	switch (fn) {
	case GVT_FN_gpuvm_init:
	case GVT_FN_gpuvm_put:
	case GVT_FN_gpuvm_free:
	case GVT_FN_bo_extobj_add:
	case GVT_FN_bo_evict:
	case GVT_FN_va_link:
		return false;
	default:
		return true;
	}
}

/* The stack id for this call: remembered, or unwound (and remembered). One unwind
 * call site: each inlined copy is more for the verifier to walk in every program. */
static __always_inline __s32 memo_stack(void *ctx, int fn, int mech)
{
	struct task_memo *tm;
	void *cp = ctx;
	__u64 ca = 0;
	int look = MEMO_NONE, id;

	/* The verifier passes no pointer to a global function as a number: the
	 * address goes through one probe read of the stack slot holding it. */
	if (mech == 0 && memo_worth(fn) && !(cfg & GVT_CFG_STACKS_ALL) &&
	    !bpf_probe_read_kernel(&ca, sizeof(ca), &cp))
		look = gvt_memo_lookup(ca, bpf_get_func_ip(ctx), fn);
	if (look >= 0)
		return look;
	id = get_stack(ctx);
	if (look == MEMO_MISS && id >= 0) {
		tm = bpf_task_storage_get(&tmemo, bpf_get_current_task_btf(), 0, 0);
		if (tm)
			gvt_memo_store(id, bpf_get_stack(ctx, tm->ips, sizeof(tm->ips), 0));
	}
	return id;
}
#else
static __always_inline __s32 memo_stack(void *ctx, int fn, int mech)
{
	return get_stack(ctx);
}
#endif

/* The record's stack: the enclosing call's when it has the same caller, else unwound. */
static __always_inline void take_stack(void *ctx, struct gvt_raw_event *e, int fn, int mech,
				       __u64 a0, __u64 a1)
{
	struct outer_stack o = { .fn = fn };
	struct task_state *st;

	if (!(cfg & GVT_CFG_STACKS_ALL)) {
		e->stack_id = outer_stack_of(fn, a0, a1);
		if (e->stack_id >= 0)
			return;
	}
	e->stack_id = memo_stack(ctx, fn, mech);
	if ((cfg & GVT_CFG_STACKS_ALL) || e->stack_id < 0 || !outer_keys(e, fn, a0, a1, &o.k0, &o.k1))
		return;
	o.stack_id = e->stack_id;
	/* No storage only costs the nested call its own unwind. */
	st = task_state(true);
	if (st)
		st->outer = o;
}

/* Keeps live_vm_bo current (see there). */
static __always_inline void track_live(const struct gvt_raw_event *e, int fn, bool entry,
				       __u64 a0, __u64 ret)
{
	switch (fn) {
	case GVT_FN_bo_create:
	case GVT_FN_bo_obtain:
	case GVT_FN_bo_obtain_locked:
	case GVT_FN_bo_obtain_prealloc:
	case GVT_FN_bo_find:
		if (!entry)
			vm_bo_born(ret);
		else if (fn == GVT_FN_bo_obtain_prealloc)
			vm_bo_maybe_dead(a0); /* the found path frees the argument */
		break;
	case GVT_FN_bo_put:
	case GVT_FN_bo_put_deferred:
		if (!entry ? (ret & 0xff) != 0 : ref_low(e))
			vm_bo_maybe_dead(a0);
		break;
	case GVT_FN_va_unlink:
	case GVT_FN_va_unlink_defer:
		if (entry && (e->present & (1u << GVT_S_VM_BO)) && ref_low(e))
			vm_bo_maybe_dead(e->v[GVT_S_VM_BO]);
		break;
	default:
		break;
	}
}

/* A GPUVM call phase. `fn` and `phase` are constants in every caller, so each
 * program keeps only its own branch. */
static __always_inline int gpuvm_call(void *ctx, int fn, int phase, int mech, __u64 a0,
				      __u64 a1, __u64 a2, __u64 ret)
{
	struct gvt_raw_event *e;
	bool entry = phase == GVT_PH_ENTRY;

	if (!emits(fn, phase) || !pass_filter())
		return 0;
	/* Before the reservation: an outer call's exit whose record is dropped (full ring)
	 * must still retire its stack, or a later call of the same task with the same
	 * objects would carry a stack from another call. */
	if (!entry && (cfg & GVT_CFG_STACKS) && !(cfg & GVT_CFG_STACKS_ALL) && is_outer_fn(fn)) {
		struct task_state *st = task_state(false);

		if (st && st->outer.fn == (__u32)fn)
			st->outer.fn = 0;
	}
	e = reserve(fn, fn == GVT_FN_gpuvm_init ? REC_FULL : REC_GPUVM);
	if (!e)
		return 0;
	e->fn = fn;
	e->phase = phase;
	e->probe = mech;
	if (!entry && ret_kind(fn) != GVT_RET_NONE) {
		e->ret_kind = ret_kind(fn);
		set_v(e, GVT_RET, ret);
	}

	switch (fn) {
	case GVT_FN_gpuvm_init: {
		struct drm_gpuvm *vm = (void *)a0;
		const char *name = 0;
		struct drm_gem_object *r_obj = 0;
		const void *ops = 0;
		__u32 flags = 0;

		set_v(e, GVT_A_GPUVM, a0);
		snap_vm(e, vm, SNAP_OPS);
		if (!bpf_core_read(&name, sizeof(name), &vm->name) && name &&
		    bpf_probe_read_kernel_str(e->name, sizeof(e->name), name) > 0) {
			e->present |= 1u << GVT_A_NAME;
			if (bpf_probe_read_kernel_str(e->vm_name, sizeof(e->vm_name), name) > 0)
				e->present |= 1u << GVT_S_VM_NAME;
		}
		if (!bpf_core_read(&flags, sizeof(flags), &vm->flags))
			set_v(e, GVT_A_FLAGS, flags);
		if (!bpf_core_read(&r_obj, sizeof(r_obj), &vm->r_obj))
			set_v(e, GVT_A_R_OBJ, (__u64)r_obj);
		if (!bpf_core_read(&ops, sizeof(ops), &vm->ops))
			set_v(e, GVT_A_OPS, (__u64)ops);
		break;
	}
	case GVT_FN_gpuvm_free:
		/* The kref release callback: its argument is &gpuvm->kref. */
		a0 -= bpf_core_field_offset(((struct drm_gpuvm *)0)->kref);
		/* fallthrough */
	case GVT_FN_gpuvm_put:
	case GVT_FN_bo_deferred_cleanup:
		set_v(e, GVT_A_GPUVM, a0);
		if (entry) {
			struct vmsnap vs = snap_vm(e, (void *)a0, fn == GVT_FN_gpuvm_put ? SNAP_KREF : SNAP_OPS);

			if (fn == GVT_FN_bo_deferred_cleanup)
				set_small(e, GVT_S_HELD_VM_RESV, held_by_current(resv_lock(vs.resv)));
		}
		break;
	case GVT_FN_bo_create:
		set_v(e, GVT_A_GPUVM, a0);
		set_v(e, GVT_A_OBJ, a1);
		if (entry) {
			snap_vm(e, (void *)a0, SNAP_OPS);
			snap_obj(e, (void *)a1);
		}
		break;
	case GVT_FN_bo_obtain:
	case GVT_FN_bo_obtain_locked:
	case GVT_FN_bo_find:
		set_v(e, GVT_A_GPUVM, a0);
		set_v(e, GVT_A_OBJ, a1);
		if (entry) {
			struct vmsnap vs = snap_vm(e, (void *)a0, SNAP_OPS);
			__u64 bo_resv = snap_obj(e, (void *)a1);

			snap_holds(e, vs, (void *)a1, bo_resv);
		} else {
			walk_gem_list(e, (void *)a0, (void *)a1);
		}
		break;
	case GVT_FN_bo_obtain_prealloc:
		set_v(e, GVT_A_VM_BO, a0);
		if (entry) {
			snap_vm_bo(e, (void *)a0, true);
		} else if (ret && ret < (__u64)-4095) {
			/* The argument may be freed by now (found path): read the
			 * returned vm_bo, on which the caller holds a reference. */
			struct drm_gpuvm_bo *r = (void *)ret;
			struct drm_gpuvm *vm = 0;
			struct drm_gem_object *obj = 0;

			if (!bpf_core_read(&vm, sizeof(vm), &r->vm) &&
			    !bpf_core_read(&obj, sizeof(obj), &r->obj))
				walk_gem_list(e, vm, obj);
		}
		break;
	case GVT_FN_bo_put:
	case GVT_FN_bo_put_deferred:
	case GVT_FN_bo_unmap_ops_create:
		set_v(e, GVT_A_VM_BO, a0);
		if (entry)
			snap_vm_bo(e, (void *)a0, true);
		break;
	case GVT_FN_bo_extobj_add:
	case GVT_FN_bo_evict:
		set_v(e, GVT_A_VM_BO, a0);
		if (fn == GVT_FN_bo_evict)
			set_small(e, GVT_A_EVICT, (a1 & 0xff) ? GVT_V_YES : GVT_V_NO);
		if (entry) {
			snap_vm_bo(e, (void *)a0, true);
		} else {
			struct drm_gpuvm_bo *vb = (void *)a0;
			__u8 ev = 0;

			if (fn == GVT_FN_bo_extobj_add) {
				set_small(e, GVT_S_ON_EXTOBJ, list_state(&vb->list.entry.extobj));
			} else {
				set_small(e, GVT_S_ON_EVICT, list_state(&vb->list.entry.evict));
				if (!bpf_core_read(&ev, sizeof(ev), &vb->evicted))
					set_small(e, GVT_S_EVICTED, ev ? GVT_V_YES : GVT_V_NO);
			}
		}
		break;
	case GVT_FN_va_link:
		set_v(e, GVT_A_VA, a0);
		set_v(e, GVT_A_VM_BO, a1);
		if (entry)
			snap_vm_bo(e, (void *)a1, true);
		break;
	case GVT_FN_va_unlink:
	case GVT_FN_va_unlink_defer:
		set_v(e, GVT_A_VA, a0);
		if (entry) {
			struct drm_gpuva *va = (void *)a0;
			struct drm_gpuvm_bo *vb = 0;
			struct drm_gem_object *obj = 0;

			if (!bpf_core_read(&vb, sizeof(vb), &va->vm_bo) && vb) {
				set_v(e, GVT_S_VM_BO, (__u64)vb);
				snap_vm_bo(e, vb, true);
			} else if (!bpf_core_read(&obj, sizeof(obj), &va->gem.obj)) {
				/* No vm_bo: the unlink is a no-op without a GEM. */
				set_v(e, GVT_S_OBJ, (__u64)obj);
			}
		}
		break;
	case GVT_FN_va_insert:
		set_v(e, GVT_A_GPUVM, a0);
		set_v(e, GVT_A_VA, a1);
		break;
	case GVT_FN_va_remove:
		set_v(e, GVT_A_VA, a0);
		if (entry) {
			struct drm_gpuvm *vm = 0;

			if (!bpf_core_read(&vm, sizeof(vm), &((struct drm_gpuva *)a0)->vm))
				set_v(e, GVT_S_VM, (__u64)vm);
		}
		break;
	case GVT_FN_vm_validate:
	case GVT_FN_vm_prepare_objects:
	case GVT_FN_vm_resv_add_fence:
		set_v(e, GVT_A_GPUVM, a0);
		set_v(e, GVT_A_EXEC, a1);
		if (fn == GVT_FN_vm_prepare_objects)
			set_v(e, GVT_A_NUM_FENCES, (__u32)a2);
		if (entry) {
			struct vmsnap vs = snap_vm(e, (void *)a0, 0);

			set_small(e, GVT_S_HELD_VM_RESV, held_by_current(resv_lock(vs.resv)));
		}
		break;
	case GVT_FN_vm_exec_lock:
	case GVT_FN_vm_exec_lock_array:
	case GVT_FN_vm_exec_lock_range: {
		struct drm_gpuvm *vm = 0;

		set_v(e, GVT_A_EXEC, a0);
		if (!bpf_core_read(&vm, sizeof(vm), &((struct drm_gpuvm_exec *)a0)->vm)) {
			set_v(e, GVT_A_GPUVM, (__u64)vm);
			if (entry)
				snap_vm(e, vm, 0);
		}
		break;
	}
	default:
		break;
	}

	if (cfg & GVT_CFG_STACKS) {
		if (stack_needed(e, fn, entry, a0, a1))
			take_stack(ctx, e, fn, mech, a0, a1);
	}
	track_live(e, fn, entry, a0, ret);
	submit(e);
	return 0;
}

static __always_inline bool lock_watched(int fn, __u64 lock)
{
	if (is_ww_fn(fn)) {
		if (cfg & GVT_CFG_ALL_LOCKS)
			return true;
		return bpf_map_lookup_elem(&watch_ww, &lock) != 0;
	}
	return bpf_map_lookup_elem(&watch_mutex, &lock) != 0;
}

/* A watched lock acquired (delta 1) or released by current: keeps the per-task count
 * and the global holder counts that gate the sys_exit program. */
static __always_inline void holds_add(struct task_state *st, int delta)
{
	if (delta > 0) {
		if (st->holds++)
			return;
		__sync_fetch_and_add(&n_holding, 1);
		/* count first, then the start: user space reads them the other way round */
		st->user = !current_kthread();
		if (st->user) {
			__sync_fetch_and_add(&n_user_holding, 1);
			__sync_fetch_and_add(&user_hold_starts, 1);
		}
	} else if (st->holds) {
		if (--st->holds)
			return;
		__sync_fetch_and_add(&n_holding, -1);
		if (st->user)
			__sync_fetch_and_add(&n_user_holding, -1);
	}
}

static __always_inline void emit_lock(int fn, int phase, int mech, __u64 lock, __u64 ctx_arg,
				      __u32 held, bool has_ret, __u64 ret)
{
	struct gvt_raw_event *e = reserve(fn, REC_LOCK);

	if (!e)
		return;
	e->fn = fn;
	e->phase = phase;
	e->probe = mech;
	set_v(e, GVT_A_LOCK, lock);
	if (fn != GVT_FN_ww_mutex_unlock && fn < GVT_FN_mutex_lock)
		set_v(e, GVT_A_CTX, ctx_arg);
	if (held)
		set_small(e, GVT_S_HELD, held);
	if (has_ret) {
		e->ret_kind = GVT_RET_INT;
		set_v(e, GVT_RET, ret);
	}
	submit(e);
}

/* Lock and unlock calls on watched addresses (§C.1): entry records the call so the
 * exit is written only after a written entry; nested calls of the same task inside
 * an outstanding lock call are ignored. */
static __always_inline int lock_call(int fn, int phase, int mech, __u64 lock, __u64 ctx_arg,
				     __u64 ret)
{
	bool unlock = fn == GVT_FN_ww_mutex_unlock || fn == GVT_FN_mutex_unlock;
	bool has_ret = fn != GVT_FN_mutex_lock && !unlock;
	bool trylock = fn == GVT_FN_ww_mutex_trylock || fn == GVT_FN_mutex_trylock;
	struct task_state *st;

	if (phase == GVT_PH_ENTRY) {
		if (!lock_watched(fn, lock))
			return 0;
		st = task_state(false);
		if (!is_ww_fn(fn) && st && st->lc.fn)
			return 0; /* inside a ww lock call of this task */
		if (!pass_filter())
			return 0;
		if (unlock) {
			__u32 held = held_by_current(lock);

			emit_lock(fn, phase, mech, lock, 0, held, false, 0);
			/* No storage: this task took no watched lock while traced. */
			if (held == GVT_V_YES && st)
				holds_add(st, -1);
			return 0;
		}
		if (!st)
			st = task_state(true);
		if (!st) {
			count_drop(fn, GVT_DROP_MAP); /* its exit cannot be written */
			return 0;
		}
		st->lc.lock = lock;
		st->lc.fn = fn;
		/* A lock call's entry is optional (trace-format.md): its exit carries the
		 * lock, the context and the result. An entry is evidence only where current
		 * may already own the lock and the call would then never return: a mutex, or
		 * a ww lock without an acquire context (NULL-context recursion, the
		 * self-deadlocks of deferred cleanup and deferred put). With a context the
		 * kernel answers -EALREADY or -EDEADLK instead, so drm_exec's locks, the
		 * bulk of all lock calls, write their exit only, and need no owner read. */
		if (!trylock && (!is_ww_fn(fn) || !ctx_arg)) {
			__u32 held = held_by_current(lock);

			if (held != GVT_V_NO)
				emit_lock(fn, phase, mech, lock, ctx_arg, held, false, 0);
		}
		return 0;
	}

	/* The unwatched path ends here for tasks with no lock call in flight. */
	st = task_state(false);
	if (!st || st->lc.lock != lock || st->lc.fn != (__u32)fn)
		return 0;
	st->lc.fn = 0;
	emit_lock(fn, phase, mech, lock, ctx_arg, 0, has_ret, ret);
	/* Acquired: 0 from the lock calls (mutex_lock is void), > 0 from trylock. */
	if (trylock ? (int)ret > 0 : (!has_ret || (int)ret == 0))
		holds_add(st, 1);
	return 0;
}

static __always_inline int on_call(void *ctx, int fn, int phase, int mech, __u64 a0, __u64 a1,
				   __u64 a2, __u64 ret)
{
	if (is_lock_fn(fn))
		return lock_call(fn, phase, mech, a0, a1, ret);
	return gpuvm_call(ctx, fn, phase, mech, a0, a1, a2, ret);
}

static __always_inline int kp_entry(struct pt_regs *regs, int fn, __u64 a0, __u64 a1, __u64 a2)
{
	/* Lock functions are hot: stash only calls that can produce an exit record. */
	if (!is_lock_fn(fn) || lock_watched(fn, a0)) {
		struct task_state *st = task_state(true);

		if (st) {
			st->kargs[fn].a[0] = a0;
			st->kargs[fn].a[1] = a1;
			st->kargs[fn].a[2] = a2;
			st->kargs_valid |= 1ull << fn;
		} else {
			count_drop(fn, GVT_DROP_MAP); /* the kretprobe will not write this exit */
		}
	}
	return on_call(regs, fn, GVT_PH_ENTRY, 1, a0, a1, a2, 0);
}

static __always_inline int kr_exit(struct pt_regs *regs, int fn, __u64 ret)
{
	struct task_state *st = task_state(false);
	struct argval v;

	if (!st || !(st->kargs_valid & (1ull << fn)))
		return 0; /* entry not seen (attached mid-call): no exit without entry */
	v = st->kargs[fn];
	st->kargs_valid &= ~(1ull << fn);
	return on_call(regs, fn, GVT_PH_EXIT, 1, v.a[0], v.a[1], v.a[2], ret);
}

#define ARG(i, N) ((i) < (N) ? ctx[(i) < (N) ? (i) : 0] : 0)

/* Four programs per logical function; N = argument count of its prototype,
 * R = 1 when it returns a value (read from ctx[N] at fexit). */
#define GVT_PROBES(name, FN, N, R)                                                     \
	SEC("fentry")                                                                  \
	int fe_##name(__u64 *ctx)                                                      \
	{                                                                              \
		return on_call(ctx, FN, GVT_PH_ENTRY, 0, ARG(0, N), ARG(1, N),         \
			       ARG(2, N), 0);                                          \
	}                                                                              \
	SEC("fexit")                                                                   \
	int fx_##name(__u64 *ctx)                                                      \
	{                                                                              \
		return on_call(ctx, FN, GVT_PH_EXIT, 0, ARG(0, N), ARG(1, N),          \
			       ARG(2, N), (R) ? ctx[(R) ? (N) : 0] : 0);               \
	}                                                                              \
	SEC("kprobe")                                                                  \
	int kp_##name(struct pt_regs *regs)                                            \
	{                                                                              \
		return kp_entry(regs, FN, PT_REGS_PARM1(regs), PT_REGS_PARM2(regs),    \
				PT_REGS_PARM3(regs));                                  \
	}                                                                              \
	SEC("kretprobe")                                                               \
	int kr_##name(struct pt_regs *regs)                                            \
	{                                                                              \
		return kr_exit(regs, FN, PT_REGS_RC(regs));                            \
	}

/* One set per kernel function of decode/fn_table.h (none for tracepoints). */
#define GVT_PROBES_GPUVM(name, N, ret) GVT_PROBES(name, GVT_FN_##name, N, GVT_RET_##ret != GVT_RET_NONE)
#define GVT_PROBES_LOCK(name, N, ret) GVT_PROBES_GPUVM(name, N, ret)
#define GVT_PROBES_TP(name, N, ret)
#define GVT_PROBES_ROW_(group, num, name, sym, alt, nargs, ret, phases, absent) \
	GVT_PROBES_##group(name, nargs, ret)
GVT_FUNCTIONS(GVT_PROBES_ROW_)

/* Return to user space while holding a watched lock taken in the kernel
 * (lock-unbalanced at sys_exit). Only tasks holding one produce a record. */
SEC("raw_tracepoint/sys_exit")
int tp_sys_exit(void *ctx)
{
	struct task_state *st;
	struct gvt_raw_event *e;

	/* Every syscall of every task passes here: with no watched lock held anywhere
	 * (the usual case) one global read is the whole cost. */
	if (!n_holding)
		return 0;
	st = task_state(false);
	if (!st || !st->holds || !pass_filter())
		return 0;
	e = reserve(GVT_FN_sys_exit, REC_LOCK);
	if (!e)
		return 0;
	e->fn = GVT_FN_sys_exit;
	e->phase = GVT_PH_ENTRY;
	e->probe = 2;
	submit(e);
	return 0;
}
