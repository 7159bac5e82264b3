// SPDX-License-Identifier: GPL-2.0-only
#include "cli/stats.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include <fmt/format.h>

#include "decode/json_text.h"

namespace gvt::cli {
namespace {

constexpr size_t kTextVms = 20;  // VMs listed in text; JSON lists every one

std::string seconds(uint64_t ns) { return fmt::format("{}.{:09}s", ns / 1000000000u, ns % 1000000000u); }

// Functions with events, most events first (ties in table order).
std::vector<size_t> busy_functions(const TraceStats& st) {
  std::vector<size_t> v;
  for (size_t i = 1; i < st.fn_events.size(); ++i)
    if (st.fn_events[i][0] + st.fn_events[i][1]) v.push_back(i);
  std::stable_sort(v.begin(), v.end(), [&st](size_t a, size_t b) {
    return st.fn_events[a][0] + st.fn_events[a][1] > st.fn_events[b][0] + st.fn_events[b][1];
  });
  return v;
}

std::string rule_counts_text(const TraceStats::RuleCounts& c) {
  std::vector<std::string> parts;
  if (c.errors) parts.push_back(fmt::format("{} error{}", c.errors, c.errors == 1 ? "" : "s"));
  if (c.warnings) parts.push_back(fmt::format("{} warning{}", c.warnings, c.warnings == 1 ? "" : "s"));
  if (c.unknown) parts.push_back(fmt::format("{} unknown", c.unknown));
  if (c.infos) parts.push_back(fmt::format("{} info{}", c.infos, c.infos == 1 ? "" : "s"));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

std::string stats_json(const TraceStats& st) {
  std::string o = "{\"functions\":{";
  bool first = true;
  for (size_t i : busy_functions(st)) {
    if (!first) o += ',';
    first = false;
    json::append_string(o, fn_name(static_cast<Fn>(i)));
    fmt::format_to(std::back_inserter(o), ":{{\"entry\":{},\"exit\":{}}}", st.fn_events[i][0], st.fn_events[i][1]);
  }
  o += "},\"rules\":{";
  first = true;
  for (const auto& [rule, c] : st.rules) {
    if (!first) o += ',';
    first = false;
    json::append_string(o, rule);
    fmt::format_to(std::back_inserter(o), ":{{\"error\":{},\"warning\":{},\"unknown\":{},\"info\":{}}}", c.errors,
                   c.warnings, c.unknown, c.infos);
  }
  o += "},\"vms\":[";
  first = true;
  for (const TraceStats::VmCounts& v : st.vms) {
    if (!first) o += ',';
    first = false;
    fmt::format_to(std::back_inserter(o), "{{\"vm\":\"{}\",\"vm_bos\":{},\"live_at_end\":{}}}", hex(v.vm), v.vm_bos,
                   v.live_at_end);
  }
  o += "],\"longest\":[";
  first = true;
  for (const TraceStats::Lifetime& l : st.longest) {
    if (!first) o += ',';
    first = false;
    fmt::format_to(std::back_inserter(o),
                   "{{\"vm_bo\":\"{}\",\"gen\":{},\"vm\":\"{}\",\"obj\":\"{}\",\"duration_ns\":{},"
                   "\"created_ts\":{},\"created_tid\":{},\"adopted\":{},\"end_ts\":{},",
                   hex(l.vm_bo), l.gen, hex(l.vm), hex(l.obj), l.duration(), l.created_ts, l.created_tid,
                   l.adopted, l.end_ts);
    if (l.open)
      o += "\"end\":\"open\"}";
    else
      fmt::format_to(std::back_inserter(o), "\"end\":\"destroyed\",\"destroyed_tid\":{}}}", l.end_tid);
  }
  o += "]}";
  return o;
}

std::string stats_text(const TraceStats& st, const Style& s) {
  std::string o = fmt::format("{}stats: events per function{}\n", s.bold(), s.reset());
  std::vector<size_t> fns = busy_functions(st);
  if (fns.empty()) o += "  (none)\n";
  for (size_t i : fns)
    o += fmt::format("  {:<34} {:>10}  (entry {}, exit {})\n", fn_name(static_cast<Fn>(i)),
                     st.fn_events[i][0] + st.fn_events[i][1], st.fn_events[i][0], st.fn_events[i][1]);

  o += fmt::format("{}stats: findings per rule{}\n", s.bold(), s.reset());
  if (st.rules.empty()) o += "  (none)\n";
  for (const auto& [rule, c] : st.rules) o += fmt::format("  {:<34} {}\n", rule, rule_counts_text(c));

  o += fmt::format("{}stats: vm_bos per VM{}\n", s.bold(), s.reset());
  if (st.vms.empty()) o += "  (none)\n";
  for (size_t i = 0; i < st.vms.size() && i < kTextVms; ++i) {
    const TraceStats::VmCounts& v = st.vms[i];
    o += fmt::format("  vm={:<20} {:>8} vm_bo{}", v.vm ? hex(v.vm) : "unknown", v.vm_bos, v.vm_bos == 1 ? "" : "s");
    if (v.live_at_end) o += fmt::format(" ({} alive at the end)", v.live_at_end);
    o += '\n';
  }
  if (st.vms.size() > kTextVms) o += fmt::format("  ... and {} more VMs (-f json lists all)\n", st.vms.size() - kTextVms);

  o += fmt::format("{}stats: longest vm_bo lifetimes{}\n", s.bold(), s.reset());
  if (st.longest.empty()) o += "  (none)\n";
  for (const TraceStats::Lifetime& l : st.longest) {
    // ">=": the life began before the trace or had not ended when it stopped.
    o += fmt::format("  {}#{} vm={} {}{}  created ts={} tid={}{}", hex(l.vm_bo), l.gen, l.vm ? hex(l.vm) : "?",
                     l.adopted || l.open ? ">=" : "", seconds(l.duration()), l.created_ts, l.created_tid,
                     l.adopted ? " (first seen; created before the trace)" : "");
    if (l.open)
      o += fmt::format(", alive at the end of the trace (ts={})\n", l.end_ts);
    else
      o += fmt::format(", destroyed ts={} tid={}\n", l.end_ts, l.end_tid);
  }
  return o;
}

}  // namespace gvt::cli
