# SPDX-License-Identifier: GPL-2.0-only
"""The usage sequences of vm_bo-lifecycle.md §G (G1-G3, X1-X6 and variants)."""

from sim import Sim, Task
from world import scenario, W, bo_addr, g1_bind, g1_unbind, g2_bind, g3_bind


@scenario("G1")
def g1():
    s = Sim("G1")
    w = W(s)
    s.c("line 1: drm_gpuvm_init(V, flags=0, r_obj->R)")
    s.vm_init(w.t, w.vm)
    va = w.va(0)
    g1_bind(w, bo_addr(3), va)
    s.c("-- unbind --")
    g1_unbind(w, va)
    s.expect_none()
    return s, """G1 (spec §G): nouveau bind + unbind on K612, VM flags 0, G external (g != R).
Correct locking throughout; B#1 goes ALLOCATED -> REGISTERED -> DESTROYED."""


@scenario("G2")
def g2():
    s = Sim("G2")
    w = W(s, protected=True)
    s.vm_init(w.t, w.vm)
    B = g2_bind(w, bo_addr(5), w.va(1))
    s.gap(1800)
    s.c("eviction (TTM move callback): BO resv held; external + protected: the vm_bo stays")
    s.c("off the evict list until prepare_objects runs under the VM resv")
    s.lock(w.t, w.G.resv)
    s.evict(w.t, B, True)
    s.unlock(w.t, w.G.resv)
    s.gap(900)
    s.c("next exec: drm_gpuvm_exec_lock locks R and every extobj (g), moving B to the evict list")
    _, _, locked = s.exec_lock(w.t, w.vm)
    s.add_fence(w.t, w.vm)
    s.exec_unlock(w.t, locked)
    s.expect_none()
    return s, """G2 (spec §G): xe bind on K612 with DRM_GPUVM_RESV_PROTECTED, then eviction of the
external BO under its resv and an exec that locks all extobjs. No violation."""


@scenario("G3")
def g3():
    s = Sim("G3", knew=True)
    w = W(s, protected=True, immediate=True)
    s.vm_init(w.t, w.vm)
    va = w.va(2)
    P = g3_bind(w, bo_addr(7), va)
    s.c("-- unmap --")
    s.c("OpUnmap::remove: remove, then unlink_defer (takes G.gpuva.lock itself): ref 0 -> ZOMBIE")
    s.va_remove(w.t, va)
    s.unlink_defer(w.t, va)
    s.c("GpuVm::deferred_cleanup: locks R with a NULL context itself, unlinks, frees: DESTROYED")
    s.deferred_cleanup(w.t, w.vm)
    s.expect_none()
    return s, """G3 (spec §G): Tyr / Rust GPUVM binding on KNEW, IMMEDIATE_MODE | RESV_PROTECTED.
Pre-allocate, obtain_prealloc (self-locking), extobj_add under R, link under gpuva.lock,
deferred put, unmap with unlink_defer, deferred cleanup. No violation."""


@scenario("X1")
def x1():
    s = Sim("X1")
    w = W(s, protected=True)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("G2 bind, but the driver drops the VM lock before extobj_add")
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(5))
    s.unlock(t, w.vm.resv)
    s.c("BUG: VM resv not held, RESV_PROTECTED VM, G external -> extobj list changed unlocked")
    s.stack(1, [(0xffffffffc0a1b2c0, "drm_gpuvm_bo_extobj_add+0x0", "drm_gpuvm"),
              (0xffffffffc1d4a6f5, "xe_vma_create+0x2a5", "xe"),
              (0xffffffffc1d4e0b1, "vm_bind_ioctl_ops_parse+0x3c1", "xe"),
              (0xffffffffc1d51a3e, "xe_vm_bind_ioctl+0x8be", "xe"),
              (0xffffffffc0c8a1e2, "drm_ioctl_kernel+0xb2", "drm"),
              (0xffffffffc0c8a4f9, "drm_ioctl+0x2a9", "drm"),
              (0xffffffff8e9a7c3b, "__x64_sys_ioctl+0x9b", None)])
    s.next_stack = 1
    h = s.extobj_add(t, B)
    va = w.va(1)
    s.va_insert(t, va)
    s.link(t, va, B)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.expect("violation", "extobj-add-unlocked", h, "error")
    return s, """X1 (spec §G): extobj-add-unlocked. K612, protected VM (xe-like), G external.
G2 with ww_mutex_unlock(R) before drm_gpuvm_bo_extobj_add(B): error at that call
(held_vm_resv = no)."""


def _x2_world(s):
    # Memory parked by the VM's vm_bo_free (real-kernel.md) so the kernel survives the bug.
    return W(s, ops_alloc=0xffffffffc0b01a30, ops_free=0xffffffffc0b01a90)


