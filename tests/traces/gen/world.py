# SPDX-License-Identifier: GPL-2.0-only
"""Objects and building blocks shared by the scenarios: realistic addresses, tasks,
and the correct usage sequences of vm_bo-lifecycle.md §G."""

from sim import Gem, Vm, Task, Va, RESV_PROTECTED, IMMEDIATE_MODE

SCENARIOS = {}


def scenario(name):
    def reg(fn):
        SCENARIOS[name] = fn
        return fn
    return reg


def bo_addr(k):
    """vm_bos come from kmalloc-96: consecutive objects of one slab page."""
    return 0xffff8f0c43d1e000 + 0x60 * k


def va_addr(k):
    return 0xffff8f0c5a2c3e00 + 0x80 * k


class W:
    """One world: VMs, GEMs and tasks of a trace."""

    def __init__(self, s, protected=False, immediate=False, vm_name=None, ops_alloc=0, ops_free=0,
                 vm_addr=0xffff8f0c4a3e2000, rob_addr=0xffff8f0c4b1a0000, gem_base=0xffff8f0c51b07000,
                 task=None):
        self.s = s
        flags = (RESV_PROTECTED if protected else 0) | (IMMEDIATE_MODE if immediate else 0)
        self.R = Gem(rob_addr, refcount=0, name="R")  # drm_gpuvm_resv_object_alloc's dummy GEM
        self.vm = Vm(vm_addr, self.R, flags, name=vm_name or ("tyr" if s.knew else ("xe" if protected else "nouveau")),
                     ops_alloc=ops_alloc, ops_free=ops_free)
        self.G = Gem(gem_base)                                   # external: its own resv
        self.G2 = Gem(gem_base + 0x800)                          # another external BO
        self.P = Gem(gem_base + 0x1000, resv=self.vm.resv)       # private BO: shares the VM resv
        if task is None:
            if s.knew:
                task = Task(4312, "vkmark", cpu=2, stack_base=0xffffc90001d3bc00)
            elif protected:
                task = Task(3377, "vkcube", cpu=0, stack_base=0xffffb6c1c0e7bc00)
            else:
                task = Task(2841, "deqp-vk", cpu=1, stack_base=0xffffb6c1c0d4bc00)
        self.t = task

    def va(self, k, obj=None):
        return Va(va_addr(k), self.vm, obj or self.G)

    @property
    def R_resv(self):
        return self.vm.resv


def g1_bind(w, B_addr, va, obj=None, t=None):
    """§G1 lines 2-9 (nouveau bind, K612, flags 0). Returns the vm_bo."""
    s, t, vm, G = w.s, t or w.t, w.vm, obj or w.G
    s.c("nouveau VM_BIND: obtain under the BO resv, extobj_add (spinlock path), link under drm_exec")
    s.lock(t, G.resv)
    _, B = s.obtain(t, vm, G, B_addr)
    s.unlock(t, G.resv)
    s.extobj_add(t, B)
    s.lock(t, vm.resv, t.ctx)
    s.lock(t, G.resv, t.ctx)
    s.va_insert(t, va)
    s.link(t, va, B)
    s.unlock(t, G.resv)
    s.unlock(t, vm.resv)
    s.c("the bind job drops the obtain reference (the VA keeps one)")
    s.lock(t, G.resv)
    s.put(t, B)
    s.unlock(t, G.resv)
    return B


def g1_unbind(w, va, obj=None, t=None):
    """§G1 lines 10-12."""
    s, t, vm, G = w.s, t or w.t, w.vm, obj or w.G
    s.c("unbind: remove and unlink under drm_exec (VM resv + BO resv); the unlink's put is final")
    s.lock(t, vm.resv, t.ctx)
    s.lock(t, G.resv, t.ctx)
    s.va_remove(t, va)
    s.unlink(t, va)
    s.unlock(t, G.resv)
    s.unlock(t, vm.resv)


def g2_bind(w, B_addr, va, obj=None, t=None):
    """§G2 bind (xe, K612, RESV_PROTECTED)."""
    s, t, vm, G = w.s, t or w.t, w.vm, obj or w.G
    s.c("xe VM_BIND: VM resv and BO resv locked by drm_exec; obtain, extobj_add, link, drop obtain ref")
    s.lock(t, vm.resv, t.ctx)
    s.lock(t, G.resv, t.ctx)
    _, B = s.obtain(t, vm, G, B_addr)
    s.extobj_add(t, B)
    s.va_insert(t, va)
    s.link(t, va, B)
    s.put(t, B)
    s.unlock(t, G.resv)
    s.unlock(t, vm.resv)
    return B


def g3_bind(w, P_addr, va, t=None):
    """§G3 lines 1-5 (Tyr/Rust, KNEW, IMMEDIATE_MODE | RESV_PROTECTED)."""
    s, t, vm, G = w.s, t or w.t, w.vm, w.G
    s.c("GpuVmBoAlloc::new: pre-allocate")
    P = s.create(t, vm, G, P_addr)
    s.c("GpuVmBoAlloc::obtain: obtain_prealloc takes G.gpuva.lock itself")
    s.obtain_prealloc(t, P)
    s.c("external GEM: extobj_add under dma_resv_lock(VM resv, NULL)")
    s.lock(t, vm.resv, None)
    s.extobj_add(t, P)
    s.unlock(t, vm.resv)
    s.c("OpMap::insert: insert, then link under G.gpuva.lock")
    s.va_insert(t, va)
    s.mlock(t, G.gpuva_mutex)
    s.link(t, va, P)
    s.munlock(t, G.gpuva_mutex)
    s.c("the ARef from obtain is dropped (deferred), then the driver drains bo_defer (empty)")
    s.put_deferred(t, P)
    s.deferred_cleanup(t, vm)
    return P
