// SPDX-License-Identifier: GPL-2.0-only
// Event dispatch. Entries push a Frame with what their exit (and calls nested inside)
// will need; exits pop it. Each handler applies the transition of §D.4 named in its
// comment and calls the rules of §E.1 whose trigger is that event. Slot pointers are
// re-fetched after any table change (robin_map moves entries on insert/erase).
#include "decode/model/handlers.h"

#include "decode/model/rules/rules.h"

namespace gvt::model {

namespace {

using rules::On;

bool is_ww_lock(Fn f) { return f == Fn::ww_mutex_lock || f == Fn::ww_mutex_lock_interruptible; }
bool is_mutex_lock(Fn f) {
  return f == Fn::mutex_lock || f == Fn::mutex_lock_interruptible || f == Fn::mutex_lock_killable;
}
// Functions whose recorder emits the entry only (trace-format.md table).
bool entry_only(Fn f) {
  return f == Fn::gpuvm_free || f == Fn::ww_mutex_unlock || f == Fn::mutex_unlock || f == Fn::sys_exit;
}
// Functions whose exit legitimately comes without an entry.
bool exit_alone_ok(Fn f) {
  return f == Fn::gpuvm_init || f == Fn::va_insert || f == Fn::va_remove || is_ww_lock(f) ||
         f == Fn::ww_mutex_trylock || is_mutex_lock(f) || f == Fn::mutex_trylock;
}

bool ret_true(const Event& e) { return e.has(RET) && e.get(RET) != 0 && e.ret_kind != RetKind::err; }

uint64_t arg(const Event& e, Field f) { return e.has(f) ? e.get(f) : 0; }

// A mutex call made by ww_mutex_* itself (§C.1): ignored.
bool nested_in_ww(Task& t, const Event& e) {
  Frame* top = t.top();
  if (top && (is_ww_lock(top->fn) || top->fn == Fn::ww_mutex_trylock)) return true;
  return t.ww_unlock_pending && e.has(A_LOCK) && e.get(A_LOCK) == t.ww_unlock_addr;
}

// task_of() off its fast path: a task not in the cache, or a new comm pointer.
[[gnu::noinline]] Task& task_of_slow(Model& m, const Event& e) {
  auto& c = m.task_cache[static_cast<uint32_t>(e.tid) & 63];
  if (!c.second || c.first != e.tid) {
    auto it = m.tasks.find(e.tid);
    if (it == m.tasks.end()) {
      it = m.tasks.emplace(e.tid, Task{}).first;
      it.value().stack.reserve(8);
      m.task_cache.fill({0, nullptr});  // entries may have moved
    }
    c = {e.tid, &it.value()};
  }
  Task& t = *c.second;
  // Readers intern comms, so the same pointer means the same text: no compare.
  if (e.comm.data() != t.comm_ptr || e.comm.size() != t.comm_len) {
    if (t.comm == 0 || m.comms[t.comm] != e.comm) t.comm = m.intern_comm(e.comm);
    t.comm_ptr = e.comm.data();
    t.comm_len = e.comm.size();
  }
  return t;
}

// Runs on every event: the common case (cached task, same comm) stays inline.
inline Task& task_of(Model& m, const Event& e) {
  const auto& c = m.task_cache[static_cast<uint32_t>(e.tid) & 63];
  Task* t = c.second;
  if (t && c.first == e.tid && e.comm.data() == t->comm_ptr && e.comm.size() == t->comm_len) [[likely]]
    return *t;
  return task_of_slow(m, e);
}

// VM facts carried by any snapshot.
void absorb_vm(Model& m, const Event& e, uint64_t vm) {
  if (!vm || (!e.has(S_VM_RESV) && !e.has(S_VM_FLAGS))) return;
  VmState& v = m.vm(vm);
  if (e.has(S_VM_RESV)) v.resv = e.get(S_VM_RESV);
  if (e.has(S_VM_FLAGS)) {
    v.flags = static_cast<uint32_t>(e.get(S_VM_FLAGS));
    v.flags_known = true;
  }
}

// A live lifecycle takes what the snapshot says (refcount is never reconstructed).
void absorb(Model& m, Slot& s, const Event& e) {
  Attrs* a = s.attrs();
  if (!a) return;
  a->last_ts = e.ts;
  if (!a->vm && e.has(S_VM)) {
    a->vm = e.get(S_VM);
    VmState& v = m.vm(a->vm);
    a->vm_gen = v.gen;
    v.live_gens++;
  }
  if (!a->obj && e.has(S_OBJ)) a->obj = e.get(S_OBJ);
  if (e.has(S_BO_RESV)) a->bo_resv = e.get(S_BO_RESV);
  uint64_t vr = e.has(S_VM_RESV) ? e.get(S_VM_RESV) : 0;
  if (!vr && a->vm)
    if (VmState* v = m.vm_if(a->vm)) vr = v->resv;
  if (a->bo_resv && vr) a->external = from_bool(a->bo_resv != vr);
  if (e.has(S_REFCOUNT)) {
    a->refcount = static_cast<int32_t>(e.sget(S_REFCOUNT));
    a->refcount_known = true;
  }
  // A live vm_bo never leaves the extobj list: a "no" read after a "yes" is a snapshot
  // taken before another CPU's extobj_add (cross-CPU reordering), not a removal.
  if (known(e.b(S_ON_EXTOBJ)) && a->extobj != K::yes) a->extobj = from_opt(e.b(S_ON_EXTOBJ));
  if (known(e.b(S_EVICTED))) a->evicted = from_opt(e.b(S_EVICTED));
  if (known(e.b(S_ON_EVICT))) a->on_evict = from_opt(e.b(S_ON_EVICT));
}

// Snapshot facts about current's locks feed the held sets (§C.3): this is how locks
// taken before the trace started become known.
void seed_holds(Model& m, const Event& e, Task& t, uint64_t vm, const Attrs* a) {
  Tri hv = e.tri(S_HELD_VM_RESV);
  if (is_known(hv)) {
    uint64_t addr = arg(e, S_VM_RESV);
    if (!addr)
      if (VmState* v = m.vm_if(vm)) addr = v->resv;
    if (addr) t.set(addr, is_yes(hv) ? LockState::held : LockState::not_held);
  }
  Tri hb = e.tri(S_HELD_BO_RESV);
  if (is_known(hb)) {
    uint64_t addr = e.has(S_BO_RESV) ? e.get(S_BO_RESV) : (a ? a->bo_resv : 0);
    if (addr) t.set(addr, is_yes(hb) ? LockState::held : LockState::not_held);
  }
}

// The lifecycle an entry is about: the latest generation (possibly DESTROYED), or an
// adopted one for an address never seen.
Slot* latest(Model& m, uint64_t addr) {
  Slot* s = m.table.find(addr);
  return (s && s->gen) ? s : nullptr;
}

Slot* live_for(Model& m, uint64_t addr, const Event& e, const Task& t, uint64_t vm = 0, uint64_t obj = 0) {
  Slot* s = latest(m, addr);
  if (!s) return m.slot_for(addr, e, t, vm, obj);
  m.resync(*s, e);
  return s;
}

void fill_frame(Frame& f, uint64_t addr, const Slot* s, uint64_t vm) {
  f.vm_bo = addr;
  f.vm = vm;
  if (!s) return;
  f.gen = s->gen;
  if (const Attrs* a = s->attrs()) {
    f.obj = a->obj;
    if (!f.vm) f.vm = a->vm;
  } else if (const Destroyed* d = s->dead()) {
    f.obj = d->obj;
    if (!f.vm) f.vm = d->vm;
  }
}

void snapshot_refcount(Frame& f, const Event& e) {
  if (e.has(S_REFCOUNT)) {
    f.refcount = static_cast<int32_t>(e.sget(S_REFCOUNT));
    f.refcount_known = true;
  }
}

void mark_uncertain(Slot& s) {
  if (Attrs* a = s.attrs()) a->sync_epoch = ~0ull;
}

void acquire(Task& t, uint64_t lock, const Event& e) {
  if (!lock) return;
  HeldLock& l = t.set(lock, LockState::held);
  l.acquired_observed = true;
  l.ts = e.ts;
  l.line = e.line;
  l.fn = e.fn;
}

// ---------------------------------------------------------------- entries

// Entry of a call on one vm_bo that is not a put: extobj_add, evict, link,
// unmap_ops_create, obtain_prealloc. Returns the slot (nullptr when the generation is
// dead: use-after-free was judged and the model leaves it alone).
// The event acts on the live generation `s`: take in its snapshot and its VM, and point
// the rules' view `o` at them.
void take_live(Model& m, const Event& e, Task& t, On& o, Slot* s) {
  absorb(m, *s, e);
  o.s = s;
  o.vm = m.event_vm(e, s->attrs());
  absorb_vm(m, e, o.vm);
  seed_holds(m, e, t, o.vm, s->attrs());
}

Slot* vm_bo_entry(Model& m, const Event& e, Task& t, Frame& f, On& o) {
  uint64_t addr = arg(e, A_VM_BO);
  o.addr = addr;
  o.vm = m.event_vm(e, nullptr);
  if (!addr) return nullptr;
  Slot* s = latest(m, addr);
  o.s = s;
  if (s) {
    o.vm = m.event_vm(e, s->attrs());
    if (!s->alive() || (e.fn == Fn::va_link && std::holds_alternative<Zombie>(s->st))) {
      if (!o.vm)
        if (const Destroyed* d = s->dead()) o.vm = d->vm;
      rules::use_after_free(m, o);
      f.reported_uaf = true;
      fill_frame(f, addr, s, o.vm);
      return nullptr;
    }
  }
  s = live_for(m, addr, e, t);
  take_live(m, e, t, o, s);
  rules::refcount_saturated(m, o);
  fill_frame(f, addr, s, o.vm);
  return s;
}

void put_entry(Model& m, const Event& e, Task& t, Frame& f) {
  uint64_t addr = arg(e, A_VM_BO);
  f.vm_bo = addr;
  if (!addr) return;  // NULL put: no-op
  Slot* s = latest(m, addr);
  On o{e, t, addr, s, m.event_vm(e, s ? s->attrs() : nullptr)};
  if (s && !o.vm)
    if (const Destroyed* d = s->dead()) o.vm = d->vm;
  Frame* parent = t.top();
  fill_frame(f, addr, s, o.vm);
  if (e.fn == Fn::bo_put_deferred) rules::mode_mismatch(m, o);
  if (rules::double_put(m, o, f, parent)) {
    rules::refcount_saturated(m, o);
    return;
  }
  if (s && !s->alive()) {
    // A live object where the model has a tombstone: its create was not observed.
    bool sure = true;
    LifeState st = m.adopted_state(e, &sure);
    Attrs a = m.attrs_from_snapshot(e, 0, 0);
    a.origin = Origin::adopted;
    m.table.adopt(addr, st, a, m.death(e, t));
    m.put_coverage_broken = true;
    s = latest(m, addr);
    m.note(addr, *s, LifeState::destroyed, "re-created unobserved", true);
  } else {
    s = live_for(m, addr, e, t);
  }
  take_live(m, e, t, o, s);
  fill_frame(f, addr, s, o.vm);
  snapshot_refcount(f, e);
  rules::refcount_saturated(m, o);
  rules::destroy_while_mapped_prepare(m, o, f);
  if (e.fn == Fn::bo_put) {
    rules::put_final_unlocked_prepare(m, o, f);
    rules::gem_freed_prepare(m, o, f);
  } else {
    rules::gpuva_lock_recursion_entry(m, o, f);
  }
}

void unlink_entry(Model& m, const Event& e, Task& t, Frame& f) {
  uint64_t va = arg(e, A_VA);
  f.addr = va;
  const LinkRec* key = nullptr;
  LinkRec rec;
  if (auto it = m.vas.find(va); va && it != m.vas.end() && it->second.linked) {
    rec = LinkRec{it->second.vm_bo, it->second.epoch, it->second.gen};
    key = &rec;
    if (it->second.inserted)
      it.value().linked = false;
    else
      m.vas.erase(it);
  }
  // The key recorded at link wins; else the recorder's read of va->vm_bo.
  uint64_t addr = key ? key->vm_bo : arg(e, A_VM_BO) ? arg(e, A_VM_BO) : arg(e, S_VM_BO);
  Slot* s = addr ? latest(m, addr) : nullptr;
  On o{e, t, addr, s, m.event_vm(e, s ? s->attrs() : nullptr)};
  fill_frame(f, addr, s, o.vm);
  bool uaf = rules::use_after_free_unlink(m, o, key, f);
  if (!uaf && addr) {
    s = live_for(m, addr, e, t);
    take_live(m, e, t, o, s);
    fill_frame(f, addr, s, o.vm);
    rules::refcount_saturated(m, o);
  }
  snapshot_refcount(f, e);
  if (e.fn == Fn::va_unlink) {
    rules::link_unlocked(m, o);
  } else {
    rules::mode_mismatch(m, o);
    if (!uaf) rules::gpuva_lock_recursion_entry(m, o, f);
  }
  if (!uaf && s && s->alive() && key && key->gen == s->gen) {
    LifeState from = s->life();
    LifecycleTable::t9_unlink(*s);  // T9
    m.update_suspect(addr, *s);
    m.note(addr, *s, from, "n_va -1");
  }
}

void obtain_entry(Model& m, const Event& e, Task& t, Frame& f) {
  f.vm = arg(e, A_GPUVM);
  f.obj = arg(e, A_OBJ);
  absorb_vm(m, e, f.vm);
  On o{e, t, 0, nullptr, f.vm};
  f.held_gpuva = m.held_gpuva(e, t, nullptr, f.vm).v;
  rules::obtain_unlocked(m, o);
  if (e.fn == Fn::bo_obtain_locked) rules::mode_mismatch(m, o);
  seed_holds(m, e, t, f.vm, nullptr);
}

void prealloc_entry(Model& m, const Event& e, Task& t, Frame& f) {
  On o{e, t};
  Slot* s = vm_bo_entry(m, e, t, f, o);
  if (s) rules::prealloc_reused(m, o);
  f.held_gpuva = m.held_gpuva(e, t, o.attrs(), o.vm).v;
  rules::obtain_unlocked(m, o);
  rules::mode_mismatch(m, o);
  if (s) rules::gpuva_lock_recursion_entry(m, o, f);
}

void on_entry(Model& m, const Event& e, Task& t) {
  // Built in place on the task's stack (not yet visible to t.top()), committed below.
  Frame& f = t.stack.prepare(m.scratch_frame);
  f.fn = e.fn;
  f.seq = m.seq;
  f.line = e.line;
  if (e.has(STACK)) {
    f.stack = e.get(STACK);
    f.has_stack = true;
  }
  switch (e.fn) {
    case Fn::bo_create:
      f.vm = arg(e, A_GPUVM);
      f.obj = arg(e, A_OBJ);
      absorb_vm(m, e, f.vm);
      break;
    case Fn::bo_obtain:
    case Fn::bo_obtain_locked:
    case Fn::bo_find:
      obtain_entry(m, e, t, f);
      break;
    case Fn::bo_obtain_prealloc:
      prealloc_entry(m, e, t, f);
      break;
    case Fn::bo_put:
    case Fn::bo_put_deferred:
      put_entry(m, e, t, f);
      break;
    case Fn::bo_deferred_cleanup:
      f.vm = arg(e, A_GPUVM);
      absorb_vm(m, e, f.vm);
      rules::deferred_cleanup_prepare(m, e, t, f);
      break;
    case Fn::bo_extobj_add: {
      On o{e, t};
      if (vm_bo_entry(m, e, t, f, o)) rules::extobj_add_unlocked(m, o);
      break;
    }
    case Fn::bo_evict: {
      On o{e, t};
      f.aux = static_cast<uint64_t>(from_opt(e.b(A_EVICT)));
      if (vm_bo_entry(m, e, t, f, o)) rules::evict_unlocked(m, o);
      break;
    }
    case Fn::bo_unmap_ops_create: {
      On o{e, t};
      if (vm_bo_entry(m, e, t, f, o)) rules::obtain_unlocked(m, o);
      break;
    }
    case Fn::va_link: {
      On o{e, t};
      f.addr = arg(e, A_VA);
      if (vm_bo_entry(m, e, t, f, o)) rules::link_unregistered(m, o);
      rules::link_unlocked(m, o);
      break;
    }
    case Fn::va_unlink:
    case Fn::va_unlink_defer:
      unlink_entry(m, e, t, f);
      break;
    case Fn::va_insert:
    case Fn::va_remove:
      f.addr = arg(e, A_VA);
      f.vm = arg(e, A_GPUVM);
      break;
    case Fn::vm_validate:
    case Fn::vm_prepare_objects:
    case Fn::vm_exec_lock:
    case Fn::vm_exec_lock_array:
    case Fn::vm_exec_lock_range:
      f.vm = arg(e, A_GPUVM);
      absorb_vm(m, e, f.vm);
      break;
    case Fn::vm_resv_add_fence:
      f.vm = arg(e, A_GPUVM);
      absorb_vm(m, e, f.vm);
      rules::extobj_missing(m, e, t, f.vm);
      break;
    case Fn::gpuvm_init:
      f.vm = arg(e, A_GPUVM);
      break;
    case Fn::gpuvm_put:
      f.vm = arg(e, A_GPUVM);
      absorb_vm(m, e, f.vm);
      rules::alloc_free_asymmetric(m, e, f.vm);
      rules::vm_put_entry(m, e, f.vm);
      break;
    case Fn::gpuvm_free: {
      uint64_t vm = arg(e, A_GPUVM);
      rules::vm_free(m, e, vm);
      // T15: the VM generation is closed; its lifecycles keep their (now stale) vm_gen.
      m.vm_erase(vm);
      return;
    }
    case Fn::ww_mutex_lock:
    case Fn::ww_mutex_lock_interruptible: {
      f.addr = arg(e, A_LOCK);
      f.aux = arg(e, A_CTX);
      Frame* outer = t.top();
      bool replaced = outer && outer->fn == Fn::bo_deferred_cleanup &&
                      rules::deferred_cleanup_resv_held(m, e, t, *outer);
      if (!replaced) rules::lock_unbalanced_lock(m, e, t);
      break;
    }
    case Fn::ww_mutex_trylock:
      f.addr = arg(e, A_LOCK);
      break;
    case Fn::ww_mutex_unlock: {
      rules::lock_unbalanced_unlock(m, e, t);
      uint64_t lock = arg(e, A_LOCK);
      // An unlock by a non-owner still frees the mutex: its owner no longer holds it.
      if (lock && t.held(lock) != K::yes)
        for (auto it = m.tasks.begin(); it != m.tasks.end(); ++it)
          if (HeldLock* l = it.value().lock(lock); l && l->state == LockState::held)
            it.value().set(lock, LockState::not_held);
      if (lock) t.set(lock, LockState::not_held);
      t.ww_unlock_pending = true;
      t.ww_unlock_addr = lock;
      return;
    }
    case Fn::mutex_lock:
    case Fn::mutex_lock_interruptible:
    case Fn::mutex_lock_killable: {
      if (nested_in_ww(t, e)) return;
      f.addr = arg(e, A_LOCK);
      Frame* outer = t.top();
      if (outer && outer->fn == Fn::bo_put_deferred) rules::gpuva_lock_recursion_nested(m, e, t, *outer);
      break;
    }
    case Fn::mutex_trylock:
      if (nested_in_ww(t, e)) return;
      f.addr = arg(e, A_LOCK);
      break;
    case Fn::mutex_unlock: {
      if (nested_in_ww(t, e)) return;
      if (uint64_t lock = arg(e, A_LOCK)) t.set(lock, LockState::not_held);
      return;
    }
    case Fn::sys_exit:
      rules::lock_unbalanced_sys_exit(m, e, t);
      return;
    default:
      return;
  }
  t.stack.commit();
}

// ---------------------------------------------------------------- exits

// A vm_bo returned by obtain*/find: T2, T2', T3 (found side of T4), T5.
Slot* returned_registered(Model& m, const Event& e, const Task& t, uint64_t p, const Frame& f, bool* newly) {
  *newly = false;
  Slot* s = latest(m, p);
  if (!s) {
    Attrs a = m.attrs_from_snapshot(e, f.vm, f.obj);
    a.origin = Origin::adopted;
    m.table.adopt(p, LifeState::registered, a, m.death(e, t));
    s = latest(m, p);
    m.note(p, *s, LifeState::none, "adopted", true);
    return s;
  }
  if (!s->alive() || std::holds_alternative<Zombie>(s->st)) {
    // §E.2: its create was not seen; coverage is partial from here on.
    LifeState from = s->life();
    Attrs a = m.attrs_from_snapshot(e, f.vm, f.obj);
    a.origin = Origin::adopted;
    m.table.adopt(p, LifeState::registered, a, m.death(e, t, false));
    m.put_coverage_broken = true;
    s = latest(m, p);
    m.note(p, *s, from, "new gen (create unobserved)", true);
    *newly = true;
    return s;
  }
  LifeState from = s->life();
  if (from == LifeState::allocated) {
    LifecycleTable::t2_register(*s);  // T2 / T3
    *newly = true;
    m.note(p, *s, from, "registered");
  } else {
    LifecycleTable::t2b_ref_gain(*s, m.seq);  // T2' / T5
    m.note(p, *s, from, "ref +1");
  }
  return s;
}

void obtain_exit(Model& m, const Event& e, Task& t, const Frame& f) {
  if (!e.ret_is_ptr()) return;
  uint64_t p = e.get(RET);
  Frame fr = f;
  if (!fr.vm) fr.vm = arg(e, A_GPUVM);
  if (!fr.obj) fr.obj = arg(e, A_OBJ);
  Slot* s = latest(m, p);
  bool newly = false;
  if (e.fn != Fn::bo_find && fr.aux == p && s && std::holds_alternative<Allocated>(s->st)) {
    LifecycleTable::t2_register(*s);  // T2: created inside this call
    newly = true;
    m.note(p, *s, LifeState::allocated, "registered");
  } else {
    s = returned_registered(m, e, t, p, fr, &newly);
  }
  absorb(m, *s, e);
  if (Attrs* a = s->attrs()) {
    if (!a->vm && fr.vm) {
      a->vm = fr.vm;
      VmState& v = m.vm(a->vm);
      a->vm_gen = v.gen;
      v.live_gens++;
    }
    if (!a->obj) a->obj = fr.obj;
  }
  On o{e, t, p, s, fr.vm};
  rules::duplicate_vm_bo(m, o, fr, newly);
}

void prealloc_exit(Model& m, const Event& e, Task& t, const Frame& f) {
  if (!e.ret_is_ptr() || f.reported_uaf) return;
  uint64_t r = e.get(RET);
  uint64_t a = f.vm_bo ? f.vm_bo : arg(e, A_VM_BO);
  bool newly = false;
  Slot* s;
  if (r == a) {
    s = latest(m, r);
    if (!s) return;
    if (std::holds_alternative<Allocated>(s->st)) {
      LifecycleTable::t2_register(*s);  // T3
      newly = true;
      m.note(r, *s, LifeState::allocated, "registered");
    }
  } else {
    Frame fr = f;
    returned_registered(m, e, t, r, fr, &newly);  // T4, found side
    // T4: the pre-allocation is gone (K612: already by the nested put ⟵1).
    if (Slot* p = latest(m, a); p && p->alive() && p->gen == f.gen) {
      LifeState from = p->life();
      Attrs* pa = p->attrs();
      bool certain = pa && !m.uncertain(*pa);
      m.table.destroy(a, *p, m.death(e, t, certain));
      if (Slot* q = latest(m, a)) m.note(a, *q, from, "pre-allocation freed");
    }
    s = latest(m, r);
    if (!s) return;
  }
  absorb(m, *s, e);
  On o{e, t, r, s, m.event_vm(e, s->attrs())};
  rules::duplicate_vm_bo(m, o, f, newly);
}

void put_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (f.reported_double_put || !f.vm_bo || !e.has(RET)) return;
  uint64_t addr = f.vm_bo;
  Slot* s = latest(m, addr);
  if (!s || !s->alive() || (matched && s->gen != f.gen)) return;
  On o{e, t, addr, s, f.vm ? f.vm : m.event_vm(e, s->attrs())};
  LifeState from = s->life();
  if (!ret_true(e)) {
    LifecycleTable::t10_ref_drop(*s);  // T10 / T13, ret 0
    m.note(addr, *s, from, "ref -1");
    return;
  }
  if (e.fn == Fn::bo_put) {
    if (matched) {
      rules::put_final_unlocked(m, o, f);
      rules::gem_freed_under_gpuva_lock(m, o, f);
      rules::destroy_while_mapped(m, o, f);
    }
    s = latest(m, addr);
    Attrs* a = s->attrs();
    bool certain = a && !m.uncertain(*a);
    m.table.destroy(addr, *s, m.death(e, t, certain));  // T10 ret 1
    if (Slot* q = latest(m, addr)) m.note(addr, *q, from, "destroyed");
    return;
  }
  // bo_put_deferred ret true: T11.
  if (matched) rules::destroy_while_mapped(m, o, f);
  s = latest(m, addr);
  Attrs* a = s->attrs();
  if (a && a->vm) {
    if (a->indexed) {
      auto it = m.registered.find({a->vm, a->obj});
      if (it != m.registered.end() && it->second == addr) m.registered.erase(it);
      a->indexed = false;
    }
    m.vm(a->vm).zombies.emplace_back(addr, s->gen);
  }
  if (a && a->in_suspects) {
    m.extobj_suspects.erase(addr);
    a->in_suspects = false;
  }
  LifecycleTable::t11_zombie(*s, m.seq);
  m.note(addr, *s, from, "zombie");
}

void unlink_defer_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (!matched || f.reported_uaf || !f.vm_bo) return;
  Slot* s = latest(m, f.vm_bo);
  if (!s || !s->alive() || s->gen != f.gen || std::holds_alternative<Zombie>(s->st)) return;
  Attrs* a = s->attrs();
  LifeState from = s->life();
  if (!f.refcount_known || a->gain_seq > f.seq) {
    // T11 cannot be decided: unknown until the next snapshot.
    mark_uncertain(*s);
    return;
  }
  if (f.refcount != 1) {
    LifecycleTable::t10_ref_drop(*s);
    m.note(f.vm_bo, *s, from, "ref -1");
    return;
  }
  On o{e, t, f.vm_bo, s, f.vm};
  rules::destroy_while_mapped_unlink_defer(m, o, f);
  s = latest(m, f.vm_bo);
  a = s->attrs();
  if (a->vm) {
    if (a->indexed) {
      auto it = m.registered.find({a->vm, a->obj});
      if (it != m.registered.end() && it->second == f.vm_bo) m.registered.erase(it);
      a->indexed = false;
    }
    m.vm(a->vm).zombies.emplace_back(f.vm_bo, s->gen);
  }
  if (a->in_suspects) {
    m.extobj_suspects.erase(f.vm_bo);
    a->in_suspects = false;
  }
  LifecycleTable::t11_zombie(*s, m.seq);  // T11
  m.note(f.vm_bo, *s, from, "zombie");
}