@scenario("X2")
def x2():
    s = Sim("X2")
    w = _x2_world(s)
    s.vm_init(w.t, w.vm)
    va = w.va(0)
    B = g1_bind(w, bo_addr(3), va)
    s.c("-- unbind --")
    g1_unbind(w, va)
    s.gap(3200)
    s.c("an error path still holding the stale pointer calls drm_gpuvm_bo_put(B):")
    s.c("B#1 is DESTROYED; the parked memory reads refcount 0; the kernel's refcount_t")
    s.c("underflow warning saturates it and the put returns 0")
    s.lock(w.t, w.G.resv)
    h = s.put(w.t, B)
    s.unlock(w.t, w.G.resv)
    s.expect("violation", "double-put", h, "error")
    return s, """X2 (spec §G): double-put. K612, G1 complete (B#1 DESTROYED), then a stale
drm_gpuvm_bo_put(B) -> .part.0(B): error at the .part.0 entry (gen DESTROYED and,
with the memory parked by vm_bo_free as in real-kernel.md, snapshot refcount 0)."""


@scenario("X2.variant-mapped")
def x2_mapped():
    s = Sim("X2.variant-mapped")
    w = _x2_world(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(0)
    B = g1_bind(w, bo_addr(3), va)
    s.c("BUG: an extra put right after line 9 (g held) while va is still linked: ref 1 -> 0,")
    s.c("the vm_bo is destroyed under the VA that owns that reference")
    s.lock(t, w.G.resv)
    s.put(t, B)
    h1 = s.last("drm_gpuvm_bo_put", "exit")
    s.unlock(t, w.G.resv)
    s.c("-- unbind: the unlink goes through the dead vm_bo --")
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    s.va_remove(t, va)
    h2 = s.unlink(t, va)
    s.c("(the unlink's nested put lands on the same DESTROYED generation: one root cause, the")
    s.c("stale VA, reported once as use-after-free at the unlink, as §G words it)")
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "destroy-while-mapped", h1, "error")
    s.expect("violation", "use-after-free", h2, "error")
    return s, """X2 variant (spec §G): an extra .part.0(B) -> 1 right after G1 line 9 while va is still
linked gives destroy-while-mapped at that put (its exit: the trigger needs 'exit ret 1');
the later drm_gpuva_unlink(va) is a use-after-free. The put that unlink makes lands on
the same DESTROYED generation: same root cause, no second report (§G lists two)."""


@scenario("X2.variant-realloc")
def x2_realloc():
    s = Sim("X2.variant-realloc")
    w = _x2_world(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(0)
    B = g1_bind(w, bo_addr(3), va)
    g1_unbind(w, va)
    s.c("the freed slot is reused at once by the next vm_bo (kmalloc-96): B#2 for G2")
    s.lock(t, w.G2.resv)
    _, B2 = s.obtain(t, w.vm, w.G2, bo_addr(3))
    s.unlock(t, w.G2.resv)
    s.extobj_add(t, B2)
    va2 = w.va(1, w.G2)
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G2.resv, t.ctx)
    s.va_insert(t, va2)
    s.link(t, va2, B2)
    s.unlock(t, w.G2.resv)
    s.unlock(t, w.vm.resv)
    s.c("the stale error-path put of X2 now hits B#2: indistinguishable from a legal put")
    s.c("(refcount 2 at entry, a live generation), so no finding here")
    s.lock(t, w.G2.resv)
    s.put(t, B2)
    s.c("B#2's own owner drops its obtain reference: the stolen one makes it final while")
    s.c("va2 is linked -> destroy-while-mapped")
    s.put(t, B2)
    h1 = s.last("drm_gpuvm_bo_put", "exit")
    s.unlock(t, w.G2.resv)
    s.c("unbind of va2: unlink through the dead B#2 (use-after-free; its nested put is the")
    s.c("same root cause)")
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G2.resv, t.ctx)
    s.va_remove(t, va2)
    h2 = s.unlink(t, va2)
    s.unlock(t, w.G2.resv)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "destroy-while-mapped", h1, "error")
    s.expect("violation", "use-after-free", h2, "error")
    return s, """X2 second variant: the stale put lands after the address was reused by a new
generation (B#2). The stale put itself is undetectable (live gen, refcount 2), so the
first certain evidence is the owner's put that then destroys B#2 under a linked VA."""


