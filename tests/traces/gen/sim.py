# SPDX-License-Identifier: GPL-2.0-only
"""A small model of what the kernel does and what a recorder writes, used to author
the spec traces of tests/traces/.

Scenarios call kernel functions in program order (per task); the simulator keeps the
kernel-side truth (refcounts, list membership, lock owners) and writes the events a
recorder following trace-format.md would emit, with the snapshots it would read. The
point is that hand-written sequences get consistent snapshots and exact line numbers;
the expectations themselves are stated by each scenario, from the spec text.
"""

import json

LIST_POISONED = "poisoned"

K612_KERNEL = "6.12.95+deb12-amd64"
KNEW_KERNEL = "7.3.0-rc3"

RESV_PROTECTED = 1
IMMEDIATE_MODE = 2  # only on KNEW (bit 1 is USERBITS on 6.12)

REFCOUNT_SATURATED = -1073741824  # INT_MIN / 2, what refcount_warn_saturate stores

GEM_RESV_OFFSET = 0x100      # drm_gem_object._resv (K612 BTF: 256)
GEM_GPUVA_LOCK_OFFSET = 0x140  # KNEW: gpuva.lock right after gpuva.list (304 + 16)


def hx(a):
    return "0x%x" % a


class Task:
    def __init__(self, tid, comm, pid=None, cpu=0, stack_base=0xffffb6c1c0d4bc00):
        self.tid = tid
        self.pid = pid if pid is not None else tid
        self.comm = comm
        self.cpu = cpu
        self.ctx = stack_base + 0x58  # ww_acquire_ctx of drm_exec lives on the stack


class Gem:
    def __init__(self, addr, resv=None, refcount=2, name="G"):
        self.addr = addr
        self.resv = resv if resv is not None else addr + GEM_RESV_OFFSET
        self.refcount = refcount
        self.gpuva_mutex = addr + GEM_GPUVA_LOCK_OFFSET
        self.vmbos = []          # registered vm_bos (obj->gpuva.list)
        self.gpuva_lock_unknown = False  # custom gpuva lock no locator resolves
        self.name = name


class Vm:
    def __init__(self, addr, r_obj, flags, name="vm", ops_alloc=0, ops_free=0, ops=None):
        self.addr = addr
        self.r_obj = r_obj
        self.flags = flags
        self.name = name
        self.kref = 0
        # driver's const struct drm_gpuvm_ops lives in its module's rodata
        self.ops = ops if ops is not None else 0xffffffffc0a41e80
        self.ops_alloc = ops_alloc
        self.ops_free = ops_free
        self.bo_defer = []
        self.freed = False

    @property
    def resv(self):
        return self.r_obj.resv

    @property
    def protected(self):
        return bool(self.flags & RESV_PROTECTED)


class VmBo:
    def __init__(self, addr, vm, obj):
        self.addr = addr
        self.vm = vm
        self.obj = obj
        self.refcount = 1
        self.on_gem = False
        self.on_extobj = False
        self.on_evict = False
        self.evicted = False
        self.on_defer = False
        self.n_va = 0
        self.state = "allocated"


class Va:
    def __init__(self, addr, vm, obj):
        self.addr = addr
        self.vm = vm
        self.obj = obj
        self.vm_bo = None
        self.inserted = False


