// SPDX-License-Identifier: GPL-2.0-only
// Evidence: answering "is this lock held by current", "is this VM protected /
// immediate", "is this GEM external" from snapshots first, then from the model, and
// saying which evidence is missing when neither knows (§C.3, §C.4, evidence in rule_catalog.cpp).
#include <fmt/format.h>

#include "decode/model/model.h"
#include "decode/model/rule_ids.h"

namespace gvt::model {

constexpr uint32_t kResvProtected = 1u << 0;
constexpr uint32_t kImmediateMode = 1u << 1;  // only when features.immediate_mode

Model::Model(CheckerOptions o, FindingSink& s, TransitionObserver* obs)
    : opts(o), sink(s), observer(obs), table(*this) {
  if (o.stats) stats = std::make_unique<StatsCollector>(o.stats_top);
  summary.filtered = o.filter.active();
  // Denser tables: memory grows with live objects, so buckets are what it grows by.
  vms.max_load_factor(0.8f);
  tasks.max_load_factor(0.8f);
  vas.max_load_factor(0.8f);
  registered.max_load_factor(0.8f);
  extobj_suspects.max_load_factor(0.8f);
}

bool Model::uncertain(const Attrs& a) const { return a.sync_epoch != lost_epoch; }

const char* Model::vm_uncertain_why(const VmState& v) const {
  if (v.partial) return "the VM was first seen after its drm_gpuvm_init (partial history)";
  if (v.init_epoch != lost_epoch) return "events were lost since the VM's drm_gpuvm_init";
  return "";
}

Ans Model::tombstone_certain(const Destroyed& d) const {
  if (!d.observed)
    return Ans::unknown("its previous generation ended unobserved (destroyed-unobserved)");
  if (!d.certain) return Ans::unknown("the generation was uncertain when it ended");
  if (d.epoch != lost_epoch)
    return Ans::unknown("events were lost since its destruction (the address may have been reused)");
  if (!put_complete_hdr) return Ans::unknown("put coverage of this trace is not complete");
  if (put_coverage_broken)
    return Ans::unknown("a vm_bo whose create was not observed appeared (coverage partial)");
  return Ans::yes();
}

VmState* Model::vm_if_slow(uint64_t addr) {
  auto& c = vm_cache[(addr >> 12 ^ addr >> 6) & 63];
  auto it = vms.find(addr);
  if (it == vms.end()) return nullptr;
  c = {addr, &it.value()};
  return c.second;
}

VmState& Model::vm(uint64_t addr) {
  if (VmState* v = vm_if(addr)) return *v;
  vm_cache_clear();
  VmState& v = vms[addr];
  v.gen = ++vm_gens;
  v.partial = true;
  v.init_epoch = lost_epoch;
  return v;
}

void Model::vm_erase(uint64_t addr) {
  auto it = vms.find(addr);
  if (it == vms.end()) return;
  if (it->second.put_pending || it->second.put_unknown) pending_vm_puts--;
  vms.erase(it);
  vm_cache_clear();
}

Ans Model::protected_vm(const Event& e, uint64_t vm) {
  if (e.has(S_VM_FLAGS)) return (e.get(S_VM_FLAGS) & kResvProtected) ? Ans::yes() : Ans::no();
  if (VmState* v = vm_if(vm); v && v->flags_known)
    return (v->flags & kResvProtected) ? Ans::yes() : Ans::no();
  return Ans::unknown("the VM's flags are not known (no vm_flags snapshot, drm_gpuvm_init not seen)");
}

Ans Model::immediate_vm(const Event& e, uint64_t vm) {
  if (feat_immediate == Tri::no) return Ans::no();
  if (feat_immediate == Tri::unknown)
    return Ans::unknown("the trace header does not say whether the kernel has DRM_GPUVM_IMMEDIATE_MODE (features.immediate_mode)");
  uint32_t flags = 0;
  if (e.has(S_VM_FLAGS)) {
    flags = static_cast<uint32_t>(e.get(S_VM_FLAGS));
  } else if (VmState* v = vm_if(vm); v && v->flags_known) {
    flags = v->flags;
  } else {
    return Ans::unknown("the VM's flags are not known (no vm_flags snapshot, drm_gpuvm_init not seen)");
  }
  return (flags & kImmediateMode) ? Ans::yes() : Ans::no();
}

GpuvaLock Model::gpuva_lock_kind(const Event& e, uint64_t vm, const char** why) {
  if (feat_gpuva_mutex == Tri::no) return GpuvaLock::bo_resv;
  if (feat_gpuva_mutex == Tri::unknown) {
    *why = "the trace header does not say whether drm_gem_object.gpuva.lock exists (features.gpuva_mutex)";
    return GpuvaLock::unknown;
  }
  Ans imm = immediate_vm(e, vm);
  if (imm.v == Tri::yes) return GpuvaLock::gem_mutex;
  if (imm.v == Tri::no) return GpuvaLock::bo_resv;
  *why = imm.why;
  return GpuvaLock::unknown;
}

Ans Model::external(const Event& e, const Attrs* a, uint64_t vm) {
  uint64_t bo = arg(e, S_BO_RESV, a ? a->bo_resv : 0);
  uint64_t vr = arg(e, S_VM_RESV);
  if (!vr)
    if (VmState* v = vm_if(vm)) vr = v->resv;
  if (bo && vr) return bo != vr ? Ans::yes() : Ans::no();
  if (a && a->external != Tri::unknown) return {a->external, ""};
  return Ans::unknown("the BO's or the VM's dma-resv address is not known");
}

Ans Model::held_vm_resv(const Event& e, Task& t, uint64_t vm) {
  Tri k = unknown_if_absent(e.tri(S_HELD_VM_RESV));
  if (k != Tri::unknown) return {k, ""};
  uint64_t addr = arg(e, S_VM_RESV);
  if (!addr)
    if (VmState* v = vm_if(vm)) addr = v->resv;
  if (!addr) return Ans::unknown("held_vm_resv missing and the VM resv address is not known");
  Tri h = task_held(t, addr);
  if (h != Tri::unknown) return {h, ""};
  return Ans::unknown("held_vm_resv missing and no lock event of this task on the VM resv since the trace started or since events were lost (or lock coverage is partial)");
}

Ans Model::held_bo_resv(const Event& e, Task& t, const Attrs* a) {
  Tri k = unknown_if_absent(e.tri(S_HELD_BO_RESV));
  if (k != Tri::unknown) return {k, ""};
  uint64_t addr = arg(e, S_BO_RESV, a ? a->bo_resv : 0);
  if (!addr) return Ans::unknown("held_bo_resv missing and the BO resv address is not known");
  Tri h = task_held(t, addr);
  if (h != Tri::unknown) return {h, ""};
  return Ans::unknown("held_bo_resv missing and no lock event of this task on the BO resv since the trace started or since events were lost (or lock coverage is partial)");
}

Ans Model::held_gpuva(const Event& e, Task& t, const Attrs* a, uint64_t vm) {
  Tri snap = e.tri(S_HELD_GPUVA_LOCK);
  if (is_known(snap)) return {unknown_if_absent(snap), ""};
  const char* why = "";
  switch (gpuva_lock_kind(e, vm, &why)) {
    case GpuvaLock::bo_resv:
      // An explicit "unknown" is the recorder saying the gpuva lock did not resolve
      // (a driver-private lock on <= 6.17): the BO resv is then not the lock.
      if (snap == Tri::unknown)
        return Ans::unknown("the recorder could not resolve the gpuva lock (driver-private lock?)");
      return held_bo_resv(e, t, a);
    case GpuvaLock::gem_mutex:
      return Ans::unknown("held_gpuva_lock missing; obj->gpuva.lock is not otherwise observable");
    case GpuvaLock::unknown:
      return Ans::unknown(why);
  }
  return Ans::unknown("gpuva lock unresolved");
}

Ans Model::held_gem_mutex(const Event& e, uint64_t vm) {
  const char* why = "";
  GpuvaLock k = gpuva_lock_kind(e, vm, &why);
  if (k == GpuvaLock::unknown) return Ans::unknown(why);
  if (k == GpuvaLock::bo_resv)
    return Ans::unknown("the VM is not in immediate mode: held_gpuva_lock names obj->resv, not obj->gpuva.lock");
  Tri snap = e.tri(S_HELD_GPUVA_LOCK);
  if (is_known(snap)) return {unknown_if_absent(snap), ""};
  return Ans::unknown("held_gpuva_lock missing from the snapshot");
}

uint32_t Model::intern_comm(std::string_view c) {
  std::string key(c);
  auto it = comm_ids.find(key);
  if (it != comm_ids.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(comms.size());
  comms.push_back(key);
  comm_ids.emplace(std::move(key), id);
  return id;
}

DeathInfo Model::death(const Event& e, const Task& t, bool certain) const {
  DeathInfo d;
  d.ts = e.ts;
  d.line = e.line;
  d.epoch = lost_epoch;
  d.tid = e.tid;
  d.comm = t.comm;
  d.certain = certain;
  d.who = who(e, t);
  return d;
}

Who Model::who(const Event& e, const Task& t) const {
  Who w;
  w.ts = e.ts;
  w.line = e.line <= UINT32_MAX ? static_cast<uint32_t>(e.line) : 0;
  w.tid = e.tid;
  w.comm = t.comm < (1u << 24) ? t.comm : 0;
  w.fn = static_cast<uint32_t>(e.fn);
  uint64_t st = 0;
  bool has = false;
  if (e.phase == Phase::exit && exit_frame && exit_frame->has_stack) {
    st = exit_frame->stack;
    has = true;
  } else if (e.has(STACK)) {
    st = e.get(STACK);
    has = true;
  }
  if (has && st < UINT32_MAX) w.stack = static_cast<uint32_t>(st + 1);
  return w;
}

Attrs Model::attrs_from_snapshot(const Event& e, uint64_t vm, uint64_t obj) const {
  Attrs a;
  a.vm = vm ? vm : arg(e, S_VM);
  a.obj = obj ? obj : arg(e, S_OBJ);
  a.bo_resv = arg(e, S_BO_RESV);
  a.last_ts = e.ts;
  a.sync_epoch = lost_epoch;
  if (e.has(S_REFCOUNT)) {
    a.refcount = static_cast<int32_t>(e.sget(S_REFCOUNT));
    a.refcount_known = true;
  }
  a.extobj = unknown_if_absent(e.tri(S_ON_EXTOBJ));
  a.evicted = unknown_if_absent(e.tri(S_EVICTED));
  a.on_evict = unknown_if_absent(e.tri(S_ON_EVICT));
  if (e.has(S_BO_RESV) && e.has(S_VM_RESV))
    a.external = tri_of(e.get(S_BO_RESV) != e.get(S_VM_RESV));
  if (is_no(e.tri(S_N_VA_NONZERO))) a.n_va_exact = true;
  return a;
}

LifeState Model::adopted_state(const Event& e, bool* sure) const {
  *sure = true;
  Tri gem = e.tri(S_ON_GEM);
  if (is_yes(gem)) return LifeState::registered;
  bool rc_known = e.has(S_REFCOUNT);
  int64_t rc = e.sget(S_REFCOUNT);
  if (rc_known && rc == 0 && is_yes(e.tri(S_ON_DEFER))) return LifeState::zombie;
  if (rc_known && rc > 0 && is_no(gem) && !is_yes(e.tri(S_ON_EXTOBJ)) &&
      !is_yes(e.tri(S_ON_EVICT)))
    return LifeState::allocated;
  *sure = false;
  return LifeState::registered;
}

Slot* Model::slot_for(uint64_t addr, const Event& e, const Task& t, uint64_t vm, uint64_t obj) {
  if (!addr) return nullptr;
  if (Slot* s = table.find(addr); s && s->gen != 0) return s;
  bool sure = true;
  LifeState st = adopted_state(e, &sure);
  Attrs a = attrs_from_snapshot(e, vm, obj);
  a.origin = Origin::adopted;
  if (!sure) a.sync_epoch = lost_epoch - 1;  // state guessed: uncertain until a snapshot
  Slot& s = table.adopt(addr, st, a, death(e, t));
  note(addr, s, LifeState::none, "adopted", true);
  return table.find(addr);
}

void Model::resync(Slot& s, const Event& e) {
  Attrs* a = s.attrs();
  if (!a || !uncertain(*a)) return;
  // A full snapshot: refcount and GEM-list membership read at this event.
  if (!e.has(S_REFCOUNT) || !is_present(e.tri(S_ON_GEM))) return;
  a->refcount = static_cast<int32_t>(e.sget(S_REFCOUNT));
  a->refcount_known = true;
  if (a->extobj != Tri::yes) a->extobj = unknown_if_absent(e.tri(S_ON_EXTOBJ));  // never leaves it while alive
  if (is_no(e.tri(S_N_VA_NONZERO))) {
    a->n_va = 0;
    a->n_va_exact = true;
  } else {
    a->n_va_exact = false;
  }
  a->sync_epoch = lost_epoch;
  if (is_yes(e.tri(S_ON_GEM)) && std::holds_alternative<Allocated>(s.st)) LifecycleTable::t2_register(s);
}

void Model::note_for_observer(uint64_t addr, const Slot& s, LifeState from, std::string_view text,
                              bool adopted) {
  Transition t;
  t.vm_bo = addr;
  t.gen = s.gen;
  t.from = from;
  t.to = s.life();
  t.adopted = adopted;
  t.note.assign(text);
  touched.push_back(std::move(t));
}

void Model::update_suspect(uint64_t addr, const Slot& s) {
  const Attrs* a = s.attrs();
  bool suspect = a && !std::holds_alternative<Zombie>(s.st) && a->n_va > 0 &&
                 a->external == Tri::yes && a->extobj != Tri::yes && !a->reported_extobj_missing;
  // Touch the map only on a change: this runs on every link/unlink/extobj_add.
  if (!a || suspect == a->in_suspects) {
    if (!a) extobj_suspects.erase(addr);
    return;
  }
  const_cast<Attrs*>(a)->in_suspects = suspect;
  if (suspect)
    extobj_suspects[addr] = s.gen;
  else
    extobj_suspects.erase(addr);
}

void Model::lifecycle_started(uint64_t addr, Slot& s) {
  summary.vm_bos++;
  Attrs* a = s.attrs();
  if (!a || !a->vm) return;
  VmState& v = vm(a->vm);
  a->vm_gen = v.gen;
  v.live_gens++;
}

void Model::lifecycle_ended(uint64_t addr, uint32_t gen, const Attrs& a) {
  if (stats) {
    // The table calls this with the slot already turned into its tombstone.
    if (const Slot* s = table.find(addr); s && s->gen == gen)
      if (const Destroyed* d = s->dead()) stats->ended(addr, gen, a, *d);
  }
  if (a.vm) {
    if (VmState* v = vm_if(a.vm); v && v->gen == a.vm_gen && v->live_gens > 0) v->live_gens--;
    if (a.indexed) {
      auto it = registered.find({a.vm, a.obj});
      if (it != registered.end() && it->second == addr) registered.erase(it);
    }
  }
  if (a.in_suspects) extobj_suspects.erase(addr);
  if (observer) observer->on_closed(addr, gen);
}

void Model::report(FindingKind kind, std::string_view rule, Severity sev, const Event* e,
                   const Subject& subj, std::string text) {
  Finding f;
  f.kind = kind;
  f.rule = rule;
  f.severity = sev;
  f.vm_bo = subj.vm_bo;
  f.gen = subj.gen;
  f.vm = subj.vm;
  f.obj = subj.obj;
  f.incomplete_trace = incomplete;
  if (e) {
    f.ts = e->ts;
    f.tid = e->tid;
    f.comm.assign(e->comm);
    f.fn = fn_name(e->fn);
    f.line = e->line;
    if (e->phase == Phase::exit && exit_frame && exit_frame->has_stack) {
      f.has_stack = true;
      f.stack = exit_frame->stack;
    } else if (e->has(STACK)) {
      f.has_stack = true;
      f.stack = e->get(STACK);
    }
  } else {
    f.ts = last_ts;
  }
  add_evidence(f, e, subj);
  // The model has done its work whatever the filter says; the filter only decides
  // whether the user asked to see this finding.
  if (summary.filtered && !opts.filter.selects(f)) {
    summary.hidden++;
    return;
  }
  if (stats) stats->finding(f);
  if (kind == FindingKind::unknown) {
    f.reason = std::move(text);
    summary.unknown++;
  } else if (kind == FindingKind::info) {
    f.message = std::move(text);
    summary.infos++;
  } else {
    f.message = std::move(text);
    summary.violations++;
    if (sev == Severity::error) summary.errors++;
    else if (sev == Severity::warning) summary.warnings++;
  }
  sink.on_finding(f);
}

namespace {

namespace id = rules::id;

// Rules about a destroyed or wrong generation, and the leak rules: they quote the
// vm_bo's history (who created it, who destroyed it, the last reference change).
bool wants_history(std::string_view r) {
  return r == id::double_put || r == id::use_after_free || r == id::destroy_while_mapped ||
         r == id::prealloc_reused || r == id::duplicate_vm_bo || r == id::vm_bo_leak ||
         r == id::vm_bo_leak_at_vm_destroy || r == id::deferred_never_cleaned ||
         r == id::refcount_saturated || r == id::link_unregistered;
}

// Lock rules, and which of the event's locks each one is about.
struct LockNeed {
  bool vm_resv = false, bo_resv = false, arg_lock = false;
};
bool wants_locks(std::string_view r, LockNeed* n) {
  if (r == id::extobj_add_unlocked || r == id::deferred_cleanup_resv_held) n->vm_resv = true;
  else if (r == id::evict_unlocked || r == id::obtain_unlocked || r == id::link_unlocked) n->bo_resv = true;
  else if (r == id::put_final_unlocked || r == id::extobj_missing) n->vm_resv = n->bo_resv = true;
  else if (r == id::lock_unbalanced) n->arg_lock = true;
  else if (r != id::gem_freed_under_gpuva_lock && r != id::gpuva_lock_recursion) return false;
  return true;
}

}  // namespace

void Model::add_evidence(Finding& f, const Event* e, const Subject& subj) const {
  auto quote = [this](const Who& w, FindingWho& out) {
    if (!w.known()) return;
    out.set = true;
    out.adopted = w.adopted;
    out.ts = w.ts;
    out.tid = w.tid;
    out.comm.assign(comm(w.comm));
    out.fn = fn_name(static_cast<Fn>(w.fn));
    out.line = w.line;
    if (w.stack) {
      out.has_stack = true;
      out.stack = w.stack - 1;
    }
  };
  if (subj.vm_bo && wants_history(f.rule)) {
    // Only the latest generation at an address keeps its history (a tombstone for a
    // dead one): an older generation has none left to quote.
    if (const Slot* s = const_cast<LifecycleTable&>(table).find(subj.vm_bo); s && s->gen == subj.gen) {
      if (const Destroyed* d = s->dead()) {
        quote(d->created, f.created);
        if (d->observed) quote(d->by, f.destroyed);
      } else if (const Attrs* a = s->attrs()) {
        quote(a->created, f.created);
        quote(a->last_ref, f.last_ref);
      }
    }
  }
  LockNeed need;
  if (!e || !wants_locks(f.rule, &need)) return;
  f.has_locks = true;
  auto holders_of = [this](uint64_t addr, FindingLock& fl) {
    for (auto it = tasks.begin(); it != tasks.end(); ++it) {
      const HeldLock* l = const_cast<Task&>(it->second).lock(addr);
      if (!l || l->state != LockState::held) continue;
      fl.holders.push_back({it->first, std::string(comm(it->second.comm)),
                            l->acquired_observed ? l->ts : 0, l->line});
    }
  };
  auto add = [&](std::string_view name, uint64_t addr) {
    if (!addr) return;
    for (const FindingLock& x : f.locks)
      if (x.addr == addr) return;
    FindingLock fl;
    fl.name = name;
    fl.addr = addr;
    holders_of(addr, fl);
    f.locks.push_back(std::move(fl));
  };
  const Slot* s = subj.vm_bo ? const_cast<LifecycleTable&>(table).find(subj.vm_bo) : nullptr;
  const Attrs* a = s ? s->attrs() : nullptr;
  if (need.vm_resv) {
    uint64_t vr = e->has(S_VM_RESV) ? e->get(S_VM_RESV) : 0;
    if (!vr && subj.vm)
      if (auto it = vms.find(subj.vm); it != vms.end()) vr = it->second.resv;
    add("vm_resv", vr);
  }
  if (need.bo_resv) add("bo_resv", e->has(S_BO_RESV) ? e->get(S_BO_RESV) : (a ? a->bo_resv : 0));
  if (need.arg_lock && e->has(A_LOCK)) add("lock", e->get(A_LOCK));
  // Everything else the task is known to hold at this moment.
  if (auto it = tasks.find(e->tid); it != tasks.end()) {
    for (const HeldLock& l : it->second.locks) {
      if (l.state != LockState::held) continue;
      bool listed = false;
      for (const FindingLock& x : f.locks) listed = listed || x.addr == l.addr;
      if (listed) continue;
      FindingLock fl;
      fl.name = "held";
      fl.addr = l.addr;
      fl.holders.push_back({e->tid, std::string(comm(it->second.comm)),
                            l.acquired_observed ? l.ts : 0, l.line});
      f.locks.push_back(std::move(fl));
    }
  }
}

void Model::info(std::string_view rule, const Event* e, const Subject& s, std::string msg) {
  if (!opts.report_info) return;
  report(FindingKind::info, rule, Severity::info, e, s, std::move(msg));
}

}  // namespace gvt::model
