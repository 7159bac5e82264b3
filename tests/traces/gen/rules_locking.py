# SPDX-License-Identifier: GPL-2.0-only
"""Traces for the locking rules of vm_bo-lifecycle.md §E.1."""

from sim import Sim, Task, hx
from world import scenario, W, bo_addr, g1_bind, g1_unbind, g2_bind, g3_bind

# ------------------------------------------------------------------ extobj-add-unlocked


@scenario("extobj-add-unlocked.trigger")
def extobj_trigger():
    s = Sim("extobj-add-unlocked.trigger")
    w = W(s, protected=True)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("bind: obtain under drm_exec (R and g locked), then drm_exec_fini drops both")
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(4))
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.c("BUG: a later path adds the external BO to the extobj list with nothing locked")
    h = s.extobj_add(t, B)
    s.expect("violation", "extobj-add-unlocked", h, "error")
    return s, """extobj-add-unlocked, error case: RESV_PROTECTED VM, G external (own resv), VM resv not
held at drm_gpuvm_bo_extobj_add entry (§E.1)."""


@scenario("extobj-add-unlocked.trigger-private")
def extobj_trigger_private():
    s = Sim("extobj-add-unlocked.trigger-private")
    w = W(s, protected=True)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("private BO: its resv IS the VM resv; obtain under it")
    s.lock(t, w.vm.resv, t.ctx)
    _, B = s.obtain(t, w.vm, w.P, bo_addr(4))
    s.unlock(t, w.vm.resv)
    s.c("extobj_add unlocked on a private BO: no list change, but the assertion is broken")
    h = s.extobj_add(t, B)
    s.expect("violation", "extobj-add-unlocked", h, "warning")
    return s, """extobj-add-unlocked, warning case: RESV_PROTECTED VM, private GEM (obj->resv == VM
resv), VM resv not held: no list change, but lockdep would fire (§E.1 severity split)."""


@scenario("extobj-add-unlocked.near-miss")
def extobj_near():
    s = Sim("extobj-add-unlocked.near-miss")
    w = W(s, protected=True)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("protected VM: extobj_add with the VM resv held (external and private BO)")
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(4))
    s.extobj_add(t, B)
    s.unlock(t, w.G.resv)
    _, BP = s.obtain(t, w.vm, w.P, bo_addr(5))
    s.extobj_add(t, BP)
    s.unlock(t, w.vm.resv)
    s.c("a second, unprotected VM (nouveau): extobj_add under GPUVM's spinlock, no resv needed")
    w2 = W(s, vm_addr=0xffff8f0c4a3e6000, rob_addr=0xffff8f0c4b1a4000, gem_base=0xffff8f0c51b0a000, task=t)
    s.vm_init(t, w2.vm)
    s.lock(t, w2.G.resv)
    _, B2 = s.obtain(t, w2.vm, w2.G, bo_addr(6))
    s.unlock(t, w2.G.resv)
    s.extobj_add(t, B2)
    s.expect_none()
    return s, """extobj-add-unlocked near miss: on a RESV_PROTECTED VM with the VM resv held (external and
private GEM), and on an unprotected VM without any resv (spinlock path). No finding."""


@scenario("extobj-add-unlocked.unknown")
def extobj_unknown():
    s = Sim("extobj-add-unlocked.unknown", kernel="6.12.95+deb12-rt-amd64", locks="partial")
    s.held_unknown = True
    w = W(s, protected=True)
    t = w.t
    s.c("PREEMPT_RT kernel without the RT CO-RE flavours: owner words unreadable (held_* unknown),")
    s.c("no lock probes. Tracing starts mid-flight: B already registered for (V, G).")
    B = s.adopt_vmbo(bo_addr(4), w.vm, w.G, refcount=1)
    w.vm.kref = 2
    h = s.extobj_add(t, B)
    s.expect("unknown", "extobj-add-unlocked", h)
    return s, """extobj-add-unlocked unknown: RESV_PROTECTED VM, external GEM, but whether current holds
the VM resv is unknown (held_vm_resv "unknown"): the rule applies, evidence is missing."""


# ------------------------------------------------------------------ evict-unlocked


