// SPDX-License-Identifier: GPL-2.0-only
// Just over ~500 lines: the tracer's Impl (load, attach, ring-buffer consumer, loss
// placement) is one class around the skeleton's state.
#include "bpf/tracer.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <tsl/robin_map.h>

#include "bpf/btf_targets.h"
#include "bpf/error.h"
#include "bpf/gpuvm_trace.h"
#include "bpf/kallsyms.h"
#include "bpf/read_file.h"
#include "decode/env_ms.h"
#include "bpf/raw_decode.h"
#include "gpuvm_trace.skel.h"

namespace gvt::bpf {

bool have_bpf_privileges() {
  if (geteuid() == 0) return true;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("CapEff:")) continue;
    unsigned long long caps = std::strtoull(line.c_str() + 7, nullptr, 16);
    constexpr unsigned long long kPerfmon = 1ull << 38, kBpf = 1ull << 39;
    return (caps & kPerfmon) && (caps & kBpf);
  }
  return false;
}

namespace {

// libbpf's messages: kept (the verifier log is the first thing asked for when a
// load fails) and shown with -v through a copy of TracerOptions::verbose (libbpf's
// print callback is a plain C function).
std::string g_libbpf_log;
std::function<void(const std::string&)> g_verbose;

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list ap) {
  // A verifier log comes as one message of up to megabytes: print it whole.
  std::string buf(4096, '\0');
  va_list aq;
  va_copy(aq, ap);
  int n = std::vsnprintf(buf.data(), buf.size(), fmt, aq);
  va_end(aq);
  if (n < 0) return 0;
  if (static_cast<size_t>(n) >= buf.size()) {
    buf.assign(static_cast<size_t>(n) + 1, '\0');
    va_copy(aq, ap);
    std::vsnprintf(buf.data(), buf.size(), fmt, aq);
    va_end(aq);
  }
  buf.resize(static_cast<size_t>(n));
  if (g_libbpf_log.size() < (4u << 20)) g_libbpf_log.append(buf, 0, (4u << 20) - g_libbpf_log.size());
  if (g_verbose && level != LIBBPF_DEBUG) g_verbose(buf);
  return 0;
}

struct SkelDeleter {
  void operator()(gpuvm_trace_bpf* s) const { gpuvm_trace_bpf__destroy(s); }
};
struct LinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};
struct RingDeleter {
  void operator()(ring_buffer* r) const { ring_buffer__free(r); }
};

// A map lookup from user space marks the CPU "BPF busy" (bpf_disable_instrumentation)
// for the length of the syscall, and the kernel skips every kprobe-type program
// (kprobe.multi included) on that CPU meanwhile. On a preemptible kernel a lookup
// preempted half-way keeps the mark while other tasks run: 172 lock events of the
// traced driver lost at once on 7.2. So the calling thread runs each lookup as a
// real-time task, which no ordinary task preempts; back to its own policy after.
// Without CAP_SYS_NICE it stays as it is.
class NoPreemptByTasks {
 public:
  NoPreemptByTasks() {
    policy_ = sched_getscheduler(0);
    if (policy_ < 0 || sched_getparam(0, &param_) != 0) return;
    sched_param rt{};
    rt.sched_priority = 90;
    raised_ = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt) == 0;
  }
  ~NoPreemptByTasks() {
    if (raised_) sched_setscheduler(0, policy_, &param_);
  }
  NoPreemptByTasks(const NoPreemptByTasks&) = delete;
  NoPreemptByTasks& operator=(const NoPreemptByTasks&) = delete;

 private:
  int policy_ = -1;
  sched_param param_{};
  bool raised_ = false;
};

// Program name suffix of each logical function: its name in decode/fn_table.h, which
// gpuvm_trace.bpf.c pastes into fe_/fx_/kp_/kr_NAME (tracepoints: tp_NAME).
std::string_view prog_suffix(Fn f) {
#define GVT_SUFFIX_CASE_(group, num, name, ...) \
  case Fn::name: return #name;
  switch (f) {
    GVT_FUNCTIONS(GVT_SUFFIX_CASE_)
    default: return "";
  }
#undef GVT_SUFFIX_CASE_
}

std::string_view prog_prefix(Mech m) {
  switch (m) {
    case Mech::fentry: return "fe_";
    case Mech::fexit: return "fx_";
    case Mech::kprobe: return "kp_";
    case Mech::kretprobe: return "kr_";
    case Mech::raw_tracepoint: return "tp_";
  }
  return "";
}

