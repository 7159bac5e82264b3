#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Writes the hand-checked traces of tests/cli (run from this directory). The traces
# are committed; this script documents how each was built and regenerates them.
import json

V = "0xffff888001000000"; RO = "0xffff888001100000"; R = "0xffff888001100100"; OPS = "0xffffffffc0a00000"
G = "0xffff888002000000"; g = "0xffff888002000100"
B = "0xffff888003000000"; VA = "0xffff888004000000"; C = "0xffffc90000a00000"
G2 = "0xffff888002200000"; g2 = "0xffff888002200100"; B2 = "0xffff888003300000"; VA2 = "0xffff888004400000"
C2 = "0xffffc90000b00000"
T0 = 1000000000
ts = [T0]
lines = []


def comment(s): lines.append("# " + s)
def rec(d): lines.append(json.dumps(d, separators=(',', ':')))


def ev(fn, phase, args=None, snap=None, ret=None, tid=151, comm="insmod", symbol=None, stack=None):
    ts[0] += 1000
    d = {"type": "event", "ts": ts[0], "cpu": 1 if tid == 151 else 2, "pid": tid, "tid": tid, "comm": comm,
         "fn": fn, "phase": phase}
    if symbol: d["symbol"] = symbol
    if args is not None: d["args"] = args
    if ret is not None: d["ret"] = ret
    if snap is not None: d["snap"] = snap
    if stack is not None: d["stack"] = stack
    rec(d)


def header(version=1):
    rec({"type": "header", "format": "gpuvm-trace", "version": version, "kernel": "6.12.95+deb12-amd64",
         "clock": "monotonic",
         "features": {"deferred": False, "gpuva_mutex": False, "immediate_mode": False, "prealloc_self_locks": False},
         "coverage": {"put": "complete", "locks": "complete"}, "redacted": False})


def init(flags, **kw):
    ev("drm_gpuvm_init", "exit", {"gpuvm": V, "name": "cli-test", "flags": flags, "r_obj": RO, "ops": OPS},
       {"vm": V, "vm_flags": flags, "vm_resv": R, "vm_kref": 1, "ops_vm_bo_alloc": "0x0", "ops_vm_bo_free": "0x0",
        "vm_name": "cli-test"}, **kw)


def lock(l, ctx="0x0", **kw): ev("ww_mutex_lock", "exit", {"lock": l, "ctx": ctx}, None, 0, **kw)
def unlock(l, **kw): ev("ww_mutex_unlock", "entry", {"lock": l}, {"held": "yes"}, **kw)


def full(obj, bo_resv, flags, ref, on_gem, on_extobj, n_va, hv, hb, hg):
    return {"vm": V, "obj": obj, "vm_flags": flags, "vm_resv": R, "bo_resv": bo_resv, "refcount": ref,
            "on_gem": on_gem, "on_extobj": on_extobj, "on_evict": False, "evicted": False, "n_va_nonzero": n_va,
            "held_vm_resv": hv, "held_bo_resv": hb, "held_gpuva_lock": hg}


def obtain(vmbo, obj, resv, flags, hv, hb, hg, **kw):
    ev("drm_gpuvm_bo_obtain", "entry", {"gpuvm": V, "obj": obj},
       {"vm": V, "obj": obj, "vm_flags": flags, "vm_resv": R, "bo_resv": resv, "held_vm_resv": hv,
        "held_bo_resv": hb, "held_gpuva_lock": hg}, **kw)
    ev("drm_gpuvm_bo_create", "entry", {"gpuvm": V, "obj": obj}, **kw)
    ev("drm_gpuvm_bo_create", "exit", {"gpuvm": V, "obj": obj}, ret=vmbo, **kw)
    ev("drm_gpuvm_bo_obtain", "exit", {"gpuvm": V, "obj": obj}, ret=vmbo, **kw)


def extobj_add(vmbo, obj, resv, flags, hv, hb, hg, after, **kw):
    ev("drm_gpuvm_bo_extobj_add", "entry", {"vm_bo": vmbo}, full(obj, resv, flags, 1, True, False, False, hv, hb, hg),
       **kw)
    ev("drm_gpuvm_bo_extobj_add", "exit", {"vm_bo": vmbo}, {"on_extobj": after}, **kw)


def put(vmbo, obj, resv, flags, ref, on_extobj, n_va, hv, hb, hg, destroyed, **kw):
    ev("drm_gpuvm_bo_put", "entry", {"vm_bo": vmbo}, full(obj, resv, flags, ref, True, on_extobj, n_va, hv, hb, hg),
       symbol="drm_gpuvm_bo_put.part.0", **kw)
    ev("drm_gpuvm_bo_put", "exit", {"vm_bo": vmbo}, ret=destroyed, symbol="drm_gpuvm_bo_put.part.0", **kw)


