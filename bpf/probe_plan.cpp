// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/probe_plan.h"

#include <fmt/format.h>

namespace gvt::bpf {

std::string_view mech_name(Mech m) {
  switch (m) {
    case Mech::fentry: return "fentry";
    case Mech::fexit: return "fexit";
    case Mech::kprobe: return "kprobe";
    case Mech::kretprobe: return "kretprobe";
    case Mech::raw_tracepoint: return "raw_tracepoint";
  }
  return "?";
}

namespace {

struct LogicalFn {
  Fn fn;
  std::vector<std::string_view> names;  // preferred first
  bool entry;      // entry record written
  bool exit;       // exit record written
  bool lock;       // vmlinux lock function
  std::string_view absent;  // why a kernel may lack it
};

LogicalFn logical(const FnInfo& f) {
  LogicalFn l{f.fn, {f.symbol}, f.phases != FnPhases::EXIT, f.phases != FnPhases::ENTRY,
              f.group == FnGroup::LOCK, f.absent};
  if (!f.alt.empty()) l.names.push_back(f.alt);
  return l;
}

// The GPUVM functions of decode/fn_table.h, in its order; bo_put is planned apart (clones).
const std::vector<LogicalFn>& gpuvm_fns() {
  static const std::vector<LogicalFn> t = [] {
    std::vector<LogicalFn> r;
    for (const FnInfo& f : kFunctions)
      if (f.group == FnGroup::GPUVM && f.fn != Fn::bo_put) r.push_back(logical(f));
    return r;
  }();
  return t;
}

// Lock functions: the entry always runs (it remembers the call so that only exits
// of written entries are written), the exit only where a result exists.
const std::vector<LogicalFn>& lock_fns() {
  static const std::vector<LogicalFn> t = [] {
    std::vector<LogicalFn> r;
    for (const FnInfo& f : kFunctions)
      if (f.group == FnGroup::LOCK) r.push_back(logical(f));
    return r;
  }();
  return t;
}

bool is_mutex_fn(Fn f) { return f >= Fn::mutex_lock && f <= Fn::mutex_unlock; }

constexpr std::string_view kPut = "drm_gpuvm_bo_put";

struct Planner {
  const KernelFacts& k;
  const PlanOptions& o;
  Plan p;

  bool traceable(const LogicalFn& f, std::string_view name) const {
    const auto& tr = f.lock ? k.vmlinux_traceable : k.gpuvm_traceable;
    const auto& btf = f.lock ? k.vmlinux_btf : k.gpuvm_btf;
    if (k.have_filter_functions) return tr.count(name) > 0;
    return btf.count(name) > 0;  // without tracefs access: BTF says it exists
  }
  bool has_btf(const LogicalFn& f, std::string_view name) const {
    return (f.lock ? k.vmlinux_btf : k.gpuvm_btf).count(name) > 0;
  }

  void add(Fn fn, std::string_view sym, bool lock, Mech m, std::string why, bool multi = false) {
    p.probes.push_back({fn, std::string(sym), lock ? "" : k.module, m, std::move(why), multi});
  }

  // Entry/exit pair for one symbol, by the best mechanism available.
  void plan_pair(const LogicalFn& f, std::string_view sym, std::string why) {
    bool fentry = !o.kprobes && has_btf(f, sym);
    std::string base = why.empty() ? "" : why + "; ";
    // Every task takes mutexes and ww_mutexes: on a preemptible kernel a task preempted
    // inside the fentry program of one would make the kernel skip that program for the
    // others on its CPU (KernelFacts::preemptible). kprobe.multi programs run with
    // preemption disabled. The GPUVM functions keep fentry: only drivers call them.
    if (fentry && f.lock && k.preemptible && k.kprobe_multi) {
      std::string w = base + "preemptible kernel (" + k.preempt_model + "): kprobe.multi";
      add(f.fn, sym, f.lock, Mech::kprobe, w, true);
      if (f.exit) add(f.fn, sym, f.lock, Mech::kretprobe, w, true);
      return;
    }
    if (fentry) {
      std::string w = base + "BTF present";
      if (f.entry) add(f.fn, sym, f.lock, Mech::fentry, w);
      if (f.exit) add(f.fn, sym, f.lock, Mech::fexit, w);
      return;
    }
    std::string w = base + (o.kprobes ? "-k given" : "no BTF");
    // The kprobe entry also keeps the arguments for the kretprobe.
    add(f.fn, sym, f.lock, Mech::kprobe, w);
    if (f.exit) add(f.fn, sym, f.lock, Mech::kretprobe, w);
  }

  bool plan_fn(const LogicalFn& f, std::string why) {
    // Only the put's clone is probed (plan_put, from the code analysis); others are listed.
    if (!f.lock)
      for (const std::string& c : clones(f.names.front()))
        p.skipped.push_back({f.fn, c, "compiler clone: the exported entry point is probed"});
    for (std::string_view n : f.names) {
      if (traceable(f, n)) {
        plan_pair(f, n, std::move(why));
        return true;
      }
    }
    std::string reason = f.absent.empty() ? "not traceable in this kernel (inlined, notrace or absent)"
                                          : fmt::format("not in this kernel: {}", f.absent);
    p.skipped.push_back({f.fn, std::string(f.names.front()), reason});
    return false;
  }