@scenario("X3")
def x3():
    s = Sim("X3")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(0)
    g1_bind(w, bo_addr(3), va)
    s.c("-- nouveau-like unbind without the BO lock --")
    s.lock(t, w.vm.resv, t.ctx)
    s.va_remove(t, va)
    h1 = s.unlink(t, va)
    h2 = s.last("drm_gpuvm_bo_put", "exit")
    s.unlock(t, w.vm.resv)
    s.expect("violation", "link-unlocked", h1, "error")
    s.expect("violation", "put-final-unlocked", h2, "error")
    return s, """X3 (spec §G): put-final-unlocked. K612 nouveau-like unbind: G1 lines 1-9, then
ww_mutex_lock(R, ctx), drm_gpuva_remove(va), drm_gpuva_unlink(va) with g not held:
link-unlocked at the unlink and put-final-unlocked at its nested .part.0(B) -> 1."""


@scenario("X3.variant-inlined-unlink-put")
def x3_inlined_unlink_put():
    s = Sim("X3.variant-inlined-unlink-put", kernel="6.12.95+deb12-arm64", inlined_unlink_put=True)
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(0)
    g1_bind(w, bo_addr(3), va)
    s.c("-- nouveau-like unbind without the BO lock; the put is inlined into the unlink --")
    s.lock(t, w.vm.resv, t.ctx)
    s.va_remove(t, va)
    h1 = s.unlink(t, va)
    h2 = s.last("drm_gpuva_unlink", "exit")
    s.unlock(t, w.vm.resv)
    s.expect("violation", "link-unlocked", h1, "error")
    s.expect("violation", "put-final-unlocked", h2, "error")
    return s, """X3 where drm_gpuvm_bo_put is inlined into drm_gpuva_unlink (GCC's choice on arm64,
Debian 7.2.12): no nested put event; the header's coverage.put_inlined_in names
drm_gpuva_unlink, so the model applies its put at the unlink's exit from the refcount
1 read at its entry: link-unlocked at the unlink's entry, put-final-unlocked at its exit."""


@scenario("G1.variant-inlined-unlink-put")
def g1_inlined_unlink_put():
    s = Sim("G1.variant-inlined-unlink-put", kernel="6.12.95+deb12-arm64", inlined_unlink_put=True)
    w = W(s)
    s.vm_init(w.t, w.vm)
    va = w.va(0)
    g1_bind(w, bo_addr(3), va)
    s.c("-- unbind: the unlink's inlined put destroys B (no event of its own) --")
    g1_unbind(w, va)
    s.c("teardown: the driver drops its VM reference, the last one: drm_gpuvm_free")
    s.vm_put(w.t, w.vm)
    s.expect_none()
    return s, """G1 where drm_gpuvm_bo_put is inlined into drm_gpuva_unlink (arm64), then teardown:
the unlink's put is applied at its exit, so B is destroyed there and drm_gpuvm_free
finds no live vm_bo of V: silent. (Without the header's put_inlined_in the model would
keep B alive and report vm-bo-leak-at-vm-destroy at the free: why the key exists.)"""


def _x4_world(s):
    return W(s, protected=True, vm_name="panthor", task=Task(1904, "panfrost-bind", cpu=3,
                                                            stack_base=0xffffb6c1c0f2bc00))


def _x4_registered(w):
    """B already REGISTERED for (V, G), obtained the panthor way."""
    s, t = w.s, w.t
    s.c("B registered for (V, G) earlier: pre-allocate, lock R and the gpuva lock, obtain_prealloc")
    P0 = s.create(t, w.vm, w.G, bo_addr(1))
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    s.obtain_prealloc(t, P0)
    s.extobj_add(t, P0)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    return P0


