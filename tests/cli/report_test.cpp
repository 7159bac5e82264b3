// SPDX-License-Identifier: GPL-2.0-only
// What the offline subcommands report and how: filters (--rule, --vm, --tid, the
// filter a trace was recorded with), --stats, and the progress line on a terminal.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/cli/cli_run.h"

namespace {

using namespace gvt_cli_test;

const std::string kSpec = GVT_SPEC_TRACES;
std::string spec(const std::string& name) { return kSpec + "/" + name; }

// The summary object: the last line of a -f json run.
simdjson::dom::element summary_of(simdjson::dom::parser& p, const std::string& out) {
  auto ls = lines_of(out);
  EXPECT_FALSE(ls.empty());
  simdjson::dom::element e;
  EXPECT_EQ(p.parse(ls.empty() ? std::string("{}") : ls.back()).get(e), simdjson::SUCCESS) << out;
  EXPECT_EQ(std::string_view(e["type"]), "summary") << out;
  return e;
}

// Rule IDs of the finding objects of a -f json run.
std::multiset<std::string> rules_of(const std::string& out) {
  std::multiset<std::string> r;
  simdjson::dom::parser p;
  for (const std::string& l : lines_of(out)) {
    simdjson::dom::element e;
    if (p.parse(l).get(e) != simdjson::SUCCESS) continue;
    std::string_view rule;
    if (e["rule"].get(rule) == simdjson::SUCCESS) r.insert(std::string(rule));
  }
  return r;
}

void spit(const std::string& path, const std::string& s) {
  std::ofstream o(path, std::ios::binary);
  o << s;
}

// demo.jsonl: three VMs, four errors of four rules (its "# expect:" lines).
const std::string kDemo = "tests/traces/demo.jsonl";
const std::string kDemoVmX1 = "0xffff8f0c4a3e6000";  // VM of the extobj-add-unlocked

}  // namespace

// ---------------------------------------------------------------------------------
// Filters

TEST(Filter, RuleSelectsFindingsSummaryAndExitStatus) {
  Proc all = run("lint -f json " + spec("demo.jsonl"));
  ASSERT_EQ(all.status, 1) << all.err;
  ASSERT_EQ(rules_of(all.out).size(), 4u) << all.out;

  Proc one = run("lint -f json --rule double-put " + spec("demo.jsonl"));
  EXPECT_EQ(one.status, 1) << one.err;
  EXPECT_EQ(rules_of(one.out), (std::multiset<std::string>{"double-put"})) << one.out;
  simdjson::dom::parser p;
  auto s = summary_of(p, one.out);
  EXPECT_EQ(uint64_t(s["errors"]), 1u);
  EXPECT_EQ(uint64_t(s["hidden"]), 3u);
  // Everything was still read and modelled.
  EXPECT_EQ(uint64_t(s["events"]), uint64_t(summary_of(p, all.out)["events"]));

  Proc two = run("lint -f json --rule double-put --rule link-unlocked " + spec("demo.jsonl"));
  EXPECT_EQ(rules_of(two.out), (std::multiset<std::string>{"double-put", "link-unlocked"})) << two.out;

  // A rule with no finding in the trace: clean exit, the others counted as hidden.
  Proc none = run("lint --rule use-after-free " + spec("demo.jsonl"));
  EXPECT_EQ(none.status, 0) << none.out;
  EXPECT_FALSE(has(none.out, "error:")) << none.out;
  EXPECT_TRUE(has(none.out, "4 findings hidden by the filters")) << none.out;

  // Without a filter the summary has no "hidden" key (the findings stream is unchanged).
  EXPECT_FALSE(has(all.out, "\"hidden\"")) << all.out;
}