bool required_fn(Fn f) {
  return f == Fn::bo_create || f == Fn::bo_put || f == Fn::ww_mutex_lock || f == Fn::ww_mutex_unlock;
}

bool is_lock(Fn f) { return f >= Fn::ww_mutex_lock && f <= Fn::mutex_unlock; }

// The first lines of the verifier log libbpf printed.
std::string verifier_excerpt(const std::string& log, size_t max_lines) {
  size_t b = log.find("-- BEGIN PROG LOAD LOG --");
  if (b == std::string::npos) return "";
  std::istringstream in(log.substr(b));
  std::string line, out;
  for (size_t i = 0; i < max_lines + 1 && std::getline(in, line); ++i) out += "  " + line + "\n";
  return out;
}

std::string read_small(const char* path) {
  std::string s;
  read_file(path, s);  // "" when unreadable: compared with the last read only
  return s;
}

}  // namespace

struct Tracer::Impl {
  TracerOptions opts;
  const KernelFacts& facts;
  Plan plan;
  std::unique_ptr<gpuvm_trace_bpf, SkelDeleter> skel;
  BtfTargets btf_targets;  // the fentry/fexit targets of `skel`'s load, by BTF id
  std::vector<std::unique_ptr<bpf_link, LinkDeleter>> links;
  std::vector<bool> link_is_kprobe;
  std::unique_ptr<ring_buffer, RingDeleter> ring;
  bool put_complete = false;
  std::string put_reason;
  bool locks_complete = false;

  RawDecoder decoder;
  RawEvent raw;
  RecordSink* sink = nullptr;
  uint64_t n_events = 0;
  uint64_t n_lost = 0;
  uint64_t n_bad = 0;

  // Symbol of each Fn's probe when it differs from the logical name.
  std::string_view symbol_of[static_cast<size_t>(Fn::count_)] = {};

  // Stacks: kernel stack-map id → stack record id.
  tsl::robin_map<int32_t, uint64_t> stack_ids;
  uint64_t next_stack_id = 1;
  StackRec stack_rec;

  // Symbols: reading /proc/kallsyms takes seconds on a big kernel (170k lines, far
  // more under TCG), which inside the ring-buffer callback let the buffer overflow.
  // So the table is read before attach, and a watcher thread re-reads it off the
  // consumer path whenever /proc/modules changes; the consumer only swaps pointers.
  std::shared_ptr<const Kallsyms> ksyms;
  std::mutex ksyms_mu;  // guards `ksyms` (the pointer, not the table)
  std::string modules_seen;  // module_layout() when `ksyms` was read (watcher only)
  std::thread ksyms_watcher;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;

  // Drops: the BPF side's drop_seq counter up to which `lost` records were written,
  // and the recursion misses.
  LossPlacer losses;
  std::function<void()> tick;
  std::chrono::milliseconds tick_every{0};
  std::chrono::steady_clock::time_point next_tick{};
  uint64_t misses_prev = 0;  // skipped program runs reported as lost so far
  // sys_exit runs the kernel skipped: counted, reported as lost, or harmless (no user
  // task held a watched lock then), and the holder counters read at the last check.
  uint64_t exit_misses_seen = 0, exit_misses_lost = 0, harmless_exit_skips = 0;
  uint64_t user_starts_last = 0, user_holders_last = 0;
  std::chrono::steady_clock::time_point last_miss_check{}, last_warn{};
  uint64_t unwarned_lost = 0;

  Impl(const TracerOptions& o, const KernelFacts& k, const Plan& p) : opts(o), facts(k), plan(p) {}
  ~Impl() {
    if (ksyms_watcher.joinable()) {
      {
        std::lock_guard lk(stop_mu);
        stopping = true;
      }
      stop_cv.notify_all();
      ksyms_watcher.join();
    }
  }

  // Reads kallsyms if /proc/modules changed since the last read (or nothing was read).
  void refresh_kallsyms() {
    std::string mods = module_layout(read_small("/proc/modules"));
    {
      std::lock_guard lk(ksyms_mu);
      if (ksyms && mods == modules_seen) return;
    }
    auto table = std::make_shared<Kallsyms>();
    std::string err;
    if (!table->load("/proc/kallsyms", &err)) {
      opts.warn(err + ": stacks will not be symbolized");
      return;
    }
    std::lock_guard lk(ksyms_mu);
    modules_seen = std::move(mods);
    ksyms = std::move(table);
  }

