// SPDX-License-Identifier: GPL-2.0-only
#include "cli/replay.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "decode/safe_text.h"
#include "cli/format.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "cli/stats.h"
#include "decode/json_text.h"
#include "decode/trace_io.h"

namespace gvt::cli {
namespace {

std::string state_name(LifeState s) {
  if (s == LifeState::none) return "-";
  std::string n(life_state_name(s));
  for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}

std::string_view phase_name(Phase p) { return p == Phase::entry ? "entry" : "exit"; }

std::string fn_display(Fn f) {
  std::string_view n = fn_name(f);
  return n.empty() ? std::string("(unknown fn)") : std::string(n);
}

// Findings come from the checker either just before or just after the transition
// callback of their event; both are matched to the event by time and task.
bool same_event(const Finding& f, uint64_t ts, int32_t tid, uint64_t line) {
  return f.ts == ts && f.tid == tid && (f.line == 0 || line == 0 || f.line == line);
}

std::string rel_time(uint64_t ts, uint64_t t0) {
  // Cross-CPU reordering can put an event slightly before the first one.
  bool neg = ts < t0;
  uint64_t d = neg ? t0 - ts : ts - t0;
  return fmt::format("{}{}.{:09}s", neg ? '-' : '+', d / 1000000000u, d % 1000000000u);
}

std::string change_text(LifeState from, LifeState to, const std::string& note) {
  std::string s;
  if (from != to) s = from == LifeState::none ? fmt::format("→ {}", state_name(to))
                                              : fmt::format("{} → {}", state_name(from), state_name(to));
  if (!note.empty()) s += s.empty() ? note : fmt::format(" ({})", note);
  return s.empty() ? std::string("no change") : s;
}

}  // namespace

ReplayPrinter::ReplayPrinter(ReplayOptions opts, std::FILE* out) : opts_(opts), out_(out) {}

void ReplayPrinter::set_stack_lookup(std::function<const StackRec*(uint64_t)> stacks) {
  stacks_ = std::move(stacks);
}

bool ReplayPrinter::wants_vm_bo(uint64_t vm_bo, uint32_t gen) const {
  if (opts_.vm_bo && *opts_.vm_bo != vm_bo) return false;
  if (opts_.gen && *opts_.gen != gen) return false;
  return true;
}

ReplayPrinter::Block& ReplayPrinter::block(uint64_t vm_bo, uint32_t gen) {
  auto [it, fresh] = blocks_.try_emplace(Key{vm_bo, gen});
  if (fresh) {
    it->second.vm_bo = vm_bo;
    it->second.gen = gen;
    it->second.order = order_++;
  }
  auto lg = latest_gen_.find(vm_bo);
  if (lg == latest_gen_.end() || lg->second < gen) latest_gen_[vm_bo] = gen;
  return it->second;
}

void ReplayPrinter::on_finding(const Finding& f) {
  if (f.kind == FindingKind::info && !opts_.info) return;
  if (opts_.tid && f.tid != 0 && f.tid != *opts_.tid) return;
  if (f.vm_bo == 0) {
    // Not about one vm_bo (lock misuse, VM teardown): printed where it happens.
    if (opts_.vm_bo) return;
    if (opts_.vm && f.vm != *opts_.vm) return;
    emit_loose(f);
    return;
  }
  uint32_t gen = f.gen;
  if (gen == 0) {
    auto lg = latest_gen_.find(f.vm_bo);
    if (lg != latest_gen_.end()) gen = lg->second;
  }
  if (!wants_vm_bo(f.vm_bo, gen)) return;
  Block& b = block(f.vm_bo, gen);
  if (!b.vm) b.vm = f.vm;
  if (!b.obj) b.obj = f.obj;
  if (!b.steps.empty()) {
    Step& last = b.steps.back();
    if (last.seq == seq_ && same_event(f, last.ts, last.tid, last.line)) {
      last.findings.push_back(f);
      return;
    }
  }
  if (b.pending.empty()) with_pending_.push_back(Key{f.vm_bo, gen});
  b.pending.push_back(f);
}

void ReplayPrinter::on_applied(const Event& e, std::span<const Transition> touched) {
  ++seq_;
  if (!have_t0_) {
    t0_ = e.ts;
    have_t0_ = true;
  }
  flush_closing(&e, touched);
  for (const Transition& t : touched) {
    if (!wants_vm_bo(t.vm_bo, t.gen)) continue;
    Block& b = block(t.vm_bo, t.gen);
    if (t.adopted) b.adopted = true;
    if (!b.has_first) {
      b.first_from = t.from;
      b.has_first = true;
    }
    b.state = t.to;
    // Events naming two vm_bos (obtain_prealloc's found path) share VM and GEM.
    if (!b.vm) b.vm = arg(e, S_VM, arg(e, A_GPUVM));
    if (!b.obj) b.obj = arg(e, S_OBJ, arg(e, A_OBJ));

    add_step(b, e, t.from, t.to, t.note);
  }

  // Events that name a vm_bo without changing it (entries with their lock snapshots,
  // the event a finding was raised at) are listed too: that is where findings sit.
  if (e.has(A_VM_BO)) {
    uint64_t addr = e.get(A_VM_BO);
    auto lg = latest_gen_.find(addr);
    if (lg != latest_gen_.end()) {
      auto it = blocks_.find(Key{addr, lg->second});
      if (it != blocks_.end() && !touches(touched, it->first) && it->second.last_seq != seq_)
        add_step(it->second, e, it->second.state, it->second.state, {});
    }
  }
  if (!with_pending_.empty()) {
    std::vector<Key> still;
    for (const Key& k : with_pending_) {
      auto it = blocks_.find(k);
      if (it == blocks_.end()) continue;
      Block& b = it->second;
      if (b.last_seq != seq_ &&
          std::any_of(b.pending.begin(), b.pending.end(),
                      [&e](const Finding& f) { return same_event(f, e.ts, e.tid, e.line); }))
        add_step(b, e, b.state, b.state, {});
      if (!b.pending.empty()) still.push_back(k);
    }
    with_pending_ = std::move(still);
  }
}

bool ReplayPrinter::touches(std::span<const Transition> touched, const Key& k) {
  return std::any_of(touched.begin(), touched.end(),
                     [&](const Transition& t) { return t.vm_bo == k.vm_bo && t.gen == k.gen; });
}

void ReplayPrinter::add_step(Block& b, const Event& e, LifeState from, LifeState to,
                             const std::string& note) {
  b.last_seq = seq_;
  auto matches = [&e](const Finding& f) { return same_event(f, e.ts, e.tid, e.line); };
  if (opts_.tid && e.tid != *opts_.tid) {
    std::erase_if(b.pending, matches);
    return;
  }
  Step s;
  s.ts = e.ts;
  s.line = e.line;
  s.tid = e.tid;
  s.comm = std::string(e.comm);
  s.fn = e.fn;
  s.phase = e.phase;
  s.from = from;
  s.to = to;
  s.note = note;
  s.seq = seq_;
  auto mid = std::stable_partition(b.pending.begin(), b.pending.end(),
                                   [&](const Finding& f) { return !matches(f); });
  s.findings.assign(std::make_move_iterator(mid), std::make_move_iterator(b.pending.end()));
  b.pending.erase(mid, b.pending.end());
  b.steps.push_back(std::move(s));
}

void ReplayPrinter::on_closed(uint64_t vm_bo, uint32_t gen) {
  auto it = blocks_.find(Key{vm_bo, gen});
  if (it == blocks_.end() || it->second.closing) return;
  it->second.closing = true;
  closing_.push_back(Key{vm_bo, gen});
}

// A closed block is printed at the next event that does not touch it, so that the
// findings of its last event (reported before or after the close) are in it.
void ReplayPrinter::flush_closing(const Event* e, std::span<const Transition> touched) {
  std::vector<Key> kept;
  for (const Key& k : closing_) {
    auto it = blocks_.find(k);
    if (it == blocks_.end()) continue;
    bool keep = false;
    if (e) {
      // Still part of this event: it changes the block, names it (a put on the dead
      // vm_bo), or the checker already reported a finding at it.
      keep = touches(touched, k) || (e->has(A_VM_BO) && e->get(A_VM_BO) == k.vm_bo) ||
             std::any_of(it->second.pending.begin(), it->second.pending.end(),
                         [e](const Finding& f) { return same_event(f, e->ts, e->tid, e->line); });
    }
    if (keep) {
      kept.push_back(k);
      continue;
    }
    emit(it->second);
    blocks_.erase(it);
  }
  closing_ = std::move(kept);
}

void ReplayPrinter::finish() {
  flush_closing(nullptr, {});
  std::vector<Block*> rest;
  rest.reserve(blocks_.size());
  for (auto& [k, b] : blocks_) rest.push_back(&b);
  std::sort(rest.begin(), rest.end(), [](const Block* a, const Block* b) { return a->order < b->order; });
  for (Block* b : rest) emit(*b);
  blocks_.clear();
  flush_out(out_);
}

void ReplayPrinter::emit(Block& b) {
  if (opts_.vm && b.vm != *opts_.vm) return;
  if (b.steps.empty() && b.pending.empty()) return;
  if (opts_.only_with_findings && b.pending.empty() &&
      std::none_of(b.steps.begin(), b.steps.end(), [](const Step& s) { return !s.findings.empty(); }))
    return;
  ++printed_;
  progress_clear();
  if (opts_.json)
    emit_json(b);
  else
    emit_text(b);
}

namespace {
std::string origin_of(bool adopted, bool has_first, LifeState first_from) {
  if (adopted) return "adopted";
  if (!has_first) return "unknown";
  if (first_from == LifeState::none) return "observed";
  // Events on a lifecycle whose block was already printed (use after destroy...).
  return first_from == LifeState::destroyed ? "after-destroy" : "continued";
}
}  // namespace

void ReplayPrinter::emit_text(const Block& b) {
  Style st{opts_.color};
  std::string o = fmt::format("{}vm_bo {}#{}{}", st.bold(), hex(b.vm_bo), b.gen, st.reset());
  o += fmt::format(" vm={} gem={} origin={}\n", b.vm ? hex(b.vm) : "?", b.obj ? hex(b.obj) : "?",
                   origin_of(b.adopted, b.has_first, b.first_from));
  for (const Step& s : b.steps) {
    o += fmt::format("  {} ts={} tid={} {} {} {}: {}", rel_time(s.ts, t0_), s.ts, s.tid,
                     s.comm.empty() ? "?" : safe_text(s.comm), safe_text(fn_display(s.fn)),
                     phase_name(s.phase), safe_text(change_text(s.from, s.to, s.note)));
    if (s.line) o += fmt::format(" {}line {}{}", st.dim(), s.line, st.reset());
    o += '\n';
    for (const Finding& f : s.findings) o += finding_text(f, stacks_, st, "    ");
  }
  for (const Finding& f : b.pending) o += finding_text(f, stacks_, st, "  ");
  o += fmt::format("  {}: {}\n\n", b.closing ? "end" : "end of trace", state_name(b.state));
  std::fwrite(o.data(), 1, o.size(), out_);
}

void ReplayPrinter::emit_json(const Block& b) {
  std::string o = fmt::format("{{\"type\":\"lifecycle\",\"vm_bo\":\"{}\",\"gen\":{}", hex(b.vm_bo), b.gen);
  if (b.vm) o += fmt::format(",\"vm\":\"{}\"", hex(b.vm));
  if (b.obj) o += fmt::format(",\"obj\":\"{}\"", hex(b.obj));
  o += ",\"origin\":";
  json::append_string(o, origin_of(b.adopted, b.has_first, b.first_from));
  o += ",\"state\":";
  json::append_string(o, state_name(b.state));
  o += b.closing ? ",\"closed\":true" : ",\"closed\":false";
  o += ",\"events\":[";
  std::string findings;
  auto add_finding = [&](const Finding& f, std::optional<size_t> event) {
    std::string j = finding_json(f, stacks_);
    if (event) j.insert(j.size() - 1, fmt::format(",\"event\":{}", *event));
    if (!findings.empty()) findings += ',';
    findings += j;
  };
  for (size_t i = 0; i < b.steps.size(); ++i) {
    const Step& s = b.steps[i];
    if (i) o += ',';
    o += fmt::format("{{\"ts\":{},\"rel_ns\":{},\"tid\":{},\"comm\":", s.ts,
                     static_cast<int64_t>(s.ts - t0_), s.tid);
    json::append_string(o, s.comm);
    o += ",\"fn\":";
    json::append_string(o, fn_name(s.fn));
    o += fmt::format(",\"phase\":\"{}\"", phase_name(s.phase));
    if (s.line) o += fmt::format(",\"line\":{}", s.line);
    o += fmt::format(",\"from\":\"{}\",\"to\":\"{}\"", state_name(s.from), state_name(s.to));
    if (!s.note.empty()) {
      o += ",\"note\":";
      json::append_string(o, s.note);
    }
    o += '}';
    for (const Finding& f : s.findings) add_finding(f, i);
  }
  for (const Finding& f : b.pending) add_finding(f, std::nullopt);
  o += "],\"findings\":[" + findings + "]}\n";
  std::fwrite(o.data(), 1, o.size(), out_);
}

void ReplayPrinter::emit_loose(const Finding& f) {
  progress_clear();
  std::string s = opts_.json ? finding_json(f, stacks_) + '\n'
                             : finding_text(f, stacks_, Style{opts_.color});
  std::fwrite(s.data(), 1, s.size(), out_);
}

// ---------------------------------------------------------------------------------
// The subcommand.

namespace {

struct ReplayArgs {
  std::string format = "text";
  std::string fail_on = "error";
  std::string vm_bo;
  std::string vm;
  std::optional<int32_t> tid;
  std::vector<std::string> rules;
  bool stats = false;
  bool no_recorded_filter = false;
  ProgressMode progress = ProgressMode::automatic;
  bool info = false;
  bool keep_going = false;
  bool salvage = false;
  std::string file;
};

int run_replay(const ReplayArgs& a) {
  ReplayOptions ro;
  ro.json = a.format == "json";
  ro.color = want_color(ro.json);
  ro.info = a.info;
  ro.tid = a.tid;
  if (!a.vm_bo.empty()) {
    std::string_view s = a.vm_bo;
    auto hash = s.find('#');
    auto addr = parse_addr(s.substr(0, hash));
    if (hash != std::string_view::npos) {
      uint32_t g = 0;
      auto rest = s.substr(hash + 1);
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), g);
      if (ec != std::errc{} || p != rest.data() + rest.size() || rest.empty()) addr.reset();
      ro.gen = g;
    }
    if (!addr) {
      print_error(fmt::format("--vm-bo: '{}' is not an address; give 0xHEX or 0xHEX#GEN", a.vm_bo));
      return kExitUsage;
    }
    ro.vm_bo = addr;
  }
  // The checker's filter makes the summary and the exit status count what is shown.
  CheckerOptions co;
  std::vector<int32_t> tids;
  if (a.tid) tids.push_back(*a.tid);
  if (!parse_filter(a.rules, a.vm, tids, co.filter)) return kExitUsage;
  ro.vm = co.filter.vm;
  ro.only_with_findings = !co.filter.rules.empty();

