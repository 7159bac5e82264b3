// SPDX-License-Identifier: GPL-2.0-only
// `gpuvm-trace rules` and `gpuvm-trace explain RULE`: the rules catalogue
// (decode/model/rule_catalog.h) as a table, as JSON, or one rule in full.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/format.h"
#include "decode/json_text.h"
#include "decode/model/rule_catalog.h"

namespace gvt::cli {
namespace {

using model::RuleInfo;

// Greedy word wrap for the terminal; the catalogue texts are single paragraphs.
std::string wrap(std::string_view text, std::string_view indent, size_t width = 78) {
  std::string out, line;
  auto flush = [&] {
    if (!line.empty()) out += fmt::format("{}{}\n", indent, line);
    line.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view word = text.substr(i, j - i);
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) flush();
    if (!line.empty()) line += ' ';
    line += word;
    i = j + 1;
  }
  flush();
  return out;
}

std::string rule_json(const RuleInfo& r) {
  std::string o = "{\"rule\":";
  json::append_string(o, r.id);
  auto kv = [&o](std::string_view k, std::string_view v) {
    fmt::format_to(std::back_inserter(o), ",\"{}\":", k);
    json::append_string(o, v);
  };
  kv("severity", r.severity);
  kv("title", r.title);
  kv("requires", r.requires_);
  kv("means", r.means);
  kv("fix", r.fix);
  kv("functions", r.functions);
  kv("evidence", r.evidence);
  o += '}';
  return o;
}

std::string rule_text(const RuleInfo& r, const Style& st) {
  std::string o = fmt::format("{}{}{} ({})\n", st.bold(), r.id, st.reset(), r.severity);
  o += wrap(r.title, "  ");
  auto section = [&](std::string_view head, std::string_view body) {
    o += fmt::format("\n{}{}{}\n", st.bold(), head, st.reset());
    o += wrap(body, "  ");
  };
  section("What the kernel requires, and why", r.requires_);
  section("What the finding means", r.means);
  section("Usual fix in a driver", r.fix);
  section("Kernel functions involved", r.functions);
  section("Evidence the check needs (otherwise it answers \"unknown\")", r.evidence);
  return o;
}

// The README's rules table is this output (a unit test keeps the two equal).
std::string rules_markdown() {
  std::string o = "| rule | severity | what it finds |\n|---|---|---|\n";
  for (const RuleInfo& r : model::rule_catalog())
    o += fmt::format("| `{}` | {} | {} |\n", r.id, r.severity, r.title);
  return o;
}

int run_rules(std::string_view format) {
  const bool json = format == "json";
  if (format == "markdown") {
    fmt::print("{}", rules_markdown());
    return kExitClean;
  }
  Style st{want_color(json)};
  for (const RuleInfo& r : model::rule_catalog()) {
    if (json) {
      fmt::print("{}\n", rule_json(r));
    } else {
      fmt::print("{}{:<28}{} {:<8} {}\n", st.bold(), r.id, st.reset(),
                 r.severity.substr(0, r.severity.find_first_of(" ;")), r.title);
    }
  }
  if (!json) fmt::print("\nRun '{} RULE' for the details of one rule.\n", model::kExplainCommand);
  return kExitClean;
}

int run_explain(const std::string& rule, bool json) {
  const RuleInfo* r = model::find_rule(rule);
  if (!r) {
    print_error(fmt::format("explain: '{}' is not a rule ID; 'gpuvm-trace rules' lists them", rule));
    return kExitUsage;
  }
  std::string s = json ? rule_json(*r) + '\n' : rule_text(*r, Style{want_color(false)});
  std::fwrite(s.data(), 1, s.size(), stdout);
  return kExitClean;
}

}  // namespace

void add_rules_commands(CLI::App& app, int& exit_status) {
  auto format = std::make_shared<std::string>("text");
  CLI::App* rules = app.add_subcommand("rules", "List every rule ID with its severity and a one-line summary");
  rules->add_option("-f,--format", *format,
                    "Output: text (a table), json (one object per rule) or markdown (README table)")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  rules->callback([format, &exit_status] { exit_status = run_rules(*format); });

  auto rule = std::make_shared<std::string>();
  auto efmt = std::make_shared<std::string>("text");
  CLI::App* explain = app.add_subcommand(
      "explain", "Explain one rule: what the kernel requires, what a finding means, the usual fix");
  explain->add_option("RULE", *rule, "A rule ID as printed in findings (see 'gpuvm-trace rules')")
      ->required();
  explain->add_option("-f,--format", *efmt, "Output: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  explain->footer(
      "EXAMPLES:\n"
      "    gpuvm-trace explain double-put\n"
      "    gpuvm-trace explain -f json extobj-add-unlocked");
  explain->callback([rule, efmt, &exit_status] { exit_status = run_explain(*rule, *efmt == "json"); });
}

}  // namespace gvt::cli