@scenario("evict-unlocked.trigger")
def evict_trigger():
    s = Sim("evict-unlocked.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    g1_bind(w, bo_addr(3), w.va(0))
    s.gap(5000)
    shrinker = Task(61, "kswapd0", cpu=0, stack_base=0xffffb6c1c0123c00)
    s.c("BUG: a shrinker path marks the vm_bo evicted without the BO resv")
    B = s.vmbo_by_addr[bo_addr(3)]
    h = s.evict(shrinker, B, True)
    s.expect("violation", "evict-unlocked", h, "error")
    return s, """evict-unlocked: drm_gpuvm_bo_evict entered while current does not hold the BO resv
(§E.1; the evicted flag and the evict list are BO-resv protected)."""


@scenario("evict-unlocked.near-miss")
def evict_near():
    s = Sim("evict-unlocked.near-miss")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = g1_bind(w, bo_addr(3), w.va(0))
    s.gap(5000)
    s.c("TTM move: the BO resv is held by the mover, as nouveau_bo_move does")
    mover = Task(188, "kworker/u8:3", cpu=1, stack_base=0xffffb6c1c0456c00)
    s.lock(mover, w.G.resv)
    s.evict(mover, B, True)
    s.unlock(mover, w.G.resv)
    s.c("validate path restores it, again under the BO resv")
    s.lock(t, w.G.resv)
    s.evict(t, B, False)
    s.unlock(t, w.G.resv)
    s.expect_none()
    return s, """evict-unlocked near miss: eviction and restore, each under the BO resv. No finding."""


# ------------------------------------------------------------------ obtain-unlocked


@scenario("obtain-unlocked.trigger")
def obtain_trigger():
    s = Sim("obtain-unlocked.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("BUG: obtain without the gpuva lock (the BO resv on K612)")
    h, B = s.obtain(t, w.vm, w.G, bo_addr(3))
    s.expect("violation", "obtain-unlocked", h, "error")
    return s, """obtain-unlocked: drm_gpuvm_bo_obtain entered without the gpuva lock (K612: obj->resv).
The nested create and the registration follow; only the entry is a finding."""


@scenario("obtain-unlocked.trigger-find")
def obtain_trigger_find():
    s = Sim("obtain-unlocked.trigger-find")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = g1_bind(w, bo_addr(3), w.va(0))
    s.gap(2000)
    s.c("BUG: lookup and unmap-ops creation without the BO resv")
    h1, _ = s.find(t, w.vm, w.G)
    h2 = s.unmap_ops_create(t, B)
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.expect("violation", "obtain-unlocked", h1, "error")
    s.expect("violation", "obtain-unlocked", h2, "error")
    return s, """obtain-unlocked on the other lookups: drm_gpuvm_bo_find and drm_gpuvm_bo_unmap_ops_create
entered without the gpuva lock. The find's reference is then dropped properly."""


@scenario("obtain-unlocked.near-miss")
def obtain_near():
    s = Sim("obtain-unlocked.near-miss")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    B = g1_bind(w, bo_addr(3), w.va(0))
    s.c("find and unmap_ops_create under the BO resv; the find reference is dropped")
    s.lock(t, w.G.resv)
    s.find(t, w.vm, w.G)
    s.unmap_ops_create(t, B)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.c("an obtain under the lock whose allocation fails: ERR_PTR(-ENOMEM), nothing created")
    s.lock(t, w.G2.resv)
    s.obtain_enomem(t, w.vm, w.G2)
    s.unlock(t, w.G2.resv)
    s.expect_none()
    return s, """obtain-unlocked near miss: obtain, find and unmap_ops_create with the gpuva lock held, and
an obtain failing with -ENOMEM under the lock."""


@scenario("obtain-unlocked.near-miss-prealloc")
def obtain_near_prealloc():
    s = Sim("obtain-unlocked.near-miss-prealloc", knew=True)
    w = W(s, protected=True, immediate=True)
    s.vm_init(w.t, w.vm)
    s.c("KNEW (prealloc_self_locks): obtain_prealloc takes G.gpuva.lock itself; the caller")
    s.c("must NOT hold it, so 'not held' at entry is correct here")
    g3_bind(w, bo_addr(7), w.va(2))
    s.expect_none()
    return s, """obtain-unlocked near miss on KNEW: drm_gpuvm_bo_obtain_prealloc with prealloc_self_locks
is exempt (§E.1: 'without prealloc_self_locks'); the caller does not hold the lock."""


@scenario("obtain-unlocked.unknown")
def obtain_unknown():
    s = Sim("obtain-unlocked.unknown")
    w = W(s, protected=True, vm_name="panthor",
          task=Task(1904, "panfrost-bind", cpu=3, stack_base=0xffffb6c1c0f2bc00))
    t = w.t
    w.G.gpuva_lock_unknown = True
    s.vm_init(t, w.vm)
    s.c("panthor on K612 registers its own gpuva_list_lock; without LOCKDEP and without a")
    s.c("per-driver locator the gpuva lock cannot be resolved: held_gpuva_lock unknown")
    P = s.create(t, w.vm, w.G, bo_addr(2))
    s.lock(t, w.vm.resv, t.ctx)
    h, _ = s.obtain_prealloc(t, P)
    s.extobj_add(t, P)
    s.unlock(t, w.vm.resv)
    s.expect("unknown", "obtain-unlocked", h)
    return s, """obtain-unlocked unknown: the gpuva lock of this GEM is a driver lock no locator resolves
(§C.4): the rule stays silent as a violation and answers unknown."""


# ------------------------------------------------------------------ link-unlocked


@scenario("link-unlocked.trigger")
def link_trigger():
    s = Sim("link-unlocked.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.lock(t, w.G.resv)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(3))
    s.unlock(t, w.G.resv)
    s.extobj_add(t, B)
    s.c("BUG: only the VM resv is locked around insert + link")
    s.lock(t, w.vm.resv, t.ctx)
    va = w.va(0)
    s.va_insert(t, va)
    h = s.link(t, va, B)
    s.unlock(t, w.vm.resv)
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.expect("violation", "link-unlocked", h, "error")
    return s, """link-unlocked: drm_gpuva_link entered without the gpuva lock (K612: the BO resv)."""


@scenario("link-unlocked.trigger-immediate")
def link_trigger_imm():
    s = Sim("link-unlocked.trigger-immediate", knew=True)
    w = W(s, protected=True, immediate=True)
    t = w.t
    s.vm_init(t, w.vm)
    P = s.create(t, w.vm, w.G, bo_addr(7))
    s.obtain_prealloc(t, P)
    s.lock(t, w.vm.resv, None)
    s.extobj_add(t, P)
    s.unlock(t, w.vm.resv)
    s.c("BUG: in immediate mode the gpuva lock is G.gpuva.lock; holding the BO resv is not it")
    va = w.va(2)
    s.va_insert(t, va)
    s.lock(t, w.G.resv, None)
    h = s.link(t, va, P)
    s.unlock(t, w.G.resv)
    s.put_deferred(t, P)
    s.expect("violation", "link-unlocked", h, "error")
    return s, """link-unlocked, mode-dependent lock (§A.3, §C.4): on an IMMEDIATE_MODE VM of a 6.18+ kernel
the gpuva lock is obj->gpuva.lock; linking under the BO resv only is a violation."""


@scenario("link-unlocked.near-miss")
def link_near():
    s = Sim("link-unlocked.near-miss")
    w = W(s)
    s.vm_init(w.t, w.vm)
    va = w.va(0)
    g1_bind(w, bo_addr(3), va)
    g1_unbind(w, va)
    s.expect_none()
    return s, """link-unlocked near miss: link and unlink with the BO resv held (G1)."""


@scenario("link-unlocked.near-miss-immediate")
def link_near_imm():
    s = Sim("link-unlocked.near-miss-immediate", knew=True)
    w = W(s, protected=True, immediate=True)
    s.vm_init(w.t, w.vm)
    s.c("immediate mode: link under G.gpuva.lock with the BO resv NOT held is correct")
    w2 = W(s, protected=True, vm_addr=0xffff8f0c4a3e6000, rob_addr=0xffff8f0c4b1a4000,
           gem_base=0xffff8f0c51b0a000, task=w.t, vm_name="xe")
    g3_bind(w, bo_addr(7), w.va(2))
    s.c("a staged-mode VM on the same kernel: there the gpuva lock is the BO resv")
    t = w.t
    s.vm_init(t, w2.vm)
    s.lock(t, w2.vm.resv, t.ctx)
    s.lock(t, w2.G.resv, t.ctx)
    _, B = s.obtain(t, w2.vm, w2.G, bo_addr(9), fn="drm_gpuvm_bo_obtain_locked")
    s.extobj_add(t, B)
    va = w2.va(5)
    s.va_insert(t, va)
    s.link(t, va, B)
    s.put(t, B)
    s.unlock(t, w2.G.resv)
    s.unlock(t, w2.vm.resv)
    s.expect_none()
    return s, """link-unlocked near miss on KNEW: immediate-mode VM links under obj->gpuva.lock (BO resv
not held); a staged-mode VM on the same kernel links under the BO resv."""


# ------------------------------------------------------------------ put-final-unlocked


@scenario("put-final-unlocked.trigger")
def put_final_trigger():
    s = Sim("put-final-unlocked.trigger")
    w = W(s, protected=True)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(1)
    g2_bind(w, bo_addr(5), va)
    s.gap(3000)
    s.c("BUG: unbind holds the BO resv (the gpuva lock) but not the VM resv; the unlink's")
    s.c("put is final, and the VM is RESV_PROTECTED")
    s.lock(t, w.G.resv, t.ctx)
    s.va_remove(t, va)
    s.unlink(t, va)
    h = s.last("drm_gpuvm_bo_put", "exit")
    s.unlock(t, w.G.resv)
    s.expect("violation", "put-final-unlocked", h, "error")
    return s, """put-final-unlocked, protected branch: the destroying put (refcount 1 at entry, returns 1)
needs the VM resv on a RESV_PROTECTED VM; only the gpuva lock is held. The unlink itself
is fine (gpuva lock held)."""


@scenario("put-final-unlocked.near-miss")
def put_final_near():
    s = Sim("put-final-unlocked.near-miss")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(0)
    B = g1_bind(w, bo_addr(3), va)
    s.c("a lookup takes a reference (B: 2)")
    s.lock(t, w.G.resv)
    s.find(t, w.vm, w.G)
    s.unlock(t, w.G.resv)
    s.c("that reference is dropped with no lock held: refcount 2 at entry, not final")
    s.put(t, B)
    g1_unbind(w, va)
    s.c("a private BO on a protected VM: its gpuva lock and the VM resv are the same lock,")
    s.c("so holding R alone covers a final put")
    w2 = W(s, protected=True, vm_addr=0xffff8f0c4a3e6000, rob_addr=0xffff8f0c4b1a4000,
           gem_base=0xffff8f0c51b0a000, task=t)
    s.vm_init(t, w2.vm)
    s.lock(t, w2.vm.resv, t.ctx)
    _, BP = s.obtain(t, w2.vm, w2.P, bo_addr(7))
    s.put(t, BP)
    s.unlock(t, w2.vm.resv)
    s.expect_none()
    return s, """put-final-unlocked near miss: a put with refcount 2 and no lock held is not a destroying
put; the final put (in the unlink) holds the gpuva lock; a private BO's final put on a
protected VM under the one shared resv."""


@scenario("put-final-unlocked.unknown")
def put_final_unknown():
    s = Sim("put-final-unlocked.unknown")
    w = W(s, protected=True, vm_name="panthor",
          task=Task(1904, "panfrost-bind", cpu=3, stack_base=0xffffb6c1c0f2bc00))
    t = w.t
    w.G.gpuva_lock_unknown = True
    s.c("mid-flight: B registered before tracing; panthor's custom gpuva lock is unresolved")
    B = s.adopt_vmbo(bo_addr(2), w.vm, w.G, refcount=1, extobj=True)
    w.vm.kref = 2
    s.lock(t, w.vm.resv, t.ctx)
    s.put(t, B)
    h = s.last("drm_gpuvm_bo_put", "exit")
    s.unlock(t, w.vm.resv)
    s.expect("unknown", "put-final-unlocked", h)
    return s, """put-final-unlocked unknown: a destroying put (refcount 1, returns 1) with the VM resv held,
but whether the (unresolved, driver-specific) gpuva lock is held is unknown."""


# ------------------------------------------------------------------ gem-freed-under-gpuva-lock


def _panthor_knew(s):
    return W(s, protected=True, immediate=True, vm_name="panthor",
             task=Task(2210, "gnome-shell", cpu=0, stack_base=0xffffc90000e3bc00))


@scenario("gem-freed-under-gpuva-lock.trigger")
def gem_freed_trigger():
    s = Sim("gem-freed-under-gpuva-lock.trigger", knew=True)
    w = _panthor_knew(s)
    t = w.t
    w.G.refcount = 1  # only the userspace handle
    s.vm_init(t, w.vm)
    P = s.create(t, w.vm, w.G, bo_addr(2))
    s.obtain_prealloc(t, P)
    s.lock(t, w.vm.resv, None)
    s.extobj_add(t, P)
    s.unlock(t, w.vm.resv)
    s.c("userspace closes the GEM handle: the vm_bo now holds the last GEM reference")
    w.G.refcount -= 1
    s.gap(8000)
    s.c("BUG: final put under G.gpuva.lock without retaining the GEM first: the put frees the")
    s.c("GEM, and with it the mutex current still holds")
    s.lock(t, w.vm.resv, None)
    s.mlock(t, w.G.gpuva_mutex)
    s.put(t, P)
    h = s.last("drm_gpuvm_bo_put", "exit")
    s.munlock(t, w.G.gpuva_mutex)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "gem-freed-under-gpuva-lock", h, "error")
    return s, """gem-freed-under-gpuva-lock: a destroying drm_gpuvm_bo_put entered with obj->gpuva.lock held
by current and GEM refcount 1 (the vm_bo's): the GEM, and the mutex inside it, are freed
while held. panthor retains the GEM before the put for exactly this reason."""


@scenario("gem-freed-under-gpuva-lock.near-miss")
def gem_freed_near():
    s = Sim("gem-freed-under-gpuva-lock.near-miss", knew=True)
    w = _panthor_knew(s)
    t = w.t
    w.G.refcount = 1
    s.vm_init(t, w.vm)
    P = s.create(t, w.vm, w.G, bo_addr(2))
    s.obtain_prealloc(t, P)
    s.lock(t, w.vm.resv, None)
    s.extobj_add(t, P)
    s.unlock(t, w.vm.resv)
    w.G.refcount -= 1
    s.gap(8000)
    s.c("panthor_vm_bo_put: drm_gem_object_get() first (invisible): GEM refcount 2 at the put")
    w.G.refcount += 1
    s.lock(t, w.vm.resv, None)
    s.mlock(t, w.G.gpuva_mutex)
    s.put(t, P)
    s.munlock(t, w.G.gpuva_mutex)
    s.unlock(t, w.vm.resv)
    s.c("then drm_gem_object_put() outside the lock frees the GEM (invisible)")
    w.G.refcount -= 1
    s.expect_none()
    return s, """gem-freed-under-gpuva-lock near miss: the same final put, but the driver retained the GEM
(GEM refcount 2 at entry), so the mutex survives until after the unlock."""


# ------------------------------------------------------------------ gpuva-lock-recursion


def _tyr(s, **kw):
    return W(s, protected=True, immediate=True, **kw)


@scenario("gpuva-lock-recursion.trigger")
def recursion_trigger():
    s = Sim("gpuva-lock-recursion.trigger", knew=True)
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.c("BUG: unmap inside a lock_gpuva() guard scope: unlink_defer takes G.gpuva.lock itself")
    s.va_remove(t, va)
    s.mlock(t, w.G.gpuva_mutex)
    h = s.unlink_defer(t, va, hang=True)
    s.c("(the task blocks on its own mutex: nothing more from it)")
    s.expect("violation", "gpuva-lock-recursion", h, "error")
    return s, """gpuva-lock-recursion: drm_gpuva_unlink_defer (always locks obj->gpuva.lock) entered while
current holds that mutex: self-deadlock; the nested mutex_lock never returns."""


@scenario("gpuva-lock-recursion.trigger-prealloc")
def recursion_trigger_prealloc():
    s = Sim("gpuva-lock-recursion.trigger-prealloc", knew=True)
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    P = s.create(t, w.vm, w.G, bo_addr(7))
    s.c("BUG: obtain_prealloc (prealloc_self_locks) called with G.gpuva.lock already held")
    s.mlock(t, w.G.gpuva_mutex)
    h = s.ev(t, "drm_gpuvm_bo_obtain_prealloc", "entry", {"vm_bo": hx(P.addr)}, snap=s.bo_snap(t, P))
    s.mlock(t, w.G.gpuva_mutex, hang=True)
    s.expect("violation", "gpuva-lock-recursion", h, "error")
    return s, """gpuva-lock-recursion: drm_gpuvm_bo_obtain_prealloc with prealloc_self_locks entered while
current holds obj->gpuva.lock: self-deadlock."""


@scenario("gpuva-lock-recursion.trigger-put-deferred")
def recursion_trigger_put():
    s = Sim("gpuva-lock-recursion.trigger-put-deferred", knew=True)
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    P = s.create(t, w.vm, w.G, bo_addr(7))
    s.obtain_prealloc(t, P)
    s.lock(t, w.vm.resv, None)
    s.extobj_add(t, P)
    s.unlock(t, w.vm.resv)
    s.c("BUG: the last ARef is dropped inside a lock_gpuva() scope: put_deferred's")
    s.c("kref_put_mutex takes G.gpuva.lock on the last reference")
    s.mlock(t, w.G.gpuva_mutex)
    _, m = s.put_deferred(t, P, hang=True)
    s.c("the nested lock attempt on the mutex current owns is observed: certain deadlock")
    s.expect("violation", "gpuva-lock-recursion", m, "error")
    return s, """gpuva-lock-recursion via drm_gpuvm_bo_put_deferred: it locks obj->gpuva.lock only on its
last reference, so the rule reports only when the nested mutex_lock by current on the
mutex it holds is observed; reported at that nested lock event."""


@scenario("gpuva-lock-recursion.unknown")
def recursion_unknown():
    s = Sim("gpuva-lock-recursion.unknown", knew=True, locks="partial")
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("no mutex probes on this recording (coverage.locks partial); held_* still read from")
    s.c("the owner words")
    P = s.create(t, w.vm, w.G, bo_addr(7))
    s.obtain_prealloc(t, P)
    s.lock(t, w.vm.resv, None)
    s.extobj_add(t, P)
    s.unlock(t, w.vm.resv)
    s.mlock(t, w.G.gpuva_mutex)
    s.c("put_deferred with G.gpuva.lock held and refcount 1 at entry; no exit ever comes")
    h = s.ev(t, "drm_gpuvm_bo_put_deferred", "entry", {"vm_bo": hx(P.addr)}, snap=s.bo_snap(t, P))
    s.expect("unknown", "gpuva-lock-recursion", h)
    return s, """gpuva-lock-recursion unknown: put_deferred entered holding obj->gpuva.lock, but the nested
lock attempt cannot be observed (no mutex probes): §E.1 'else unknown'."""


@scenario("gpuva-lock-recursion.near-miss")
def recursion_near():
    s = Sim("gpuva-lock-recursion.near-miss", knew=True)
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.c("unmap outside the guard scope: unlink_defer takes and releases the lock itself")
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.deferred_cleanup(t, w.vm)
    s.expect_none()
    return s, """gpuva-lock-recursion near miss: the self-locking calls are made without holding
obj->gpuva.lock (G3 with the lock_gpuva() guard dropped before the unmap)."""


# ------------------------------------------------------------------ deferred-cleanup-resv-held


def _zombie(w, P_addr, va):
    s, t = w.s, w.t
    g3_bind(w, P_addr, va)
    s.va_remove(t, va)
    s.unlink_defer(t, va)


@scenario("deferred-cleanup-resv-held.trigger")
def cleanup_trigger():
    s = Sim("deferred-cleanup-resv-held.trigger", knew=True)
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    _zombie(w, bo_addr(7), w.va(2))
    s.c("BUG: the driver drains bo_defer from inside its drm_exec section (VM resv held)")
    s.lock(t, w.vm.resv, t.ctx)
    _, nested = s.deferred_cleanup(t, w.vm, hang=True)
    s.c("cleanup locks the VM resv with a NULL context: self-deadlock, never returns")
    s.expect("violation", "deferred-cleanup-resv-held", nested, "error")
    return s, """deferred-cleanup-resv-held: drm_gpuvm_bo_deferred_cleanup of a protected VM entered with
the VM resv held and a zombie pending; its nested ww_mutex_lock(vm_resv, NULL) is observed.
Reported at that nested lock event, where it replaces lock-unbalanced (§E.1)."""


@scenario("deferred-cleanup-resv-held.near-miss")
def cleanup_near():
    s = Sim("deferred-cleanup-resv-held.near-miss", knew=True)
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("G3 lines 1-5: the deferred cleanup there runs with an empty bo_defer")
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.c("cleanup with the VM resv held but nothing pending: nothing is locked, no report")
    s.lock(t, w.vm.resv, t.ctx)
    s.deferred_cleanup(t, w.vm)
    s.unlock(t, w.vm.resv)
    s.c("unmap, then the real drain outside the drm_exec section")
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.deferred_cleanup(t, w.vm)
    s.expect_none()
    return s, """deferred-cleanup-resv-held near miss: with the VM resv held the cleanup finds bo_defer
empty and locks nothing (§E.1: no report); the draining cleanup runs without the resv."""


@scenario("deferred-cleanup-resv-held.unknown")
def cleanup_unknown():
    s = Sim("deferred-cleanup-resv-held.unknown", knew=True, locks="partial")
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("no lock probes on this recording; held_* still read from owner words")
    _zombie(w, bo_addr(7), w.va(2))
    s.lock(t, w.vm.resv, t.ctx)
    h, _ = s.deferred_cleanup(t, w.vm, hang=True)
    s.c("a zombie is pending and the VM resv is held, but the nested lock cannot be seen;")
    s.c("the call never returns")
    s.expect("unknown", "deferred-cleanup-resv-held", h)
    return s, """deferred-cleanup-resv-held unknown: entered with the VM resv held and a zombie pending,
but the nested lock events needed by this rule (§E.2) are not recorded."""


# ------------------------------------------------------------------ mode-mismatch


def _xe_knew(s, **kw):
    return W(s, protected=True, immediate=False, vm_name="xe", **kw)


@scenario("mode-mismatch.trigger")
def mode_trigger():
    s = Sim("mode-mismatch.trigger", knew=True)
    w = _xe_knew(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(5), fn="drm_gpuvm_bo_obtain_locked")
    s.extobj_add(t, B)
    va = w.va(1)
    s.va_insert(t, va)
    s.link(t, va, B)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.c("BUG: the staged-mode VM drops the obtain reference with the deferred API")
    h, _ = s.put_deferred(t, B)
    s.expect("violation", "mode-mismatch", h, "warning")
    return s, """mode-mismatch: drm_gpuvm_bo_put_deferred on a VM without IMMEDIATE_MODE (the kernel
drm_WARNs). The put is not the last one (refcount 2), so nothing else happens."""


@scenario("mode-mismatch.trigger-obtain-locked")
def mode_trigger_obtain():
    s = Sim("mode-mismatch.trigger-obtain-locked", knew=True)
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.c("BUG: obtain_locked (allocates under the gpuva lock) on an immediate-mode VM")
    s.mlock(t, w.G.gpuva_mutex)
    h, B = s.obtain(t, w.vm, w.G, bo_addr(7), fn="drm_gpuvm_bo_obtain_locked")
    s.munlock(t, w.G.gpuva_mutex)
    s.lock(t, w.vm.resv, None)
    s.extobj_add(t, B)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "mode-mismatch", h, "warning")
    return s, """mode-mismatch: drm_gpuvm_bo_obtain_locked on an IMMEDIATE_MODE VM (it would allocate
under obj->gpuva.lock in the fence-signalling path). The gpuva lock is held, so no
obtain-unlocked."""


@scenario("mode-mismatch.trigger-prealloc")
def mode_trigger_prealloc():
    s = Sim("mode-mismatch.trigger-prealloc", knew=True)
    w = _xe_knew(s)
    t = w.t
    s.vm_init(t, w.vm)
    P = s.create(t, w.vm, w.G, bo_addr(5))
    s.c("BUG: obtain_prealloc (prealloc_self_locks kernel) on a staged-mode VM")
    s.lock(t, w.vm.resv, t.ctx)
    h, B = s.obtain_prealloc(t, P)
    s.extobj_add(t, B)
    s.unlock(t, w.vm.resv)
    s.expect("violation", "mode-mismatch", h, "warning")
    s.c("gpuva-lock-recursion asks whether current holds obj->gpuva.lock at entry; on a staged")
    s.c("VM the snapshot's held_gpuva_lock names the BO resv (§C.4), so that is unknown")
    s.expect("unknown", "gpuva-lock-recursion", h)
    return s, """mode-mismatch: drm_gpuvm_bo_obtain_prealloc with prealloc_self_locks on a VM without
IMMEDIATE_MODE (the kernel warns unless immediate)."""


@scenario("mode-mismatch.near-miss")
def mode_near():
    s = Sim("mode-mismatch.near-miss", knew=True)
    w = _tyr(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(2)
    g3_bind(w, bo_addr(7), va)
    s.va_remove(t, va)
    s.unlink_defer(t, va)
    s.deferred_cleanup(t, w.vm)
    s.c("a staged-mode VM uses obtain_locked and the plain put")
    w2 = _xe_knew(s, vm_addr=0xffff8f0c4a3e6000, rob_addr=0xffff8f0c4b1a4000, gem_base=0xffff8f0c51b0a000,
                  task=t)
    s.vm_init(t, w2.vm)
    s.lock(t, w2.vm.resv, t.ctx)
    s.lock(t, w2.G.resv, t.ctx)
    _, B = s.obtain(t, w2.vm, w2.G, bo_addr(9), fn="drm_gpuvm_bo_obtain_locked")
    s.extobj_add(t, B)
    va2 = w2.va(5)
    s.va_insert(t, va2)
    s.link(t, va2, B)
    s.put(t, B)
    s.unlock(t, w2.G.resv)
    s.unlock(t, w2.vm.resv)
    s.expect_none()
    return s, """mode-mismatch near miss: each API in its own mode on one KNEW kernel: the immediate VM
uses obtain_prealloc / put_deferred / unlink_defer / deferred_cleanup, the staged VM
obtain_locked / drm_gpuvm_bo_put."""


# ------------------------------------------------------------------ lock-unbalanced


@scenario("lock-unbalanced.trigger")
def lock_trigger():
    s = Sim("lock-unbalanced.trigger")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.lock(t, w.G.resv)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(3))
    s.unlock(t, w.G.resv)
    s.extobj_add(t, B)
    s.c("BUG: an error path unlocks the BO resv a second time")
    h = s.unlock(t, w.G.resv)
    s.expect("violation", "lock-unbalanced", h, "error")
    return s, """lock-unbalanced: ww_mutex_unlock entered while the owner word does not name current
(double unlock: held = no)."""


@scenario("lock-unbalanced.trigger-recursion")
def lock_trigger_rec():
    s = Sim("lock-unbalanced.trigger-recursion")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.lock(t, w.G.resv)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(3))
    s.c("BUG: dma_resv_lock(obj, NULL) again on the resv current already owns")
    h = s.lock(t, w.G.resv, None, hang=True)
    s.expect("violation", "lock-unbalanced", h, "error")
    return s, """lock-unbalanced: ww_mutex_lock with a NULL context on a lock current already owns
(self-deadlock; with a context the kernel would answer -EALREADY)."""


