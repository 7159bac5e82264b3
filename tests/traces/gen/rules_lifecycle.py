# SPDX-License-Identifier: GPL-2.0-only
"""Traces for the lifecycle and leak rules of vm_bo-lifecycle.md §E.1."""

from sim import Sim, Task, hx, REFCOUNT_SATURATED
from world import scenario, W, bo_addr, g1_bind, g1_unbind, g3_bind


def _obtain_locked(w, obj, addr, t=None):
    s, t = w.s, t or w.t
    s.lock(t, obj.resv)
    _, B = s.obtain(t, w.vm, obj, addr)
    s.unlock(t, obj.resv)
    return B


# ------------------------------------------------------------------ double-put


@scenario("double-put.trigger")
def double_trigger():
    s = Sim("double-put.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("bind fails after the obtain: the error path puts the vm_bo (destroyed) ...")
    B = _obtain_locked(w, w.G, bo_addr(3))
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.c("... and the caller's cleanup puts it again")
    h = s.put(t, B)
    s.unlock(t, w.G.resv)
    s.expect("violation", "double-put", h, "error")
    return s, """double-put: a put on an address whose latest generation is DESTROYED (and whose snapshot
reads refcount 0)."""


@scenario("double-put.near-miss")
def double_near():
    s = Sim("double-put.near-miss")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = _obtain_locked(w, w.G, bo_addr(3))
    s.c("drm_gpuvm_bo_get() is static inline: an invisible reference (B: 2)")
    B.refcount += 1
    s.c("two puts: a reconstructed count would call the second one a double put; the")
    s.c("snapshot says refcount 1 at its entry")
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.c("the slot is reused by the next create (B#2), which is put once")
    B2 = _obtain_locked(w, w.G2, bo_addr(3))
    s.lock(t, w.G2.resv)
    s.put(t, B2)
    s.unlock(t, w.G2.resv)
    s.expect_none()
    return s, """double-put near miss: an invisible drm_gpuvm_bo_get makes two puts legal (refcount 2,
then 1 at entry); a put on a new generation at a reused address is not a double put."""


@scenario("double-put.unknown")
def double_unknown():
    s = Sim("double-put.unknown")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = _obtain_locked(w, w.G, bo_addr(3))
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.c("the ring buffer overflowed: the lost events re-created a vm_bo at the same address")
    s.lost_record(23, cpu=1)
    B2 = s.adopt_vmbo(bo_addr(3), w.vm, w.G, refcount=1)
    s.vmbo_by_addr[bo_addr(3)] = B2
    s.lock(t, w.G.resv)
    h = s.put(t, B2)
    s.unlock(t, w.G.resv)
    s.expect("unknown", "double-put", h)
    return s, """double-put unknown: a put on a DESTROYED address after lost events. The lost events may
contain a create that reused the address, and the snapshot (refcount 1) does not prove a
double put (§E.2)."""


@scenario("double-put.unknown-partial")
def double_unknown_partial():
    s = Sim("double-put.unknown-partial", put="partial")
    w = W(s)
    t = w.t
    s.c("only the exported drm_gpuvm_bo_put is probed (no build-id manifest for .part.0):")
    s.c("put coverage is partial")
    s.vm_init(t, w.vm)
    B = _obtain_locked(w, w.G, bo_addr(3))
    s.lock(t, w.G.resv)
    s.put(t, B, symbol=None)
    s.unlock(t, w.G.resv)
    s.gap(1500)
    s.c("a second put of the address; the slab page is gone, the vm_bo read fails (no snapshot)")
    s.tick()
    h = s.rec({"type": "event", "ts": s.ts, "cpu": t.cpu, "pid": t.pid, "tid": t.tid, "comm": t.comm,
               "fn": "drm_gpuvm_bo_put", "phase": "entry", "args": {"vm_bo": hx(B.addr)}})
    s.events += 1
    s.ev(t, "drm_gpuvm_bo_put", "exit", {"vm_bo": hx(B.addr)}, ret=False)
    s.expect("unknown", "double-put", h)
    return s, """double-put unknown: the same double put as the trigger, but the recording's put coverage
is partial, so history rules that need complete put coverage answer unknown (§E.2); the
failed read gives no snapshot to decide from."""


# ------------------------------------------------------------------ destroy-while-mapped


@scenario("destroy-while-mapped.trigger")
def dwm_trigger():
    s = Sim("destroy-while-mapped.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = _obtain_locked(w, w.G, bo_addr(3))
    s.extobj_add(t, B)
    va = w.va(0)
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    s.va_insert(t, va)
    s.link(t, va, B)
    s.c("the bind drops its obtain reference (ref 1 = the VA's) ...")
    s.put(t, B)
    s.c("... BUG: and an error path drops it once more: final put under a linked VA")
    s.put(t, B)
    h = s.last("drm_gpuvm_bo_put", "exit")
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "destroy-while-mapped", h, "error")
    return s, """destroy-while-mapped: a destroying drm_gpuvm_bo_put (refcount 1, returns 1) whose entry
snapshot shows list.gpuva non-empty: someone put the reference a linked VA owns."""


@scenario("destroy-while-mapped.trigger-deferred")
def dwm_trigger_deferred():
    s = Sim("destroy-while-mapped.trigger-deferred", knew=True)
    w = W(s, protected=True, immediate=True)
    t = w.t
    s.vm_init(t, w.vm)
    P = g3_bind(w, bo_addr(7), w.va(2))
    s.c("BUG: the ARef is dropped twice; the second deferred put is the last reference,")
    s.c("owned by the linked VA")
    s.put_deferred(t, P)
    h = s.last("drm_gpuvm_bo_put_deferred", "exit")
    s.expect("violation", "destroy-while-mapped", h, "error")
    return s, """destroy-while-mapped via drm_gpuvm_bo_put_deferred returning true with a VA still linked."""


@scenario("destroy-while-mapped.trigger-unlink-defer")
def dwm_trigger_unlink_defer():
    s = Sim("destroy-while-mapped.trigger-unlink-defer", knew=True)
    w = W(s, protected=True, immediate=True)
    t = w.t
    s.vm_init(t, w.vm)
    va1, va2 = w.va(2), w.va(3)
    P = g3_bind(w, bo_addr(7), va1)
    s.c("a second mapping of the same BO (remap split): refcount 2")
    s.va_insert(t, va2)
    s.mlock(t, w.G.gpuva_mutex)
    s.link(t, va2, P)
    s.munlock(t, w.G.gpuva_mutex)
    s.c("BUG: an extra deferred put (not the last one: nothing visible yet, refcount 1)")
    s.put_deferred(t, P)
    s.c("unmapping va1 now drops the last reference while va2 is still linked")
    s.va_remove(t, va1)
    s.unlink_defer(t, va1)
    h = s.last("drm_gpuva_unlink_defer", "exit")
    s.expect("violation", "destroy-while-mapped", h, "error")
    return s, """destroy-while-mapped via drm_gpuva_unlink_defer: the vm_bo becomes a ZOMBIE while
list.gpuva still holds a VA other than the one unlinked (va2)."""


@scenario("destroy-while-mapped.near-miss")
def dwm_near():
    s = Sim("destroy-while-mapped.near-miss")
    w = W(s)
    s.vm_init(w.t, w.vm)
    va = w.va(0)
    s.c("G1: the put at line 9 runs while mapped, with refcount 2 (not final)")
    g1_bind(w, bo_addr(3), va)
    g1_unbind(w, va)
    s.expect_none()
    return s, """destroy-while-mapped near miss: a put while mapped that is not final (refcount 2), then
the final put from the unlink of the only VA."""


@scenario("destroy-while-mapped.near-miss-deferred")
def dwm_near_deferred():
    s = Sim("destroy-while-mapped.near-miss-deferred", knew=True)
    w = W(s, protected=True, immediate=True)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.c("unlink_defer of the only VA: it becomes a zombie, but list.gpuva held only that VA")
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.deferred_cleanup(t, w.vm)
    s.expect_none()
    return s, """destroy-while-mapped near miss (KNEW): unlink_defer turning the vm_bo into a ZOMBIE is
legal when the unlinked VA was the only one."""


# ------------------------------------------------------------------ use-after-free


@scenario("use-after-free.trigger")
def uaf_trigger():
    s = Sim("use-after-free.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = _obtain_locked(w, w.G, bo_addr(3))
    s.extobj_add(t, B)
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.gap(20_000)
    s.c("BUG: a TTM move still holds the old vm_bo pointer and marks it evicted")
    mover = Task(188, "kworker/u8:3", cpu=1, stack_base=0xffffb6c1c0456c00)
    s.lock(mover, w.G.resv)
    h = s.evict(mover, B, True)
    s.unlock(mover, w.G.resv)
    s.expect("violation", "use-after-free", h, "error")
    return s, """use-after-free: drm_gpuvm_bo_evict (a non-put event) on a DESTROYED generation."""


@scenario("use-after-free.near-miss")
def uaf_near():
    s = Sim("use-after-free.near-miss")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = _obtain_locked(w, w.G, bo_addr(3))
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.c("the address is reused by a fresh vm_bo (B#2, another GEM) before the eviction")
    B2 = _obtain_locked(w, w.G2, bo_addr(3))
    s.extobj_add(t, B2)
    mover = Task(188, "kworker/u8:3", cpu=1, stack_base=0xffffb6c1c0456c00)
    s.lock(mover, w.G2.resv)
    s.evict(mover, B2, True)
    s.unlock(mover, w.G2.resv)
    s.expect_none()
    return s, """use-after-free near miss: an event at an address whose earlier generation was destroyed,
after a create started a new live generation there."""


@scenario("use-after-free.unknown")
def uaf_unknown():
    s = Sim("use-after-free.unknown")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = _obtain_locked(w, w.G, bo_addr(3))
    s.extobj_add(t, B)
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.lost_record(112, cpu=0)
    s.c("events were lost: the address may have been re-created in between")
    B2 = s.adopt_vmbo(bo_addr(3), w.vm, w.G, refcount=1, extobj=True)
    mover = Task(188, "kworker/u8:3", cpu=1, stack_base=0xffffb6c1c0456c00)
    s.lock(mover, w.G.resv)
    h = s.evict(mover, B2, True)
    s.unlock(mover, w.G.resv)
    s.expect("unknown", "use-after-free", h)
    return s, """use-after-free unknown: an event on a DESTROYED address after lost events; the lost events
may hold a create that reused it (§E.2: a loss makes every DESTROYED address uncertain)."""


# ------------------------------------------------------------------ refcount-saturated


@scenario("refcount-saturated.trigger")
def sat_trigger():
    s = Sim("refcount-saturated.trigger")
    w = W(s)
    t = w.t
    s.c("attached after the kernel printed 'refcount_t: underflow; use-after-free':")
    s.c("the registered vm_bo's kref is saturated")
    B = s.adopt_vmbo(bo_addr(3), w.vm, w.G, refcount=REFCOUNT_SATURATED, extobj=True, n_va=1)
    w.vm.kref = 3
    s.lock(t, w.G.resv)
    h = s.evict(t, B, True)
    s.unlock(t, w.G.resv)
    s.expect("violation", "refcount-saturated", h, "error")
    return s, """refcount-saturated: a snapshot refcount < 0 (REFCOUNT_SATURATED = -1073741824)."""


@scenario("refcount-saturated.near-miss")
def sat_near():
    s = Sim("refcount-saturated.near-miss")
    w = W(s)
    t = w.t
    s.c("mid-flight: a sparse-bound BO with many mappings, large but valid refcount")
    B = s.adopt_vmbo(bo_addr(3), w.vm, w.G, refcount=4097, extobj=True, n_va=4096)
    w.vm.kref = 4099
    s.lock(t, w.G.resv)
    s.evict(t, B, True)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.expect_none()
    return s, """refcount-saturated near miss: large positive refcounts are fine."""


# ------------------------------------------------------------------ prealloc-reused


def _panthor612(s):
    return W(s, protected=True, vm_name="panthor",
             task=Task(1904, "panfrost-bind", cpu=3, stack_base=0xffffb6c1c0f2bc00))


@scenario("prealloc-reused.trigger")
def reused_trigger():
    s = Sim("prealloc-reused.trigger", knew=True)
    w = W(s, protected=True, immediate=True)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("B registered for (V, G) by an earlier bind")
    B = s.create(t, w.vm, w.G, bo_addr(7))
    s.obtain_prealloc(t, B)
    s.lock(t, w.vm.resv, None)
    s.extobj_add(t, B)
    s.unlock(t, w.vm.resv)
    s.c("BUG: a new pre-allocation is put on the extobj list before it is obtained")
    P = s.create(t, w.vm, w.G, bo_addr(8))
    s.lock(t, w.vm.resv, None)
    s.extobj_add(t, P)
    s.unlock(t, w.vm.resv)
    s.c("the found path frees P without unlinking it: dangling extobj entry")
    h, _ = s.obtain_prealloc(t, P)
    s.expect("violation", "prealloc-reused", h, "error")
    return s, """prealloc-reused: the obtain_prealloc argument is on a list (extobj) at entry. KNEW
contract: the found path releases it touching no list."""


@scenario("prealloc-reused.trigger-warning")
def reused_trigger_warn():
    s = Sim("prealloc-reused.trigger-warning")
    w = _panthor612(s)
    t = w.t
    s.vm_init(t, w.vm)
    P = s.create(t, w.vm, w.G, bo_addr(2))
    s.c("drm_gpuvm_bo_get(P) (invisible): the pre-allocation holds 2 references")
    P.refcount += 1
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    h, _ = s.obtain_prealloc(t, P)
    s.extobj_add(t, P)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "prealloc-reused", h, "warning")
    return s, """prealloc-reused, warning case: gen ALLOCATED, on no list, but refcount 2 at entry
('refcount > 1 alone: warning'; on the found path the extra reference leaks)."""


@scenario("prealloc-reused.near-miss")
def reused_near():
    s = Sim("prealloc-reused.near-miss")
    w = _panthor612(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("not-found path: fresh P registered")
    P = s.create(t, w.vm, w.G, bo_addr(2))
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    s.obtain_prealloc(t, P)
    s.extobj_add(t, P)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.c("found path: fresh P2 destroyed inside (R and g held), P returned with +1")
    P2 = s.create(t, w.vm, w.G, bo_addr(5))
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    s.obtain_prealloc(t, P2)
    va = w.va(4)
    s.va_insert(t, va)
    s.link(t, va, P)
    s.put(t, P)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.expect_none()
    return s, """prealloc-reused near miss: fresh pre-allocations (refcount 1, no list) on both paths."""


# ------------------------------------------------------------------ link-unregistered


@scenario("link-unregistered.trigger")
def unreg_trigger():
    s = Sim("link-unregistered.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("BUG: the driver trusts drm_gpuva_link's stale doc comment and never obtains:")
    s.c("create, then link; the vm_bo is not on the GEM's list")
    B = s.create(t, w.vm, w.G, bo_addr(3))
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    va = w.va(0)
    s.va_insert(t, va)
    h = s.link(t, va, B)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "link-unregistered", h, "error")
    return s, """link-unregistered: drm_gpuva_link entry on a vm_bo with on_gem false (ALLOCATED)."""


@scenario("link-unregistered.near-miss")
def unreg_near():
    s = Sim("link-unregistered.near-miss")
    w = _panthor612(s)
    t = w.t
    s.vm_init(t, w.vm)
    P = s.create(t, w.vm, w.G, bo_addr(2))
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    s.obtain_prealloc(t, P)
    s.extobj_add(t, P)
    va = w.va(4)
    s.va_insert(t, va)
    s.link(t, va, P)
    s.put(t, P)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.expect_none()
    return s, """link-unregistered near miss: the pre-allocation is obtained (REGISTERED) before the link."""


# ------------------------------------------------------------------ duplicate-vm-bo


@scenario("duplicate-vm-bo.trigger")
def dup_trigger():
    s = Sim("duplicate-vm-bo.trigger")
    w = W(s)
    A = Task(2841, "deqp-vk", pid=2841, cpu=1, stack_base=0xffffb6c1c0d4bc00)
    Bt = Task(2843, "deqp-vk", pid=2841, cpu=0, stack_base=0xffffb6c1c0d6bc00)
    vm, G = w.vm, w.G
    s.vm_init(A, vm)
    s.c("task A obtains WITHOUT the BO resv; task B obtains correctly; their lookups race")
    hA = s.obtain_begin(A, vm, G)
    BA = s.create(A, vm, G, bo_addr(3))
    s.lock(Bt, G.resv)
    s.obtain_begin(Bt, vm, G)
    BB = s.create(Bt, vm, G, bo_addr(4))
    s.c("A appends its vm_bo, then B appends its own: two registered vm_bos for (V, G)")
    s._register(BA)
    s.obtain_end(A, vm, G, BA)
    s._register(BB)
    hB = s.obtain_end(Bt, vm, G, BB)
    s.unlock(Bt, G.resv)
    s.expect("violation", "obtain-unlocked", hA, "error")
    s.expect("violation", "duplicate-vm-bo", hB, "error")
    return s, """duplicate-vm-bo: an unlocked obtain (obtain-unlocked) races a locked one; at the locked
obtain's exit the walk of obj->gpuva.list finds two vm_bos of this VM
(gem_list_same_vm 2), and two live REGISTERED generations share (V, G)."""


@scenario("duplicate-vm-bo.near-miss")
def dup_near():
    s = Sim("duplicate-vm-bo.near-miss")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("the same GEM in a second VM: one vm_bo per (VM, GEM), two on the GEM's list")
    w2 = W(s, vm_addr=0xffff8f0c4a3e6000, rob_addr=0xffff8f0c4b1a4000, task=t)
    w2.G = w.G
    s.vm_init(t, w2.vm)
    B1 = _obtain_locked(w, w.G, bo_addr(3))
    B2 = _obtain_locked(w2, w.G, bo_addr(4))
    s.c("obtaining (V, G) again returns the same vm_bo (+1)")
    B1b = _obtain_locked(w, w.G, bo_addr(9))
    s.lock(t, w.G.resv)
    s.put(t, B1)
    s.put(t, B1)
    s.put(t, B2)
    s.unlock(t, w.G.resv)
    s.expect_none()
    return s, """duplicate-vm-bo near miss: one GEM in two VMs, and a repeated obtain of the same pair."""


# ------------------------------------------------------------------ extobj-missing


def _bind_no_extobj(w, obj, addr, va, t=None):
    s, t = w.s, t or w.t
    private = obj.resv == w.vm.resv  # one lock: drm_exec locks it once
    s.lock(t, obj.resv)
    _, B = s.obtain(t, w.vm, obj, addr)
    s.unlock(t, obj.resv)
    s.lock(t, w.vm.resv, t.ctx)
    if not private:
        s.lock(t, obj.resv, t.ctx)
    s.va_insert(t, va)
    s.link(t, va, B)
    if not private:
        s.unlock(t, obj.resv)
    s.unlock(t, w.vm.resv)
    s.lock(t, obj.resv)
    s.put(t, B)
    s.unlock(t, obj.resv)
    return B


@scenario("extobj-missing.trigger")
def missing_trigger():
    s = Sim("extobj-missing.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("BUG: the bind of an imported (external) BO forgets drm_gpuvm_bo_extobj_add")
    _bind_no_extobj(w, w.G, bo_addr(3), w.va(0))
    s.gap(4000)
    s.c("job submission: exec_lock locks R and the extobj list's resvs; g is not among them")
    _, hx_exit, locked = s.exec_lock(t, w.vm)
    s.exec_unlock(t, locked)
    s.expect("violation", "extobj-missing", hx_exit, "error")
    return s, """extobj-missing at drm_gpuvm_exec_lock exit (ret 0): a live, mapped, external vm_bo of the VM
is not on the extobj list and its resv is not held: the job fence will miss it."""


@scenario("extobj-missing.trigger-add-fence")
def missing_trigger_fence():
    s = Sim("extobj-missing.trigger-add-fence")
    w = W(s, protected=True)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("xe-like: the bind forgets extobj_add")
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(5))
    va = w.va(1)
    s.va_insert(t, va)
    s.link(t, va, B)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.gap(4000)
    s.c("exec: the driver's own drm_exec loop locks R and calls prepare_objects, then adds the")
    s.c("job fence with drm_gpuvm_resv_add_fence: g is neither listed nor locked")
    s.lock(t, w.vm.resv, t.ctx)
    pa = {"gpuvm": hx(w.vm.addr), "exec": hx(t.ctx - 0x58 - 0x30), "num_fences": 1}
    s.ev(t, "drm_gpuvm_prepare_objects", "entry", pa,
         snap={"vm": hx(w.vm.addr), "vm_flags": w.vm.flags, "vm_resv": hx(w.vm.resv), "held_vm_resv": "yes"})
    s.ev(t, "drm_gpuvm_prepare_objects", "exit", pa, ret=0)
    h = s.add_fence(t, w.vm)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "extobj-missing", h, "error")
    return s, """extobj-missing at drm_gpuvm_resv_add_fence entry: the fence is added while a mapped
external vm_bo is off the extobj list and its resv is not held."""


@scenario("extobj-missing.near-miss")
def missing_near():
    s = Sim("extobj-missing.near-miss")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("external G: bound with extobj_add (G1)")
    g1_bind(w, bo_addr(3), w.va(0))
    s.c("private P: never needs the extobj list")
    _bind_no_extobj(w, w.P, bo_addr(4), w.va(1))
    s.c("external G2 without extobj_add, but the driver locks its resv itself in the same")
    s.c("drm_exec transaction before exec_lock")
    _bind_no_extobj(w, w.G2, bo_addr(5), w.va(2))
    s.gap(4000)
    s.lock(t, w.G2.resv, t.ctx)
    _, _, locked = s.exec_lock(t, w.vm)
    s.add_fence(t, w.vm)
    s.exec_unlock(t, locked)
    s.unlock(t, w.G2.resv)
    s.expect_none()
    return s, """extobj-missing near miss: the external BO is on the extobj list; a private BO needs no
entry; an external BO off the list whose resv current holds is covered by the fence."""


@scenario("extobj-missing.unknown")
def missing_unknown():
    s = Sim("extobj-missing.unknown")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    _bind_no_extobj(w, w.G, bo_addr(3), w.va(0))
    s.c("events lost: an extobj_add of this vm_bo may be among them")
    s.lost_record(9, cpu=1)
    _, hx_exit, locked = s.exec_lock(t, w.vm)
    s.exec_unlock(t, locked)
    s.expect("unknown", "extobj-missing", hx_exit)
    return s, """extobj-missing unknown: the same exec as the trigger after lost events; the rule needs the
vm_bo's extobj adds observed (§E.2)."""


# ------------------------------------------------------------------ deferred-never-cleaned


def _asahi(s):
    return W(s, protected=True, immediate=True, vm_name="asahi",
             task=Task(5120, "asahi-vm-close", cpu=1, stack_base=0xffffc90002a7bc00))


@scenario("deferred-never-cleaned.trigger")
def dnc_trigger():
    s = Sim("deferred-never-cleaned.trigger", knew=True)
    w = _asahi(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("GpuVmBoAlloc::new, then the bind fails before obtain: Drop for GpuVmBoAlloc")
    s.c("releases it with put_deferred (ALLOCATED -> ZOMBIE)")
    P = s.create(t, w.vm, w.G, bo_addr(7))
    s.put_deferred(t, P)
    s.gap(30_000)
    s.c("VM close without deferred_cleanup: kref 2 at entry, 1 left = the zombie's reference")
    s.vm_put(t, w.vm)
    h = s.last("drm_gpuvm_put", "exit")
    s.expect("violation", "vm-bo-leak-at-vm-destroy", h, "warning")
    s.expect("violation", "deferred-never-cleaned", h, "warning")
    return s, """deferred-never-cleaned: a ZOMBIE of V when V meets the vm-bo-leak-at-vm-destroy (a)
condition at drm_gpuvm_put: both warnings, on the put's exit line ('confirmed at exit')."""


@scenario("deferred-never-cleaned.trigger-info")
def dnc_trigger_info():
    s = Sim("deferred-never-cleaned.trigger-info", knew=True)
    s.options.append("info")
    w = W(s, protected=True, immediate=True)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.c("trace ends with the zombie still on bo_defer")
    s.expect("info", "deferred-never-cleaned", "end")
    return s, """deferred-never-cleaned at trace end: a zombie nobody drained is an info finding."""


@scenario("deferred-never-cleaned.near-miss")
def dnc_near():
    s = Sim("deferred-never-cleaned.near-miss", knew=True)
    s.options.append("info")
    w = _asahi(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.c("teardown drains bo_defer before dropping the VM: kref 1 -> drm_gpuvm_free")
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.deferred_cleanup(t, w.vm)
    s.vm_put(t, w.vm)
    s.expect_none()
    return s, """deferred-never-cleaned near miss: X5 with drm_gpuvm_bo_deferred_cleanup before the final
drm_gpuvm_put; the VM is freed empty. Checked with --info (no end-of-trace info either)."""


@scenario("deferred-never-cleaned.unknown")
def dnc_unknown():
    s = Sim("deferred-never-cleaned.unknown", knew=True)
    w = _asahi(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.c("events lost before the teardown: the VM's counts are no longer known")
    s.lost_record(40, cpu=1)
    s.vm_put(t, w.vm)
    h = s.last("drm_gpuvm_put", "exit")
    s.expect("unknown", "vm-bo-leak-at-vm-destroy", h)
    s.expect("unknown", "deferred-never-cleaned", h)
    return s, """deferred-never-cleaned unknown: X5 after lost events; both (a)-based rules need no lost
events for that VM (§E.2)."""


# ------------------------------------------------------------------ vm-bo-leak-at-vm-destroy


@scenario("vm-bo-leak-at-vm-destroy.trigger")
def leak_vm_trigger():
    s = Sim("vm-bo-leak-at-vm-destroy.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("an error path obtains a vm_bo and never puts it")
    _obtain_locked(w, w.G, bo_addr(3))
    s.gap(50_000)
    s.c("file close: the driver drops its VM reference; kref 2 -> 1 = the leaked vm_bo's")
    s.vm_put(t, w.vm)
    h = s.last("drm_gpuvm_put", "exit")
    s.expect("violation", "vm-bo-leak-at-vm-destroy", h, "warning")
    return s, """vm-bo-leak-at-vm-destroy (a): at drm_gpuvm_put, kref at entry - 1 (= 1) equals the live
vm_bo generations (1) + inserted VAs (0) of V and is > 0; no drm_gpuvm_free inside."""


@scenario("vm-bo-leak-at-vm-destroy.trigger-free")
def leak_vm_trigger_free():
    s = Sim("vm-bo-leak-at-vm-destroy.trigger-free")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    _obtain_locked(w, w.G, bo_addr(3))
    s.gap(50_000)
    s.c("close drops the VM reference (VM now held by the leaked vm_bo only) ...")
    s.vm_put(t, w.vm)
    h1 = s.last("drm_gpuvm_put", "exit")
    s.c("... BUG: and a second close path drops it again: freed with a live vm_bo")
    s.vm_put(t, w.vm)
    h2 = s.last("drm_gpuvm_free")
    s.expect("violation", "vm-bo-leak-at-vm-destroy", h1, "warning")
    s.expect("violation", "vm-bo-leak-at-vm-destroy", h2, "error")
    return s, """vm-bo-leak-at-vm-destroy (b): drm_gpuvm_free entered while a tracked vm_bo generation of V
is live (error), after the (a) warning at the first put."""


@scenario("vm-bo-leak-at-vm-destroy.near-miss")
def leak_vm_near():
    s = Sim("vm-bo-leak-at-vm-destroy.near-miss")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(0)
    g1_bind(w, bo_addr(3), va)
    s.c("drm_gpuvm_get() by a job (invisible): kref 1 (init) + 1 (vm_bo) + 1 (VA) + 1 = 4")
    w.vm.kref += 1
    s.c("the job drops it: kref 4 -> 3, two internal refs remain but one user ref too")
    s.vm_put(t, w.vm)
    g1_unbind(w, va)
    s.c("final close: kref 1 -> drm_gpuvm_free with nothing left")
    s.vm_put(t, w.vm)
    s.expect_none()
    return s, """vm-bo-leak-at-vm-destroy near miss: a VM put while vm_bos are alive but another user
reference remains (kref - 1 != internal refs), then a clean close and free."""


@scenario("vm-bo-leak-at-vm-destroy.unknown")
def leak_vm_unknown():
    s = Sim("vm-bo-leak-at-vm-destroy.unknown")
    w = W(s)
    t = w.t
    s.c("tracing started after drm_gpuvm_init: the VM is partial, its counts unknown")
    B = s.adopt_vmbo(bo_addr(3), w.vm, w.G, refcount=1)
    w.vm.kref = 2
    s.lock(t, w.G.resv)
    s.evict(t, B, False)
    s.unlock(t, w.G.resv)
    s.vm_put(t, w.vm)
    h = s.last("drm_gpuvm_put", "exit")
    s.expect("unknown", "vm-bo-leak-at-vm-destroy", h)
    return s, """vm-bo-leak-at-vm-destroy unknown: (a) needs the VM observed since drm_gpuvm_init (§E.2)."""


# ------------------------------------------------------------------ alloc-free-asymmetric


@scenario("alloc-free-asymmetric.trigger")
def asym_trigger():
    s = Sim("alloc-free-asymmetric.trigger")
    w = W(s, ops_alloc=0xffffffffc0b01a30, ops_free=0)
    h = s.vm_init(w.t, w.vm)
    s.expect("violation", "alloc-free-asymmetric", h, "warning")
    return s, """alloc-free-asymmetric, warning: only ops->vm_bo_alloc is set; kfree is then applied to the
driver's allocation (the drm_gpuvm_bo must sit at offset 0)."""


@scenario("alloc-free-asymmetric.trigger-info")
def asym_trigger_info():
    s = Sim("alloc-free-asymmetric.trigger-info", knew=True)
    s.options.append("info")
    w = W(s, protected=True, immediate=True, ops_alloc=0, ops_free=0xffffffffc0c22f10)
    h = s.vm_init(w.t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.va_remove(w.t, va)
    s.unlink_defer(w.t, va)
    s.deferred_cleanup(w.t, w.vm)
    s.expect("info", "alloc-free-asymmetric", h)
    return s, """alloc-free-asymmetric, info: only ops->vm_bo_free is set (Rust, zero-sized VmBoData with a
destructor: C allocates, Rust frees). Legal but asymmetric: info only."""


@scenario("alloc-free-asymmetric.trigger-midflight")
def asym_trigger_midflight():
    s = Sim("alloc-free-asymmetric.trigger-midflight")
    w = W(s, ops_alloc=0xffffffffc0b01a30, ops_free=0)
    t, vm = w.t, w.vm
    s.c("attached after drm_gpuvm_init: the VM's ops are first seen in a vm_bo snapshot")
    b1 = s.adopt_vmbo(bo_addr(3), vm, w.G, refcount=2)
    b2 = s.adopt_vmbo(bo_addr(6), vm, w.G2, refcount=2)
    ops = {"ops_vm_bo_alloc": hx(vm.ops_alloc), "ops_vm_bo_free": hx(vm.ops_free)}
    s.lock(t, w.G.resv)
    h = s.put(t, b1, snap_over=ops)
    s.unlock(t, w.G.resv)
    s.c("the same ops seen again: one report per VM")
    s.lock(t, w.G2.resv)
    s.put(t, b2, snap_over=ops)
    s.unlock(t, w.G2.resv)
    s.expect("violation", "alloc-free-asymmetric", h, "warning")
    return s, """alloc-free-asymmetric is snapshot-only (§E.2): a VM created before the trace is judged at the
first event whose snapshot carries its ops, here a put (the recorder reads them on every vm_bo call)."""


@scenario("alloc-free-asymmetric.near-miss")
def asym_near():
    s = Sim("alloc-free-asymmetric.near-miss")
    s.options.append("info")
    w = W(s, ops_alloc=0xffffffffc0b01a30, ops_free=0xffffffffc0b01a90)
    s.vm_init(w.t, w.vm)
    va = w.va(0)
    g1_bind(w, bo_addr(3), va)
    g1_unbind(w, va)
    w2 = W(s, vm_addr=0xffff8f0c4a3e6000, rob_addr=0xffff8f0c4b1a4000, task=w.t)
    s.vm_init(w.t, w2.vm)
    s.expect_none()
    return s, """alloc-free-asymmetric near miss: both callbacks set, or neither. Checked with --info."""


# ------------------------------------------------------------------ vm-bo-leak


@scenario("vm-bo-leak.trigger")
def leak_trigger():
    s = Sim("vm-bo-leak.trigger")
    s.options.append("info")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("a pre-allocation nobody obtained or put, and a registered vm_bo left without VAs")
    s.create(t, w.vm, w.G2, bo_addr(4))
    _obtain_locked(w, w.G, bo_addr(3))
    s.expect("info", "vm-bo-leak", "end")
    s.expect("info", "vm-bo-leak", "end")
    return s, """vm-bo-leak: at trace end one vm_bo is ALLOCATED (created, never obtained nor put) and one
is REGISTERED with no VA; both idle (default --idle 0): two infos."""


@scenario("vm-bo-leak.near-miss")
def leak_near():
    s = Sim("vm-bo-leak.near-miss")
    s.options.append("info")
    w = W(s)
    s.vm_init(w.t, w.vm)
    s.c("bound and still mapped at trace end: in use, not leaked")
    g1_bind(w, bo_addr(3), w.va(0))
    s.expect_none()
    return s, """vm-bo-leak near miss: the only vm_bo is REGISTERED with a linked VA at trace end."""


# ------------------------------------------------------------------ added cases


@scenario("use-after-free.trigger-zombie")
def uaf_trigger_zombie():
    s = Sim("use-after-free.trigger-zombie", knew=True)
    w = W(s, protected=True, immediate=True)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    P = g3_bind(w, bo_addr(7), va)
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.c("P is a ZOMBIE (refcount 0, on bo_defer). BUG: a remap links a new VA to the cached")
    s.c("vm_bo pointer instead of obtaining again")
    va2 = w.va(3)
    s.va_insert(t, va2)
    s.mlock(t, w.G.gpuva_mutex)
    h = s.link(t, va2, P)
    s.munlock(t, w.G.gpuva_mutex)
    s.expect("violation", "use-after-free", h, "error")
    return s, """use-after-free: drm_gpuva_link on a ZOMBIE (§E.1). Like X4, the stale pointer is the one
root cause: the unregistered state of that memory is not reported separately."""


@scenario("duplicate-vm-bo.trigger-tracker")
def dup_trigger_tracker():
    s = Sim("duplicate-vm-bo.trigger-tracker")
    s.walk = False
    w = W(s)
    A = Task(2841, "deqp-vk", pid=2841, cpu=1, stack_base=0xffffb6c1c0d4bc00)
    Bt = Task(2843, "deqp-vk", pid=2841, cpu=0, stack_base=0xffffb6c1c0d6bc00)
    vm, G = w.vm, w.G
    s.c("this recorder does not walk obj->gpuva.list (no gem_list_same_vm): only the tracker")
    s.c("form of the rule can see the duplicate")
    s.vm_init(A, vm)
    hA = s.obtain_begin(A, vm, G)
    BA = s.create(A, vm, G, bo_addr(3))
    s.lock(Bt, G.resv)
    s.obtain_begin(Bt, vm, G)
    BB = s.create(Bt, vm, G, bo_addr(4))
    s._register(BA)
    s.obtain_end(A, vm, G, BA)
    s._register(BB)
    hB = s.obtain_end(Bt, vm, G, BB)
    s.unlock(Bt, G.resv)
    s.expect("violation", "obtain-unlocked", hA, "error")
    s.expect("violation", "duplicate-vm-bo", hB, "error")
    return s, """duplicate-vm-bo, tracker form: the race of duplicate-vm-bo.trigger recorded without the
list walk; two observed live REGISTERED generations share (V, G) once the second
obtain returns."""


@scenario("mt-iterator-final-put")
def mt_iterator():
    s = Sim("mt-iterator-final-put")
    w = W(s)
    A = Task(2841, "deqp-vk", pid=2841, cpu=1, stack_base=0xffffb6c1c0d4bc00)
    Bt = Task(2852, "deqp-vk", pid=2841, cpu=0, stack_base=0xffffb6c1c0d9bc00)
    vm, G = w.vm, w.G
    s.vm_init(A, vm)
    va = w.va(0)
    B = g1_bind(w, bo_addr(3), va, t=A)
    s.gap(3000)
    s.c("task A submits: exec_lock -> prepare_objects (unprotected) pops B from the extobj")
    s.c("list and takes a temporary reference (kref_get_unless_zero: invisible, ref 2)")
    vm_exec = A.ctx - 0x58 - 0x40
    s.ev(A, "drm_gpuvm_exec_lock", "entry", {"vm_exec": hx(vm_exec), "gpuvm": hx(vm.addr)},
         snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_resv": hx(vm.resv), "held_vm_resv": "no"})
    s.lock(A, vm.resv, A.ctx)
    pa = {"gpuvm": hx(vm.addr), "exec": hx(vm_exec + 0x10), "num_fences": 1}
    s.ev(A, "drm_gpuvm_prepare_objects", "entry", pa,
         snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_resv": hx(vm.resv), "held_vm_resv": "yes"})
    B.refcount += 1
    s.c("task B holds g and unmaps the last VA meanwhile: its unlink's put is not final")
    s.lock(Bt, G.resv)
    s.ev(A, "ww_mutex_lock", "entry", {"lock": hx(G.resv), "ctx": hx(A.ctx)}, snap={"held": "no"})
    s.va_remove(Bt, va)
    s.unlink(Bt, va)
    s.unlock(Bt, G.resv)
    s.c("A gets g, then drops the iterator's reference: the final put, under g (T13)")
    s.owner[G.resv] = A.tid
    s.ev(A, "ww_mutex_lock", "exit", {"lock": hx(G.resv), "ctx": hx(A.ctx)}, ret=0)
    s.put(A, B)
    s.ev(A, "drm_gpuvm_prepare_objects", "exit", pa, ret=0)
    s.ev(A, "drm_gpuvm_exec_lock", "exit", {"vm_exec": hx(vm_exec), "gpuvm": hx(vm.addr)}, ret=0)
    s.add_fence(A, vm)
    s.unlock(A, G.resv)
    s.unlock(A, vm.resv)
    s.expect_none()
    return s, """Two tasks, no finding: an unprotected prepare_objects holds a temporary reference while
another task unlinks the last VA; the iterator's own put (nested in prepare_objects,
gpuva lock held) is then the destroying one (§A.3, T13)."""
