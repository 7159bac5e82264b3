// SPDX-License-Identifier: GPL-2.0-only
// gvt-gen: large, realistic, checker-clean synthetic traces for benchmarks.
//
// Models a 6.12 (K612) system: several VMs (half RESV_PROTECTED, xe-like; half not,
// nouveau-like), one GEM per vm_bo slot (most external with their own resv, some
// private sharing the VM resv), and several tasks whose operations interleave event
// by event. Every operation is one of the G1/G2 sequences of vm_bo-lifecycle.md §G
// (bind, map/unmap of a second VA, evict toggles, unbind) with the ww_mutex traffic
// drm_exec produces around it and the snapshots the BPF side would read. Slots are
// reused, so addresses come back with a new generation as they do in kmalloc-96.
// --inject N plants N extobj-add-unlocked errors (X1); nothing else is a violation.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "decode/event.h"
#include "decode/trace_io.h"

namespace {

using namespace gvt;

constexpr uint64_t kVmBase = 0xffff888100000000ull;
constexpr uint64_t kGemBase = 0xffff888200000000ull;
constexpr uint64_t kVmBoBase = 0xffff888300000000ull;
constexpr uint64_t kVaBase = 0xffff888400000000ull;
constexpr uint64_t kCtxBase = 0xffffc90000000000ull;
constexpr uint64_t kOps = 0xffffffffc0a01000ull;
constexpr uint32_t kResvProtected = 1;

struct Rng {
  uint64_t s;
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

struct Vm {
  uint64_t addr, r_obj, resv;
  bool prot;
  std::string name;
  bool busy = false;  // an operation of some task holds its resv
};

struct Slot {
  uint64_t vm_bo, gem, resv, va[2];
  unsigned vm;
  bool external;
  bool bound = false;
  bool busy = false;
  int n_va = 0;
  bool evicted = false;
  bool on_evict = false;
  bool on_extobj = false;
};

struct Task {
  int32_t tid;
  uint32_t cpu;
  uint64_t ctx;
  std::string comm;
  std::vector<Event> queue;  // the rest of its current operation
  size_t next = 0;
  int slot = -1;
};

struct Args {
  uint64_t events = 20'000'000;
  uint64_t live = 100'000;
  unsigned tasks = 8;
  unsigned vms = 64;
  uint64_t inject = 0;
  uint64_t seed = 1;
  std::string out;
  std::string format;
};

class Generator {
 public:
  Generator(const Args& a, TraceWriter& w) : a_(a), w_(w), rng_{a.seed} {
    for (unsigned i = 0; i < a.vms; ++i) {
      uint64_t v = kVmBase + uint64_t(i) * 0x1000;
      vms_.push_back(Vm{v, v + 0x800, v + 0x900, i % 2 == 0, fmt::format("gen-vm{}", i)});
    }
    for (uint64_t s = 0; s < a.live; ++s) {
      Slot sl{};
      sl.vm_bo = kVmBoBase + s * 0x60;  // kmalloc-96
      sl.gem = kGemBase + s * 0x200;
      sl.vm = static_cast<unsigned>(s % a.vms);
      sl.external = rng_.below(4) != 0;  // one in four shares the VM resv
      sl.resv = sl.external ? sl.gem + 0x100 : vms_[sl.vm].resv;
      sl.va[0] = kVaBase + s * 0x100;
      sl.va[1] = sl.va[0] + 0x80;
      slots_.push_back(sl);
    }
    for (unsigned t = 0; t < a.tasks; ++t) {
      Task tk;
      tk.tid = static_cast<int32_t>(1000 + t);
      tk.cpu = t % 4;
      tk.ctx = kCtxBase + uint64_t(t) * 0x1000;
      tk.comm = fmt::format("gpu_bind{}", t);
      tasks_.push_back(std::move(tk));
    }
    if (a.inject) next_inject_ = inject_every_ = std::max<uint64_t>(1, a.events / (a.inject + 1));
  }