TEST(Filter, UnknownRuleIsAUsageErrorNamingTheList) {
  for (const std::string sub : {"lint", "replay"}) {
    Proc r = run(sub + " --rule no-such-rule " + spec("demo.jsonl"));
    EXPECT_EQ(r.status, 2) << sub;
    EXPECT_EQ(r.err, "gpuvm-trace: --rule: 'no-such-rule' is not a rule ID; 'gpuvm-trace rules' lists them\n") << sub;
    EXPECT_EQ(r.out, "") << sub;
  }
  Proc vm = run("lint --vm nothex " + spec("demo.jsonl"));
  EXPECT_EQ(vm.status, 2);
  EXPECT_EQ(vm.err, "gpuvm-trace: --vm: 'nothex' is not an address; give 0xHEX\n");
}

TEST(Filter, VmSelectsTheFindingsOfOneVm) {
  Proc r = run("lint -f json --vm " + kDemoVmX1 + " " + spec("demo.jsonl"));
  EXPECT_EQ(r.status, 1) << r.err;
  std::multiset<std::string> rules = rules_of(r.out);
  ASSERT_FALSE(rules.empty()) << r.out;
  simdjson::dom::parser p;
  for (const std::string& l : lines_of(r.out)) {
    simdjson::dom::element e;
    ASSERT_EQ(p.parse(l).get(e), simdjson::SUCCESS);
    if (std::string_view(e["type"]) == "summary") continue;
    EXPECT_EQ(std::string_view(e["vm"]), kDemoVmX1) << l;
  }
  auto s = summary_of(p, r.out);
  EXPECT_EQ(uint64_t(s["hidden"]) + rules.size(), 4u) << r.out;
  EXPECT_GT(uint64_t(s["hidden"]), 0u) << r.out;
}

// The use-after-free is made by task 188 on a vm_bo task 2841 destroyed: selecting
// task 188 must still show it, which needs task 2841's events in the model. A filter
// that dropped the other task's events would see no destruction and report nothing.
TEST(Filter, TidNeverHidesEvidenceFromTheModel) {
  const std::string t = spec("use-after-free.trigger.jsonl");
  Proc user = run("lint -f json --tid 188 " + t);
  EXPECT_EQ(user.status, 1) << user.err;
  EXPECT_EQ(rules_of(user.out), (std::multiset<std::string>{"use-after-free"})) << user.out;
  // The KASAN-style evidence names the other task as the one that destroyed it.
  EXPECT_TRUE(has(user.out, "\"tid\":2841")) << user.out;

  Proc freer = run("lint -f json -t 2841 " + t);
  EXPECT_EQ(freer.status, 0) << freer.out;
  EXPECT_TRUE(rules_of(freer.out).empty()) << freer.out;
  simdjson::dom::parser p;
  EXPECT_EQ(uint64_t(summary_of(p, freer.out)["hidden"]), 1u);

  // Repeatable: either task selects it.
  Proc both = run("lint -f json -t 2841 -t 188 " + t);
  EXPECT_EQ(rules_of(both.out).size(), 1u) << both.out;
}

// replay --rule: the lifecycles with such a finding, each with its whole history.
TEST(Filter, ReplayRuleShowsOnlyTheLifecyclesWithThatFinding) {
  Proc all = run("replay " + spec("demo.jsonl"));
  Proc r = run("replay --rule double-put " + spec("demo.jsonl"));
  EXPECT_EQ(r.status, 1) << r.err;
  auto blocks = [](const std::string& out) {
    size_t n = 0;
    for (const std::string& l : lines_of(out)) n += l.rfind("vm_bo 0x", 0) == 0;
    return n;
  };
  EXPECT_EQ(blocks(r.out), 1u) << r.out;
  EXPECT_GT(blocks(all.out), 1u) << all.out;
  EXPECT_TRUE(has(r.out, "error: double-put")) << r.out;
  EXPECT_FALSE(has(r.out, "error: extobj-add-unlocked")) << r.out;
  // The whole history: its creation is in the block.
  EXPECT_TRUE(has(r.out, "drm_gpuvm_bo_create")) << r.out;
  EXPECT_TRUE(has(r.out, "3 findings hidden by the filters")) << r.out;

  // --vm: the summary counts what is shown.
  Proc vm = run("replay -f json --vm " + kDemoVmX1 + " " + spec("demo.jsonl"));
  simdjson::dom::parser p;
  auto s = summary_of(p, vm.out);
  EXPECT_GT(uint64_t(s["hidden"]), 0u) << vm.out;
  EXPECT_LT(uint64_t(s["errors"]), 4u) << vm.out;
}

