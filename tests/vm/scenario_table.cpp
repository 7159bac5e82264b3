// SPDX-License-Identifier: GPL-2.0-only
#include "scenario_table.h"

#include <simdjson.h>

#include <charconv>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>

namespace gvt::vmtest {

namespace {

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

std::vector<Scenario> load_scenario_table(const std::filesystem::path& p, const std::string& series,
                                          std::string& err) {
  std::vector<Scenario> out;
  std::ifstream in(p);
  if (!in) {
    err = "cannot read " + p.string() + " (written by the exerciser developer in tests/vm/exerciser/)";
    return out;
  }
  static const std::set<std::string> kinds{"violation", "unknown", "info"};
  static const std::set<std::string> sevs{"error", "warning", "info"};
  std::set<std::string> seen;
  // Column of this kernel's findings (1 = the only one, when the table has no header).
  size_t col = 1;
  bool header_seen = false;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    auto cells = split(line, '\t');
    for (auto& c : cells) {
      while (!c.empty() && c.back() == ' ') c.pop_back();
      while (!c.empty() && c.front() == ' ') c.erase(0, 1);
    }
    const std::string where = p.string() + ":" + std::to_string(no) + ": ";
    Scenario s;
    s.name = cells[0];
    if (s.name == "scenario") {
      header_seen = true;
      col = 0;
      for (size_t i = 1; i < cells.size(); ++i) {
        if (cells[i] == series) col = i;
      }
      // A header with only a findings column (old layout) holds for every kernel.
      if (col == 0 && cells.size() == 2 && (cells[1] == "findings" || cells[1].empty())) col = 1;
      if (col == 0) {
        err = where + "no column for kernel series '" + series + "' in the header";
        return out;
      }
      continue;
    }
    if (s.name == "midflight-setup" || s.name == "midflight-finish") continue;
    if (!seen.insert(s.name).second) {
      err = where + "scenario '" + s.name + "' listed twice";
      return out;
    }
    const std::string rest = col < cells.size() ? cells[col] : "";
    if (header_seen && col >= cells.size()) {
      err = where + "scenario '" + s.name + "' has no cell for kernel series '" + series + "' (want findings, - or n/a)";
      return out;
    }
    if (rest == "n/a") continue;  // not run on this kernel
    for (const auto& tok : split_ws(rest)) {
      if (tok == "-") continue;
      const auto f = split(tok, ':');
      int count = 0;
      const bool num_ok = f.size() == 4 &&
          std::from_chars(f[3].data(), f[3].data() + f[3].size(), count).ec == std::errc{} && count >= 0;
      if (!num_ok || f[0].empty() || !kinds.count(f[1]) || !sevs.count(f[2])) {
        err = where + "bad finding '" + tok + "' (want rule:violation|unknown|info:error|warning|info:count)";
        return out;
      }
      if (count > 0) s.expected[f[0] + ":" + f[1] + ":" + f[2]] += count;
    }
    out.push_back(std::move(s));
  }
  return out;
}

FindingsStream read_findings(const std::filesystem::path& p) {
  FindingsStream r;
  std::ifstream in(p);
  if (!in) {
    r.error = "cannot read " + p.string() + " (the step never ran or wrote nothing)";
    return r;
  }
  simdjson::ondemand::parser parser;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = p.string() + ":" + std::to_string(no) + ": ";
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    std::string_view type;
    if (parser.iterate(padded).get(doc) || doc["type"].get_string().get(type)) {
      r.error = where + "not a findings-stream JSON object: " + line.substr(0, 200);
      return r;
    }
    const std::string t(type);
    if (t == "summary") {
      r.has_summary = true;
      uint64_t lost = 0;
      if (!doc["lost"].get_uint64().get(lost)) r.lost = lost;
      continue;
    }
    if (t != "violation" && t != "unknown" && t != "info") continue;
    std::string_view rule = "?", sev = "?";
    // Fields are looked up in document order with find_field_unordered, so read each once.
    if (doc.find_field_unordered("rule").get_string().get(rule)) rule = "?";
    std::string rule_s(rule);
    if (doc.find_field_unordered("severity").get_string().get(sev)) sev = "?";
    std::string key = rule_s + ":" + t + ":" + std::string(sev);
    FindingEntry e{key, 0, false, line};
    uint64_t ts = 0;
    if (!doc.find_field_unordered("ts").get_uint64().get(ts)) {
      e.ts = ts;
      e.has_ts = true;
    }
    r.counts[key] += 1;
    r.entries.push_back(std::move(e));
  }
  return r;
}

bool read_window(const std::filesystem::path& p, Window& w) {
  std::ifstream in(p);
  return static_cast<bool>(in >> w.begin >> w.end) && w.begin <= w.end;
}

FindingCounts counts_in(const FindingsStream& s, const Window& w) {
  FindingCounts c;
  for (const auto& e : s.entries) {
    if (e.has_ts && w.contains(e.ts)) c[e.key] += 1;
  }
  return c;
}

}  // namespace gvt::vmtest