  void run() {
    Header h;
    h.version = 1;
    h.kernel = "6.12.95+deb12-amd64 (gvt-gen synthetic)";
    h.clock = "monotonic";
    h.feat_deferred = Tri::no;
    h.feat_gpuva_mutex = Tri::no;
    h.feat_immediate_mode = Tri::no;
    h.feat_prealloc_self_locks = Tri::no;
    h.coverage_put = "complete";
    h.coverage_locks = "complete";
    w_.on_header(h);
    for (const Vm& v : vms_) vm_init(v);

    bool starting = true;
    while (true) {
      starting = emitted_ < a_.events;
      Task& t = tasks_[rng_.below(tasks_.size())];
      if (t.next == t.queue.size()) {
        finish_op(t);
        if (!starting) {
          if (all_idle()) break;
          continue;
        }
        if (!start_op(t)) continue;
      }
      Event& e = t.queue[t.next++];
      ts_ += 100 + rng_.below(1900);
      e.ts = ts_;
      w_.on_event(e);
      ++emitted_;
    }
    Footer f;
    f.events = emitted_;
    f.lost = 0;
    f.duration_ns = ts_ - kT0;
    w_.on_footer(f);
  }

  uint64_t emitted() const { return emitted_; }
  uint64_t injected() const { return injected_; }
  uint64_t lifecycles() const { return lifecycles_; }

 private:
  static constexpr uint64_t kT0 = 1'000'000'000;

  bool all_idle() const {
    for (const Task& t : tasks_)
      if (t.next != t.queue.size()) return false;
    return true;
  }

  void finish_op(Task& t) {
    if (t.slot >= 0) {
      Slot& s = slots_[t.slot];
      s.busy = false;
      vms_[s.vm].busy = false;
      t.slot = -1;
    }
    t.queue.clear();
    t.next = 0;
  }

  // Picks a slot whose VM no other task is using (drm_exec would serialise them on
  // the VM resv anyway) and queues one operation on it.
  bool start_op(Task& t) {
    int pick = -1;
    if (ramp_ < slots_.size()) {
      // Ramp-up: bind every slot once so that --live vm_bos are live early.
      uint64_t s = ramp_;
      if (!slots_[s].busy && !vms_[slots_[s].vm].busy) {
        pick = static_cast<int>(s);
        ++ramp_;
      }
    }
    for (int tries = 0; tries < 16 && pick < 0; ++tries) {
      uint64_t s = rng_.below(slots_.size());
      if (!slots_[s].busy && !vms_[slots_[s].vm].busy) pick = static_cast<int>(s);
    }
    if (pick < 0) return false;
    Slot& s = slots_[pick];
    s.busy = true;
    vms_[s.vm].busy = true;
    t.slot = pick;
    t.queue.clear();
    t.next = 0;
    cur_ = &t;
    if (!s.bound) {
      bind(s);
    } else {
      uint64_t r = rng_.below(100);
      if (s.n_va == 2) {
        if (r < 60) unmap_extra(s); else evict_toggle(s);
      } else if (r < 40) {
        map_extra(s);
      } else if (r < 80) {
        evict_toggle(s);
      } else {
        unbind(s);
      }
    }
    return true;
  }

  // --- event builders -----------------------------------------------------------

  Event& ev(Fn fn, Phase ph) {
    Task& t = *cur_;
    Event& e = t.queue.emplace_back();
    e.pid = t.tid;
    e.tid = t.tid;
    e.cpu = t.cpu;
    e.has_cpu = true;
    e.fn = fn;
    e.phase = ph;
    e.comm = t.comm;
    return e;
  }
  static void ret_addr(Event& e, uint64_t a) { e.ret_kind = RetKind::addr; e.set(RET, a); }
  static void ret_int(Event& e, int64_t v) { e.ret_kind = RetKind::integer; e.set(RET, static_cast<uint64_t>(v)); }
  static void ret_bool(Event& e, bool b) { e.ret_kind = RetKind::boolean; e.set(RET, b ? 1 : 0); }