  // Clones of `base` (F.part.N, F.constprop.N, F.isra.N; never F.cold) the kernel lists.
  std::vector<std::string> clones(std::string_view base) const {
    std::vector<std::string> out;
    for (const auto& n : k.gpuvm_traceable) {
      if (n.size() <= base.size() + 1 || n.compare(0, base.size(), base) != 0 || n[base.size()] != '.')
        continue;
      std::string_view rest = std::string_view(n).substr(base.size() + 1);
      if (rest.starts_with("part.") || rest.starts_with("constprop.") || rest.starts_with("isra."))
        out.push_back(n);
    }
    return out;
  }

  void put_partial(std::string why) {
    p.put_complete = false;
    p.put_reason = why;
    p.notices.push_back(fmt::format("put coverage partial: {}; rules needing complete put history will "
                                    "answer unknown", why));
  }

  // The put is probed where the code analysis found it (put_coverage.h): the exported
  // function, or the compiler clone holding the final put with a learned convention.
  void plan_put() {
    LogicalFn put{Fn::bo_put, {kPut}, true, true, false, ""};
    const PutCoverage* a = k.put_analysis ? &*k.put_analysis : nullptr;
    if (a) p.put_evidence = a->details;
    std::vector<std::string> cl = clones(kPut);
    if (a && a->complete && a->put_symbol != kPut) {
      if (k.gpuvm_traceable.count(a->put_symbol)) {
        // Only kprobes reach a clone (it has no BTF). The BPF program reads the vm_bo
        // from the first argument and the destroyed flag from the return value: the
        // analysis proved exactly that convention. The exported wrapper is not probed:
        // it would write a second entry/exit for the same logical call.
        add(Fn::bo_put, a->put_symbol, false, Mech::kprobe, fmt::format("authoritative put; {}", a->convention()));
        add(Fn::bo_put, a->put_symbol, false, Mech::kretprobe, "destroyed flag (return value)");
        p.skipped.push_back({Fn::bo_put, std::string(kPut),
                             fmt::format("exported wrapper not probed: the final put is in {} (one entry/exit "
                                         "per logical call)", a->put_symbol)});
        for (const std::string& c : cl)
          if (c != a->put_symbol) p.skipped.push_back({Fn::bo_put, c, "compiler clone without a vm_bo put"});
        p.put_complete = true;
        p.put_reason = a->reason;
        return;
      }
    }
    if (!traceable(put, kPut)) {
      p.skipped.push_back({Fn::bo_put, std::string(kPut), "not traceable in this kernel"});
      p.missing.emplace_back(kPut);
      put_partial(fmt::format("{} cannot be probed", kPut));
      return;
    }
    for (const std::string& c : cl)
      p.skipped.push_back({Fn::bo_put, c, a && a->complete ? "compiler clone without a vm_bo put"
                                                           : "compiler clone: convention not proven"});
    if (a && a->complete && a->put_symbol == kPut) {
      plan_pair(put, kPut, "authoritative put (code analysis)");
      p.put_complete = true;
      p.put_reason = a->reason;
      return;
    }
    plan_pair(put, kPut, "exported entry point only");
    if (!a) put_partial("the module's code was not analysed");
    else if (a->complete) put_partial(fmt::format("the put clone {} is not traceable (absent from "
                                                  "available_filter_functions; run as root)", a->put_symbol));
    else put_partial(a->reason);
  }