@scenario("lock-unbalanced.trigger-sys-exit")
def lock_trigger_exit():
    s = Sim("lock-unbalanced.trigger-sys-exit")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.sys_exit(t)
    s.c("next ioctl: bind; the error path forgets dma_resv_unlock(g)")
    s.lock(t, w.G.resv)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(3))
    s.extobj_add(t, B)
    h = s.sys_exit(t, ret=-22)
    s.expect("violation", "lock-unbalanced", h, "error")
    return s, """lock-unbalanced: return to user space (raw_syscalls:sys_exit) while a lock acquired during
that syscall (observed) is still held."""


@scenario("lock-unbalanced.near-miss")
def lock_near():
    s = Sim("lock-unbalanced.near-miss")
    w = W(s)
    t = w.t
    s.c("mid-flight: current took the VM resv before tracing started; its unlock is fine")
    s.owner[w.vm.resv] = t.tid
    s.unlock(t, w.vm.resv)
    s.sys_exit(t)
    s.c("drm_exec locks the same BO twice in one transaction: -EALREADY, still held once")
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx, ret=-114)
    s.c("a failed trylock leaves nothing to unlock; a successful one is unlocked once")
    s.ev(t, "ww_mutex_trylock", "exit", {"lock": hx(w.G2.resv), "ctx": "0x0"}, ret=0)
    s.owner[w.G2.resv] = t.tid
    s.ev(t, "ww_mutex_trylock", "exit", {"lock": hx(w.G2.resv), "ctx": "0x0"}, ret=1)
    s.unlock(t, w.G2.resv)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.sys_exit(t)
    s.expect_none()
    return s, """lock-unbalanced near miss: unlock of a lock taken before tracing (held = yes), a ctx lock
returning -EALREADY, a failed trylock, balanced locking before each return to user space."""