  void vm_init(const Vm& v) {
    Task* saved = cur_;
    cur_ = &tasks_[0];
    Event& e = ev(Fn::gpuvm_init, Phase::exit);
    e.set(A_GPUVM, v.addr);
    e.set(A_NAME, 0);
    e.name = v.name;
    e.set(A_FLAGS, v.prot ? kResvProtected : 0);
    e.set(A_R_OBJ, v.r_obj);
    e.set(A_OPS, kOps);
    e.set(S_VM, v.addr);
    e.set(S_VM_FLAGS, v.prot ? kResvProtected : 0);
    e.set(S_VM_RESV, v.resv);
    e.set(S_VM_KREF, 1);
    e.set(S_OPS_VM_BO_ALLOC, 0);
    e.set(S_OPS_VM_BO_FREE, 0);
    e.set(S_VM_NAME, 0);
    e.vm_name = v.name;
    // VM set-up happens before any task runs: emit it right away.
    ts_ += 1000;
    e.ts = ts_;
    w_.on_event(e);
    ++emitted_;
    cur_->queue.clear();
    cur_ = saved;
  }

  void lock(uint64_t l, bool with_ctx) {
    Event& e = ev(Fn::ww_mutex_lock, Phase::exit);
    e.set(A_LOCK, l);
    e.set(A_CTX, with_ctx ? cur_->ctx : 0);
    ret_int(e, 0);
  }
  void unlock(uint64_t l) {
    Event& e = ev(Fn::ww_mutex_unlock, Phase::entry);
    e.set(A_LOCK, l);
    e.set_tri(S_HELD, Tri::yes);
  }

  // Snapshot of a vm_bo as the BPF side reads it (§D.3).
  void full(Event& e, const Slot& s, int64_t ref, bool n_va, bool hv, bool hb, bool hg) {
    const Vm& v = vms_[s.vm];
    e.set(S_VM, v.addr);
    e.set(S_OBJ, s.gem);
    e.set(S_VM_FLAGS, v.prot ? kResvProtected : 0);
    e.set(S_VM_RESV, v.resv);
    e.set(S_BO_RESV, s.resv);
    e.set(S_REFCOUNT, static_cast<uint64_t>(ref));
    e.set_tri(S_ON_GEM, Tri::yes);
    e.set_tri(S_ON_EXTOBJ, tri_of(s.on_extobj));
    e.set_tri(S_ON_EVICT, tri_of(s.on_evict));
    e.set_tri(S_EVICTED, tri_of(s.evicted));
    e.set_tri(S_N_VA_NONZERO, tri_of(n_va));
    e.set_tri(S_HELD_VM_RESV, tri_of(hv));
    e.set_tri(S_HELD_BO_RESV, tri_of(hb));
    e.set_tri(S_HELD_GPUVA_LOCK, tri_of(hg));
  }

  void obtain(const Slot& s, bool hv) {
    const Vm& v = vms_[s.vm];
    Event& en = ev(Fn::bo_obtain, Phase::entry);
    en.set(A_GPUVM, v.addr);
    en.set(A_OBJ, s.gem);
    en.set(S_VM, v.addr);
    en.set(S_OBJ, s.gem);
    en.set(S_VM_FLAGS, v.prot ? kResvProtected : 0);
    en.set(S_VM_RESV, v.resv);
    en.set(S_BO_RESV, s.resv);
    en.set_tri(S_HELD_VM_RESV, tri_of(hv));
    en.set_tri(S_HELD_BO_RESV, Tri::yes);
    en.set_tri(S_HELD_GPUVA_LOCK, Tri::yes);
    Event& ce = ev(Fn::bo_create, Phase::entry);
    ce.set(A_GPUVM, v.addr);
    ce.set(A_OBJ, s.gem);
    Event& cx = ev(Fn::bo_create, Phase::exit);
    cx.set(A_GPUVM, v.addr);
    cx.set(A_OBJ, s.gem);
    ret_addr(cx, s.vm_bo);
    Event& ox = ev(Fn::bo_obtain, Phase::exit);
    ox.set(A_GPUVM, v.addr);
    ox.set(A_OBJ, s.gem);
    ret_addr(ox, s.vm_bo);
    // Bounded walk of obj->gpuva.list under the gpuva lock: just this vm_bo.
    ox.set(S_GEM_LIST_SAME_VM, 1);
  }

  void extobj_add(Slot& s, int64_t ref, bool hv, bool hb, bool hg) {
    Event& en = ev(Fn::bo_extobj_add, Phase::entry);
    en.set(A_VM_BO, s.vm_bo);
    full(en, s, ref, s.n_va > 0, hv, hb, hg);
    if (s.external) s.on_extobj = true;
    Event& ex = ev(Fn::bo_extobj_add, Phase::exit);
    ex.set(A_VM_BO, s.vm_bo);
    ex.set_tri(S_ON_EXTOBJ, tri_of(s.on_extobj));
  }

