/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one ring-buffer record layout, shared by the BPF programs (gpuvm_trace.bpf.c)
 * and user space (bpf/raw_decode.cpp). Plain C with fixed-width types only, so
 * both clang -target bpf and g++ see the same bytes.
 *
 * Field and small-field numbering deliberately equals gvt::Field / gvt::Small of
 * decode/event.h: the decoder copies the bitmaps as they are, and
 * bpf/raw_decode.cpp static_asserts the correspondence.
 */
#ifndef GPUVM_TRACE_H
#define GPUVM_TRACE_H

#include "decode/fn_table.h"

#ifdef __cplusplus
#include <cstdint>
typedef uint8_t gvt_u8;
typedef uint16_t gvt_u16;
typedef uint32_t gvt_u32;
typedef uint64_t gvt_u64;
typedef int32_t gvt_s32;
#else
typedef __u8 gvt_u8;
typedef __u16 gvt_u16;
typedef __u32 gvt_u32;
typedef __u64 gvt_u64;
typedef __s32 gvt_s32;
#endif

#define GVT_RAW_MAGIC 0x6776u /* "gv": rejects records of another layout */
#define GVT_TASK_COMM_LEN 16
#define GVT_NAME_LEN 32
#define GVT_MAX_FRAMES 32
/* stack_id bit: the id is in the `stacks_spill` map, not in `stacks` (see the BPF side). */
#define GVT_STACK_SPILL (1 << 30)

/* Record kinds (gvt_raw_hdr.kind). Losses are not records: every record carries the
 * global drop count at its making (`drop_seq`), so user space writes a `lost` record
 * right before the first record made after a loss, and reads the counter itself
 * (skeleton .bss `drop_seq`) for losses no later record reveals yet. */
enum gvt_raw_kind {
	GVT_RAW_EVENT = 1,
};

/* Logical functions: the numeric values of gvt::Fn, both from decode/fn_table.h. */
#define GVT_FN_ENUMERATOR_(group, num, name, ...) GVT_FN_##name = num,
enum gvt_raw_fn {
	GVT_FUNCTIONS(GVT_FN_ENUMERATOR_)
	GVT_FN_COUNT_
};

enum gvt_raw_phase { GVT_PH_ENTRY = 0, GVT_PH_EXIT = 1 };

/* How user space reads `ret` (the raw return register). The BPF side does not
 * interpret it: a bool lives in the low byte only and an int in the low 32 bits,
 * the rest of the register is undefined by the ABI. */
enum gvt_raw_ret {
	GVT_RET_NONE = 0,
	GVT_RET_PTR = 1,  /* pointer, possibly ERR_PTR(-errno) */
	GVT_RET_BOOL = 2, /* low byte */
	GVT_RET_INT = 3,  /* low 32 bits, signed */
};

/* Wide fields: bit numbers = gvt::Field. */
enum gvt_raw_field {
	GVT_A_GPUVM = 0, GVT_A_OBJ, GVT_A_VM_BO, GVT_A_VA, GVT_A_LOCK, GVT_A_CTX, GVT_A_R_OBJ,
	GVT_A_OPS, GVT_A_EXEC, GVT_A_FLAGS, GVT_A_NUM_FENCES,
	GVT_A_NAME,   /* string: gvt_raw_event.name */
	GVT_RET,      /* value in gvt_raw_event.ret, kind in ret_kind */
	GVT_S_VM, GVT_S_OBJ, GVT_S_VM_FLAGS, GVT_S_VM_KREF, GVT_S_VM_RESV, GVT_S_BO_RESV,
	GVT_S_BO_REFCOUNT, GVT_S_REFCOUNT, GVT_S_OPS_VM_BO_ALLOC, GVT_S_OPS_VM_BO_FREE,
	GVT_S_VM_NAME, /* string: gvt_raw_event.vm_name */
	GVT_STACK,     /* user space assigns the id; BPF sets stack_id instead */
	GVT_SYMBOL,    /* user space, from the probe id */
	GVT_S_GEM_LIST_SAME_VM,
	GVT_S_VM_BO,   /* snap "vm_bo": va->vm_bo at drm_gpuva_unlink[_defer] entry */
	GVT_FIELD_COUNT_,
};

/* Two-bit fields: slot numbers = gvt::Small; values: gvt::Tri (0 absent, 1 no, 2 yes, 3 unknown;
 * a JSON boolean slot never holds 3). */