@scenario("mode-mismatch.trigger-unlink-defer")
def mode_trigger_unlink_defer():
    s = Sim("mode-mismatch.trigger-unlink-defer", knew=True)
    w = _xe_knew(s)
    t = w.t
    s.vm_init(t, w.vm)
    s.lock(t, w.vm.resv, t.ctx)
    s.lock(t, w.G.resv, t.ctx)
    _, B = s.obtain(t, w.vm, w.G, bo_addr(5), fn="drm_gpuvm_bo_obtain_locked")
    s.extobj_add(t, B)
    va = w.va(1)
    s.va_insert(t, va)
    s.link(t, va, B)
    s.unlock(t, w.G.resv)
    s.unlock(t, w.vm.resv)
    s.c("BUG: the staged-mode VM unmaps with the immediate-mode unlink")
    s.va_remove(t, va)
    h = s.unlink_defer(t, va)
    s.expect("violation", "mode-mismatch", h, "warning")
    s.c("as for obtain_prealloc: on a staged VM held_gpuva_lock names the BO resv, so whether")
    s.c("current holds obj->gpuva.lock at entry is unknown to gpuva-lock-recursion")
    s.expect("unknown", "gpuva-lock-recursion", h)
    return s, """mode-mismatch: drm_gpuva_unlink_defer on a VM without IMMEDIATE_MODE. The obtain
reference still exists, so the unlink is not the last reference."""


@scenario("put-final-unlocked.near-miss-unlink")
def put_final_near_unlink():
    s = Sim("put-final-unlocked.near-miss-unlink")
    w = W(s)
    t = w.t
    s.vm_init(t, w.vm)
    va = w.va(0)
    B = g1_bind(w, bo_addr(3), va)
    s.c("a lookup keeps a second reference (B: 2)")
    s.lock(t, w.G.resv)
    s.find(t, w.vm, w.G)
    s.unlock(t, w.G.resv)
    s.c("X3's unbind without the BO lock, but the unlink's put is not final (refcount 2)")
    s.lock(t, w.vm.resv, t.ctx)
    s.va_remove(t, va)
    h = s.unlink(t, va)
    s.unlock(t, w.vm.resv)
    s.lock(t, w.G.resv)
    s.put(t, B)
    s.unlock(t, w.G.resv)
    s.expect("violation", "link-unlocked", h, "error")
    return s, """put-final-unlocked near miss inside X3: the unlink without the gpuva lock is still
link-unlocked, but its nested put (refcount 2, returns 0) destroys nothing; the later
final put holds the lock."""
