// SPDX-License-Identifier: GPL-2.0-only
// `gpuvm-trace lint`: check recorded traces, print findings, exit 0/1/2 for CI.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/format.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "cli/stats.h"
#include "decode/safe_text.h"
#include "decode/trace_io.h"
#include "decode/model/checker.h"

namespace gvt::cli {
namespace {

struct LintArgs {
  std::string format = "text";
  std::string fail_on = "error";
  bool info = false;
  bool keep_going = false;
  bool salvage = false;
  double idle_s = 0;
  std::vector<std::string> rules;
  std::string vm;
  std::vector<int32_t> tids;
  bool stats = false;
  bool no_recorded_filter = false;
  ProgressMode progress = ProgressMode::automatic;
  std::vector<std::string> files;
};

// Checks one file independently of the others; returns its exit status.
int lint_one(const LintArgs& a, const FindingFilter& filter, const std::string& path, bool several) {
  const bool json = a.format == "json";
  OutputOptions oo{json, want_color(json), a.info};
  if (several && !json) {
    fmt::print("{}==> {} <=={}\n", Style{oo.color}.bold(), safe_text(path), Style{oo.color}.reset());
  }
  FindingPrinter printer(oo, stdout);
  CheckerOptions co;
  co.report_info = a.info;
  co.idle_ns = static_cast<uint64_t>(std::llround(a.idle_s * 1e9));
  co.filter = filter;
  co.stats = a.stats;
  co.recorded_filter = !a.no_recorded_filter;
  Checker checker(co, printer);
  printer.set_stack_lookup([&checker](uint64_t id) { return checker.stack(id); });

  ReadResult r;
  try {
    ReadOptions ro;
    ro.keep_going = a.keep_going;
    ro.salvage = a.salvage;
    ReadProgress rp;
    std::unique_ptr<ProgressSink> progress =
        make_progress(a.progress, checker, "lint " + (path == "-" ? std::string("<stdin>") : path), rp);
    if (progress) ro.progress = &rp;
    r = read_trace(path, progress ? static_cast<RecordSink&>(*progress) : checker, ro);
  } catch (const std::exception& e) {
    print_error(fmt::format("{}: {}", path, e.what()));
    return kExitUsage;
  }
  if (!report_read_result(r, path)) return kExitUsage;
  checker.finish();

  Summary s = checker.summary();
  s.damaged = r.damaged;
  note_recorded_filter(s, path);
  const TraceStats* st = checker.stats();
  std::string line = json ? summary_json(s, a.info, several ? path : "", st ? stats_json(*st) : std::string()) + '\n'
                          : summary_text(s, a.info, Style{oo.color}, several ? path : "");
  if (st && !json) line += stats_text(*st, Style{oo.color});
  std::fwrite(line.data(), 1, line.size(), stdout);
  if (!stdout_ok()) return kExitWrite;
  return findings_exit_status(s, parse_fail_on(a.fail_on));
}

}  // namespace

void add_lint_command(CLI::App& app, int& exit_status) {
  auto a = std::make_shared<LintArgs>();
  CLI::App* sub = app.add_subcommand("lint", "Check recorded traces against the vm_bo rules (exit status for CI)");
  sub->add_option("-f,--format", a->format, "Output: text (kernel-report style) or json (findings stream)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  sub->add_option("--fail-on", a->fail_on, "Lowest severity that makes the exit status 1")
      ->check(CLI::IsMember({"error", "warning"}))
      ->capture_default_str();
  sub->add_flag("--info", a->info, "Also report info findings (vm-bo-leak, ...)");
  sub->add_flag("--keep-going", a->keep_going,
                "Skip malformed lines instead of stopping (later findings are marked incomplete)");
  sub->add_flag("--salvage", a->salvage,
                "Damaged .gvt: skip chunks that fail their checks instead of stopping (each gap is a loss)");
  sub->add_option("--idle", a->idle_s, "vm-bo-leak: only report vm_bos idle this long at the end")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--rule", a->rules,
                  "Report only findings of this rule ID (repeatable; 'gpuvm-trace rules' lists them). "
                  "Every event still feeds the model: filters hide findings, never evidence")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--vm", a->vm, "Report only findings about this VM (ADDR; a finding whose VM is unknown is hidden)");
  sub->add_option("-t,--tid", a->tids,
                  "Report only findings raised by this task (repeatable; end-of-trace leaks: by the task "
                  "that created the vm_bo)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_flag("--no-recorded-filter", a->no_recorded_filter,
                "Ignore the filter a trace was recorded with (record --tid/--vm): report every finding");
  sub->add_flag("--stats", a->stats,
                "Also print statistics: events per function, findings per rule, vm_bos per VM, the longest "
                "vm_bo lifetimes (JSON: the summary's \"stats\" key)");
  add_progress_flags(sub, a->progress);
  sub->add_option("FILE", a->files, "Trace files (.jsonl or .gvt; - reads standard input)")
      ->required();
  sub->footer(
      "EXAMPLES:\n"
      "    gpuvm-trace lint trace.jsonl               # findings as a kernel-style report\n"
      "    gpuvm-trace lint -f json trace.gvt         # findings stream, one JSON object per line\n"
      "    gpuvm-trace lint --fail-on warning *.gvt   # CI: warnings fail too\n"
      "    gpuvm-trace lint --info --idle 5 t.jsonl   # also vm_bos idle for 5 s at the end\n"
      "    gpuvm-trace lint --rule double-put --rule use-after-free t.gvt   # only these rules\n"
      "    gpuvm-trace lint --vm 0xffff9e3a01a86600 --stats t.gvt           # one VM, with statistics\n"
      "    gvt-gen --events 1000000 -o - | gpuvm-trace lint -\n"
      "\n"
      "EXIT STATUS: 0 no finding at or above --fail-on, 1 at least one, 2 usage or input error\n"
      "(a damaged .gvt without --salvage), 8 write error");
  sub->callback([a, &exit_status] {
    FindingFilter filter;
    if (!parse_filter(a->rules, a->vm, a->tids, filter)) {
      exit_status = kExitUsage;
      return;
    }
    int worst = kExitClean;
    const bool several = a->files.size() > 1;
    for (const std::string& f : a->files) {
      int st = lint_one(*a, filter, f, several);
      if (st == kExitWrite) {  // nowhere left to report the other files to
        worst = st;
        break;
      }
      worst = std::max(worst, st);
    }
    exit_status = worst;
  });
}

}  // namespace gvt::cli
