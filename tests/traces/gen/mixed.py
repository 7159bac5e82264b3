# SPDX-License-Identifier: GPL-2.0-only
"""Multi-task traces, the mid-flight trace and the bundled demo."""

from sim import Sim, Task, hx
from world import scenario, W, bo_addr, g1_bind, g1_unbind, g2_bind


@scenario("mt-bind-interleaved")
def mt_bind():
    s = Sim("mt-bind-interleaved")
    w = W(s, protected=True)
    A = Task(3377, "vkcube", pid=3370, cpu=0, stack_base=0xffffb6c1c0e7bc00)
    B = Task(3379, "vkcube", pid=3370, cpu=1, stack_base=0xffffb6c1c0e9bc00)
    vm, G, G2 = w.vm, w.G, w.G2
    s.vm_init(A, vm)
    s.c("two submit threads bind different BOs into one xe VM at the same time")
    s.lock(A, vm.resv, A.ctx)
    s.c("B locks its BO first, then blocks on R (owned by A): entry now, exit later")
    s.lock(B, G2.resv, B.ctx)
    s.ev(B, "ww_mutex_lock", "entry", {"lock": hx(vm.resv), "ctx": hx(B.ctx)}, snap={"held": "no"})
    s.lock(A, G.resv, A.ctx)
    _, BA = s.obtain(A, vm, G, bo_addr(5))
    s.extobj_add(A, BA)
    vaA = w.va(1)
    s.va_insert(A, vaA)
    s.link(A, vaA, BA)
    s.put(A, BA)
    s.c("A is the older transaction: B's wait ends with -EDEADLK; B backs off (drops G2)")
    s.ev(B, "ww_mutex_lock", "exit", {"lock": hx(vm.resv), "ctx": hx(B.ctx)}, ret=-35)
    s.unlock(B, G2.resv)
    s.unlock(A, G.resv)
    s.unlock(A, vm.resv)
    s.c("B retries: dma_resv_lock_slow(R) (ww_mutex_lock), then G2")
    s.lock(B, vm.resv, B.ctx)
    s.lock(B, G2.resv, B.ctx)
    _, BB = s.obtain(B, vm, G2, bo_addr(6))
    s.extobj_add(B, BB)
    vaB = w.va(2, G2)
    s.va_insert(B, vaB)
    s.c("meanwhile A starts its job: exec_lock waits on nothing it needs from B")
    s.link(B, vaB, BB)
    s.put(B, BB)
    s.unlock(B, G2.resv)
    s.unlock(B, vm.resv)
    _, _, locked = s.exec_lock(A, vm)
    s.add_fence(A, vm)
    s.exec_unlock(A, locked)
    s.sys_exit(B)
    s.sys_exit(A)
    s.expect_none()
    return s, """Two tasks of one process bind different BOs into one RESV_PROTECTED VM concurrently, with
ww_mutex back-off (-EDEADLK, then relock), then one of them submits. Every call holds
the locks it needs in its own task: no finding."""


@scenario("mt-unlock-other-task")
def mt_unlock():
    s = Sim("mt-unlock-other-task")
    w = W(s)
    A = w.t
    K = Task(97, "kworker/u8:2", cpu=0, stack_base=0xffffb6c1c0033c00)
    s.vm_init(A, w.vm)
    s.c("the ioctl locks the BO resv and hands the BO to a worker ...")
    s.lock(A, w.G.resv)
    _, B = s.obtain(A, w.vm, w.G, bo_addr(3))
    s.extobj_add(A, B)
    s.c("... BUG: the worker unlocks a lock owned by the ioctl task")
    h = s.unlock(K, w.G.resv)
    s.c("the ioctl returns without unlocking: the lock is already free (the worker released it)")
    s.sys_exit(A)
    s.expect("violation", "lock-unbalanced", h, "error")
    return s, """lock-unbalanced across tasks: ww_mutex_unlock by a task that is not the owner (held = no).
The owner then returns to user space; the lock is no longer held by anyone, so that
sys_exit is not a second report."""