  ReplayPrinter printer(ro, stdout);
  co.report_info = a.info;
  co.stats = a.stats;
  co.recorded_filter = !a.no_recorded_filter;
  Checker checker(co, printer, &printer);
  printer.set_stack_lookup([&checker](uint64_t id) { return checker.stack(id); });
  ReadResult r;
  try {
    ReadOptions rdo;
    rdo.keep_going = a.keep_going;
    rdo.salvage = a.salvage;
    ReadProgress rp;
    std::unique_ptr<ProgressSink> progress =
        make_progress(a.progress, checker, "replay " + (a.file == "-" ? std::string("<stdin>") : a.file), rp);
    if (progress) rdo.progress = &rp;
    r = read_trace(a.file, progress ? static_cast<RecordSink&>(*progress) : checker, rdo);
  } catch (const std::exception& e) {
    print_error(fmt::format("{}: {}", a.file, e.what()));
    return kExitUsage;
  }
  if (!report_read_result(r, a.file)) return kExitUsage;
  checker.finish();
  printer.finish();
  Summary s = checker.summary();
  s.damaged = r.damaged;
  note_recorded_filter(s, a.file);
  print_summary(s, OutputOptions{ro.json, ro.color, ro.info}, stdout, checker.stats());
  if (!stdout_ok()) return kExitWrite;
  return findings_exit_status(checker.summary(), parse_fail_on(a.fail_on));
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_status) {
  auto a = std::make_shared<ReplayArgs>();
  CLI::App* sub = app.add_subcommand("replay", "Show each vm_bo lifecycle of a trace, event by event");
  sub->add_option("-f,--format", a->format, "Output: text or json (one object per lifecycle)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  sub->add_option("--vm-bo", a->vm_bo, "Only this vm_bo (ADDR, or ADDR#GEN for one generation)");
  sub->add_option("--vm", a->vm, "Only vm_bos and findings of this VM (ADDR)");
  sub->add_option("-t,--tid", a->tid, "Only events and findings of this task");
  sub->add_option("--rule", a->rules,
                  "Only findings of this rule ID (repeatable), and only the lifecycles that have one, "
                  "each with its whole history. Every event still feeds the model")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_flag("--no-recorded-filter", a->no_recorded_filter,
                "Ignore the filter a trace was recorded with (record --tid/--vm)");
  sub->add_flag("--stats", a->stats,
                "Also print statistics after the summary (events per function, findings per rule, vm_bos "
                "per VM, longest lifetimes)");
  add_progress_flags(sub, a->progress);
  sub->add_flag("--info", a->info, "Also show info findings");
  sub->add_flag("--keep-going", a->keep_going, "Skip malformed lines instead of stopping");
  sub->add_flag("--salvage", a->salvage,
                "Damaged .gvt: skip chunks that fail their checks instead of stopping (each gap is a loss)");
  sub->add_option("--fail-on", a->fail_on, "Lowest severity that makes the exit status 1")
      ->check(CLI::IsMember({"error", "warning"}))
      ->capture_default_str();
  sub->add_option("FILE", a->file, "Trace file (.jsonl or .gvt; - reads standard input)")->required();
  sub->footer(
      "EXAMPLES:\n"
      "    gpuvm-trace replay trace.jsonl                          # every lifecycle\n"
      "    gpuvm-trace replay --vm-bo 0xffff9e3a022c45a0 t.gvt      # one vm_bo, all generations\n"
      "    gpuvm-trace replay --vm-bo 0xffff9e3a022c45a0#2 t.gvt    # one generation\n"
      "    gpuvm-trace replay --tid 151 -f json t.jsonl             # one task, as JSON\n"
      "    gpuvm-trace replay --rule double-put t.gvt               # the vm_bos put once too often\n"
      "\n"
      "EXIT STATUS: as lint (0 clean, 1 findings at or above --fail-on, 2 usage or input error,\n"
      "8 write error)");
  sub->callback([a, &exit_status] { exit_status = run_replay(*a); });
}

}  // namespace gvt::cli
