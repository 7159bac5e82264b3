// SPDX-License-Identifier: GPL-2.0-only
// Chrome Trace Event Format export (trace_event_export.h). The format's rules this
// writer keeps, and tests/cli checks: one JSON document; on every (pid, tid) track
// "B"/"E" balance and nest, and "B"/"E"/"X"/"i" timestamps never go backwards (an
// event that arrives out of order across CPUs is clamped to its track's last time and
// keeps its real time in args.ts_ns); every flow "f" has its "s".
#include "decode/model/trace_event_export.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "decode/json_text.h"

namespace gvt {
namespace {

constexpr int kPidVmBos = 1;
constexpr int kPidLocks = 2;
constexpr int kPidFindings = 3;
constexpr uint32_t kFindingsTid = 1;


std::string frame_text(const Frame& f) {
  std::string s = f.sym.empty() ? hex(f.addr) : f.sym;
  if (!f.module.empty()) s += fmt::format(" [{}]", f.module);
  return s;
}

bool is_lock_fn(Fn f) {
  return f == Fn::ww_mutex_lock || f == Fn::ww_mutex_lock_interruptible || f == Fn::mutex_lock ||
         f == Fn::mutex_lock_interruptible || f == Fn::mutex_lock_killable;
}
bool is_trylock_fn(Fn f) { return f == Fn::ww_mutex_trylock || f == Fn::mutex_trylock; }
bool is_unlock_fn(Fn f) { return f == Fn::ww_mutex_unlock || f == Fn::mutex_unlock; }

}  // namespace

struct TraceEventExporter::Impl : FindingSink, TransitionObserver {
  struct Track {
    uint32_t tid = 0;
    uint64_t last_ts = 0;  // last timestamp written on the track (monotonic clamp)
  };
  struct Life {
    Track track;
    uint32_t gen = 0;
    uint64_t start_ts = 0;
    bool open = false;
    bool close_pending = false;
  };
  struct Hold {
    Track track;
    bool open = false;
    std::string label;
  };

  std::FILE* out;
  Checker checker;
  std::string buf;
  bool first = true;
  bool io_error = false;
  uint32_t next_tid = 1;
  uint64_t next_flow = 1;
  uint64_t last_ts = 0;
  Track findings_track{kFindingsTid, 0};
  std::unordered_map<uint64_t, Life> lives;  // vm_bo address -> its latest generation
  std::map<std::pair<int32_t, uint64_t>, Hold> holds;  // (task, lock) -> hold track
  std::vector<uint64_t> pending_close;

  Impl(std::FILE* o, CheckerOptions opts) : out(o), checker(opts, *this, this) {
    buf = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"gpuvm-trace convert --to perfetto\"},"
          "\"traceEvents\":[";
    meta(kPidVmBos, 0, "process_name", "vm_bo lifecycles");
    meta(kPidLocks, 0, "process_name", "lock holds per task");
    meta(kPidFindings, 0, "process_name", "findings");
    meta(kPidFindings, kFindingsTid, "thread_name", "findings");
  }

  void flush_if(size_t limit) {
    if (buf.size() < limit) return;
    if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) io_error = true;
    buf.clear();
  }
  // Starts one event object; the caller appends keys and closes it with '}'.
  void open_event() {
    if (!first) buf += ',';
    first = false;
    buf += '\n';
  }
  static std::string us(uint64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }
  // The timestamp an event is written with on `t`: never before the track's last one.
  uint64_t clamp(Track& t, uint64_t ts) {
    t.last_ts = std::max(t.last_ts, ts);
    return t.last_ts;
  }
  void meta(int pid, uint32_t tid, std::string_view what, std::string_view name) {
    open_event();
    fmt::format_to(std::back_inserter(buf), "{{\"ph\":\"M\",\"pid\":{},\"tid\":{},\"name\":\"{}\",\"args\":{{\"name\":",
                   pid, tid, what);
    json::append_string(buf, name);
    buf += "}}";
  }
  void phase_event(std::string_view ph, int pid, Track& t, uint64_t ts, std::string_view name,
                   std::string_view cat, const std::string& args = {}) {
    uint64_t w = clamp(t, ts);
    open_event();
    fmt::format_to(std::back_inserter(buf), "{{\"ph\":\"{}\",\"pid\":{},\"tid\":{},\"ts\":{},\"name\":", ph, pid,
                   t.tid, us(w));
    json::append_string(buf, name);
    fmt::format_to(std::back_inserter(buf), ",\"cat\":\"{}\"", cat);
    if (ph == "i") buf += ",\"s\":\"t\"";
    if (ph == "X") buf += ",\"dur\":0.001";
    std::string a = args;
    if (w != ts) a += fmt::format("{}\"ts_ns\":{}", a.empty() ? "" : ",", ts);
    if (!a.empty()) {
      buf += ",\"args\":{";
      buf += a;
      buf += '}';
    }
    buf += '}';
    flush_if(1 << 20);
  }
  static void kv(std::string& a, std::string_view k, std::string_view v) {
    if (!a.empty()) a += ',';
    json::append_string(a, k);
    a += ':';
    json::append_string(a, v);
  }
  static void kn(std::string& a, std::string_view k, uint64_t v) {
    if (!a.empty()) a += ',';
    fmt::format_to(std::back_inserter(a), "\"{}\":{}", k, v);
  }