  void va_insert(const Slot& s, uint64_t va) {
    Event& e = ev(Fn::va_insert, Phase::exit);
    e.set(A_GPUVM, vms_[s.vm].addr);
    e.set(A_VA, va);
    ret_int(e, 0);
  }
  void va_remove(uint64_t va) {
    Event& e = ev(Fn::va_remove, Phase::exit);
    e.set(A_VA, va);
  }
  // Caller holds every lock (gpuva lock, and the VM resv for the drm_exec paths).
  void link(Slot& s, uint64_t va, bool hv) {
    Event& en = ev(Fn::va_link, Phase::entry);
    en.set(A_VA, va);
    en.set(A_VM_BO, s.vm_bo);
    full(en, s, s.n_va + (s.bound ? 0 : 1), s.n_va > 0, hv, true, true);
    Event& ex = ev(Fn::va_link, Phase::exit);
    ex.set(A_VA, va);
    ex.set(A_VM_BO, s.vm_bo);
    ++s.n_va;
  }
  void put(Slot& s, int64_t ref, bool hv, bool destroyed) {
    Event& en = ev(Fn::bo_put, Phase::entry);
    en.set(A_VM_BO, s.vm_bo);
    en.set(SYMBOL, 0);
    en.symbol = kPutSym;
    full(en, s, ref, s.n_va > 0, hv, true, true);
    Event& ex = ev(Fn::bo_put, Phase::exit);
    ex.set(A_VM_BO, s.vm_bo);
    ex.set(SYMBOL, 0);
    ex.symbol = kPutSym;
    ret_bool(ex, destroyed);
  }
  // drm_gpuva_unlink tail-calls the put: the put pair nests inside the unlink pair.
  void unlink(Slot& s, uint64_t va, bool hv) {
    Event& en = ev(Fn::va_unlink, Phase::entry);
    en.set(A_VA, va);
    full(en, s, s.n_va, true, hv, true, true);
    en.set(A_VM_BO, s.vm_bo);
    --s.n_va;
    bool last = s.n_va == 0;
    put(s, s.n_va + 1, hv, last);
    Event& ex = ev(Fn::va_unlink, Phase::exit);
    ex.set(A_VA, va);
  }

  // The locks that make the gpuva lock (the GEM resv on 6.12) and the VM resv held.
  void lock_both(const Slot& s) {
    lock(vms_[s.vm].resv, true);
    if (s.external) lock(s.resv, true);
  }
  void unlock_both(const Slot& s) {
    if (s.external) unlock(s.resv);
    unlock(vms_[s.vm].resv);
  }

  void bind(Slot& s) {
    const Vm& v = vms_[s.vm];
    ++lifecycles_;
    s.n_va = 0;
    s.evicted = s.on_evict = s.on_extobj = false;
    if (s.external && !v.prot) {
      // G1 (nouveau): obtain under the BO resv, extobj_add on the spinlock path.
      lock(s.resv, false);
      obtain(s, false);
      unlock(s.resv);
      s.bound = false;
      extobj_add(s, 1, false, false, false);
      lock_both(s);
      va_insert(s, s.va[0]);
      link(s, s.va[0], true);
      unlock_both(s);
      s.bound = true;
      lock(s.resv, false);
      put(s, 2, false, false);
      unlock(s.resv);
      return;
    }
    // G2 (xe) and private GEMs: everything under drm_exec's locks.
    lock_both(s);
    obtain(s, true);
    s.bound = false;
    bool inject = s.external && v.prot && inject_every_ && emitted_ >= next_inject_ &&
                  injected_ < a_.inject;
    if (inject) {
      // X1: the VM resv is dropped before extobj_add.
      unlock_both(s);
      extobj_add(s, 1, false, false, false);
      lock_both(s);
      ++injected_;
      next_inject_ += inject_every_;
    } else {
      extobj_add(s, 1, true, true, true);
    }
    va_insert(s, s.va[0]);
    link(s, s.va[0], true);
    s.bound = true;
    put(s, 2, true, false);
    unlock_both(s);
  }