  // Before attach: the symbol table, and the watcher for modules loaded later.
  void prepare_symbols() {
    if (opts.stacks == StackPolicy::none) return;
    refresh_kallsyms();
    ksyms_watcher = std::thread([this] {
      std::unique_lock lk(stop_mu);
      while (!stop_cv.wait_for(lk, std::chrono::milliseconds(500), [this] { return stopping; })) {
        lk.unlock();
        refresh_kallsyms();
        lk.lock();
      }
    });
  }

  bpf_program* prog(Mech m, Fn f) const {
    std::string name = fmt::format("{}{}", prog_prefix(m), prog_suffix(f));
    return bpf_object__find_program_by_name(skel->obj, name.c_str());
  }

  void open_and_load() {
    g_verbose = opts.verbose;
    libbpf_set_print(libbpf_print);
    // Before the open: libbpf picks a program's section handler there.
    const bool by_id = BtfTargets::install();
    skel.reset(gpuvm_trace_bpf__open());
    if (!skel)
      throw LiveError(Failure::runtime, fmt::format("cannot open the BPF object: {}", std::strerror(errno)));

    uint32_t cfg = 0;
    if (opts.all_locks) cfg |= GVT_CFG_ALL_LOCKS;
    if (opts.stacks != StackPolicy::none) cfg |= GVT_CFG_STACKS;
    if (opts.stacks == StackPolicy::all) cfg |= GVT_CFG_STACKS_ALL;
    if (opts.filter_tgid) cfg |= opts.filter_tree ? GVT_CFG_FILTER_TREE : GVT_CFG_FILTER_TGID;
    if (!opts.comm.empty()) cfg |= GVT_CFG_FILTER_COMM;
    skel->rodata->cfg = cfg;
    skel->rodata->filter_tgid = opts.filter_tgid;
    std::memset(const_cast<char*>(skel->rodata->filter_comm), 0, sizeof skel->rodata->filter_comm);
    std::memcpy(const_cast<char*>(skel->rodata->filter_comm), opts.comm.data(),
                std::min(opts.comm.size(), sizeof skel->rodata->filter_comm - 1));

    // Ring buffer: a power of two of pages.
    uint64_t bytes = static_cast<uint64_t>(::getpagesize());
    while (bytes < static_cast<uint64_t>(opts.ringbuf_kb) << 10) bytes <<= 1;
    if (bpf_map__set_max_entries(skel->maps.rb, static_cast<uint32_t>(bytes)))
      throw LiveError(Failure::runtime, "cannot size the ring buffer: try a smaller --ringbuf-mb");
    // Producers wake the reader once an eighth of the ring was written since its last
    // drain (once per drain, see submit() in the BPF side); otherwise poll() finds the
    // records at its timeout.
    skel->rodata->wake_bytes = static_cast<uint32_t>(bytes / 8);

    bpf_program* p;
    int targets_by_id = 0, targets_by_name = 0;
    bpf_object__for_each_program(p, skel->obj) bpf_program__set_autoload(p, false);
    for (const PlannedProbe& pp : plan.probes) {
      bpf_program* pr = prog(pp.mech, pp.fn);
      if (!pr) throw LiveError(Failure::runtime, fmt::format("internal: no BPF program for {} {}", mech_name(pp.mech), pp.symbol));
      bpf_program__set_autoload(pr, true);
      if (pp.multi && bpf_program__set_expected_attach_type(pr, BPF_TRACE_KPROBE_MULTI))
        throw LiveError(Failure::runtime, fmt::format("internal: cannot make {} a kprobe.multi program", pp.symbol));
      if (pp.mech == Mech::fentry || pp.mech == Mech::fexit) {
        auto id = facts.btf_func_ids.find(pp.symbol);
        if (by_id && id != facts.btf_func_ids.end() && btf_targets.set(pr, pp.module, id->second)) {
          ++targets_by_id;
          continue;
        }
        ++targets_by_name;
        if (int err = bpf_program__set_attach_target(pr, 0, pp.symbol.c_str()))
          throw LiveError(Failure::missing_function,
                          fmt::format("cannot target {} ({}): is the drm_gpuvm module's BTF loaded? try -k",
                                      pp.symbol, std::strerror(-err)));
      }
    }
    if (opts.verbose && targets_by_id + targets_by_name)
      opts.verbose(fmt::format("gpuvm-trace: fentry/fexit targets: {} by BTF id, {} looked up by libbpf\n",
                               targets_by_id, targets_by_name));
    if (int err = gpuvm_trace_bpf__load(skel.get())) {
      std::string excerpt = verifier_excerpt(g_libbpf_log, 20);
      if (err == -EPERM && !have_bpf_privileges())
        throw LiveError(Failure::no_permission,
                        "loading BPF programs was refused (EPERM): run as root or with CAP_BPF and CAP_PERFMON");
      if (err == -EPERM)
        throw LiveError(Failure::runtime,
                        "the kernel refused to load tracing programs (EPERM) despite CAP_BPF/CAP_PERFMON: "
                        "it may lack BPF trampolines (fentry) or restrict BPF; try -k, or -v for details");
      if (!excerpt.empty()) {
        if (opts.verbose) opts.verbose(excerpt);
        throw LiveError(Failure::verifier,
                        fmt::format("the BPF verifier rejected a program ({}): rerun with -v for its log, "
                                    "or try -k (kprobes)", std::strerror(-err)));
      }
      throw LiveError(Failure::runtime,
                      fmt::format("loading the BPF object failed ({}): rerun with -v for libbpf's messages",
                                  std::strerror(-err)));
    }
    if (opts.verbose) opts.verbose(verifier_work());
  }