// record --tid/--vm keeps every event and writes the filter into the header; lint and
// replay of such a file report only those findings unless told otherwise. The header
// here is written the way `record` writes it (decode/header_filter.h, unit-tested in
// tests/decode); the guest tests record for real.
TEST(Filter, RecordedFilterAppliesUnlessOverridden) {
  std::string text = slurp(spec("use-after-free.trigger.jsonl"));
  size_t h = text.find("{\"type\":\"header\"");
  ASSERT_NE(h, std::string::npos);
  size_t end = text.find('\n', h);
  ASSERT_EQ(text[end - 1], '}');
  const std::string marked = tmp("marked.jsonl");
  spit(marked, text.substr(0, end - 1) + ",\"filter\":{\"tid\":[2841]}}" + text.substr(end));

  Proc r = run("lint " + marked);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(has(r.out, "use-after-free")) << r.out;
  EXPECT_TRUE(has(r.out, "1 finding hidden by the filters")) << r.out;
  EXPECT_TRUE(has(r.err, "recorded with --tid 2841")) << r.err;

  Proc all = run("lint --no-recorded-filter " + marked);
  EXPECT_EQ(all.status, 1);
  EXPECT_TRUE(has(all.out, "error: use-after-free")) << all.out;
  EXPECT_EQ(all.err, "");

  // A filter on the command line replaces the recorded one.
  Proc cmd = run("lint --tid 188 " + marked);
  EXPECT_EQ(cmd.status, 1);
  EXPECT_EQ(cmd.err, "");

  // Through .gvt too (the header is carried verbatim).
  const std::string gvt = tmp("marked.gvt");
  ASSERT_EQ(run("convert " + marked + " -o " + gvt).status, 0);
  Proc g = run("replay " + gvt);
  EXPECT_EQ(g.status, 0) << g.out;
  EXPECT_TRUE(has(g.err, "recorded with --tid 2841")) << g.err;
}

TEST(Filter, LiveAndRecordOptions) {
  // A -DGVT_LIVE=OFF build (the sanitizer and fuzz builds) has no live/record options.
  if (!GVT_CLI_HAVE_LIVE) GTEST_SKIP() << "live and record are not built (GVT_LIVE=OFF)";
  for (const std::string sub : {"live", "record"}) {
    Proc h = run(sub + " --help");
    EXPECT_EQ(h.status, 0);
    EXPECT_TRUE(has(h.out, "-t,--tid")) << h.out;
    EXPECT_TRUE(has(h.out, "--vm")) << h.out;
    Proc bad = run(sub + " --vm nothex --dry-run");
    EXPECT_EQ(bad.status, 2) << sub << bad.err;
    EXPECT_EQ(bad.err, "gpuvm-trace: --vm: 'nothex' is not an address; give 0xHEX\n");
    Proc tid = run(sub + " --tid abc --dry-run");
    EXPECT_EQ(tid.status, 2) << sub << tid.err;
  }
  EXPECT_TRUE(has(run("record --help").out, "every event is still recorded"));
  EXPECT_TRUE(has(run("live --help").out, "--stats"));
}

// ---------------------------------------------------------------------------------
// --stats

namespace {

// Events per "fn" and phase, counted straight from the JSONL file.
std::map<std::string, std::pair<uint64_t, uint64_t>> count_events(const std::string& path) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> n;
  simdjson::dom::parser p;
  for (const std::string& l : lines_of(slurp(path))) {
    if (l.empty() || l[0] == '#') continue;
    simdjson::dom::element e;
    if (p.parse(l).get(e) != simdjson::SUCCESS || std::string_view(e["type"]) != "event") continue;
    auto& c = n[std::string(std::string_view(e["fn"]))];
    (std::string_view(e["phase"]) == "entry" ? c.first : c.second)++;
  }
  return n;
}

}  // namespace