@scenario("midflight")
def midflight():
    s = Sim("midflight")
    w = W(s)
    t = w.t
    vm, G = w.vm, w.G
    s.c("tracing attached while deqp-vk was inside an unbind: the VM, its vm_bos, VAs and the")
    s.c("locks the task holds are all older than the trace")
    B1 = s.adopt_vmbo(bo_addr(3), vm, G, refcount=2, extobj=True, n_va=1)
    BP = s.adopt_vmbo(bo_addr(6), vm, w.P, refcount=3, n_va=2)
    vm.kref = 1 + 2 + 3
    va_old = w.va(0)
    va_old.vm_bo = B1
    va_old.inserted = True
    s.owner[vm.resv] = t.tid
    s.c("the exit of a lock call entered before attach")
    s.tick()
    s.owner[G.resv] = t.tid
    s.rec({"type": "event", "ts": s.ts, "cpu": t.cpu, "pid": t.pid, "tid": t.tid, "comm": t.comm,
           "fn": "ww_mutex_lock", "phase": "exit", "args": {"lock": hx(G.resv), "ctx": hx(t.ctx)}, "ret": 0})
    s.events += 1
    s.c("unlink of a VA linked before the trace: judged from the snapshot (vm_bo, refcount 2)")
    s.va_remove(t, va_old)
    s.unlink(t, va_old)
    s.c("unlocks of locks taken before the trace: current owns them (held = yes)")
    s.unlock(t, G.resv)
    s.unlock(t, vm.resv)
    s.sys_exit(t)
    s.gap(2000)
    s.c("the obtain reference left on B1 is dropped under the BO resv: final put of an")
    s.c("adopted vm_bo")
    s.lock(t, G.resv)
    s.put(t, B1)
    s.unlock(t, G.resv)
    s.c("a private BO's adopted vm_bo loses one of three references")
    s.lock(t, vm.resv)
    s.put(t, BP)
    s.unlock(t, vm.resv)
    s.sys_exit(t)
    s.c("a complete new lifecycle on the partially known VM")
    va = w.va(7)
    g1_bind(w, bo_addr(3), va)
    g1_unbind(w, va)
    s.sys_exit(t)
    s.expect_none()
    return s, """Mid-flight start (spec §D.7, §E.2): adopted VM, vm_bos, VAs and held locks, an exit whose
entry predates the trace. Every call is correct given the snapshots: no violation and no
unknown (no rule here needs history the trace lacks)."""


@scenario("demo")
def demo():
    s = Sim("demo")
    s.header["command"] = "gpuvm-trace record -o demo.jsonl"
    # VM 1: nouveau (flags 0); VM 2: xe (RESV_PROTECTED); VM 3: a test driver with a
    # parking vm_bo_free (real-kernel.md) so the double put is survivable.
    w1 = W(s, task=Task(2841, "deqp-vk", pid=2841, cpu=1, stack_base=0xffffb6c1c0d4bc00))
    w2 = W(s, protected=True, vm_addr=0xffff8f0c4a3e6000, rob_addr=0xffff8f0c4b1a4000,
           gem_base=0xffff8f0c51b0a000, task=Task(3377, "vkcube", pid=3370, cpu=0, stack_base=0xffffb6c1c0e7bc00))
    w3 = W(s, vm_name="gpuvm_exerciser", vm_addr=0xffff8f0c4a3ea000, rob_addr=0xffff8f0c4b1a8000,
           gem_base=0xffff8f0c51b0d000, ops_alloc=0xffffffffc0b01a30, ops_free=0xffffffffc0b01a90,
           task=Task(151, "insmod", cpu=1, stack_base=0xffffb6c1c0011c00))
    t1, t2, t3 = w1.t, w2.t, w3.t
    s.c("=== three VMs come up ===")
    s.vm_init(t1, w1.vm)
    s.vm_init(t2, w2.vm)
    s.vm_init(t3, w3.vm)
    s.c("=== G1 on VM 1 (nouveau): correct bind ===")
    va1 = w1.va(0)
    g1_bind(w1, bo_addr(3), va1)
    s.c("=== G2 on VM 2 (xe): correct bind, eviction under the BO resv ===")
    B2 = g2_bind(w2, bo_addr(5), w2.va(1))
    s.lock(t2, w2.G.resv)
    s.evict(t2, B2, True)
    s.unlock(t2, w2.G.resv)
    s.c("=== X1 on VM 2: extobj_add after the VM resv was dropped ===")
    s.lock(t2, w2.vm.resv, t2.ctx)
    s.lock(t2, w2.G2.resv, t2.ctx)
    _, B2b = s.obtain(t2, w2.vm, w2.G2, bo_addr(6))
    s.unlock(t2, w2.vm.resv)
    s.stack(1, [(0xffffffffc0a1b2c0, "drm_gpuvm_bo_extobj_add+0x0", "drm_gpuvm"),
              (0xffffffffc1d4a6f5, "xe_vma_create+0x2a5", "xe"),
              (0xffffffffc1d4e0b1, "vm_bind_ioctl_ops_parse+0x3c1", "xe"),
              (0xffffffffc1d51a3e, "xe_vm_bind_ioctl+0x8be", "xe"),
              (0xffffffffc0c8a1e2, "drm_ioctl_kernel+0xb2", "drm"),
              (0xffffffffc0c8a4f9, "drm_ioctl+0x2a9", "drm"),
              (0xffffffff8e9a7c3b, "__x64_sys_ioctl+0x9b", None)])
    s.next_stack = 1
    x1 = s.extobj_add(t2, B2b)
    va2b = w2.va(2, w2.G2)
    s.va_insert(t2, va2b)
    s.link(t2, va2b, B2b)
    s.put(t2, B2b)
    s.unlock(t2, w2.G2.resv)
    s.c("=== G1 unbind on VM 1: correct ===")
    g1_unbind(w1, va1)
    s.c("=== X3 on VM 1: another BO unbound without its BO lock ===")
    va1b = w1.va(3, w1.G2)
    g1_bind(w1, bo_addr(4), va1b, obj=w1.G2)
    s.lock(t1, w1.vm.resv, t1.ctx)
    s.va_remove(t1, va1b)
    s.stack(2, [(0xffffffffc0a1c410, "drm_gpuva_unlink+0x0", "drm_gpuvm"),
                (0xffffffffc1b93c2d, "nouveau_uvmm_bind_job_cleanup+0x1ad", "nouveau"),
                (0xffffffffc1b95e81, "nouveau_uvmm_vm_bind+0x2f1", "nouveau"),
                (0xffffffffc1b96210, "nouveau_uvmm_ioctl_vm_bind+0x80", "nouveau"),
                (0xffffffffc0c8a1e2, "drm_ioctl_kernel+0xb2", "drm"),
                (0xffffffffc0c8a4f9, "drm_ioctl+0x2a9", "drm"),
                (0xffffffff8e9a7c3b, "__x64_sys_ioctl+0x9b", None)])
    s.next_stack = 2
    x3a = s.unlink(t1, va1b)
    x3b = s.last("drm_gpuvm_bo_put", "exit")
    s.unlock(t1, w1.vm.resv)
    s.c("=== X2 on VM 3: G1 bind + unbind, then a stale error-path put ===")
    va3 = w3.va(5)
    B3 = g1_bind(w3, bo_addr(8), va3)
    g1_unbind(w3, va3)
    s.lock(t3, w3.G.resv)
    s.stack(3, [(0xffffffffc0a1a8e0, "drm_gpuvm_bo_put.part.0+0x0", "drm_gpuvm"),
                (0xffffffffc0b0204c, "ex_error_path+0x4c", "gpuvm_exerciser"),
                (0xffffffffc0b00115, "ex_init+0x115", "gpuvm_exerciser"),
                (0xffffffff8e6012ab, "do_one_initcall+0x5b", None),
                (0xffffffff8e78c3d7, "do_init_module+0x97", None)])
    s.next_stack = 3
    x2 = s.put(t3, B3)
    s.unlock(t3, w3.G.resv)
    s.expect("violation", "extobj-add-unlocked", x1, "error")
    s.expect("violation", "link-unlocked", x3a, "error")
    s.expect("violation", "put-final-unlocked", x3b, "error")
    s.expect("violation", "double-put", x2, "error")
    return s, """gpuvm-trace demo: three VMs and three tasks on K612. Correct sequences (G1 on nouveau,
G2 on xe) mixed with bugs: X1 (extobj-add-unlocked), X3 (link-unlocked +
put-final-unlocked), X2 (double-put). Try:
  gpuvm-trace lint tests/traces/demo.jsonl
  gpuvm-trace replay tests/traces/demo.jsonl"""