// T12: every zombie pushed before the cleanup's entry is freed; later ones may be.
void cleanup_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  uint64_t vm = f.vm ? f.vm : arg(e, A_GPUVM);
  VmState* v = m.vm_if(vm);
  if (!v) return;
  std::vector<std::pair<uint64_t, uint32_t>> zombies;
  zombies.swap(v->zombies);
  std::vector<std::pair<uint64_t, uint32_t>> keep;
  for (auto [addr, gen] : zombies) {
    Slot* s = latest(m, addr);
    if (!s || s->gen != gen || !std::holds_alternative<Zombie>(s->st)) continue;
    const Zombie& z = std::get<Zombie>(s->st);
    if (matched && z.pushed_seq < f.seq) {
      bool certain = !m.uncertain(z.a);
      m.table.destroy(addr, *s, m.death(e, t, certain));
      if (Slot* q = latest(m, addr)) m.note(addr, *q, LifeState::zombie, "freed by deferred cleanup");
    } else {
      mark_uncertain(*s);
      keep.emplace_back(addr, gen);
    }
  }
  if (VmState* v2 = m.vm_if(vm)) v2->zombies = std::move(keep);
}

void link_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (f.reported_uaf) return;
  uint64_t addr = matched ? f.vm_bo : arg(e, A_VM_BO);
  uint64_t va = matched ? f.addr : arg(e, A_VA);
  if (!addr) return;
  Slot* s = matched ? latest(m, addr) : live_for(m, addr, e, t);
  if (!s || !s->alive() || (matched && s->gen != f.gen)) return;
  LifeState from = s->life();
  LifecycleTable::t8_link(*s, m.seq);  // T8
  absorb(m, *s, e);
  if (va) {
    VaRec& r = m.vas[va];
    r.vm_bo = addr;
    r.epoch = m.lost_epoch;
    r.gen = s->gen;
    r.linked = true;
  }
  m.update_suspect(addr, *s);
  m.note(addr, *s, from, "n_va +1");
  On o{e, t, addr, s, m.event_vm(e, s->attrs())};
  rules::extobj_missing_at_link(m, o);
}