  Life& life_for(uint64_t addr, uint32_t gen, uint64_t ts) {
    Life& l = lives[addr];
    if (l.track.tid != 0 && l.gen == gen) return l;
    if (l.open) phase_event("E", kPidVmBos, l.track, ts, "vm_bo life", "vm_bo");
    l = Life{};
    l.track.tid = next_tid++;
    l.gen = gen;
    l.start_ts = ts;
    l.open = true;
    meta(kPidVmBos, l.track.tid, "thread_name", fmt::format("vm_bo {}#{}", hex(addr), gen));
    std::string a;
    kv(a, "vm_bo", hex(addr));
    kn(a, "gen", gen);
    phase_event("B", kPidVmBos, l.track, ts, "vm_bo life", "vm_bo", a);
    return l;
  }

  std::string call_args(const Event& e, const Transition* t) {
    std::string a;
    kv(a, "phase", e.phase == Phase::entry ? "entry" : "exit");
    kn(a, "tid", static_cast<uint64_t>(e.tid));
    kv(a, "comm", e.comm);
    if (e.line) kn(a, "line", e.line);
    static constexpr std::pair<Field, std::string_view> kArgs[] = {
        {A_VM_BO, "vm_bo"}, {A_GPUVM, "gpuvm"}, {A_OBJ, "obj"}, {A_VA, "va"}, {A_LOCK, "lock"}};
    for (auto [f, name] : kArgs)
      if (e.has(f)) kv(a, name, hex(e.get(f)));
    if (e.has(RET)) {
      if (e.ret_kind == RetKind::addr) kv(a, "ret", hex(e.get(RET)));
      else kv(a, "ret", fmt::format("{}", e.ret_int()));
    }
    if (e.has(S_REFCOUNT)) kv(a, "refcount", fmt::format("{}", e.sget(S_REFCOUNT)));
    if (t) {
      kv(a, "state", fmt::format("{} -> {}", life_state_name(t->from), life_state_name(t->to)));
      if (!t->note.empty()) kv(a, "note", t->note);
    }
    return a;
  }

  void locks(const Event& e) {
    if (!e.has(A_LOCK)) return;
    uint64_t lock = e.get(A_LOCK);
    bool acquire = false, release = false;
    if (e.phase == Phase::exit && is_lock_fn(e.fn)) acquire = !e.has(RET) || e.ret_int() == 0;
    else if (e.phase == Phase::exit && is_trylock_fn(e.fn)) acquire = e.has(RET) && e.ret_int() > 0;
    else if (e.phase == Phase::entry && is_unlock_fn(e.fn)) release = true;
    if (!acquire && !release) return;
    auto [it, fresh] = holds.try_emplace({e.tid, lock});
    Hold& h = it->second;
    if (fresh) {
      h.track.tid = next_tid++;
      h.label = fmt::format("task {} ({}) lock {}", e.tid, e.comm, hex(lock));
      meta(kPidLocks, h.track.tid, "thread_name", h.label);
    }
    if (acquire && !h.open) {
      std::string a;
      kv(a, "lock", hex(lock));
      kv(a, "fn", fn_name(e.fn));
      kn(a, "tid", static_cast<uint64_t>(e.tid));
      kv(a, "comm", e.comm);
      if (e.line) kn(a, "line", e.line);
      phase_event("B", kPidLocks, h.track, e.ts, fmt::format("held {}", hex(lock)), "lock", a);
      h.open = true;
    } else if (release && h.open) {
      phase_event("E", kPidLocks, h.track, e.ts, fmt::format("held {}", hex(lock)), "lock");
      h.open = false;
    }
  }

  // TransitionObserver
  void on_applied(const Event& e, std::span<const Transition> touched) override {
    last_ts = std::max(last_ts, e.ts);
    std::string_view fn = fn_name(e.fn);
    uint64_t arg_bo = arg(e, A_VM_BO);
    bool arg_done = false;
    for (const Transition& t : touched) {
      Life& l = life_for(t.vm_bo, t.gen, e.ts);
      phase_event("i", kPidVmBos, l.track, e.ts, fn.empty() ? "event" : fn, "call", call_args(e, &t));
      arg_done = arg_done || t.vm_bo == arg_bo;
    }
    if (arg_bo && !arg_done) {
      auto it = lives.find(arg_bo);
      if (it != lives.end() && it->second.open)
        phase_event("i", kPidVmBos, it->second.track, e.ts, fn.empty() ? "event" : fn, "call", call_args(e, nullptr));
    }
    for (uint64_t addr : pending_close) {
      auto it = lives.find(addr);
      if (it == lives.end() || !it->second.close_pending) continue;
      it->second.close_pending = false;
      if (it->second.open) phase_event("E", kPidVmBos, it->second.track, e.ts, "vm_bo life", "vm_bo");
      it->second.open = false;
    }
    pending_close.clear();
    locks(e);
  }
  void on_closed(uint64_t vm_bo, uint32_t gen) override {
    auto it = lives.find(vm_bo);
    if (it == lives.end() || it->second.gen != gen || !it->second.open) return;
    it->second.close_pending = true;
    pending_close.push_back(vm_bo);
  }

