/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The traced kernel functions: the one list every other list is generated from
 * (gvt::Fn and enum gvt_raw_fn, the trace-format names, the BPF programs and their
 * names, the probe planner's table, the return-value kinds). Plain C preprocessor,
 * so that the BPF programs (clang -target bpf) and C++ read the same lines.
 *
 * Adding a function: one GVT_FN row here (next free number; the numbers are the
 * .gvt and ring-buffer encoding and never change), plus its model handler
 * (decode/model/handlers/family.h, GVT_HANDLES); the build fails while either side
 * lacks the other.
 *
 * Columns of X(group, num, name, symbol, alt, nargs, ret, phases, absent):
 *   group   GPUVM (drm_gpuvm module or vmlinux), LOCK (vmlinux lock function),
 *           TP (tracepoint; no kernel function probed)
 *   num     gvt::Fn / enum gvt_raw_fn value
 *   name    logical name: gvt::Fn::name, GVT_FN_name, BPF programs fe_/fx_/kp_/kr_name
 *   symbol  kernel symbol = the trace-format "fn" name
 *   alt     symbol tried when `symbol` is not traceable ("" = none): DEBUG_LOCK_ALLOC
 *           kernels reach the _nested mutex variants instead (§C.1)
 *   nargs   arguments the BPF programs read (first nargs of the prototype, at most 3)
 *   ret     NONE, PTR (pointer or ERR_PTR), BOOL (low byte), INT (low 32 bits)
 *   phases  BOTH, ENTRY (entry record only), EXIT (exit record only)
 *   absent  why a kernel may lack the function ("" = every supported kernel has it)
 */
#ifndef GVT_FN_TABLE_H
#define GVT_FN_TABLE_H

#define GVT_FUNCTIONS(X)                                                                        \
	X(GPUVM, 1, gpuvm_init, "drm_gpuvm_init", "", 1, NONE, EXIT, "")                       \
	X(GPUVM, 2, gpuvm_put, "drm_gpuvm_put", "", 1, NONE, BOTH, "")                         \
	X(GPUVM, 3, gpuvm_free, "drm_gpuvm_free", "", 1, NONE, ENTRY, "")                      \
	X(GPUVM, 4, bo_create, "drm_gpuvm_bo_create", "", 2, PTR, BOTH, "")                    \
	X(GPUVM, 5, bo_obtain, "drm_gpuvm_bo_obtain", "", 2, PTR, BOTH,                        \
	  "renamed drm_gpuvm_bo_obtain_locked (9bf4ca1e699c)")                                 \
	X(GPUVM, 6, bo_obtain_locked, "drm_gpuvm_bo_obtain_locked", "", 2, PTR, BOTH,          \
	  "the rename of drm_gpuvm_bo_obtain (9bf4ca1e699c, 7.0)")                             \
	X(GPUVM, 7, bo_obtain_prealloc, "drm_gpuvm_bo_obtain_prealloc", "", 1, PTR, BOTH, "")  \
	X(GPUVM, 8, bo_find, "drm_gpuvm_bo_find", "", 2, PTR, BOTH, "")                        \
	X(GPUVM, 9, bo_put, "drm_gpuvm_bo_put", "", 1, BOOL, BOTH, "")                         \
	X(GPUVM, 10, bo_put_deferred, "drm_gpuvm_bo_put_deferred", "", 1, BOOL, BOTH,          \
	  "deferred vm_bo cleanup (8e4865faf7a9, 6.19)")                                       \
	X(GPUVM, 11, bo_deferred_cleanup, "drm_gpuvm_bo_deferred_cleanup", "", 1, NONE, BOTH,  \
	  "deferred vm_bo cleanup (8e4865faf7a9, 6.19)")                                       \
	X(GPUVM, 12, bo_extobj_add, "drm_gpuvm_bo_extobj_add", "", 1, NONE, BOTH, "")          \
	X(GPUVM, 13, bo_evict, "drm_gpuvm_bo_evict", "", 2, NONE, BOTH, "")                    \
	X(GPUVM, 14, va_link, "drm_gpuva_link", "", 2, NONE, BOTH, "")                         \
	X(GPUVM, 15, va_unlink, "drm_gpuva_unlink", "", 1, NONE, BOTH, "")                     \
	X(GPUVM, 16, va_unlink_defer, "drm_gpuva_unlink_defer", "", 1, NONE, BOTH,             \
	  "deferred vm_bo cleanup (8e4865faf7a9, 6.19)")                                       \
	X(GPUVM, 17, va_insert, "drm_gpuva_insert", "", 2, INT, EXIT, "")                      \
	X(GPUVM, 18, va_remove, "drm_gpuva_remove", "", 1, NONE, BOTH, "")                     \
	X(GPUVM, 19, vm_validate, "drm_gpuvm_validate", "", 2, INT, BOTH, "")                  \
	X(GPUVM, 20, vm_prepare_objects, "drm_gpuvm_prepare_objects", "", 3, INT, BOTH, "")    \
	X(GPUVM, 21, vm_exec_lock, "drm_gpuvm_exec_lock", "", 1, INT, BOTH, "")                \
	X(GPUVM, 22, vm_exec_lock_array, "drm_gpuvm_exec_lock_array", "", 3, INT, BOTH, "")    \
	X(GPUVM, 23, vm_exec_lock_range, "drm_gpuvm_exec_lock_range", "", 3, INT, BOTH, "")    \
	X(GPUVM, 24, vm_resv_add_fence, "drm_gpuvm_resv_add_fence", "", 2, NONE, BOTH, "")     \
	X(GPUVM, 25, bo_unmap_ops_create, "drm_gpuvm_bo_unmap_ops_create", "", 1, PTR, BOTH, "") \
	X(LOCK, 26, ww_mutex_lock, "ww_mutex_lock", "", 2, INT, BOTH, "")                      \
	X(LOCK, 27, ww_mutex_lock_interruptible, "ww_mutex_lock_interruptible", "", 2, INT,    \
	  BOTH, "")                                                                            \
	X(LOCK, 28, ww_mutex_trylock, "ww_mutex_trylock", "", 2, INT, BOTH, "")                \
	X(LOCK, 29, ww_mutex_unlock, "ww_mutex_unlock", "", 1, NONE, ENTRY, "")                \
	X(LOCK, 30, mutex_lock, "mutex_lock", "mutex_lock_nested", 1, NONE, BOTH, "")          \
	X(LOCK, 31, mutex_lock_interruptible, "mutex_lock_interruptible",                      \
	  "mutex_lock_interruptible_nested", 1, INT, BOTH, "")                                 \
	X(LOCK, 32, mutex_lock_killable, "mutex_lock_killable", "mutex_lock_killable_nested",  \
	  1, INT, BOTH, "")                                                                    \
	X(LOCK, 33, mutex_trylock, "mutex_trylock", "", 1, INT, BOTH, "")                      \
	X(LOCK, 34, mutex_unlock, "mutex_unlock", "", 1, NONE, ENTRY, "")                      \
	/* Return to user space (raw_syscalls:sys_exit); an extension of the spec. */          \
	X(TP, 35, sys_exit, "sys_exit", "", 0, NONE, ENTRY, "")

#endif /* GVT_FN_TABLE_H */