  // f(program, its bpf_prog_info) for every loaded program whose info the kernel gives.
  template <class F>
  void for_each_loaded_prog(F&& f) const {
    bpf_program* p;
    bpf_object__for_each_program(p, skel->obj) {
      if (!bpf_program__autoload(p)) continue;
      bpf_prog_info info{};
      uint32_t len = sizeof info;
      if (bpf_prog_get_info_by_fd(bpf_program__fd(p), &info, &len) == 0) f(p, info);
    }
  }

  // -v: how much the verifier walked (bpf_prog_info.verified_insns, 5.16+): load time
  // grows with it, and a change to the BPF code must not make it explode (19b0d9a).
  std::string verifier_work() const {
    uint64_t insns = 0;
    int progs = 0;
    for_each_loaded_prog([&](bpf_program*, const bpf_prog_info& info) {
      insns += info.verified_insns;
      ++progs;
    });
    return fmt::format("gpuvm-trace: verifier: {} programs, {} instructions processed{}\n", progs, insns,
                       insns ? "" : " (not reported by this kernel)");
  }

  void attach_all() {
    put_complete = plan.put_complete;
    put_reason = plan.put_reason;
    locks_complete = plan.locks_complete;
    for (const PlannedProbe& pp : plan.probes) {
      bpf_program* pr = prog(pp.mech, pp.fn);
      bpf_link* l = nullptr;
      switch (pp.mech) {
        case Mech::fentry:
        case Mech::fexit: l = bpf_program__attach_trace(pr); break;
        case Mech::kprobe:
        case Mech::kretprobe:
          if (pp.multi) {
            const char* sym = pp.symbol.c_str();
            LIBBPF_OPTS(bpf_kprobe_multi_opts, mo, .syms = &sym, .cnt = 1, .retprobe = pp.mech == Mech::kretprobe);
            l = bpf_program__attach_kprobe_multi_opts(pr, nullptr, &mo);
          } else {
            l = bpf_program__attach_kprobe(pr, pp.mech == Mech::kretprobe, pp.symbol.c_str());
          }
          break;
        case Mech::raw_tracepoint: l = bpf_program__attach_raw_tracepoint(pr, "sys_exit"); break;
      }
      if (!l) {
        int err = errno;
        std::string what = fmt::format("{} {}{}", mech_name(pp.mech), pp.symbol,
                                       pp.module.empty() ? "" : " [" + pp.module + "]");
        if (err == EPERM || err == EACCES)
          throw LiveError(Failure::no_permission, fmt::format("attaching {} was refused ({}): run as root", what,
                                                         std::strerror(err)));
        if (required_fn(pp.fn))
          throw LiveError(Failure::missing_function, fmt::format("cannot attach {} ({}): required to follow "
                                                            "vm_bo lifecycles; check that drm_gpuvm is loaded "
                                                            "and try -k", what, std::strerror(err)));
        opts.warn(fmt::format("cannot attach {} ({}); continuing without it", what, std::strerror(err)));
        if (is_lock(pp.fn)) locks_complete = false;
        const auto& inl = facts.put_analysis ? facts.put_analysis->inline_puts : std::vector<std::string>{};
        if (pp.fn == Fn::bo_put || pp.fn == Fn::bo_put_deferred || pp.fn == Fn::va_unlink_defer ||
            pp.fn == Fn::bo_deferred_cleanup || std::find(inl.begin(), inl.end(), pp.symbol) != inl.end()) {
          if (put_complete) put_reason = fmt::format("attaching {} failed", what);
          put_complete = false;
        }
        continue;
      }
      links.emplace_back(l);
      link_is_kprobe.push_back(pp.mech == Mech::kprobe || pp.mech == Mech::kretprobe);
    }
    for (const FnInfo& f : kFunctions) symbol_of[static_cast<size_t>(f.fn)] = plan.symbol_for(f.fn);
    ring.reset(ring_buffer__new(bpf_map__fd(skel->maps.rb), &Impl::on_sample, this, nullptr));
    if (!ring)
      throw LiveError(Failure::runtime, fmt::format("cannot open the ring buffer: {}", std::strerror(errno)));
    if (!skel->bss)
      throw LiveError(Failure::runtime, "the BPF object's global data is not mapped (kernel without BPF_F_MMAPABLE?)");
  }