  // FindingSink
  void on_finding(const Finding& f) override {
    std::string_view kind = f.kind == FindingKind::violation ? "violation"
                            : f.kind == FindingKind::unknown ? "unknown"
                                                             : "info";
    std::string a;
    kv(a, "rule", f.rule);
    kv(a, "type", kind);
    kv(a, "severity", severity_name(f.severity));
    kv(a, "message", f.kind == FindingKind::unknown && !f.reason.empty() ? f.reason : f.message);
    if (!f.fn.empty()) {
      kv(a, "fn", f.fn);
      kn(a, "tid", static_cast<uint64_t>(f.tid));
      kv(a, "comm", f.comm);
    }
    if (f.vm_bo) {
      kv(a, "vm_bo", hex(f.vm_bo));
      kn(a, "gen", f.gen);
    }
    if (f.line) kn(a, "line", f.line);
    kn(a, "ts_ns", f.ts);
    auto stack = [&](std::string_view key, bool has, uint64_t id) {
      if (!has) return;
      const StackRec* s = checker.stack(id);
      if (!s) return;
      a += fmt::format(",\"{}\":[", key);
      for (size_t i = 0; i < s->frames.size(); ++i) {
        if (i) a += ',';
        json::append_string(a, frame_text(s->frames[i]));
      }
      a += ']';
    };
    stack("stack", f.has_stack, f.stack);
    auto who = [&](std::string_view key, const FindingWho& w) {
      if (!w.set) return;
      kv(a, key, fmt::format("task {} ({}) at ts {}{}{}", w.tid, w.comm, w.ts, w.fn.empty() ? "" : " in ",
                             w.fn));
      stack(fmt::format("{}_stack", key), w.has_stack, w.stack);
    };
    who("created", f.created);
    who("destroyed", f.destroyed);
    who("last_ref", f.last_ref);
    std::string name = fmt::format("{}: {}", kind == "violation" ? severity_name(f.severity) : kind, f.rule);
    uint64_t ts = f.ts ? f.ts : last_ts;
    phase_event("X", kPidFindings, findings_track, ts, name, "finding", a);
    // Flow from the vm_bo's creation (the start of its life slice) to the finding.
    if (f.vm_bo) {
      auto it = lives.find(f.vm_bo);
      if (it != lives.end() && it->second.gen == f.gen) {
        uint64_t id = next_flow++;
        open_event();
        fmt::format_to(std::back_inserter(buf),
                       "{{\"ph\":\"s\",\"id\":{},\"pid\":{},\"tid\":{},\"ts\":{},\"name\":\"vm_bo to finding\",\"cat\":\"flow\"}}",
                       id, kPidVmBos, it->second.track.tid, us(it->second.start_ts));
        open_event();
        fmt::format_to(std::back_inserter(buf),
                       "{{\"ph\":\"f\",\"bp\":\"e\",\"id\":{},\"pid\":{},\"tid\":{},\"ts\":{},\"name\":\"vm_bo to finding\",\"cat\":\"flow\"}}",
                       id, kPidFindings, kFindingsTid, us(findings_track.last_ts));
      }
    }
  }

  bool finish() {
    checker.finish();
    for (auto& [addr, l] : lives)
      if (l.open) phase_event("E", kPidVmBos, l.track, last_ts, "vm_bo life", "vm_bo");
    for (auto& [key, h] : holds)
      if (h.open) phase_event("E", kPidLocks, h.track, last_ts, "held", "lock");
    buf += "\n]}\n";
    flush_if(0);
    if (std::fflush(out) != 0) io_error = true;
    return !io_error && !std::ferror(out);
  }
};

TraceEventExporter::TraceEventExporter(std::FILE* out, CheckerOptions opts)
    : impl_(std::make_unique<Impl>(out, opts)) {}
TraceEventExporter::~TraceEventExporter() = default;

void TraceEventExporter::on_header(const Header& h) { impl_->checker.on_header(h); }
void TraceEventExporter::on_event(const Event& e) { impl_->checker.on_event(e); }
void TraceEventExporter::on_lost(const Lost& l) { impl_->checker.on_lost(l); }
void TraceEventExporter::on_stack(const StackRec& s) { impl_->checker.on_stack(s); }
void TraceEventExporter::on_footer(const Footer& f) { impl_->checker.on_footer(f); }
void TraceEventExporter::on_opaque(const Opaque& o) { impl_->checker.on_opaque(o); }
void TraceEventExporter::on_skipped(uint64_t line, std::string_view why) {
  impl_->checker.on_skipped(line, why);
}
bool TraceEventExporter::finish() { return impl_->finish(); }
const Summary& TraceEventExporter::summary() const { return impl_->checker.summary(); }

}  // namespace gvt