enum gvt_raw_small {
	GVT_A_EVICT = 0, GVT_S_ON_GEM, GVT_S_ON_EXTOBJ, GVT_S_ON_EVICT, GVT_S_ON_DEFER,
	GVT_S_EVICTED, GVT_S_N_VA_NONZERO,
	GVT_S_HELD_VM_RESV, GVT_S_HELD_BO_RESV, GVT_S_HELD_GPUVA_LOCK, GVT_S_HELD,
	GVT_SMALL_COUNT_,
};
#define GVT_V_ABSENT 0u
#define GVT_V_NO 1u
#define GVT_V_YES 2u
#define GVT_V_UNKNOWN 3u

struct gvt_raw_hdr {
	gvt_u16 magic;  /* GVT_RAW_MAGIC */
	gvt_u8 kind;    /* enum gvt_raw_kind */
	gvt_u8 pad0;
	gvt_u32 size;   /* bytes of the whole record, stack frames included */
	gvt_u64 ts;     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	gvt_u32 cpu;
	gvt_u32 pid;    /* tgid */
	gvt_u32 tid;
	gvt_u32 drop_seq; /* records dropped (ring buffer full) before this one was reserved, all CPUs, mod 2^32 */
	char comm[GVT_TASK_COMM_LEN];
};

/*
 * A record may end early: `hdr.size` covers the header, the fixed fields up to
 * `v`, and every present value (GPUVM records stop before the names, see
 * GVT_RAW_GPUVM_SIZE; lock records after v[GVT_RET], see GVT_RAW_LOCK_SIZE). Names
 * are only in full-size records, which only gpuvm_init writes.
 */
struct gvt_raw_event {
	struct gvt_raw_hdr hdr;
	gvt_u8 fn;        /* enum gvt_raw_fn */
	gvt_u8 phase;     /* enum gvt_raw_phase */
	gvt_u8 ret_kind;  /* enum gvt_raw_ret */
	gvt_u8 probe;     /* mechanism: 0 fentry/fexit, 1 kprobe, 2 tracepoint */
	gvt_s32 stack_id; /* id in the `stacks` map (bpf_get_stackid), < 0 = none */
	gvt_u32 present;  /* 1 << enum gvt_raw_field */
	gvt_u32 small;    /* 2 bits per enum gvt_raw_small */
	gvt_u64 v[GVT_FIELD_COUNT_];
	char name[GVT_NAME_LEN];     /* A_NAME, NUL-terminated or full */
	char vm_name[GVT_NAME_LEN];  /* S_VM_NAME */
};

#define GVT_RAW_EVENT_HEAD_SIZE ((gvt_u32)(sizeof(struct gvt_raw_hdr) + 16))
#define GVT_RAW_EVENT_SIZE ((gvt_u32)sizeof(struct gvt_raw_event))
/* GPUVM records other than gpuvm_init's: every value, no names. */
#define GVT_RAW_GPUVM_SIZE ((gvt_u32)__builtin_offsetof(struct gvt_raw_event, name))
/* Lock, unlock and sys_exit records: values up to v[GVT_RET] only. */
#define GVT_RAW_LOCK_SIZE (GVT_RAW_EVENT_HEAD_SIZE + (GVT_RET + 1) * 8u)

/* Why something was not written, counted per CPU and per logical function in the
 * `drop_stats` map (one struct gvt_drop_stat per GVT_FN_*): user space tells the
 * user which remedy fits. Every cause also counts in the global drop_seq. */
enum gvt_drop_cause {
	GVT_DROP_FULL = 0,    /* the ring buffer had no room for the record */
	GVT_DROP_REFUSED = 1, /* the reservation failed although room remained */
	GVT_DROP_MAP = 2,     /* per-thread state (task storage) not made: evidence lost, not a record */
	GVT_DROP_CAUSES_ = 3,
};
struct gvt_drop_stat {
	gvt_u64 n[GVT_DROP_CAUSES_];
};

/* Read-only configuration (skeleton rodata), set by user space before load. */
#define GVT_CFG_ALL_LOCKS (1u << 0)
#define GVT_CFG_STACKS (1u << 1)          /* stacks where a finding may need them */
#define GVT_CFG_STACKS_ALL (1u << 5)      /* with GVT_CFG_STACKS: on every GPUVM record */
#define GVT_CFG_FILTER_TGID (1u << 2)     /* pid == filter_tgid */
#define GVT_CFG_FILTER_TREE (1u << 3)     /* filter_tgid or one of its descendants */
#define GVT_CFG_FILTER_COMM (1u << 4)

#endif /* GPUVM_TRACE_H */