  static int on_sample(void* ctx, void* data, size_t size) {
    static_cast<Impl*>(ctx)->handle(data, size);
    return 0;
  }

  // The kernel deduplicated the stack; symbolize each id once, when first seen.
  uint64_t stack_id(int32_t kid) {
    auto it = stack_ids.find(kid);
    if (it != stack_ids.end()) return it->second;
    uint64_t frames[GVT_MAX_FRAMES] = {};
    const bool spill = (kid & GVT_STACK_SPILL) != 0;
    uint32_t key = static_cast<uint32_t>(kid & ~GVT_STACK_SPILL);
    int looked_up;
    {
      NoPreemptByTasks guard;
      looked_up = bpf_map__lookup_elem(spill ? skel->maps.stacks_spill : skel->maps.stacks, &key, sizeof key, frames,
                                       sizeof frames, 0);
    }
    if (looked_up != 0) return 0;
    uint64_t id = next_stack_id++;
    stack_ids.emplace(kid, id);

    std::shared_ptr<const Kallsyms> table;
    {
      std::lock_guard lk(ksyms_mu);
      table = ksyms;
    }
    stack_rec.id = id;
    stack_rec.frames.clear();
    bool leading = true;
    for (uint64_t a : frames) {
      if (!a) break;
      Frame f;
      f.addr = a;
      if (auto hit = table ? table->lookup(a) : std::nullopt) {
        // Frames of the BPF program and its trampoline are ours, not the kernel's.
        if (leading && (hit->module == "bpf" || hit->name.starts_with("bpf_prog_") ||
                        hit->name.starts_with("bpf_trampoline_")))
          continue;
        f.sym = fmt::format("{}+{:#x}", hit->name, hit->offset);
        f.module = hit->module;
      }
      leading = false;
      stack_rec.frames.push_back(std::move(f));
    }
    sink->on_stack(stack_rec);
    return id;
  }