TEST(Stats, JsonCountsMatchTheTraceAndTheFindings) {
  const std::string t = spec("demo.jsonl");
  Proc r = run("lint -f json --stats " + t);
  EXPECT_EQ(r.status, 1) << r.err;
  simdjson::dom::parser p;
  auto s = summary_of(p, r.out);
  simdjson::dom::object st;
  ASSERT_EQ(s["stats"].get_object().get(st), simdjson::SUCCESS) << r.out;

  // Per-function counts: exactly the file's.
  auto want = count_events(t);
  std::map<std::string, std::pair<uint64_t, uint64_t>> got;
  uint64_t total = 0;
  for (auto [fn, c] : simdjson::dom::object(st["functions"])) {
    got[std::string(fn)] = {uint64_t(c["entry"]), uint64_t(c["exit"])};
    total += uint64_t(c["entry"]) + uint64_t(c["exit"]);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(total, uint64_t(s["events"]));

  // Per-rule counts: the findings printed above.
  std::multiset<std::string> printed = rules_of(r.out);
  std::multiset<std::string> counted;
  for (auto [rule, c] : simdjson::dom::object(st["rules"])) {
    uint64_t n = uint64_t(c["error"]) + uint64_t(c["warning"]) + uint64_t(c["unknown"]) + uint64_t(c["info"]);
    for (uint64_t i = 0; i < n; ++i) counted.insert(std::string(rule));
  }
  EXPECT_EQ(counted, printed);

  // vm_bos per VM add up to the summary's vm_bos; the demo has three VMs.
  uint64_t vm_bos = 0;
  std::set<std::string> vms;
  for (simdjson::dom::element v : simdjson::dom::array(st["vms"])) {
    vm_bos += uint64_t(v["vm_bos"]);
    vms.insert(std::string(std::string_view(v["vm"])));
  }
  EXPECT_EQ(vm_bos, uint64_t(s["vm_bos"]));
  EXPECT_TRUE(vms.count(kDemoVmX1)) << r.out;

  // Longest lifetimes: longest first, duration = end - creation, ts from the trace.
  simdjson::dom::array longest = st["longest"];
  ASSERT_GT(longest.size(), 0u);
  uint64_t prev = UINT64_MAX;
  std::string text = slurp(t);
  for (simdjson::dom::element l : longest) {
    uint64_t d = l["duration_ns"], c = l["created_ts"], e = l["end_ts"];
    EXPECT_EQ(d, e - c);
    EXPECT_LE(d, prev);
    prev = d;
    EXPECT_TRUE(has(text, "\"ts\":" + std::to_string(c) + ",")) << c;
    EXPECT_TRUE(has(text, "\"ts\":" + std::to_string(e) + ",")) << e;
    EXPECT_TRUE(has(text, std::string(std::string_view(l["vm_bo"])))) << r.out;
  }

  // Without --stats: no "stats" key.
  EXPECT_FALSE(has(run("lint -f json " + t).out, "\"stats\""));
}

TEST(Stats, TextBlocksAfterTheSummary) {
  Proc r = run("lint --stats " + spec("use-after-free.trigger.jsonl"));
  EXPECT_EQ(r.status, 1) << r.err;
  size_t sum = r.out.find("summary: ");
  ASSERT_NE(sum, std::string::npos) << r.out;
  for (const char* head : {"stats: events per function", "stats: findings per rule", "stats: vm_bos per VM",
                           "stats: longest vm_bo lifetimes"})
    EXPECT_GT(r.out.find(head), sum) << head << "\n" << r.out;
  // 20 events: the ww_mutex_lock entries and exits of both tasks.
  EXPECT_TRUE(has(r.out, "ww_mutex_lock ")) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(use-after-free +1 error)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(vm=0xffff8f0c4a3e2000 +1 vm_bo\n)"))) << r.out;
  // Created at ts 418233919142 (create exit), destroyed at the put exit 418233931950.
  EXPECT_TRUE(has(r.out, "0xffff8f0c43d1e120#1 vm=0xffff8f0c4a3e2000 0.000012808s  created ts=418233919142 "
                         "tid=2841, destroyed ts=418233931950 tid=2841"))
      << r.out;

  Proc live = run("replay --stats " + spec("use-after-free.trigger.jsonl"));
  EXPECT_TRUE(has(live.out, "stats: longest vm_bo lifetimes")) << live.out;
}

// ---------------------------------------------------------------------------------
// Progress line

namespace {

// A trace big enough to be read for a while (a few hundred ms), made once per test.
std::string big_trace(const std::string& ext) {
  std::string f = tmp("big." + ext);
  std::string cmd = std::string("'") + GVT_GEN + "' --events 120000 -o '" + f + "' 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return f;
}


bool has_script() { return std::system("command -v script >/dev/null 2>&1") == 0; }

}  // namespace

TEST(Progress, NothingWhenStderrIsNotATerminal) {
  std::string f = big_trace("gvt");
  // Even with the shortest redraw interval: the terminal test is what keeps it quiet.
  Proc r = run("lint " + f, "GVT_PROGRESS_MS=0");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  Proc c = run("convert " + f + " -o " + tmp("out.jsonl"), "GVT_PROGRESS_MS=0");
  EXPECT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.err, "");
}