def link(vmbo, obj, resv, flags, va, **kw):
    ev("drm_gpuva_insert", "exit", {"gpuvm": V, "va": va}, ret=0, **kw)
    ev("drm_gpuva_link", "entry", {"va": va, "vm_bo": vmbo},
       full(obj, resv, flags, 1, True, True, False, "yes", "yes", "yes"), **kw)
    ev("drm_gpuva_link", "exit", {"va": va, "vm_bo": vmbo}, **kw)


def unbind(vmbo, obj, resv, flags, va, ctx=C, **kw):
    comment("unbind under drm_exec's locks")
    lock(R, ctx, **kw); lock(resv, ctx, **kw)
    ev("drm_gpuva_remove", "exit", {"va": va}, **kw)
    s = full(obj, resv, flags, 1, True, True, True, "yes", "yes", "yes"); s["vm_bo"] = vmbo
    ev("drm_gpuva_unlink", "entry", {"va": va}, s, **kw)
    put(vmbo, obj, resv, flags, 1, True, False, "yes", "yes", "yes", True, **kw)
    ev("drm_gpuva_unlink", "exit", {"va": va}, **kw)
    unlock(resv, **kw); unlock(R, **kw)


def g1(vmbo=B, obj=G, resv=g, va=VA, **kw):
    """G1: nouveau bind + unbind on a VM without RESV_PROTECTED."""
    comment("G1 bind: obtain under the BO resv (= gpuva lock on 6.12), extobj_add, drm_exec, link")
    lock(resv, **kw); obtain(vmbo, obj, resv, 0, "no", "yes", "yes", **kw); unlock(resv, **kw)
    extobj_add(vmbo, obj, resv, 0, "no", "no", "no", True, **kw)
    lock(R, C, **kw); lock(resv, C, **kw)
    link(vmbo, obj, resv, 0, va, **kw)
    unlock(resv, **kw); unlock(R, **kw)
    lock(resv, **kw); put(vmbo, obj, resv, 0, 2, True, True, "no", "yes", "yes", False, **kw); unlock(resv, **kw)
    unbind(vmbo, obj, resv, 0, va, **kw)


def g2_seq(vmbo, obj, resv, va, ctx, **kw):
    """G2: xe bind on a RESV_PROTECTED VM, everything under the VM and BO resv."""
    comment("G2 bind: obtain, extobj_add, link, put under the VM resv and the BO resv")
    lock(R, ctx, **kw); lock(resv, ctx, **kw)
    obtain(vmbo, obj, resv, 1, "yes", "yes", "yes", **kw)
    extobj_add(vmbo, obj, resv, 1, "yes", "yes", "yes", True, **kw)
    link(vmbo, obj, resv, 1, va, **kw)
    put(vmbo, obj, resv, 1, 2, True, True, "yes", "yes", "yes", False, **kw)
    unlock(resv, **kw); unlock(R, **kw)
    unbind(vmbo, obj, resv, 1, va, ctx, **kw)


def footer():
    n = sum(1 for l in lines if '"type":"event"' in l)
    rec({"type": "footer", "events": n, "lost": 0, "duration_ns": ts[0] - T0})


def write(name, head):
    with open(name, "w") as f:
        f.write("# " + head + "\n")
        f.write("\n".join(lines) + "\n")
    lines.clear()
    ts[0] = T0


# clean.jsonl: G1 (nouveau, K612, flags 0, G external): no finding.
header(); init(0); g1(); footer()
write("clean.jsonl", "G1 of vm_bo-lifecycle.md: nouveau bind + unbind, flags 0, external GEM; clean")

# error.jsonl: X1 in task 151, a clean G2 lifecycle in task 200 on another GEM.
header(); init(1)
rec({"type": "stack", "id": 7, "frames": [
    {"addr": "0xffffffffc0a1b2c0", "sym": "drm_gpuvm_bo_extobj_add+0x0", "module": "drm_gpuvm"},
    {"addr": "0xffffffffc0b00115", "sym": "ex_init+0x115", "module": "gpuvm_exerciser"},
    {"addr": "0xffffffff81000abc"}]})
