// SPDX-License-Identifier: GPL-2.0-only
// Runs the built gpuvm-trace binary on the traces in data/ and checks exit statuses,
// output shapes and conversions, as a CI user or a script would see them.
#include <sys/wait.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <regex>
#include <set>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/cli/cli_run.h"
#include "tests/cli/redaction_check.h"
#include "tests/cli/trace_event_check.h"
#include "tests/decode/gvt_chunks.h"

namespace {

using namespace gvt_cli_test;

const std::string kB = "0xffff888003000000";   // task 151's vm_bo in error.jsonl
const std::string kB2 = "0xffff888003300000";  // task 200's vm_bo

TEST(Lint, CleanTraceExitsZero) {
  Proc r = run("lint " + data("clean.jsonl"));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "summary")) << r.out;
  EXPECT_TRUE(has(r.out, "0 errors")) << r.out;
  EXPECT_FALSE(has(r.out, "error:")) << r.out;
  EXPECT_EQ(r.err, "");  // complete trace with footer: no notes
}

TEST(Lint, ErrorTraceExitsOneWithKernelStyleReport) {
  Proc r = run("lint " + data("error.jsonl"));
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  uint64_t line = line_of(data("error.jsonl"), {"drm_gpuvm_bo_extobj_add", "\"entry\"", kB});
  ASSERT_GT(line, 0u);
  auto ls = lines_of(r.out);
  size_t i = 0;
  while (i < ls.size() && ls[i].rfind("error: extobj-add-unlocked: ", 0) != 0) ++i;
  ASSERT_LT(i + 4, ls.size()) << r.out;
  const std::string& at = ls[i + 1];
  EXPECT_EQ(at.rfind("  at ts=", 0), 0u) << at;
  EXPECT_TRUE(has(at, "tid=151")) << at;
  EXPECT_TRUE(has(at, "comm=insmod")) << at;
  EXPECT_TRUE(has(at, "fn=drm_gpuvm_bo_extobj_add")) << at;
  EXPECT_TRUE(has(at, "vm_bo=" + kB + "#1")) << at;
  EXPECT_TRUE(has(at, "line " + std::to_string(line))) << at;
  EXPECT_TRUE(has(ls[i + 2], "drm_gpuvm_bo_extobj_add+0x0 [drm_gpuvm]")) << r.out;
  EXPECT_TRUE(has(ls[i + 3], "ex_init+0x115 [gpuvm_exerciser]")) << r.out;
  EXPECT_TRUE(has(ls[i + 4], "0xffffffff81000abc")) << r.out;  // unsymbolized frame
  // The clean lifecycle of task 200 adds no finding.
  EXPECT_FALSE(has(r.out, "tid=200")) << r.out;
}

TEST(Lint, WarningOnlyDependsOnFailOn) {
  Proc r = run("lint " + data("warning.jsonl"));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "warning: extobj-add-unlocked: ")) << r.out;
  EXPECT_FALSE(has(r.out, "error:")) << r.out;
  Proc w = run("lint --fail-on warning " + data("warning.jsonl"));
  EXPECT_EQ(w.status, 1) << w.out << w.err;
  Proc e = run("lint --fail-on error " + data("warning.jsonl"));
  EXPECT_EQ(e.status, 0);
}