@scenario("X4")
def x4():
    s = Sim("X4")
    w = _x4_world(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = _x4_registered(w)
    s.gap(2500)
    s.c("next bind of G: pre-allocate P, lock R and the gpuva lock (g)")
    P = s.create(t, w.vm, w.G, bo_addr(2))
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    s.c("found path: B +1, P destroyed by the nested .part.0(P) -> 1 (locks held: fine)")
    s.obtain_prealloc(t, P)
    va = w.va(4)
    s.va_insert(t, va)
    s.c("BUG: the driver links the pre-allocation pointer instead of the returned B")
    h = s.link(t, va, P)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.c("P is DESTROYED: this is use-after-free, not an unregistered link (the one root")
    s.c("cause; link-unregistered is the variant that links a live ALLOCATED P)")
    s.expect("violation", "use-after-free", h, "error")
    return s, """X4 (spec §G): use-after-free via a dead pre-allocation. K612, panthor-like protected VM.
B REGISTERED; create P; lock R and the gpuva lock; obtain_prealloc(P) { .part.0(P) -> 1 }
-> B (P DESTROYED, B +1); then drm_gpuva_link(va, P): use-after-free."""


@scenario("X4.variant-link-first")
def x4_link_first():
    s = Sim("X4.variant-link-first")
    w = _x4_world(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("no vm_bo yet for (V, G); the driver links its pre-allocation before obtaining it")
    P = s.create(t, w.vm, w.G, bo_addr(2))
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    va = w.va(4)
    s.va_insert(t, va)
    h1 = s.link(t, va, P)
    s.c("obtain_prealloc then gets a pre-allocation that is not fresh: refcount 2 (the VA's")
    s.c("reference), on no list, gen ALLOCATED -> 'refcount > 1 alone: warning'")
    h2, _ = s.obtain_prealloc(t, P)
    s.extobj_add(t, P)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "link-unregistered", h1, "error")
    s.expect("violation", "prealloc-reused", h2, "warning")
    return s, """X4 variant (spec §G): linking P before obtaining gives link-unregistered (ALLOCATED,
on_gem false). The obtain that follows receives a pre-allocation holding two references,
which prealloc-reused reports as a warning (§E.1: refcount > 1 alone)."""


@scenario("X4.variant-reused")
def x4_reused():
    s = Sim("X4.variant-reused")
    w = _x4_world(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = _x4_registered(w)
    s.gap(2500)
    s.c("BUG: the live, registered B is passed as the pre-allocation")
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    h, _ = s.obtain_prealloc(t, B)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "prealloc-reused", h, "error")
    return s, """X4 variant (spec §G): the live B passed to drm_gpuvm_bo_obtain_prealloc: gen REGISTERED
and on the GEM and extobj lists -> prealloc-reused error. On K612 the found path takes
+1 on B and puts 'pre' (= B) -> 0: the nested put is not final."""


@scenario("X5")
def x5():
    s = Sim("X5", knew=True)
    w = W(s, protected=True, immediate=True, vm_name="asahi",
          task=Task(5120, "asahi-vm-close", cpu=1, stack_base=0xffffc90002a7bc00))
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.gap(40_000)
    s.c("-- teardown: unmap without draining bo_defer --")
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.c("the driver drops its VM reference: kref 2 at entry; 1 left = the zombie's reference")
    s.vm_put(t, w.vm)
    h = s.last("drm_gpuvm_put", "exit")
    s.expect("violation", "vm-bo-leak-at-vm-destroy", h, "warning")
    s.expect("violation", "deferred-never-cleaned", h, "warning")
    return s, """X5 (spec §G): deferred-never-cleaned (KNEW, Asahi teardown, AsahiLinux/linux PR #548).
G3 lines 1-5, then drm_gpuva_remove, drm_gpuva_unlink_defer (ZOMBIE), no deferred cleanup,
drm_gpuvm_put(V) with kref 2 at entry: vm-bo-leak-at-vm-destroy (a) and
deferred-never-cleaned warnings at that call (on its exit line: (a) is 'confirmed at exit')."""


@scenario("X6")
def x6():
    s = Sim("X6", knew=True)
    s.options.append("info")
    w = W(s, protected=True, immediate=True)
    A = Task(4312, "vkmark", pid=4300, cpu=2, stack_base=0xffffc90001d3bc00)
    B = Task(4313, "vkmark", pid=4300, cpu=3, stack_base=0xffffc90001d4bc00)
    vm, G = w.vm, w.G
    s.vm_init(A, vm)
    s.c("A1 / A2: task A pre-allocates and obtains its own pre-allocation back")
    PA = s.create(A, vm, G, bo_addr(8))
    s.obtain_prealloc(A, PA)
    s.c("A is preempted before its extobj_add")
    s.c("B1 / B2: task B pre-allocates for the same (V, G) and gets PA back; PB is freed")
    PB = s.create(B, vm, G, bo_addr(9))
    s.obtain_prealloc(B, PB)
    s.c("review-version Rust obtain: B did not get its own pre-allocation, skips extobj_add")
    s.c("B3: map under G.gpuva.lock (link exit: external, not on extobj -> info)")
    vb = w.va(6)
    s.va_insert(B, vb)
    s.mlock(B, G.gpuva_mutex)
    s.link(B, vb, PA)
    hi = s.last("drm_gpuva_link", "exit", B)
    s.munlock(B, G.gpuva_mutex)
    s.c("B4: job submission: exec_lock locks R and the extobjs; g is not among them")
    _, hx_exit, locked = s.exec_lock(B, vm)
    s.exec_unlock(B, locked)
    s.c("A3: task A resumes and adds PA to the extobj list: too late for B's job")
    s.lock(A, vm.resv, None)
    s.extobj_add(A, PA)
    s.unlock(A, vm.resv)
    s.expect("violation", "extobj-missing", hx_exit, "error")
    s.expect("info", "extobj-missing", hi)
    return s, """X6 (spec §G): extobj-missing. KNEW, review-version Rust obtain, two tasks, G external.
Task B maps PA (obtained by A, whose extobj_add has not run yet) and submits a job:
drm_gpuvm_exec_lock(V) returns 0 without g locked -> extobj-missing error at its exit;
the link already gave the info-level hint (with --info)."""