@scenario("mt-reordered")
def mt_reordered():
    s = Sim("mt-reordered")
    w = W(s, protected=True)
    A = Task(3377, "vkcube", pid=3370, cpu=0, stack_base=0xffffb6c1c0e7bc00)
    B = Task(3379, "vkcube", pid=3370, cpu=1, stack_base=0xffffb6c1c0e9bc00)
    vm, G, G2 = w.vm, w.G, w.G2
    s.vm_init(A, vm)
    g2_bind(w, bo_addr(5), w.va(1), t=A)
    s.c("A holds R for a validate; B waits for R")
    s.lock(A, vm.resv, A.ctx)
    s.ev(B, "ww_mutex_lock", "entry", {"lock": hx(vm.resv), "ctx": hx(B.ctx)}, snap={"held": "no"})
    s.c("A releases R on CPU 0 and B acquires it on CPU 1 a few ns later, but CPU 1's ring")
    s.c("buffer is drained first: B's lock exit is written before A's unlock (ts order is")
    s.c("the other way round)")
    s.tick()
    t_unlock = s.ts
    s.tick()
    s.owner[vm.resv] = B.tid
    s.rec({"type": "event", "ts": s.ts, "cpu": B.cpu, "pid": B.pid, "tid": B.tid, "comm": B.comm,
           "fn": "ww_mutex_lock", "phase": "exit", "args": {"lock": hx(vm.resv), "ctx": hx(B.ctx)}, "ret": 0})
    s.events += 1
    s.rec({"type": "event", "ts": t_unlock, "cpu": A.cpu, "pid": A.pid, "tid": A.tid, "comm": A.comm,
           "fn": "ww_mutex_unlock", "phase": "entry", "args": {"lock": hx(vm.resv)}, "snap": {"held": "yes"}})
    s.events += 1
    s.c("B binds G2 with R (snapshot: held) and G2's resv")
    s.lock(B, G2.resv, B.ctx)
    _, BB = s.obtain(B, vm, G2, bo_addr(6))
    s.extobj_add(B, BB)
    va = w.va(2, G2)
    s.va_insert(B, va)
    s.link(B, va, BB)
    s.put(B, BB)
    s.unlock(B, G2.resv)
    s.unlock(B, vm.resv)
    s.expect_none()
    return s, """Cross-CPU reordering (trace-format.md: consumers take lock ownership from held_*
snapshots, not from the interleaving): a lock hand-over written out of ts order. No
finding."""