TEST(Progress, DrawnInPlaceOnATerminalAndCleared) {
  if (!has_script()) GTEST_SKIP() << "script(1) missing";
  std::string f = big_trace("gvt");
  std::string out = on_tty("lint " + f);
  // Bytes of the total with a percentage, events, rates and an ETA, drawn with '\r'.
  std::regex line(R"(\rlint [^\r\n]*big\.gvt: [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B \([0-9]+%\), [0-9.]+ [kM]? ?events, )"
                  R"([0-9.]+ [KMG]?i?B/s, [0-9.]+ [kM]? ?events/s)");
  EXPECT_TRUE(std::regex_search(out, line)) << out;
  EXPECT_TRUE(has(out, ", ETA ")) << out;
  // Cleared before the summary: the summary starts a fresh line after blanks and '\r'.
  size_t sum = out.find("summary: ");
  ASSERT_NE(sum, std::string::npos) << out;
  EXPECT_EQ(out[sum - 1], '\r') << out;
  EXPECT_EQ(out.find(" events/s", sum), std::string::npos) << out;

  EXPECT_FALSE(has(on_tty("lint --no-progress " + f), "events/s"));
  EXPECT_TRUE(has(on_tty("replay -f json " + f), "\rreplay "));
  EXPECT_TRUE(has(on_tty("convert " + f + " -o " + tmp("out.jsonl")), "\rconvert "));
  // The default interval draws nothing for a run this short (no flicker).
  EXPECT_FALSE(has(on_tty("lint " + data("error.jsonl"), "NO_COLOR=1 GVT_PROGRESS_MS="), "events/s"));
}

TEST(Progress, ForcedOntoAPipeWritesLines) {
  std::string f = big_trace("jsonl");
  Proc r = run("lint --progress " + f, "GVT_PROGRESS_MS=1");
  EXPECT_EQ(r.status, 0);
  auto ls = lines_of(r.err);
  ASSERT_FALSE(ls.empty()) << r.err;
  for (const std::string& l : ls) {
    EXPECT_EQ(l.rfind("lint ", 0), 0u) << l;
    EXPECT_TRUE(has(l, " events/s")) << l;
    EXPECT_FALSE(has(l, "\r")) << l;
  }
  Proc both = run("lint --progress --no-progress " + f);
  EXPECT_EQ(both.status, 2) << both.err;
}