void extobj_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (f.reported_uaf) return;
  uint64_t addr = matched ? f.vm_bo : arg(e, A_VM_BO);
  Slot* s = addr ? latest(m, addr) : nullptr;
  if (!s || !s->alive() || (matched && s->gen != f.gen)) return;
  Attrs* a = s->attrs();
  K on = from_opt(e.b(S_ON_EXTOBJ));
  // Without a snapshot: the call appends every external vm_bo (idempotent).
  if (on == K::unknown && a->external == K::yes) on = K::yes;
  if (on == K::unknown && a->external == K::no) on = K::no;
  LifeState from = s->life();
  LifecycleTable::t6_extobj(*s, on);  // T6
  absorb(m, *s, e);
  m.update_suspect(addr, *s);
  m.note(addr, *s, from, on == K::yes ? "extobj" : "extobj_add");
}

void evict_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  if (f.reported_uaf) return;
  uint64_t addr = matched ? f.vm_bo : arg(e, A_VM_BO);
  Slot* s = addr ? latest(m, addr) : nullptr;
  if (!s || !s->alive() || (matched && s->gen != f.gen)) return;
  K ev = matched ? static_cast<K>(0) : K::unknown;
  OptBool ob = matched ? static_cast<OptBool>(f.aux) : e.b(A_EVICT);
  ev = from_opt(ob);
  LifeState from = s->life();
  LifecycleTable::t7_evict(*s, ev, from_opt(e.b(S_ON_EVICT)));  // T7
  absorb(m, *s, e);
  m.note(addr, *s, from, ev == K::yes ? "evicted" : "evict");
}