TEST(Lint, MalformedLineIsAnInputError) {
  Proc r = run("lint " + data("malformed.jsonl"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(r.err.rfind("gpuvm-trace: ", 0), 0u) << r.err;
  EXPECT_TRUE(has(r.err, "malformed.jsonl:11")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
  EXPECT_FALSE(has(r.out, "summary")) << r.out;
}

TEST(Lint, KeepGoingSkipsAndCountsTheLine) {
  Proc r = run("lint --keep-going -f json " + data("malformed.jsonl"));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  auto ls = lines_of(r.out);
  ASSERT_FALSE(ls.empty());
  simdjson::dom::parser parser;
  simdjson::padded_string last(ls.back());
  simdjson::dom::element s;
  ASSERT_EQ(parser.parse(last).get(s), simdjson::SUCCESS) << ls.back();
  EXPECT_EQ(std::string_view(s["type"]), "summary");
  EXPECT_EQ(uint64_t(s["skipped_lines"]), 1u) << ls.back();
  EXPECT_TRUE(has(r.err, "gpuvm-trace: note: ")) << r.err;
}

TEST(Lint, MissingFileIsAnInputError) {
  Proc r = run("lint " + data("no-such-trace.jsonl"));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("gpuvm-trace: ", 0), 0u) << r.err;
  EXPECT_TRUE(has(r.err, "no-such-trace.jsonl")) << r.err;
}

TEST(Lint, FutureVersionIsRefused) {
  Proc r = run("lint " + data("future.jsonl"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(r.err.rfind("gpuvm-trace: ", 0), 0u) << r.err;
  EXPECT_TRUE(has(r.err, "version")) << r.err;
}

TEST(Cli, UsageErrorsExitTwo) {
  for (const char* args : {"lint --bogus x", "lint -f xml x", "lint --fail-on info x", "lint", "",
                           "frobnicate", "replay --vm-bo nothex " /* validated after parse */}) {
    std::string a = args;
    if (a.rfind("replay", 0) == 0) a += data("clean.jsonl");
    Proc r = run(a);
    EXPECT_EQ(r.status, 2) << "args: " << a << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("gpuvm-trace: ", 0), 0u) << "args: " << a << "\n" << r.err;
  }
}

TEST(Cli, HelpShowsUsageAndExamples) {
  for (const char* sub : {"", "lint", "replay", "convert"}) {
    Proc r = run(std::string(sub) + " --help");
    EXPECT_EQ(r.status, 0) << sub;
    EXPECT_TRUE(has(r.out, "USAGE:")) << sub << "\n" << r.out;
    EXPECT_TRUE(has(r.out, "EXAMPLES:")) << sub << "\n" << r.out;
  }
  Proc v = run("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out.rfind("gpuvm-trace ", 0), 0u) << v.out;
}

TEST(Lint, NoColorWhenNotATerminal) {
  Proc r = run("lint " + data("error.jsonl"));
  EXPECT_FALSE(has(r.out, "\x1b[")) << r.out;
}

// script(1) (util-linux) gives the binary a pseudo-terminal as stdout.
TEST(Lint, ColorOnlyOnATerminalWithoutNoColor) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "script(1) missing";
  const std::string tty = "-u NO_COLOR TERM=xterm";
  std::string colored = on_tty("lint " + data("warning.jsonl"), tty);
  EXPECT_TRUE(has(colored, "\x1b[")) << colored;
  EXPECT_TRUE(has(colored, "extobj-add-unlocked")) << colored;
  EXPECT_FALSE(has(on_tty("lint " + data("warning.jsonl"), tty + " NO_COLOR=1"), "\x1b["));
  EXPECT_FALSE(has(on_tty("lint -f json " + data("warning.jsonl"), tty), "\x1b["));
}

TEST(Lint, JsonIsValidJsonLinesEndingInSummary) {
  Proc r = run("lint -f json " + data("error.jsonl"));
  EXPECT_EQ(r.status, 1) << r.err;
  auto ls = lines_of(r.out);
  ASSERT_GE(ls.size(), 2u) << r.out;
  uint64_t errors = 0, violations = 0;
  bool found = false;
  for (size_t i = 0; i < ls.size(); ++i) {
    simdjson::dom::parser parser;
    simdjson::padded_string p(ls[i]);
    simdjson::dom::element el;
    ASSERT_EQ(parser.parse(p).get(el), simdjson::SUCCESS) << "invalid JSON: " << ls[i];
    std::string_view type;
    ASSERT_EQ(el["type"].get(type), simdjson::SUCCESS) << ls[i];
    if (i + 1 == ls.size()) {
      ASSERT_EQ(type, "summary") << ls[i];
      for (const char* k : {"events", "vm_bos", "violations", "errors", "warnings", "unknown",
                            "lost", "skipped_lines"}) {
        uint64_t v;
        EXPECT_EQ(el[k].get(v), simdjson::SUCCESS) << k << " in " << ls[i];
      }
      bool footer;
      ASSERT_EQ(el["footer"].get(footer), simdjson::SUCCESS);
      EXPECT_TRUE(footer);
      EXPECT_EQ(uint64_t(el["errors"]), errors);
      EXPECT_EQ(uint64_t(el["violations"]), violations);
      EXPECT_EQ(uint64_t(el["lost"]), 0u);
      continue;
    }
    ASSERT_NE(type, "summary") << "summary before the end: " << ls[i];
    if (type != "violation") continue;
    ++violations;
    if (std::string_view(el["severity"]) == "error") ++errors;
    if (std::string_view(el["rule"]) != "extobj-add-unlocked") continue;
    found = true;
    EXPECT_EQ(std::string_view(el["fn"]), "drm_gpuvm_bo_extobj_add");
    EXPECT_EQ(std::string_view(el["vm_bo"]), kB);
    EXPECT_EQ(uint64_t(el["gen"]), 1u);
    EXPECT_EQ(int64_t(el["tid"]), 151);
    EXPECT_EQ(std::string_view(el["comm"]), "insmod");
    EXPECT_EQ(std::string_view(el["vm"]), "0xffff888001000000");
    EXPECT_EQ(std::string_view(el["obj"]), "0xffff888002000000");
    EXPECT_EQ(uint64_t(el["line"]),
              line_of(data("error.jsonl"), {"drm_gpuvm_bo_extobj_add", "\"entry\"", kB}));
    EXPECT_FALSE(std::string_view(el["message"]).empty());
    simdjson::dom::array stack;
    ASSERT_EQ(el["stack"].get(stack), simdjson::SUCCESS) << ls[i];
    std::vector<std::string_view> frames;
    for (auto f : stack) frames.push_back(std::string_view(f));
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0], "drm_gpuvm_bo_extobj_add+0x0 [drm_gpuvm]");
    EXPECT_EQ(frames[1], "ex_init+0x115 [gpuvm_exerciser]");
    EXPECT_EQ(frames[2], "0xffffffff81000abc");
  }
  EXPECT_TRUE(found) << r.out;
}

TEST(Lint, InfoOnlyWithFlagAndIdleThreshold) {
  Proc plain = run("lint " + data("leak.jsonl"));
  EXPECT_EQ(plain.status, 0);
  EXPECT_FALSE(has(plain.out, "vm-bo-leak")) << plain.out;
  Proc info = run("lint --info " + data("leak.jsonl"));
  EXPECT_EQ(info.status, 0) << "info findings never fail lint";
  EXPECT_TRUE(has(info.out, "info: vm-bo-leak: ")) << info.out;
  // The vm_bo is idle for ~10 s at the end: --idle 5 reports it, --idle 20 does not.
  EXPECT_TRUE(has(run("lint --info --idle 5 " + data("leak.jsonl")).out, "vm-bo-leak"));
  EXPECT_FALSE(has(run("lint --info --idle 20 " + data("leak.jsonl")).out, "vm-bo-leak"));
  Proc json = run("lint -f json --info " + data("leak.jsonl"));
  EXPECT_TRUE(has(json.out, "{\"type\":\"info\",\"rule\":\"vm-bo-leak\"")) << json.out;
  EXPECT_TRUE(has(json.out, "\"infos\":1")) << json.out;
}

TEST(Lint, UnknownFindingsNeverFail) {
  Proc r = run("lint " + data("unknown.jsonl"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "unknown: double-put: ")) << r.out;
  EXPECT_EQ(run("lint --fail-on warning " + data("unknown.jsonl")).status, 0);
  Proc j = run("lint -f json " + data("unknown.jsonl"));
  EXPECT_TRUE(has(j.out, "{\"type\":\"unknown\",\"rule\":\"double-put\"")) << j.out;
  EXPECT_TRUE(has(j.out, "\"reason\":")) << j.out;
  EXPECT_TRUE(has(lines_of(j.out).back(), "\"lost\":17")) << j.out;
}

TEST(Lint, SeveralFilesWorstStatusWins) {
  EXPECT_EQ(run("lint " + data("clean.jsonl") + " " + data("warning.jsonl")).status, 0);
  Proc r = run("lint -f json " + data("clean.jsonl") + " " + data("error.jsonl"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n') >= 2, true);
  EXPECT_TRUE(has(r.out, "\"file\":")) << r.out;
  EXPECT_EQ(run("lint " + data("error.jsonl") + " " + data("no-such.jsonl")).status, 2);
}

TEST(Lint, ReadsStandardInput) {
  Proc r = run("lint - < '" + data("error.jsonl") + "'");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(has(r.out, "error: extobj-add-unlocked")) << r.out;
}

TEST(Convert, RoundTripThroughGvtIsLossless) {
  for (const char* name : {"clean.jsonl", "error.jsonl", "warning.jsonl"}) {
    std::string gvt = tmp(std::string(name) + ".gvt");
    std::string back = tmp(std::string(name) + ".back.jsonl");
    std::string direct = tmp(std::string(name) + ".direct.jsonl");
    ASSERT_EQ(run("convert " + data(name) + " -o '" + gvt + "'").status, 0) << name;
    ASSERT_EQ(run("convert '" + gvt + "' -o '" + back + "'").status, 0) << name;
    ASSERT_EQ(run("convert " + data(name) + " -o '" + direct + "'").status, 0) << name;
    std::string b = slurp(back), d = slurp(direct);
    EXPECT_FALSE(d.empty()) << name;
    EXPECT_EQ(b, d) << name;
    EXPECT_NE(slurp(gvt).substr(0, 16), d.substr(0, 16)) << "gvt output is not binary";
    // And the other way: gvt -> jsonl -> gvt gives the same bytes.
    std::string gvt2 = tmp(std::string(name) + ".again.gvt");
    ASSERT_EQ(run("convert '" + back + "' -o '" + gvt2 + "'").status, 0) << name;
    EXPECT_EQ(slurp(gvt2), slurp(gvt)) << name;
    std::remove(gvt2.c_str());
    // The checker sees the same trace in either format.
    Proc lj = run("lint -f json " + data(name));
    Proc lg = run("lint -f json '" + gvt + "'");
    EXPECT_EQ(lj.status, lg.status) << name;
    EXPECT_EQ(lines_of(lj.out).back(), lines_of(lg.out).back()) << name;
    // --format overrides the extension.
    std::string forced = tmp(std::string(name) + ".forced.jsonl");
    ASSERT_EQ(run("convert " + data(name) + " --format gvt -o '" + forced + "'").status, 0);
    EXPECT_EQ(slurp(forced), slurp(gvt)) << name;
    for (const auto& f : {gvt, back, direct, forced}) std::remove(f.c_str());
  }
}

TEST(Convert, BadInputsExitTwo) {
  std::string out = tmp("out.gvt");
  Proc r = run("convert " + data("malformed.jsonl") + " -o '" + out + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "malformed.jsonl:11")) << r.err;
  std::ifstream left(out);
  EXPECT_FALSE(left.good()) << "a half-written output was left behind";
  EXPECT_EQ(run("convert " + data("no-such.jsonl") + " -o '" + out + "'").status, 2);
  EXPECT_EQ(run("convert " + data("clean.jsonl") + " -o /nonexistent-dir/x.gvt").status, 2);
  EXPECT_EQ(run("convert " + data("clean.jsonl")).status, 2);  // -o is required
  std::remove(out.c_str());
}

// The benchmark generator's traces are clean G sequences: any violation or unknown
// here is a false positive of the checker or a bug in gvt-gen.
TEST(Generator, TracesAreCleanAndInjectionsAreFound) {
  const std::string gen = GVT_GEN;
  std::string f = tmp("gen.gvt");
  std::string cmd = "'" + gen + "' --events 60000 --live 500 --tasks 4 --vms 8 -o '" + f + "' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Proc r = run("lint -f json --info " + f);
  EXPECT_EQ(r.status, 0) << r.out;
  std::string summary = lines_of(r.out).back();
  EXPECT_TRUE(has(summary, "\"violations\":0,")) << summary;
  EXPECT_TRUE(has(summary, "\"unknown\":0,")) << summary;
  EXPECT_TRUE(has(summary, "\"infos\":0")) << summary;
  EXPECT_EQ(lines_of(r.out).size(), 1u) << r.out;

  cmd = "'" + gen + "' --events 60000 --live 500 --inject 2 --format jsonl -o '" + f + "' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Proc j = run("lint -f json " + f);
  EXPECT_EQ(j.status, 1);
  summary = lines_of(j.out).back();
  EXPECT_TRUE(has(summary, "\"violations\":2,\"errors\":2,")) << summary;
  EXPECT_EQ(std::count(j.out.begin(), j.out.end(), '\n'), 3) << j.out;
  EXPECT_TRUE(has(j.out, "\"rule\":\"extobj-add-unlocked\"")) << j.out;
  std::remove(f.c_str());
}

// Replay ----------------------------------------------------------------------------

// The text block that starts with "vm_bo ADDR#GEN", up to the blank line after it.
std::string block_of(const std::string& out, const std::string& head) {
  auto pos = out.find("vm_bo " + head);
  if (pos == std::string::npos) return {};
  auto end = out.find("\n\n", pos);
  return out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

TEST(Replay, BlocksPerLifecycleWithInlineFindings) {
  Proc r = run("replay " + data("error.jsonl"));
  EXPECT_EQ(r.status, 1) << r.err;
  std::string b = block_of(r.out, kB + "#1");
  std::string b2 = block_of(r.out, kB2 + "#1");
  ASSERT_FALSE(b.empty()) << r.out;
  ASSERT_FALSE(b2.empty()) << r.out;
  EXPECT_TRUE(has(b, "origin=observed")) << b;
  EXPECT_TRUE(has(b, "vm=0xffff888001000000")) << b;
  EXPECT_TRUE(has(b, "DESTROYED")) << b;
  // The finding sits right under the event that triggered it, indented.
  auto ls = lines_of(b);
  bool inline_ok = false;
  for (size_t i = 1; i < ls.size(); ++i) {
    if (ls[i].rfind("    error: extobj-add-unlocked: ", 0) == 0) {
      EXPECT_TRUE(has(ls[i - 1], "drm_gpuvm_bo_extobj_add entry")) << ls[i - 1];
      EXPECT_TRUE(has(ls[i - 1], "tid=151")) << ls[i - 1];
      inline_ok = true;
    }
  }
  EXPECT_TRUE(inline_ok) << b;
  EXPECT_FALSE(has(b2, "error:")) << b2;
  EXPECT_TRUE(has(b2, "tid=200")) << b2;
  // Lifecycle of B2 closes (destroyed) before B's: printed first.
  EXPECT_LT(r.out.find("vm_bo " + kB2), r.out.find("vm_bo " + kB)) << r.out;
  EXPECT_TRUE(has(r.out, "summary")) << r.out;
}

TEST(Replay, FiltersByVmBoAndTid) {
  Proc v = run("replay --vm-bo " + kB + " " + data("error.jsonl"));
  EXPECT_TRUE(has(v.out, "vm_bo " + kB + "#1")) << v.out;
  EXPECT_FALSE(has(v.out, "vm_bo " + kB2)) << v.out;
  Proc g = run("replay --vm-bo " + kB + "#2 " + data("error.jsonl"));
  EXPECT_FALSE(has(g.out, "vm_bo " + kB)) << g.out;
  Proc t = run("replay --tid 200 " + data("error.jsonl"));
  EXPECT_TRUE(has(t.out, "vm_bo " + kB2 + "#1")) << t.out;
  EXPECT_FALSE(has(t.out, "vm_bo " + kB)) << t.out;
  EXPECT_FALSE(has(t.out, "tid=151")) << t.out;
  EXPECT_FALSE(has(t.out, "error: extobj-add-unlocked")) << t.out;
  Proc vm = run("replay --vm 0xffff888001000000 " + data("error.jsonl"));
  EXPECT_TRUE(has(vm.out, "vm_bo " + kB + "#1")) << vm.out;
  Proc other = run("replay --vm 0x1234 " + data("error.jsonl"));
  EXPECT_FALSE(has(other.out, "vm_bo 0x")) << other.out;
}

TEST(Replay, JsonLifecycleObjects) {
  Proc r = run("replay -f json " + data("error.jsonl"));
  EXPECT_EQ(r.status, 1) << r.err;
  auto ls = lines_of(r.out);
  ASSERT_GE(ls.size(), 3u) << r.out;
  bool saw_b = false;
  for (size_t i = 0; i < ls.size(); ++i) {
    simdjson::dom::parser parser;
    simdjson::padded_string p(ls[i]);
    simdjson::dom::element el;
    ASSERT_EQ(parser.parse(p).get(el), simdjson::SUCCESS) << "invalid JSON: " << ls[i];
    std::string_view type = el["type"];
    if (i + 1 == ls.size()) {
      EXPECT_EQ(type, "summary");
      continue;
    }
    if (type != "lifecycle") continue;
    simdjson::dom::array events = el["events"];
    simdjson::dom::array findings = el["findings"];
    EXPECT_GT(events.size(), 0u) << ls[i];
    if (std::string_view(el["vm_bo"]) != kB) continue;
    saw_b = true;
    EXPECT_EQ(uint64_t(el["gen"]), 1u);
    ASSERT_GE(findings.size(), 1u) << ls[i];
    bool ok = false;
    for (auto f : findings) {
      if (std::string_view(f["rule"]) != "extobj-add-unlocked") continue;
      uint64_t ev;
      ASSERT_EQ(f["event"].get(ev), simdjson::SUCCESS) << ls[i];
      ASSERT_LT(ev, events.size());
      EXPECT_EQ(std::string_view(events.at(ev)["fn"]), "drm_gpuvm_bo_extobj_add");
      EXPECT_EQ(std::string_view(events.at(ev)["phase"]), "entry");
      ok = true;
    }
    EXPECT_TRUE(ok) << ls[i];
  }
  EXPECT_TRUE(saw_b) << r.out;
}

TEST(Replay, AdoptedLifecycle) {
  Proc r = run("replay " + data("midflight.jsonl"));
  EXPECT_EQ(r.status, 0) << r.err;
  std::string b = block_of(r.out, kB + "#1");
  EXPECT_TRUE(has(b, "origin=adopted")) << r.out;
  EXPECT_TRUE(has(b, "REGISTERED → DESTROYED")) << b;
}

TEST(Replay, InputErrorsExitTwo) {
  EXPECT_EQ(run("replay " + data("malformed.jsonl")).status, 2);
  EXPECT_EQ(run("replay " + data("no-such.jsonl")).status, 2);
  EXPECT_EQ(run("replay --keep-going " + data("malformed.jsonl")).status, 0);
}

}  // namespace

namespace {

// The rule IDs `gpuvm-trace rules -f json` lists.
std::set<std::string> listed_rules() {
  std::set<std::string> ids;
  Proc r = run("rules -f json");
  EXPECT_EQ(r.status, 0) << r.err;
  simdjson::dom::parser parser;
  for (const std::string& l : lines_of(r.out)) {
    simdjson::padded_string p(l);
    simdjson::dom::element o;
    EXPECT_EQ(parser.parse(p).get(o), simdjson::SUCCESS) << l;
    ids.insert(std::string(std::string_view(o["rule"])));
    for (const char* k : {"severity", "title", "requires", "means", "fix", "functions", "evidence"})
      EXPECT_FALSE(std::string_view(o[k]).empty()) << l << " lacks " << k;
  }
  return ids;
}

}  // namespace

TEST(Rules, ListsEveryRuleAndExplainsEach) {
  std::set<std::string> ids = listed_rules();
  EXPECT_EQ(ids.size(), 22u);
  Proc table = run("rules");
  EXPECT_EQ(table.status, 0);
  for (const std::string& id : ids) {
    EXPECT_TRUE(has(table.out, id)) << id;
    Proc e = run("explain " + id);
    EXPECT_EQ(e.status, 0) << id << e.err;
    EXPECT_EQ(e.out.rfind(id + " (", 0), 0u) << e.out;
    EXPECT_TRUE(has(e.out, "What the kernel requires, and why")) << e.out;
    EXPECT_TRUE(has(e.out, "Usual fix in a driver")) << e.out;
    EXPECT_TRUE(has(e.out, "Kernel functions involved")) << e.out;
  }
}

TEST(Rules, ExplainOfAnUnknownRuleIsAUsageError) {
  Proc r = run("explain no-such-rule");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "gpuvm-trace: explain: 'no-such-rule' is not a rule ID; 'gpuvm-trace rules' lists them\n");
  EXPECT_EQ(r.out, "");
}

// Every finding any spec trace produces names a rule that `explain` knows, and the text
// report tells how to get that explanation.
TEST(Rules, EveryFindingOfTheSpecTracesIsExplainedAndSaysHow) {
  std::set<std::string> ids = listed_rules();
  size_t findings = 0;
  for (const auto& ent : std::filesystem::directory_iterator(GVT_SPEC_TRACES)) {
    if (ent.path().extension() != ".jsonl") continue;
    Proc j = run("lint --info -f json '" + ent.path().string() + "'");
    simdjson::dom::parser parser;
    for (const std::string& l : lines_of(j.out)) {
      simdjson::padded_string p(l);
      simdjson::dom::element o;
      ASSERT_EQ(parser.parse(p).get(o), simdjson::SUCCESS) << l;
      std::string_view rule;
      if (o["rule"].get(rule) != simdjson::SUCCESS) continue;  // summary
      ++findings;
      EXPECT_TRUE(ids.count(std::string(rule))) << ent.path() << ": " << rule;
    }
    Proc t = run("lint --info '" + ent.path().string() + "'");
    auto ls = lines_of(t.out);
    for (size_t i = 0; i < ls.size(); ++i) {
      for (const char* kind : {"error: ", "warning: ", "unknown: ", "info: "}) {
        if (ls[i].rfind(kind, 0) != 0) continue;
        std::string rule = ls[i].substr(std::strlen(kind));
        rule = rule.substr(0, rule.find(':'));
        size_t k = i + 1;
        while (k < ls.size() && ls[k].rfind("  ", 0) == 0 && ls[k].rfind("  see: ", 0) != 0) ++k;
        ASSERT_LT(k, ls.size()) << t.out;
        EXPECT_EQ(ls[k], "  see: gpuvm-trace explain " + rule) << ent.path() << "\n" << t.out;
      }
    }
  }
  EXPECT_GT(findings, 50u);
}

// README's rules table is generated from the catalogue; regenerate it with
// `gpuvm-trace rules -f markdown` when a rule changes.
TEST(Rules, ReadmeTableIsTheCatalogue) {
  std::string readme = slurp(std::string(GVT_SPEC_TRACES) + "/../../README.md");
  const std::string open = "<!-- rules-table: generated by `gpuvm-trace rules -f markdown` -->\n";
  size_t a = readme.find(open);
  size_t b = readme.find("<!-- /rules-table -->");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  Proc r = run("rules -f markdown");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(readme.substr(a + open.size(), b - a - open.size()), r.out)
      << "README.md's rules table is stale: paste `gpuvm-trace rules -f markdown` into it";
}

// `convert --to perfetto` of every spec trace keeps the Trace Event Format's rules and
// carries every finding lint reports (infos included).
TEST(Perfetto, SpecTracesExportWellFormedTimelinesWithEveryFinding) {
  size_t files = 0, with_findings = 0;
  for (const auto& ent : std::filesystem::directory_iterator(GVT_SPEC_TRACES)) {
    if (ent.path().extension() != ".jsonl") continue;
    const std::string in = ent.path().string();
    std::string out = tmp(ent.path().stem().string() + ".perfetto.json");
    Proc c = run("convert --to perfetto '" + in + "' -o '" + out + "'");
    ASSERT_EQ(c.status, 0) << in << ": " << c.err;
    Proc l = run("lint --info -f json '" + in + "'");
    auto want = gvt::test::findings_of_lint_json(l.out);
    std::string why = gvt::test::check_trace_events(slurp(out), want);
    EXPECT_EQ(why, "") << in;
    ++files;
    with_findings += !want.empty();
    std::remove(out.c_str());
  }
  EXPECT_GT(files, 80u);
  EXPECT_GT(with_findings, 50u);
}

TEST(Perfetto, TracksSpansLocksAndFlows) {
  std::string out = tmp("dp.json");
  Proc c = run("convert --to perfetto " + data("error.jsonl") + " -o '" + out + "'");
  ASSERT_EQ(c.status, 0) << c.err;
  std::string j = slurp(out);
  EXPECT_TRUE(has(j, "\"thread_name\",\"args\":{\"name\":\"vm_bo " + kB + "#1\"}")) << j.substr(0, 2000);
  EXPECT_TRUE(has(j, "\"ph\":\"B\",\"pid\":1")) << "no vm_bo life slice";
  EXPECT_TRUE(has(j, "\"name\":\"drm_gpuvm_bo_extobj_add\",\"cat\":\"call\"")) << "no call instant";
  EXPECT_TRUE(has(j, "\"cat\":\"lock\"")) << "no lock hold slice";
  EXPECT_TRUE(has(j, "\"name\":\"error: extobj-add-unlocked\",\"cat\":\"finding\"")) << "no finding";
  EXPECT_TRUE(has(j, "\"stack\":[\"drm_gpuvm_bo_extobj_add+0x0 [drm_gpuvm]\"")) << "finding lacks its stack";
  EXPECT_TRUE(has(j, "\"ph\":\"s\"") && has(j, "\"ph\":\"f\"")) << "no flow from the vm_bo to the finding";
  std::remove(out.c_str());
  Proc bad = run("convert --to svg " + data("error.jsonl") + " -o '" + out + "'");
  EXPECT_EQ(bad.status, 2);
}

// A redacted trace lints to the same findings, addresses replaced one to one, on every
// spec trace and the CLI's own traces (which carry stacks); no original address is left
// in the file, and the header says so.
TEST(Redact, SameFindingsModuloAddresses) {
  size_t files = 0;
  for (const char* dir : {GVT_SPEC_TRACES, GVT_CLI_DATA}) {
    for (const auto& ent : std::filesystem::directory_iterator(dir)) {
      const std::string in = ent.path().string();
      if (ent.path().extension() != ".jsonl" || has(in, "malformed") || has(in, "future")) continue;
      std::string plain = tmp(ent.path().stem().string() + ".plain.jsonl");
      std::string red = tmp(ent.path().stem().string() + ".red.jsonl");
      ASSERT_EQ(run("convert '" + in + "' -o '" + plain + "' --format jsonl").status, 0) << in;
      Proc c = run("convert --redact '" + in + "' -o '" + red + "' --format jsonl");
      ASSERT_EQ(c.status, 0) << in << c.err;
      std::string redacted = slurp(red);
      EXPECT_TRUE(has(lines_of(redacted).at(0), "\"redacted\":true")) << in;
      // No address of the original survives (NULL excepted).
      static const std::regex addr("\"0x[0-9a-f]{5,}\"");
      std::string orig = slurp(in);
      for (auto it = std::sregex_iterator(orig.begin(), orig.end(), addr); it != std::sregex_iterator(); ++it)
        ASSERT_FALSE(has(redacted, it->str())) << in << ": " << it->str() << " survived redaction";
      Proc lp = run("lint --info -f json '" + plain + "'");
      Proc lr = run("lint --info -f json '" + red + "'");
      EXPECT_EQ(lp.status, lr.status) << in;
      EXPECT_EQ(gvt::test::same_findings_modulo_addresses(lp.out, lr.out, false), "") << in << "\n"
                                                                                     << lp.out << "\n" << lr.out;
      std::remove(plain.c_str());
      std::remove(red.c_str());
      ++files;
    }
  }
  EXPECT_GT(files, 80u);
}

TEST(Redact, KeyIsPerRunAndCommsHashOnRequest) {
  std::string r1 = tmp("1.jsonl"), r2 = tmp("2.jsonl"), r3 = tmp("3.jsonl");
  ASSERT_EQ(run("convert --redact " + data("error.jsonl") + " -o '" + r1 + "'").status, 0);
  ASSERT_EQ(run("convert --redact " + data("error.jsonl") + " -o '" + r2 + "'").status, 0);
  EXPECT_NE(slurp(r1), slurp(r2)) << "two redactions must not share a key";
  EXPECT_TRUE(has(slurp(r1), "\"comm\":\"insmod\""));
  ASSERT_EQ(run("convert --redact-comm " + data("error.jsonl") + " -o '" + r3 + "'").status, 0);
  std::string h = slurp(r3);
  EXPECT_FALSE(has(h, "insmod"));
  EXPECT_TRUE(has(h, "\"comm\":\"task-"));
  EXPECT_TRUE(has(h, "\"sym\":\"ex_init+0x115\",\"module\":\"gpuvm_exerciser\"")) << "symbols and offsets are kept";
  for (auto* f : {&r1, &r2, &r3}) std::remove(f->c_str());
}

// ---- issue 9: damage, safe output, write errors ----

namespace {
// The chunk start offsets of a .gvt file (from its chunk headers).
void spit(const std::string& path, const std::string& s) {
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  o << s;
}
}  // namespace

TEST(Damage, DamagedGvtIsAnInputErrorUnlessSalvaged) {
  std::string gvt = tmp("d.gvt");
  ASSERT_EQ(run("convert " + data("clean.jsonl") + " -o '" + gvt + "'").status, 0);
  std::string img = slurp(gvt);
  auto chunks = gvt::test::gvt_chunk_starts(img);
  ASSERT_GE(chunks.size(), 3u);  // the header chunk, the records, the end
  std::string bad = img;
  bad[chunks[1] + 40] ^= 0x10;  // a payload byte of chunk 2
  spit(gvt, bad);
  std::string where = "chunk 2 at byte " + std::to_string(chunks[1]);
  for (const char* cmd : {"lint", "replay"}) {
    Proc r = run(std::string(cmd) + " '" + gvt + "'");
    EXPECT_EQ(r.status, 2) << cmd << r.out << r.err;
    EXPECT_TRUE(has(r.err, where + " fails its checksum")) << r.err;
    EXPECT_TRUE(has(r.err, "--salvage")) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  }
  std::string out = tmp("d.jsonl");
  Proc c = run("convert '" + gvt + "' -o '" + out + "'");
  EXPECT_EQ(c.status, 2) << c.err;
  EXPECT_FALSE(std::ifstream(out).good()) << "convert left an output behind";

  // --salvage: read what verifies, say so, count the damage in the summary.
  Proc s = run("lint --salvage -f json '" + gvt + "'");
  EXPECT_EQ(s.status, 0) << s.out << s.err;
  EXPECT_TRUE(has(lines_of(s.out).back(), "\"damaged\":1")) << s.out;
  EXPECT_TRUE(has(s.err, where)) << s.err;
  Proc st = run("lint --salvage '" + gvt + "'");
  EXPECT_TRUE(has(st.out, "1 damaged region skipped (--salvage)")) << st.out;
  Proc cs = run("convert --salvage '" + gvt + "' -o '" + out + "'");
  EXPECT_EQ(cs.status, 0) << cs.err;
  EXPECT_TRUE(has(slurp(out), "\"type\":\"lost\"")) << "the gap must be marked";
  std::remove(out.c_str());

  // A cleanly cut file stays a note, exit 0.
  spit(gvt, img.substr(0, chunks[chunks.size() - 2] + 10));  // into the last chunk
  Proc t = run("lint '" + gvt + "'");
  EXPECT_EQ(t.status, 0) << t.err;
  EXPECT_TRUE(has(t.err, "truncated after chunk")) << t.err;
  std::remove(gvt.c_str());
}

TEST(SafeOutput, TraceFilesArePrivate) {
  std::string out = tmp("priv.gvt");
  spit(out, "");
  ::chmod(out.c_str(), 0644);  // an existing world-readable file is made private too
  ASSERT_EQ(run("convert " + data("clean.jsonl") + " -o '" + out + "'").status, 0);
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string fresh = tmp("fresh.jsonl");
  std::remove(fresh.c_str());
  ASSERT_EQ(run("convert '" + out + "' -o '" + fresh + "'").status, 0);
  ASSERT_EQ(::stat(fresh.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::remove(out.c_str());
  std::remove(fresh.c_str());
}

TEST(SafeOutput, ConvertNeverLeavesAPartialOrTemporaryFile) {
  std::string dir = tmp("convdir");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string out = dir + "/out.jsonl";
  spit(out, "previous content\n");
  Proc r = run("convert " + data("malformed.jsonl") + " -o '" + out + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(slurp(out), "previous content\n") << "a failed convert must not touch OUT";
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1) << "temporary file left behind";
  std::filesystem::remove_all(dir);
}

TEST(WriteErrors, SameStatusAndErrnoTextEverywhere) {
  Proc c = run("convert " + data("clean.jsonl") + " -o /dev/full");
  EXPECT_EQ(c.status, 8) << c.err;
  EXPECT_TRUE(has(c.err, "No space left on device")) << c.err;
  for (const char* cmd : {"lint", "replay", "lint -f json"}) {
    Proc r = run(std::string(cmd) + " " + data("error.jsonl") + " >/dev/full");
    EXPECT_EQ(r.status, 8) << cmd << r.err;
    EXPECT_TRUE(has(r.err, "write error: No space left on device")) << cmd << r.err;
  }
}

TEST(SafeOutput, TraceStringsAreEscapedInTextOutput) {
  // comm is settable by any process (prctl PR_SET_NAME): it must not forge lines or
  // send terminal escapes.
  std::string t = slurp(data("error.jsonl"));
  std::string evil = "insmod\\n\\u001b[2Jerror: forged-rule: fake\\u009b31m";
  size_t pos;
  while ((pos = t.find("\"comm\":\"insmod\"")) != std::string::npos)
    t.replace(pos, 15, "\"comm\":\"" + evil + "\"");
  std::string path = tmp("evil.jsonl");
  spit(path, t);
  Proc r = run("lint '" + path + "'");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.out.find("\xc2\x9b"), std::string::npos);
  for (const std::string& l : lines_of(r.out)) EXPECT_NE(l.rfind("error: forged-rule", 0), 0u) << l;
  EXPECT_TRUE(has(r.out, "comm=insmod\\n\\e[2Jerror: forged-rule: fake\\u009b31m")) << r.out;
  Proc rp = run("replay '" + path + "'");
  EXPECT_EQ(rp.out.find('\x1b'), std::string::npos);
  for (const std::string& l : lines_of(rp.out)) EXPECT_NE(l.rfind("error: forged-rule", 0), 0u) << l;
  // JSON output keeps the exact string (escaped as JSON, lossless).
  Proc j = run("lint -f json '" + path + "'");
  EXPECT_TRUE(has(j.out, "\\n\\u001b[2J")) << j.out;
  std::remove(path.c_str());
}

// A --keep-going conversion drops the malformed lines: the footer it writes counts
// what it wrote, so the output reads back (the fuzzer found it did not).
TEST(Convert, KeepGoingOutputReadsBack) {
  // clean.jsonl with its 4th event cut short: the footer still counts it.
  std::vector<std::string> ls = lines_of(slurp(data("clean.jsonl")));
  ls.at(4) = "{\"type\":\"event\",\"ts\":";
  std::string text;
  for (const std::string& l : ls) text += l + "\n";
  std::string in = tmp("kg-in.jsonl");
  spit(in, text);
  for (const char* ext : {"jsonl", "gvt"}) {
    std::string out = tmp(std::string("kg.") + ext);
    Proc c = run("convert --keep-going '" + in + "' -o '" + out + "'");
    ASSERT_EQ(c.status, 0) << c.err;
    Proc l = run("lint '" + out + "'");
    EXPECT_EQ(l.status, 0) << ext << ": " << l.err;
    EXPECT_FALSE(has(l.err, "footer counts")) << l.err;
    std::remove(out.c_str());
  }
}
