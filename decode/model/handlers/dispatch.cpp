// SPDX-License-Identifier: GPL-2.0-only
// Event dispatch. Entries push a Frame with what their exit (and calls nested inside)
// will need; exits pop it. Each handler (one file per family of functions, see
// family.h) applies the transition of §D.4 named in its comment and calls the rules of
// rule_catalog.cpp whose trigger is that event.
#include "decode/model/handlers.h"

#include "decode/model/handlers/family.h"

namespace gvt::model {

namespace {

using namespace handlers;

// Functions whose recorder emits the entry only (trace-format.md table).
bool entry_only(Fn f) { return fn_info(f).phases == FnPhases::ENTRY; }
// Functions whose exit legitimately comes without an entry.
bool exit_alone_ok(Fn f) {
  return f == Fn::gpuvm_init || f == Fn::va_insert || f == Fn::va_remove || is_ww_lock(f) ||
         f == Fn::ww_mutex_trylock || is_mutex_lock(f) || f == Fn::mutex_trylock;
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

// One case per function of decode/fn_table.h; Handler<F> (family.h) names its handlers.
#define GVT_ENTRY_CASE_(group, num, name, ...) \
  case Fn::name: return Handler<Fn::name>::entry(m, e, t, f);
#define GVT_EXIT_CASE_(group, num, name, ...) \
  case Fn::name: return Handler<Fn::name>::exit(m, e, t, f, matched);

bool dispatch_entry(Model& m, const Event& e, Task& t, Frame& f) {
  switch (e.fn) {
    GVT_FUNCTIONS(GVT_ENTRY_CASE_)
    default: return false;
  }
}

void dispatch_exit(Model& m, const Event& e, Task& t, const Frame& f, bool matched) {
  switch (e.fn) {
    GVT_FUNCTIONS(GVT_EXIT_CASE_)
    default: return;
  }
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
  if (dispatch_entry(m, e, t, f)) t.stack.commit();
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
  if (matched) m.exit_frame = fp;
  dispatch_exit(m, e, t, *fp, matched);
}

// vm-bo-leak-at-vm-destroy (a) needs "no other event on V" between the put's entry and
// exit: any such event withdraws the pending decision.
void cancel_pending_puts(Model& m, const Event& e) {
  uint64_t vm = arg(e, A_GPUVM, arg(e, S_VM));
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
  m.cur_event = &e;
  m.cur_task = &t;
  if (e.phase == Phase::entry)
    on_entry(m, e, t);
  else
    on_exit(m, e, t);
  m.exit_frame = nullptr;
  m.cur_event = nullptr;
  m.cur_task = nullptr;
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