void create_exit(Model& m, const Event& e, Task& t, const Frame& f) {
  if (!e.ret_is_ptr()) return;
  uint64_t p = e.get(RET);
  Attrs a;
  a.vm = f.vm ? f.vm : arg(e, A_GPUVM);
  a.obj = f.obj ? f.obj : arg(e, A_OBJ);
  a.last_ts = e.ts;
  a.sync_epoch = m.lost_epoch;
  a.refcount = 1;
  a.refcount_known = true;
  a.n_va_exact = true;
  a.extobj = K::no;
  a.evicted = K::no;
  a.on_evict = K::no;
  a.origin = Origin::observed;
  uint32_t closed = 0;
  m.table.t1_create(p, a, m.death(e, t, false), &closed);  // T1
  Slot* s = latest(m, p);
  absorb(m, *s, e);
  m.note(p, *s, LifeState::none, closed ? "created (previous gen closed unobserved)" : "created");
  // Tell an enclosing obtain that this vm_bo is its own creation (T2).
  if (Frame* parent = t.top(); parent && (parent->fn == Fn::bo_obtain || parent->fn == Fn::bo_obtain_locked))
    parent->aux = p;
}

void lock_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  uint64_t lock = arg(e, A_LOCK);
  if (!lock && matched) lock = f.addr;
  if (!lock) return;
  switch (e.fn) {
    case Fn::ww_mutex_lock:
    case Fn::ww_mutex_lock_interruptible: {
      if (!e.has(RET)) return;
      int64_t r = e.ret_int();
      if (r == 0) acquire(t, lock, e);
      else if (r == kEALREADY) t.set(lock, LockState::held);
      else t.set(lock, LockState::not_held);  // -EDEADLK / -EINTR: not acquired
      return;
    }
    case Fn::ww_mutex_trylock:
    case Fn::mutex_trylock:
      if (e.has(RET) && e.ret_int() > 0) acquire(t, lock, e);
      return;
    case Fn::mutex_lock:
      acquire(t, lock, e);
      return;
    case Fn::mutex_lock_interruptible:
    case Fn::mutex_lock_killable:
      if (!e.has(RET) || e.ret_int() == 0) acquire(t, lock, e);
      else t.set(lock, LockState::not_held);
      return;
    default:
      return;
  }
}