  Plan run() {
    for (const LogicalFn& f : gpuvm_fns()) {
      if (f.fn == Fn::bo_obtain_locked || f.fn == Fn::bo_obtain) {
        // Only one of the two names exists in a given kernel: no notice for the other.
        bool other_exists = false;
        std::string_view other = f.fn == Fn::bo_obtain ? "drm_gpuvm_bo_obtain_locked" : "drm_gpuvm_bo_obtain";
        other_exists = k.gpuvm_btf.count(other) || k.gpuvm_traceable.count(other);
        if (other_exists && !traceable(f, f.names.front())) {
          p.skipped.push_back({f.fn, std::string(f.names.front()), fmt::format("not in this kernel: {}", f.absent)});
          continue;
        }
      }
      plan_fn(f, "");
      if (f.fn == Fn::bo_find) plan_put();
    }
    for (const Skipped& s : p.skipped)
      if (s.fn == Fn::bo_create) p.missing.push_back(s.symbol);

    // Deferred puts drop references too: without them put history has holes.
    if (is_yes(k.feat_deferred)) {
      for (Fn f : {Fn::bo_put_deferred, Fn::va_unlink_defer, Fn::bo_deferred_cleanup}) {
        bool planned = false;
        for (const auto& pp : p.probes) planned |= pp.fn == f;
        if (!planned && p.put_complete) put_partial(fmt::format("{} cannot be probed", fn_name(f)));
      }
    }

    // Puts the analysis found inlined into other functions are seen only through
    // those functions' own probes.
    if (p.put_complete && k.put_analysis)
      for (const std::string& f : k.put_analysis->inline_puts) {
        bool planned = false;
        for (const auto& pp : p.probes) planned |= pp.symbol == f;
        if (!planned) put_partial(fmt::format("{} holds an inlined vm_bo put but cannot be probed", f));
      }

    p.watch_mutexes = is_yes(k.feat_gpuva_mutex);
    bool locks_ok = true;
    for (const LogicalFn& f : lock_fns()) {
      if (is_mutex_fn(f.fn) && !p.watch_mutexes) continue;
      if (!plan_fn(f, is_mutex_fn(f.fn) ? "watched gpuva mutexes only" : "watched resv locks")) {
        locks_ok = false;
        if (f.fn == Fn::ww_mutex_lock || f.fn == Fn::ww_mutex_unlock) p.missing.emplace_back(f.names.front());
      }
    }
    if (!p.watch_mutexes)
      p.skipped.push_back({Fn::mutex_lock, "mutex_*",
                           "no drm_gem_object.gpuva.lock in this kernel: no mutex to watch"});
    p.locks_complete = locks_ok;
    if (!locks_ok) p.notices.push_back("lock coverage partial: some lock functions cannot be probed");
    p.probes.push_back({Fn::sys_exit, "sys_exit", "", Mech::raw_tracepoint,
                        "return to user space while holding a watched lock"});
    return p;
  }
};

}  // namespace

std::string_view Plan::symbol_for(Fn fn) const {
  for (const auto& pp : probes)
    if (pp.fn == fn && pp.symbol != fn_name(fn) && pp.mech != Mech::raw_tracepoint) return pp.symbol;
  return {};
}

Plan make_plan(const KernelFacts& k, const PlanOptions& o) {
  Plan p;
  if (!k.gpuvm_present) {
    p.missing.emplace_back("drm_gpuvm");
    return p;
  }
  return Planner{k, o, {}}.run();
}

const std::vector<std::string_view>& gpuvm_function_names() {
  static const std::vector<std::string_view> v = [] {
    std::vector<std::string_view> r;
    for (const auto& f : gpuvm_fns())
      for (auto n : f.names) r.push_back(n);
    r.push_back(kPut);
    return r;
  }();
  return v;
}

const std::vector<std::string_view>& lock_function_names() {
  static const std::vector<std::string_view> v = [] {
    std::vector<std::string_view> r;
    for (const auto& f : lock_fns())
      for (auto n : f.names) r.push_back(n);
    return r;
  }();
  return v;
}

void parse_filter_functions(std::string_view text, const std::string& module, KernelFacts& k) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t sp = line.find_first_of(" \t");
    std::string_view name = line.substr(0, sp);
    std::string_view mod;
    if (sp != std::string_view::npos) {
      std::string_view rest = line.substr(sp);
      size_t a = rest.find('['), b = rest.find(']');
      if (a != std::string_view::npos && b != std::string_view::npos && b > a)
        mod = rest.substr(a + 1, b - a - 1);
    }
    if (name.empty()) continue;
    bool gpuvm_name = name.starts_with("drm_gpuvm") || name.starts_with("drm_gpuva");
    if (gpuvm_name && mod == module) {
      k.gpuvm_traceable.emplace(name);
    } else if (mod.empty() && (name.starts_with("ww_mutex_") || name.starts_with("mutex_"))) {
      k.vmlinux_traceable.emplace(name);
    }
  }
}

std::string parse_build_id_note(std::string_view b) {
  // Elf64_Nhdr: namesz, descsz, type (4 bytes each), name padded to 4, desc.
  auto u32 = [&](size_t off) {
    return static_cast<uint32_t>(static_cast<uint8_t>(b[off])) |
           static_cast<uint32_t>(static_cast<uint8_t>(b[off + 1])) << 8 |
           static_cast<uint32_t>(static_cast<uint8_t>(b[off + 2])) << 16 |
           static_cast<uint32_t>(static_cast<uint8_t>(b[off + 3])) << 24;
  };
  size_t off = 0;
  while (off + 12 <= b.size()) {
    uint32_t namesz = u32(off), descsz = u32(off + 4), type = u32(off + 8);
    size_t name_off = off + 12;
    size_t desc_off = name_off + ((namesz + 3u) & ~3u);
    if (desc_off > b.size() || descsz > b.size() - desc_off) return "";
    if (type == 3 /* NT_GNU_BUILD_ID */ && namesz == 4 && b.substr(name_off, 3) == "GNU" && descsz > 0) {
      std::string hex;
      for (size_t i = 0; i < descsz; ++i) hex += fmt::format("{:02x}", static_cast<uint8_t>(b[desc_off + i]));
      return hex;
    }
    off = desc_off + ((descsz + 3u) & ~3u);
  }
  return "";
}

}  // namespace gvt::bpf