  void handle(const void* data, size_t size) {
    RawStatus st = decoder.decode(data, size, raw);
    if (st != RawStatus::ok) {
      if (n_bad++ == 0) opts.warn(fmt::format("skipping malformed ring-buffer record: {}", raw_status_text(st)));
      return;
    }
    // Records were dropped before this one was made: the model must learn of the gap
    // before this record and everything after it.
    if (uint64_t n = losses.before_record(raw.drop_seq)) lose(n, std::nullopt, raw.ev.ts);
    Event& e = raw.ev;
    if (raw.stack_id >= 0)
      if (uint64_t id = stack_id(raw.stack_id)) e.set(STACK, id);
    std::string_view sym = symbol_of[static_cast<size_t>(e.fn)];
    if (!sym.empty()) {
      e.symbol = sym;
      e.set(SYMBOL, 0);
    }
    ++n_events;
    sink->on_event(e);
    // A clock read per 64 records: cheap next to decoding, fine-grained enough.
    if (tick && (n_events & 63) == 0) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_tick) {
        next_tick = now + tick_every;
        tick();
      }
    }
  }

  // Drop counters of the BPF side, summed over CPUs.
  struct DropTotals {
    uint64_t n[GVT_DROP_CAUSES_] = {};
    uint64_t skipped = 0;  // recursion misses, kprobe misses
  };
  DropTotals warned_totals;  // what the last periodic warning covered

  // With `detail`: one line per CPU and function with drops, and per program that the
  // kernel skipped.
  DropTotals drop_totals(std::string* detail = nullptr) const {
    DropTotals t;
    t.skipped = misses_prev;
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu > 0) {
      std::vector<gvt_drop_stat> per(static_cast<size_t>(ncpu));
      NoPreemptByTasks guard;
      for (uint32_t fn = 0; fn < GVT_FN_COUNT_; ++fn) {
        if (bpf_map__lookup_elem(skel->maps.drop_stats, &fn, sizeof fn, per.data(), per.size() * sizeof per[0], 0))
          continue;
        for (int cpu = 0; cpu < ncpu; ++cpu) {
          const gvt_drop_stat& d = per[static_cast<size_t>(cpu)];
          for (int c = 0; c < GVT_DROP_CAUSES_; ++c) t.n[c] += d.n[c];
          if (detail && (d.n[GVT_DROP_FULL] || d.n[GVT_DROP_REFUSED] || d.n[GVT_DROP_MAP]))
            *detail += fmt::format("  cpu {} {}: {} ring full, {} refused, {} map update failed\n", cpu,
                                   fn_name(static_cast<Fn>(fn)), d.n[GVT_DROP_FULL], d.n[GVT_DROP_REFUSED],
                                   d.n[GVT_DROP_MAP]);
        }
      }
    }
    if (detail && harmless_exit_skips)
      *detail += fmt::format("  program tp_sys_exit: {} skipped runs harmless (no user task held a watched "
                             "lock), not counted as lost\n", harmless_exit_skips);
    if (detail)
      for_each_loaded_prog([&](bpf_program* p, const bpf_prog_info& info) {
        if (info.recursion_misses)
          *detail += fmt::format("  program {}: {} runs skipped (recursion)\n", bpf_program__name(p),
                                 static_cast<unsigned long long>(info.recursion_misses));
      });
    return t;
  }

  static std::string explain(const DropTotals& t) {
    std::vector<std::string> parts;
    if (t.n[GVT_DROP_FULL])
      parts.push_back(fmt::format("{} with the ring buffer full (a larger --ringbuf-mb helps)", t.n[GVT_DROP_FULL]));
    if (t.n[GVT_DROP_REFUSED])
      parts.push_back(fmt::format("{} refused by the kernel while the ring buffer had room (its producer lock "
                                  "gave up; --ringbuf-mb does not help)",
                                  t.n[GVT_DROP_REFUSED]));
    if (t.n[GVT_DROP_MAP])
      parts.push_back(fmt::format("{} without per-thread tracer state (the kernel could not allocate it, or it was busy on that CPU)",
                                  t.n[GVT_DROP_MAP]));
    if (t.skipped)
      parts.push_back(fmt::format("{} probe runs skipped by the kernel (the probe's program was already running "
                                  "on that CPU; --ringbuf-mb does not help)",
                                  t.skipped));
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
    return out;
  }

  // After the ring buffer was drained: drops that no record read so far revealed
  // (nothing was made after them yet) are reported now, if the ring is still empty
  // after the counter was read (see LossPlacer::from_counter). `now_all`: one of the
  // last drains, the probes still attached: read the kernel's skip counters now, not
  // once a second, and drain what is left so that every drop counted so far is
  // reported (a later one reaches the next final drain).
  void deliver_losses(bool now_all = false) {
    // The order matters: a record made before a counted drop was reserved before it,
    // so an empty ring seen after the counter means all such records were read.
    const uint64_t seq = __atomic_load_n(&skel->bss->drop_seq, __ATOMIC_ACQUIRE);
    const struct ring* r = ring_buffer__ring(ring.get(), 0);
    bool empty = !r || ring__avail_data_size(r) == 0;
    for (int i = 0; now_all && !empty && i < 100; ++i) {
      ring_buffer__consume(ring.get());
      empty = ring__avail_data_size(r) == 0;
    }
    if (uint64_t n = losses.from_counter(seq, empty || now_all)) lose(n, std::nullopt);
    // Programs skipped because another BPF program was running on that CPU.
    auto now = std::chrono::steady_clock::now();
    if (now_all || now - last_miss_check >= std::chrono::seconds(1)) {
      last_miss_check = now;
      // The sys_exit program's skipped runs lose nothing while no user task holds a
      // watched lock (see n_user_holding in the BPF program). Read in this order: the
      // start count, the holder count, the skips, the start count again. A holder at
      // the time of a skip counted now either held the lock when n_user_holding was
      // read last time, or started since the start count read last time.
      const uint64_t s_ref = __atomic_load_n(&skel->bss->user_hold_starts, __ATOMIC_ACQUIRE);
      const uint64_t n_user = __atomic_load_n(&skel->bss->n_user_holding, __ATOMIC_ACQUIRE);
      uint64_t misses = 0, exit_misses = 0;
      for_each_loaded_prog([&](bpf_program* p, const bpf_prog_info& info) {
        (p == skel->progs.tp_sys_exit ? exit_misses : misses) += info.recursion_misses;
      });
      // kprobes/kretprobes skipped (recursion, kretprobe instances exhausted).
      for (size_t i = 0; i < links.size(); ++i) {
        if (!link_is_kprobe[i]) continue;
        bpf_link_info li{};
        uint32_t llen = sizeof li;
        if (bpf_link_get_info_by_fd(bpf_link__fd(links[i].get()), &li, &llen) != 0) continue;
        if (li.type == BPF_LINK_TYPE_PERF_EVENT &&
            (li.perf_event.type == BPF_PERF_EVENT_KPROBE || li.perf_event.type == BPF_PERF_EVENT_KRETPROBE))
          misses += li.perf_event.kprobe.missed;
        else if (li.type == BPF_LINK_TYPE_KPROBE_MULTI)
          misses += li.kprobe_multi.missed;  // fprobe's own (ftrace recursion)
      }
      const uint64_t s_check = __atomic_load_n(&skel->bss->user_hold_starts, __ATOMIC_ACQUIRE);
      if (exit_misses > exit_misses_seen) {
        uint64_t n = exit_misses - exit_misses_seen;
        exit_misses_seen = exit_misses;
        if (user_holders_last == 0 && s_check == user_starts_last)
          harmless_exit_skips += n;  // nobody it could have written a record for
        else
          exit_misses_lost += n;
      }
      user_starts_last = s_ref;
      user_holders_last = n_user;
      misses += exit_misses_lost;
      if (misses > misses_prev) {
        lose(misses - misses_prev, std::nullopt);
        misses_prev = misses;
      }
    }
    if (unwarned_lost && now - last_warn >= std::chrono::seconds(1)) {
      last_warn = now;
      DropTotals t = drop_totals(), d = t;
      for (int c = 0; c < GVT_DROP_CAUSES_; ++c) d.n[c] -= std::min(d.n[c], warned_totals.n[c]);
      d.skipped -= std::min(d.skipped, warned_totals.skipped);
      warned_totals = t;
      std::string why = explain(d);
      opts.warn(fmt::format("{} events lost: findings on the affected objects become unknown{}{}", unwarned_lost,
                       why.empty() ? "" : ": ", why));
      unwarned_lost = 0;
    }
  }

  // `at`: the timestamp of the record the loss precedes (0: now).
  void lose(uint64_t count, std::optional<uint32_t> cpu, uint64_t at = 0) {
    Lost l;
    l.count = count;
    if (!at) {
      timespec ts{};
      clock_gettime(CLOCK_MONOTONIC, &ts);
      at = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
    }
    l.ts = at;
    l.cpu = cpu;
    n_lost += count;
    unwarned_lost += count;
    sink->on_lost(l);
  }
};