void on_exit(Model& m, const Event& e, Task& t) {
  if (entry_only(e.fn)) return;
  if ((is_mutex_lock(e.fn) || e.fn == Fn::mutex_trylock) && nested_in_ww(t, e)) return;
  // The popped frame is read where it lies: exits never push, so it stays valid.
  const Frame* fp = t.pop(e.fn);
  const bool matched = fp != nullptr;
  if (!matched) {
    if (!exit_alone_ok(e.fn)) m.summary.unmatched_exits++;
    Frame& u = m.scratch_frame;
    std::construct_at(&u);  // Frame{}, written in place
    u.fn = e.fn;
    u.seq = m.seq;
    u.vm = arg(e, A_GPUVM);
    u.obj = arg(e, A_OBJ);
    u.vm_bo = arg(e, A_VM_BO);
    u.addr = arg(e, A_VA);
    fp = &u;
  }
  const Frame& f = *fp;
  if (matched) m.exit_frame = fp;
  switch (e.fn) {
    case Fn::bo_create: create_exit(m, e, t, f); break;
    case Fn::bo_obtain:
    case Fn::bo_obtain_locked:
    case Fn::bo_find: obtain_exit(m, e, t, f); break;
    case Fn::bo_obtain_prealloc: prealloc_exit(m, e, t, f); break;
    case Fn::bo_put:
    case Fn::bo_put_deferred: put_exit(m, e, t, f, matched); break;
    case Fn::bo_deferred_cleanup: cleanup_exit(m, e, t, f, matched); break;
    case Fn::bo_extobj_add: extobj_exit(m, e, t, f, matched); break;
    case Fn::bo_evict: evict_exit(m, e, t, f, matched); break;
    case Fn::va_link: link_exit(m, e, t, f, matched); break;
    case Fn::va_unlink_defer: unlink_defer_exit(m, e, t, f, matched); break;
    case Fn::va_insert: {
      uint64_t va = arg(e, A_VA) ? arg(e, A_VA) : f.addr;
      uint64_t vm = arg(e, A_GPUVM) ? arg(e, A_GPUVM) : f.vm;
      if (!va || !vm || (e.has(RET) && e.ret_int() != 0)) break;
      VaRec& r = m.vas[va];
      if (!r.inserted) {
        r.inserted = true;
        r.vm = vm;
        m.vm(vm).inserted_vas++;
      }
      break;
    }
    case Fn::va_remove: {
      uint64_t va = arg(e, A_VA) ? arg(e, A_VA) : f.addr;
      auto it = m.vas.find(va);
      if (it == m.vas.end() || !it->second.inserted) break;
      if (VmState* v = m.vm_if(it->second.vm); v && v->inserted_vas > 0) v->inserted_vas--;
      if (it->second.linked)
        it.value().inserted = false;
      else
        m.vas.erase(it);
      break;
    }
    case Fn::vm_exec_lock:
    case Fn::vm_exec_lock_array:
    case Fn::vm_exec_lock_range:
      if (e.has(RET) && e.ret_int() == 0) rules::extobj_missing(m, e, t, f.vm ? f.vm : arg(e, A_GPUVM));
      break;
    case Fn::gpuvm_init: {
      uint64_t vm = arg(e, A_GPUVM) ? arg(e, A_GPUVM) : f.vm;
      if (!vm) break;
      VmState& v = m.vm(vm);
      if (v.put_pending || v.put_unknown) m.pending_vm_puts--;
      v = VmState{};
      v.gen = ++m.vm_gens;
      v.partial = false;
      v.init_epoch = m.lost_epoch;
      if (e.has(A_FLAGS)) {
        v.flags = static_cast<uint32_t>(e.get(A_FLAGS));
        v.flags_known = true;
      }
      absorb_vm(m, e, vm);
      rules::alloc_free_asymmetric(m, e, vm);
      break;
    }
    case Fn::gpuvm_put: rules::vm_put_exit(m, e, f.vm ? f.vm : arg(e, A_GPUVM)); break;
    case Fn::ww_mutex_lock:
    case Fn::ww_mutex_lock_interruptible:
    case Fn::ww_mutex_trylock:
    case Fn::mutex_lock:
    case Fn::mutex_lock_interruptible:
    case Fn::mutex_lock_killable:
    case Fn::mutex_trylock: lock_exit(m, e, t, f, matched); break;
    default: break;
  }
}