class Sim:
    def __init__(self, title, knew=False, put="complete", locks="complete", ts0=418_233_907_115,
                 features=None, kernel=None, inlined_unlink_put=False):
        self.title = title
        # drm_gpuvm_bo_put inlined into drm_gpuva_unlink (GCC on arm64): no nested put
        # events, and the header's coverage.put_inlined_in says so.
        self.inlined_unlink_put = inlined_unlink_put
        self.knew = knew
        self.body = []          # (kind, text) ; kind "rec" or "comment"
        self.expects = []       # (kind, rule, sev, handle)
        self.options = []
        self.ts = ts0
        self.ts0 = ts0
        self.owner = {}         # lock address -> tid
        self.events = 0
        self.lost = 0
        self.step = 0
        self.header = {
            "type": "header", "format": "gpuvm-trace", "version": 1,
            "kernel": kernel or (KNEW_KERNEL if knew else K612_KERNEL),
            "clock": "monotonic",
            "features": features or ({"deferred": True, "gpuva_mutex": True, "immediate_mode": True,
                                      "prealloc_self_locks": True} if knew else
                                     {"deferred": False, "gpuva_mutex": False, "immediate_mode": False,
                                      "prealloc_self_locks": False}),
            "coverage": dict({"put": put, "locks": locks},
                             **({"put_inlined_in": ["drm_gpuva_unlink"]} if inlined_unlink_put else {})),
            "redacted": False,
            "hostname": "gfx-ci-07" if not knew else "tyr-rk3588",
        }
        self.footer = True
        self.vmbo_by_addr = {}
        # Recorder limits a scenario may impose: no readable owner words (held_* unknown),
        # no lock probes attached (lock state still changes, no lock events written).
        self.held_unknown = False
        self.next_stack = None  # stack id for the next event written (then cleared)
        self.walk = True        # recorder completes the obj->gpuva.list walk at obtain/find exit
        self.lock_events = locks == "complete"


    # ---------------------------------------------------------------- output
    def c(self, text):
        for line in text.split("\n"):
            self.body.append(("comment", "# " + line if line else "#"))

    def tick(self, ns=None):
        self.step += 1
        self.ts += ns if ns is not None else 900 + (self.step * 587) % 1900

    def gap(self, us):
        self.ts += us * 1000

    def rec(self, obj):
        self.body.append(("rec", json.dumps(obj, separators=(",", ":"))))
        return len(self.body) - 1  # handle = body index

    def stack(self, sid, frames):
        """A kernel stack record; frames = [(addr, "sym+0xoff", module or None)], innermost first."""
        fr = []
        for addr, sym, mod in frames:
            f = {"addr": hx(addr), "sym": sym}
            if mod:
                f["module"] = mod
            fr.append(f)
        return self.rec({"type": "stack", "id": sid, "frames": fr})

    def ev(self, t, fn, phase, args=None, ret=None, snap=None, symbol=None, stack=None):
        self.tick()
        o = {"type": "event", "ts": self.ts, "cpu": t.cpu, "pid": t.pid, "tid": t.tid, "comm": t.comm,
             "fn": fn}
        if symbol:
            o["symbol"] = symbol
        o["phase"] = phase
        if args is not None:
            o["args"] = args
        if ret is not None:
            o["ret"] = ret
        if snap:
            o["snap"] = snap
        if stack is None:
            stack = self.next_stack
            self.next_stack = None
        if stack is not None:
            o["stack"] = stack
        self.events += 1
        return self.rec(o)

    def lost_record(self, count, cpu=0):
        self.tick()
        self.lost += count
        return self.rec({"type": "lost", "ts": self.ts, "cpu": cpu, "count": count})

    def expect(self, kind, rule, handle, sev=None):
        self.expects.append((kind, rule, sev, handle))

    def expect_none(self):
        self.expects.append(("none", None, None, None))

    def last(self, fn, phase="entry", t=None):
        for i in range(len(self.body) - 1, -1, -1):
            kind, text = self.body[i]
            if kind != "rec":
                continue
            o = json.loads(text)
            if o.get("type") == "event" and o["fn"] == fn and o["phase"] == phase and (t is None or o["tid"] == t.tid):
                return i
        raise KeyError(fn)

    def render(self, description):
        pre = ["# " + l if l else "#" for l in description.strip("\n").split("\n")]
        if self.options:
            pre.append("# options: " + " ".join(self.options))
        nexp = len(self.expects)
        first_body_line = len(pre) + nexp + 2  # +1 header, lines are 1-based
        exp_lines = []
        for kind, rule, sev, h in self.expects:
            if kind == "none":
                exp_lines.append("# expect: none")
                continue
            at = "@end" if h == "end" else "@%d" % (first_body_line + h)
            if kind == "violation":
                exp_lines.append("# expect: violation %s %s %s" % (rule, sev, at))
            else:
                exp_lines.append("# expect: %s %s %s" % (kind, rule, at))
        out = pre + exp_lines + [json.dumps(self.header, separators=(",", ":"))]
        out += [text for _, text in self.body]
        if self.footer:
            out.append(json.dumps({"type": "footer", "events": self.events, "lost": self.lost,
                                   "duration_ns": self.ts - self.ts0 + 250_000}, separators=(",", ":")))
        return "\n".join(out) + "\n"

    # ---------------------------------------------------------------- snapshots
    def held(self, t, lock):
        if self.held_unknown:
            return "unknown"
        return "yes" if self.owner.get(lock) == t.tid else "no"

    def gpuva_lock(self, vm, obj):
        if self.knew and vm.flags & IMMEDIATE_MODE:
            return obj.gpuva_mutex
        return obj.resv

    def held_gpuva(self, t, vm, obj):
        if obj.gpuva_lock_unknown:
            return "unknown"
        return self.held(t, self.gpuva_lock(vm, obj))

    def holds(self, t, vm, obj):
        return {"held_vm_resv": self.held(t, vm.resv), "held_bo_resv": self.held(t, obj.resv),
                "held_gpuva_lock": self.held_gpuva(t, vm, obj)}

    def pair_snap(self, t, vm, obj):
        s = {"vm": hx(vm.addr), "obj": hx(obj.addr), "vm_flags": vm.flags, "vm_resv": hx(vm.resv),
             "bo_resv": hx(obj.resv)}
        s.update(self.holds(t, vm, obj))
        return s

    def bo_snap(self, t, b, **over):
        vm, obj = b.vm, b.obj
        s = {"vm": hx(vm.addr), "obj": hx(obj.addr), "vm_flags": vm.flags, "vm_kref": vm.kref,
             "vm_resv": hx(vm.resv), "bo_resv": hx(obj.resv), "bo_refcount": obj.refcount,
             "refcount": b.refcount, "on_gem": b.on_gem, "on_extobj": b.on_extobj, "on_evict": b.on_evict,
             "evicted": b.evicted, "n_va_nonzero": b.n_va > 0}
        if self.header["features"].get("deferred"):
            s["on_defer"] = b.on_defer
        s.update(self.holds(t, vm, obj))
        s.update(over)
        return s

    # ---------------------------------------------------------------- objects
    def adopt_vmbo(self, addr, vm, obj, refcount=1, registered=True, extobj=False, n_va=0):
        b = VmBo(addr, vm, obj)
        b.refcount = refcount
        b.state = "registered" if registered else "allocated"
        b.on_gem = registered
        if registered:
            obj.vmbos.append(b)
        b.on_extobj = extobj
        b.n_va = n_va
        vm.kref += 1
        obj.refcount += 1
        self.vmbo_by_addr[addr] = b
        return b

    @staticmethod
    def external(vm, obj):
        return obj.resv != vm.resv

    # ---------------------------------------------------------------- locks
    def lock(self, t, lock, ctx=None, ret=0, fn="ww_mutex_lock", entry=True, hang=False):
        args = {"lock": hx(lock), "ctx": hx(ctx) if ctx else "0x0"}
        h = None
        if not self.lock_events:
            if ret == 0 and not hang:
                self.owner[lock] = t.tid
            return None
        if entry or hang:
            h = self.ev(t, fn, "entry", args, snap={"held": self.held(t, lock)})
        if hang:
            return h
        if ret == 0:
            self.owner[lock] = t.tid
        x = self.ev(t, fn, "exit", args, ret=ret)
        return h if h is not None else x

    def unlock(self, t, lock, fn="ww_mutex_unlock"):
        if not self.lock_events:
            self.owner.pop(lock, None)
            return None
        h = self.ev(t, fn, "entry", {"lock": hx(lock)}, snap={"held": self.held(t, lock)})
        self.owner.pop(lock, None)  # mutex_unlock clears the owner word whoever calls it
        return h

    def mlock(self, t, lock, hang=False):
        if not self.lock_events:
            if not hang:
                self.owner[lock] = t.tid
            return None
        h = self.ev(t, "mutex_lock", "entry", {"lock": hx(lock)}, snap={"held": self.held(t, lock)})
        if hang:
            return h
        self.owner[lock] = t.tid
        self.ev(t, "mutex_lock", "exit", {"lock": hx(lock)})
        return h

    def munlock(self, t, lock):
        return self.unlock(t, lock, fn="mutex_unlock")

    def sys_exit(self, t, ret=0):
        # raw_syscalls:sys_exit as the recorder writes it: an entry with no args (the BPF
        # side only emits it for tasks it saw take a lock; extra ones must be harmless)
        return self.ev(t, "sys_exit", "entry")

    # ---------------------------------------------------------------- VM
    def vm_init(self, t, vm):
        vm.kref = 1
        vm.r_obj.refcount += 1
        return self.ev(t, "drm_gpuvm_init", "exit",
                       {"gpuvm": hx(vm.addr), "name": vm.name, "flags": vm.flags, "r_obj": hx(vm.r_obj.addr),
                        "ops": hx(vm.ops)},
                       snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_kref": 1, "vm_resv": hx(vm.resv),
                             "ops_vm_bo_alloc": hx(vm.ops_alloc), "ops_vm_bo_free": hx(vm.ops_free),
                             "vm_name": vm.name})

    def _vm_ref_drop(self, t, vm):
        vm.kref -= 1
        if vm.kref == 0:
            self.ev(t, "drm_gpuvm_free", "entry", {"gpuvm": hx(vm.addr)},
                    snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_kref": 0})
            vm.freed = True
            vm.r_obj.refcount -= 1

    def vm_put(self, t, vm):
        h = self.ev(t, "drm_gpuvm_put", "entry", {"gpuvm": hx(vm.addr)},
                    snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_kref": vm.kref})
        self._vm_ref_drop(t, vm)
        self.ev(t, "drm_gpuvm_put", "exit", {"gpuvm": hx(vm.addr)})
        return h

    # ---------------------------------------------------------------- vm_bo
    def create(self, t, vm, obj, addr):
        h = self.ev(t, "drm_gpuvm_bo_create", "entry", {"gpuvm": hx(vm.addr), "obj": hx(obj.addr)},
                    snap={"vm": hx(vm.addr), "obj": hx(obj.addr), "vm_flags": vm.flags,
                          "vm_resv": hx(vm.resv), "bo_resv": hx(obj.resv)})
        b = VmBo(addr, vm, obj)
        vm.kref += 1
        obj.refcount += 1
        self.vmbo_by_addr[addr] = b
        self.ev(t, "drm_gpuvm_bo_create", "exit", {"gpuvm": hx(vm.addr), "obj": hx(obj.addr)}, ret=hx(addr))
        self._created = b
        return b

    def _lookup(self, vm, obj):
        for b in obj.vmbos:
            if b.vm is vm:
                return b
        return None

    def _register(self, b):
        b.state = "registered"
        b.on_gem = True
        b.obj.vmbos.append(b)

    def _same_vm(self, vm, obj):
        return sum(1 for b in obj.vmbos if b.vm is vm)

    # obtain, split in steps so that a scenario can interleave two racing tasks.
    def obtain_begin(self, t, vm, obj, fn="drm_gpuvm_bo_obtain"):
        return self.ev(t, fn, "entry", {"gpuvm": hx(vm.addr), "obj": hx(obj.addr)},
                       snap=self.pair_snap(t, vm, obj))

    def obtain_end(self, t, vm, obj, b, fn="drm_gpuvm_bo_obtain"):
        snap = {"gem_list_same_vm": self._same_vm(vm, obj)} if self.walk else None
        return self.ev(t, fn, "exit", {"gpuvm": hx(vm.addr), "obj": hx(obj.addr)}, ret=hx(b.addr), snap=snap)

    def obtain_enomem(self, t, vm, obj, fn="drm_gpuvm_bo_obtain"):
        """obtain whose create fails: create returns NULL, obtain ERR_PTR(-ENOMEM)."""
        args = {"gpuvm": hx(vm.addr), "obj": hx(obj.addr)}
        h = self.obtain_begin(t, vm, obj, fn)
        self.ev(t, "drm_gpuvm_bo_create", "entry", args,
                snap={"vm": hx(vm.addr), "obj": hx(obj.addr), "vm_flags": vm.flags,
                      "vm_resv": hx(vm.resv), "bo_resv": hx(obj.resv)})
        self.ev(t, "drm_gpuvm_bo_create", "exit", args, ret="0x0")
        self.ev(t, fn, "exit", args, ret=-12)
        return h

    def obtain(self, t, vm, obj, new_addr, fn="drm_gpuvm_bo_obtain"):
        h = self.obtain_begin(t, vm, obj, fn)
        b = self._lookup(vm, obj)
        if b is not None:
            b.refcount += 1
        else:
            b = self.create(t, vm, obj, new_addr)
            self._register(b)
        self.obtain_end(t, vm, obj, b, fn)
        return h, b

    def find(self, t, vm, obj):
        args = {"gpuvm": hx(vm.addr), "obj": hx(obj.addr)}
        h = self.ev(t, "drm_gpuvm_bo_find", "entry", args, snap=self.pair_snap(t, vm, obj))
        b = self._lookup(vm, obj)
        if b:
            b.refcount += 1
        self.ev(t, "drm_gpuvm_bo_find", "exit", args, ret=hx(b.addr) if b else "0x0",
                snap={"gem_list_same_vm": self._same_vm(vm, obj)})
        return h, b

    def obtain_prealloc(self, t, p, snap_over=None):
        vm, obj = p.vm, p.obj
        h = self.ev(t, "drm_gpuvm_bo_obtain_prealloc", "entry", {"vm_bo": hx(p.addr)},
                    snap=self.bo_snap(t, p, **(snap_over or {})))
        self_locks = self.header["features"].get("prealloc_self_locks")
        if self_locks:
            self.mlock(t, obj.gpuva_mutex)
        found = self._lookup(vm, obj)
        if found is not None:
            found.refcount += 1
            if self_locks:
                self.munlock(t, obj.gpuva_mutex)
                # KNEW: list-free release of the pre-allocation, no nested event
                p.refcount -= 1
                self._free(t, p)
            else:
                self.put(t, p)
            ret = found
        else:
            self._register(p)
            if self_locks:
                self.munlock(t, obj.gpuva_mutex)
            ret = p
        self.ev(t, "drm_gpuvm_bo_obtain_prealloc", "exit", {"vm_bo": hx(p.addr)}, ret=hx(ret.addr),
                snap={"gem_list_same_vm": self._same_vm(vm, obj)})
        return h, ret

    def _unlist(self, b):
        if b in b.obj.vmbos:
            b.obj.vmbos.remove(b)
        b.on_gem = False
        b.on_extobj = False
        b.on_evict = False

    def _free(self, t, b):
        self._unlist(b)
        b.state = "destroyed"
        b.on_defer = False
        b.obj.refcount -= 1
        self._vm_ref_drop(t, b.vm)

    def put(self, t, b, symbol="drm_gpuvm_bo_put.part.0", snap_over=None):
        """drm_gpuvm_bo_put as a recorder writes it (one pair, probed at .part.0 on K612)."""
        args = {"vm_bo": hx(b.addr)}
        over = dict(snap_over or {})
        h = self.ev(t, "drm_gpuvm_bo_put", "entry", args, snap=self.bo_snap(t, b, **over),
                    symbol=symbol if not self.knew else None)
        if b.refcount <= 0:
            # refcount_t underflow: the kernel warns, saturates, reports "not destroyed"
            b.refcount = REFCOUNT_SATURATED
            destroyed = False
        else:
            b.refcount -= 1
            destroyed = b.refcount == 0
            if destroyed:
                self._free(t, b)
        self.ev(t, "drm_gpuvm_bo_put", "exit", args, ret=destroyed, symbol=symbol if not self.knew else None)
        return h

    def _put_unseen(self, t, b):
        """A put compiled into its caller: the same state change as put(), no events."""
        if b.refcount <= 0:
            b.refcount = REFCOUNT_SATURATED
            return
        b.refcount -= 1
        if b.refcount == 0:
            self._free(t, b)

    def _zombify(self, b):
        if b in b.obj.vmbos:
            b.obj.vmbos.remove(b)
        b.on_gem = False
        if not b.vm.protected:
            b.on_extobj = False
            b.on_evict = False
        b.on_defer = True
        b.state = "zombie"
        b.vm.bo_defer.append(b)

    def put_deferred(self, t, b, hang=False):
        args = {"vm_bo": hx(b.addr)}
        h = self.ev(t, "drm_gpuvm_bo_put_deferred", "entry", args, snap=self.bo_snap(t, b))
        if b.refcount == 1:
            m = self.mlock(t, b.obj.gpuva_mutex, hang=hang)
            if hang:
                return h, m
            b.refcount = 0
            self._zombify(b)
            self.munlock(t, b.obj.gpuva_mutex)
            ret = True
        else:
            b.refcount -= 1
            ret = False
        self.ev(t, "drm_gpuvm_bo_put_deferred", "exit", args, ret=ret)
        return h, None

    def deferred_cleanup(self, t, vm, hang=False):
        args = {"gpuvm": hx(vm.addr)}
        h = self.ev(t, "drm_gpuvm_bo_deferred_cleanup", "entry", args,
                    snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_kref": vm.kref, "vm_resv": hx(vm.resv),
                          "held_vm_resv": self.held(t, vm.resv)})
        taken, vm.bo_defer = vm.bo_defer, []
        nested = None
        if taken and vm.protected:
            nested = self.lock(t, vm.resv, None, hang=hang)
            if hang:
                return h, nested
            for b in taken:
                b.on_extobj = False
                b.on_evict = False
            self.unlock(t, vm.resv)
        for b in taken:
            self._free(t, b)
        self.ev(t, "drm_gpuvm_bo_deferred_cleanup", "exit", args)
        return h, nested

    def extobj_add(self, t, b, snap_over=None):
        args = {"vm_bo": hx(b.addr)}
        h = self.ev(t, "drm_gpuvm_bo_extobj_add", "entry", args, snap=self.bo_snap(t, b, **(snap_over or {})))
        if self.external(b.vm, b.obj) and b.state != "destroyed":
            b.on_extobj = True
        self.ev(t, "drm_gpuvm_bo_extobj_add", "exit", args, snap={"on_extobj": b.on_extobj})
        return h

    def evict(self, t, b, evict=True, snap_over=None):
        args = {"vm_bo": hx(b.addr), "evict": evict}
        h = self.ev(t, "drm_gpuvm_bo_evict", "entry", args, snap=self.bo_snap(t, b, **(snap_over or {})))
        b.evicted = evict
        if not (self.external(b.vm, b.obj) and b.vm.protected) and b.state != "destroyed":
            b.on_evict = evict
        self.ev(t, "drm_gpuvm_bo_evict", "exit", args, snap={"on_evict": b.on_evict})
        return h

    def unmap_ops_create(self, t, b, ops_addr=0xffff8f0c6e1d4a00):
        args = {"vm_bo": hx(b.addr)}
        h = self.ev(t, "drm_gpuvm_bo_unmap_ops_create", "entry", args, snap=self.bo_snap(t, b))
        self.ev(t, "drm_gpuvm_bo_unmap_ops_create", "exit", args, ret=hx(ops_addr))
        return h

    # ---------------------------------------------------------------- VAs
    def va_insert(self, t, va):
        va.inserted = True
        va.vm.kref += 1
        return self.ev(t, "drm_gpuva_insert", "exit", {"gpuvm": hx(va.vm.addr), "va": hx(va.addr)}, ret=0)

    def va_remove(self, t, va):
        va.inserted = False
        vm = va.vm
        vm.kref -= 1
        if vm.kref == 0:
            self.ev(t, "drm_gpuvm_free", "entry", {"gpuvm": hx(vm.addr)},
                    snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_kref": 0})
            vm.freed = True
        return self.ev(t, "drm_gpuva_remove", "exit", {"va": hx(va.addr)})

    def link(self, t, va, b, snap_over=None):
        args = {"va": hx(va.addr), "vm_bo": hx(b.addr)}
        h = self.ev(t, "drm_gpuva_link", "entry", args, snap=self.bo_snap(t, b, **(snap_over or {})))
        b.refcount += 1
        b.n_va += 1
        va.vm_bo = b
        self.ev(t, "drm_gpuva_link", "exit", args)
        return h

    def unlink(self, t, va, snap_over=None):
        b = va.vm_bo
        args = {"va": hx(va.addr)}
        snap = self.bo_snap(t, b, **(snap_over or {}))
        snap["vm_bo"] = hx(b.addr)
        h = self.ev(t, "drm_gpuva_unlink", "entry", args, snap=snap)
        b.n_va -= 1
        va.vm_bo = None
        if self.inlined_unlink_put:
            self._put_unseen(t, b)  # inlined: no event
        else:
            self.put(t, b)  # tail call to .part.0: the recorder sees it nested
        self.ev(t, "drm_gpuva_unlink", "exit", args)
        return h

    def unlink_defer(self, t, va, hang=False):
        b = va.vm_bo
        args = {"va": hx(va.addr)}
        snap = self.bo_snap(t, b)
        snap["vm_bo"] = hx(b.addr)
        h = self.ev(t, "drm_gpuva_unlink_defer", "entry", args, snap=snap)
        m = self.mlock(t, b.obj.gpuva_mutex, hang=hang)
        if hang:
            return h
        b.n_va -= 1
        va.vm_bo = None
        b.refcount -= 1
        if b.refcount == 0:
            self._zombify(b)
        self.munlock(t, b.obj.gpuva_mutex)
        self.ev(t, "drm_gpuva_unlink_defer", "exit", args)
        return h

    # ---------------------------------------------------------------- exec helpers
    def exec_lock(self, t, vm, vm_exec=None, ret=0):
        """drm_gpuvm_exec_lock: lock the VM resv, then prepare_objects locks every extobj."""
        vm_exec = vm_exec or (t.ctx - 0x58 - 0x40)
        exec_addr = vm_exec + 0x10
        h = self.ev(t, "drm_gpuvm_exec_lock", "entry", {"vm_exec": hx(vm_exec), "gpuvm": hx(vm.addr)},
                    snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_resv": hx(vm.resv),
                          "held_vm_resv": self.held(t, vm.resv)})
        self.lock(t, vm.resv, t.ctx)
        pa = {"gpuvm": hx(vm.addr), "exec": hx(exec_addr), "num_fences": 1}
        self.ev(t, "drm_gpuvm_prepare_objects", "entry", pa,
                snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_resv": hx(vm.resv),
                      "held_vm_resv": self.held(t, vm.resv)})
        locked = [vm.resv]
        seen = set()
        for b in list(self.vmbo_by_addr.values()):
            if b.vm is vm and b.on_extobj and b.state in ("registered", "allocated", "zombie") \
                    and b.obj.resv not in seen:
                if b.state == "zombie" and b.refcount == 0:
                    continue
                seen.add(b.obj.resv)
                if self.owner.get(b.obj.resv) != t.tid:
                    self.lock(t, b.obj.resv, t.ctx)
                    locked.append(b.obj.resv)
                if vm.protected and b.evicted:
                    b.on_evict = True
        self.ev(t, "drm_gpuvm_prepare_objects", "exit", pa, ret=0)
        x = self.ev(t, "drm_gpuvm_exec_lock", "exit", {"vm_exec": hx(vm_exec), "gpuvm": hx(vm.addr)}, ret=ret)
        return h, x, locked

    def exec_unlock(self, t, locked):
        for l in reversed(locked):
            self.unlock(t, l)

    def add_fence(self, t, vm, vm_exec=None):
        vm_exec = vm_exec or (t.ctx - 0x58 - 0x40)
        args = {"gpuvm": hx(vm.addr), "exec": hx(vm_exec + 0x10), "fence": "0xffff8f0c7b2e9d80",
                "private_usage": 1, "extobj_usage": 2}
        h = self.ev(t, "drm_gpuvm_resv_add_fence", "entry", args,
                    snap={"vm": hx(vm.addr), "vm_flags": vm.flags, "vm_resv": hx(vm.resv),
                          "held_vm_resv": self.held(t, vm.resv)})
        self.ev(t, "drm_gpuvm_resv_add_fence", "exit", args)
        return h