Tracer::Tracer(const TracerOptions& o, const KernelFacts& k, const Plan& p)
    : impl_(std::make_unique<Impl>(o, k, p)) {
  if (!o.warn) throw LiveError(Failure::runtime, "internal: TracerOptions::warn is not set");
  // -v: where start-up time goes (seconds under TCG; the verifier and trampolines).
  auto t = std::chrono::steady_clock::now();
  auto lap = [&](const char* what) {
    auto now = std::chrono::steady_clock::now();
    if (o.verbose)
      o.verbose(fmt::format("gpuvm-trace: start-up: {} {:.2f} s\n", what, std::chrono::duration<double>(now - t).count()));
    t = now;
  };
  impl_->open_and_load();
  lap("open and load (BTF, verifier)");
  impl_->prepare_symbols();
  lap("kernel symbols");
  impl_->attach_all();
  lap("attach");
}

Tracer::~Tracer() = default;

int Tracer::attached() const { return static_cast<int>(impl_->links.size()); }

Header Tracer::header() const {
  Header h;
  h.version = 1;
  h.kernel = impl_->facts.release;
  h.clock = "monotonic";
  h.feat_deferred = impl_->facts.feat_deferred;
  h.feat_gpuva_mutex = impl_->facts.feat_gpuva_mutex;
  h.feat_immediate_mode = impl_->facts.feat_immediate_mode;
  h.feat_prealloc_self_locks = impl_->facts.feat_prealloc_self_locks;
  h.coverage_put = impl_->put_complete ? "complete" : "partial";
  h.coverage_locks = impl_->locks_complete ? "complete" : "partial";
  h.coverage_put_reason = impl_->put_reason;
  // Which probed functions hold an inlined put (no bo_put event for it): the model
  // applies drm_gpuva_unlink's only when the header says so.
  if (impl_->facts.put_analysis) h.coverage_put_inlined_in = impl_->facts.put_analysis->inline_puts;
  return h;
}