  void map_extra(Slot& s) {
    lock_both(s);
    va_insert(s, s.va[1]);
    link(s, s.va[1], true);
    unlock_both(s);
  }

  void unmap_extra(Slot& s) {
    lock_both(s);
    va_remove(s.va[1]);
    unlink(s, s.va[1], true);
    unlock_both(s);
  }

  void unbind(Slot& s) {
    lock_both(s);
    va_remove(s.va[0]);
    unlink(s, s.va[0], true);
    unlock_both(s);
    s.bound = false;
  }

  // TTM move: drm_gpuvm_bo_evict under the BO resv only.
  void evict_toggle(Slot& s) {
    const Vm& v = vms_[s.vm];
    bool evict = !s.evicted;
    lock(s.resv, false);
    Event& en = ev(Fn::bo_evict, Phase::entry);
    en.set(A_VM_BO, s.vm_bo);
    en.set_tri(A_EVICT, tri_of(evict));
    full(en, s, s.n_va, true, !s.external, true, true);
    s.evicted = evict;
    // External BOs of a protected VM join the evict list only in prepare_objects.
    s.on_evict = (s.external && v.prot) ? false : evict;
    Event& ex = ev(Fn::bo_evict, Phase::exit);
    ex.set(A_VM_BO, s.vm_bo);
    ex.set_tri(A_EVICT, tri_of(evict));
    ex.set_tri(S_ON_EVICT, tri_of(s.on_evict));
    unlock(s.resv);
  }

  static constexpr std::string_view kPutSym = "drm_gpuvm_bo_put.part.0";

  const Args& a_;
  TraceWriter& w_;
  Rng rng_;
  std::vector<Vm> vms_;
  std::vector<Slot> slots_;
  std::vector<Task> tasks_;
  Task* cur_ = nullptr;
  uint64_t ts_ = kT0;
  uint64_t emitted_ = 0;
  uint64_t ramp_ = 0;
  uint64_t inject_every_ = 0;
  uint64_t next_inject_ = 0;
  uint64_t injected_ = 0;
  uint64_t lifecycles_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"gvt-gen: synthetic gpuvm-trace traces for benchmarks (clean unless --inject)"};
  app.name("gvt-gen");
  app.get_formatter()->label("Usage", "USAGE");
  app.add_option("--events", a.events, "Stop starting operations after this many events")
      ->capture_default_str();
  app.add_option("--live", a.live, "vm_bo slots (live vm_bos in steady state)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--tasks", a.tasks, "Tasks whose operations interleave")
      ->check(CLI::Range(1u, 1024u))->capture_default_str();
  app.add_option("--vms", a.vms, "VMs (even ones RESV_PROTECTED)")
      ->check(CLI::Range(1u, 1u << 20))->capture_default_str();
  app.add_option("--inject", a.inject, "Plant this many extobj-add-unlocked errors")
      ->capture_default_str();
  app.add_option("--seed", a.seed, "Random seed")->capture_default_str();
  app.add_option("--format", a.format, "gvt or jsonl (default: from -o's extension; - is gvt)")
      ->check(CLI::IsMember({"gvt", "jsonl"}));
  app.add_option("-o,--output", a.out, "Output file, - for standard output")->required();
  app.footer(
      "EXAMPLES:\n"
      "    gvt-gen --events 20000000 -o big.gvt\n"
      "    gvt-gen --events 1000000 --inject 3 -o small.jsonl\n"
      "    gvt-gen --events 100000000 --live 100000 -o - | gpuvm-trace lint -");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (a.tasks > a.vms) a.tasks = a.vms;  // one operation per VM at a time
  Format f = !a.format.empty() ? (a.format == "gvt" ? Format::gvt : Format::jsonl)
             : a.out == "-"    ? Format::gvt
                               : format_for_path(a.out);
  try {
    auto w = make_writer(a.out, f);
    Generator g(a, *w);
    g.run();
    w->close();
    fmt::print(stderr, "gvt-gen: {} events, {} lifecycles, {} injected violations, {} bytes\n",
               g.emitted(), g.lifecycles(), g.injected(), w->bytes_written());
  } catch (const std::exception& e) {
    fmt::print(stderr, "gvt-gen: {}\n", e.what());
    return 2;
  }
  return 0;
}