comment("task 151: G2 with the VM resv dropped before extobj_add (X1)")
lock(R, C); lock(g, C); obtain(B, G, g, 1, "yes", "yes", "yes")
unlock(g); unlock(R)
ev("drm_gpuvm_bo_extobj_add", "entry", {"vm_bo": B}, full(G, g, 1, 1, True, False, False, "no", "no", "no"), stack=7)
ev("drm_gpuvm_bo_extobj_add", "exit", {"vm_bo": B}, {"on_extobj": True})
comment("task 200: a clean G2 lifecycle on another GEM")
g2_seq(B2, G2, g2, VA2, C2, tid=200, comm="worker")
comment("task 151 drops its vm_bo under both locks")
lock(R, C); lock(g, C); put(B, G, g, 1, 1, True, False, "yes", "yes", "yes", True); unlock(g); unlock(R)
footer()
write("error.jsonl", "X1 of vm_bo-lifecycle.md: extobj_add on a RESV_PROTECTED VM without the VM resv")

# warning.jsonl: extobj_add without the VM resv on a protected VM, private GEM.
header(); init(1)
lock(R, C); obtain(B, G, R, 1, "yes", "yes", "yes"); unlock(R)
extobj_add(B, G, R, 1, "no", "no", "no", False)
lock(R, C); put(B, G, R, 1, 1, False, False, "yes", "yes", "yes", True); unlock(R)
footer()
write("warning.jsonl", "extobj_add without the VM resv on a protected VM, private GEM: warning only")

# malformed.jsonl: clean.jsonl with a truncated object inserted as line 11.
src = open("clean.jsonl").read().split("\n")
out = src[:10] + ['{"type":"event","ts":1000009500,"tid":151,"fn":"drm_gpuvm_bo_put","phase":'] + src[10:]
out[0] = "# clean.jsonl with one truncated JSON object inserted: malformed at line 11"
open("malformed.jsonl", "w").write("\n".join(out))

# future.jsonl: a header of major version 2.
src = open("clean.jsonl").read().split("\n")
src[0] = "# a trace from a future major version: readers must refuse it"
src[1] = src[1].replace('"version":1', '"version":2')
open("future.jsonl", "w").write("\n".join(src[:4]) + "\n")

# midflight.jsonl: tracing started after the bind of G1: the vm_bo is adopted at its
# first event (the link), then unbound cleanly.
src = open("clean.jsonl").read().split("\n")
first_link = next(i for i, l in enumerate(src) if '"drm_gpuva_insert"' in l)
out = ["# G1 with tracing started just before the insert/link: the vm_bo is adopted"] + src[1:3] + src[first_link:]
open("midflight.jsonl", "w").write("\n".join(out))

# leak.jsonl: obtain without any put or link; at the end the vm_bo is REGISTERED, idle
# and unmapped: vm-bo-leak (info, only with --info).
header(); init(0)
lock(g); obtain(B, G, g, 0, "no", "yes", "yes"); unlock(g)
ts[0] += 10_000_000_000  # ten idle seconds before the trace ends
ev("ww_mutex_lock", "exit", {"lock": "0xffff888009000000", "ctx": "0x0"}, None, 0, tid=300, comm="other")
ev("ww_mutex_unlock", "entry", {"lock": "0xffff888009000000"}, {"held": "yes"}, tid=300, comm="other")
footer()
write("leak.jsonl", "a registered vm_bo nobody puts: vm-bo-leak info at the end, idle for 10 s")

# unknown.jsonl: clean.jsonl with 17 events lost before the unbind, then one more put
# on the destroyed vm_bo whose snapshot says refcount 1 (a create may have been lost):
# an unknown finding, which never changes the exit status.
src = open("clean.jsonl").read().rstrip("\n").split("\n")
i = next(i for i, l in enumerate(src) if l.startswith("# unbind"))
put_entry = json.loads([l for l in src if '"drm_gpuvm_bo_put","phase":"entry"' in l][-1])
put_entry["ts"] = 1000099000
put_entry["snap"]["refcount"] = 1
out = (["# clean.jsonl with a loss before the unbind and a later put on the dead vm_bo: unknown, not a violation"]
       + src[1:i] + ['{"type":"lost","ts":1000018500,"cpu":1,"count":17}'] + src[i:-1]
       + [json.dumps(put_entry, separators=(',', ':'))] + src[-1:])
open("unknown.jsonl", "w").write("\n".join(out) + "\n")

# The footer's event count must match the file (readers reject a mismatch as damage):
# the derived traces above reuse clean.jsonl's footer, so recount.
for name in ("midflight.jsonl", "unknown.jsonl"):
    ls = open(name).read().rstrip("\n").split("\n")
    n = sum(1 for l in ls if '"type":"event"' in l)
    for k, l in enumerate(ls):
        if l.startswith('{"type":"footer"'):
            f = json.loads(l)
            f["events"] = n
            ls[k] = json.dumps(f, separators=(',', ':'))
    open(name, "w").write("\n".join(ls) + "\n")