// GVT_TEST_DRAIN_PAUSE_MS: a pause between a drain and the loss report after it, for
// the guest's loss test (tests/vm/guest-lossy.sh): it lets a tiny ring refill and
// overflow there every time, the race a busy machine hits now and then.
static std::chrono::milliseconds drain_pause() {
  static const std::chrono::milliseconds ms = env_ms("GVT_TEST_DRAIN_PAUSE_MS", 1000).value_or(std::chrono::milliseconds(0));
  return ms;
}

void Tracer::poll(RecordSink& sink, int timeout_ms) {
  impl_->sink = &sink;
  int n = ring_buffer__poll(impl_->ring.get(), timeout_ms);
  // Records submitted without a wakeup (see submit() in the BPF side) are only
  // read here: poll consumes nothing when it times out.
  if (n >= 0 || n == -EINTR) n = ring_buffer__consume(impl_->ring.get());
  if (drain_pause().count()) std::this_thread::sleep_for(drain_pause());
  // Drained: count afresh, then the next producer past the threshold may wake us again.
  __atomic_store_n(&impl_->skel->bss->unread_bytes, 0ull, __ATOMIC_RELAXED);
  __atomic_store_n(&impl_->skel->bss->wake_sent, 0u, __ATOMIC_RELEASE);
  if (n < 0 && n != -EINTR)
    throw LiveError(Failure::runtime, fmt::format("reading the ring buffer failed: {}", std::strerror(-n)));
  // Records placed their own losses while they were read; what is left has no
  // record after it yet. A poll without wait is a final drain: skip counts too.
  impl_->deliver_losses(timeout_ms == 0);
}

void Tracer::set_tick(std::function<void()> fn, std::chrono::milliseconds every) {
  impl_->tick = std::move(fn);
  impl_->tick_every = every;
  impl_->next_tick = std::chrono::steady_clock::now() + every;
}

uint64_t Tracer::events() const { return impl_->n_events; }
uint64_t Tracer::lost() const { return impl_->n_lost; }
uint64_t Tracer::stacks_lost() const {
  return __atomic_load_n(&impl_->skel->bss->stacks_lost, __ATOMIC_ACQUIRE);
}

Tracer::MemoCounts Tracer::stack_memo() const {
  return {__atomic_load_n(&impl_->skel->bss->stack_memo_hits, __ATOMIC_ACQUIRE),
          __atomic_load_n(&impl_->skel->bss->stack_memo_misses, __ATOMIC_ACQUIRE)};
}

std::string Tracer::loss_explanation() const {
  std::string detail;
  auto t = impl_->drop_totals(impl_->opts.verbose ? &detail : nullptr);
  if (!detail.empty()) impl_->opts.verbose("gpuvm-trace: losses per CPU, function and program:\n" + detail);
  return Impl::explain(t);
}

}  // namespace gvt::bpf