// vm-bo-leak-at-vm-destroy (a) needs "no other event on V" between the put's entry and
// exit: any such event withdraws the pending decision.
void cancel_pending_puts(Model& m, const Event& e) {
  uint64_t vm = e.has(A_GPUVM) ? e.get(A_GPUVM) : e.has(S_VM) ? e.get(S_VM) : 0;
  if (!vm && e.has(A_VM_BO))
    if (Slot* s = latest(m, e.get(A_VM_BO)))
      if (const Attrs* a = s->attrs()) vm = a->vm;
  if (!vm) return;
  VmState* v = m.vm_if(vm);
  if (!v || (!v->put_pending && !v->put_unknown)) return;
  if (e.fn == Fn::gpuvm_put && e.phase == Phase::exit && e.tid == v->put_tid) return;
  v->put_pending = v->put_unknown = false;
  m.pending_vm_puts--;
}

}  // namespace

void apply_event(Model& m, const Event& e) {
  m.seq++;
  m.summary.events++;
  if (e.ts > m.last_ts) m.last_ts = e.ts;
  if (e.fn == Fn::unknown || e.fn >= Fn::count_) {
    if (m.observer) m.observer->on_applied(e, {});
    return;
  }
  m.touched.clear();
  Task& t = task_of(m, e);
  if (t.ww_unlock_pending && !(e.fn == Fn::mutex_unlock && arg(e, A_LOCK) == t.ww_unlock_addr))
    t.ww_unlock_pending = false;
  if (m.pending_vm_puts) cancel_pending_puts(m, e);
  if (e.phase == Phase::entry)
    on_entry(m, e, t);
  else
    on_exit(m, e, t);
  m.exit_frame = nullptr;
  if (m.observer) m.observer->on_applied(e, m.touched);
}

void apply_lost(Model& m, const Lost& l) {
  m.lost_epoch++;
  m.summary.lost += l.count;
  // Lost events may include lock/unlock calls and exits: forget what tasks hold and
  // which calls are open (later exits are then tolerated as unmatched).
  for (auto it = m.tasks.begin(); it != m.tasks.end(); ++it) {
    Task& t = it.value();
    t.stack.clear();
    t.forget_all();
    t.ww_unlock_pending = false;
  }
  for (auto it = m.vms.begin(); it != m.vms.end(); ++it) {
    it.value().put_pending = false;
    it.value().put_unknown = false;
  }
  m.pending_vm_puts = 0;
}

}  // namespace gvt::model
