// SPDX-License-Identifier: GPL-2.0-only
#include "tests/traces/expectations.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>

namespace gvt::traces {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    s = trim(s);
    if (s.empty()) return out;
    size_t n = s.find_first_of(" \t");
    out.push_back(s.substr(0, n));
    if (n == std::string_view::npos) return out;
    s.remove_prefix(n);
  }
}

bool parse_at(std::string_view w, uint64_t& line) {
  if (w.size() < 2 || w.front() != '@') return false;
  w.remove_prefix(1);
  if (w == "end") {
    line = kEndLine;
    return true;
  }
  auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), line);
  return ec == std::errc{} && p == w.data() + w.size() && line > 0;
}

// One "expect:" payload; returns an error text or "".
std::string parse_expect(std::string_view body, uint64_t src, ExpectationSet& out) {
  auto w = words(body);
  if (w.size() == 1 && w[0] == "none") {
    out.none = true;
    return "";
  }
  if (w.empty()) return "empty expectation";
  Expected e;
  e.source_line = src;
  size_t at_index = 0;
  if (w[0] == "violation") {
    if (w.size() != 4) return "want: violation <rule> <error|warning> @<line|end>";
    e.kind = FindingKind::violation;
    if (w[2] == "error") e.severity = Severity::error;
    else if (w[2] == "warning") e.severity = Severity::warning;
    else return "violation severity must be error or warning, got '" + std::string(w[2]) + "'";
    at_index = 3;
  } else if (w[0] == "unknown" || w[0] == "info") {
    if (w.size() != 3) return "want: " + std::string(w[0]) + " <rule> @<line|end>";
    e.kind = w[0] == "unknown" ? FindingKind::unknown : FindingKind::info;
    e.severity = Severity::info;
    at_index = 2;
  } else {
    return "kind must be violation, unknown, info or none, got '" + std::string(w[0]) + "'";
  }
  e.rule = std::string(w[1]);
  if (!parse_at(w[at_index], e.line)) return "position must be @<line> or @end, got '" + std::string(w[at_index]) + "'";
  out.expected.push_back(std::move(e));
  return "";
}

}  // namespace

ExpectationSet parse_expectations(const std::string& path) {
  ExpectationSet out;
  std::ifstream in(path);
  if (!in) {
    out.errors.push_back("cannot open " + path);
    return out;
  }
  std::string raw;
  uint64_t lineno = 0;
  while (std::getline(in, raw)) {
    ++lineno;
    std::string_view s = trim(raw);
    if (s.empty() || s.front() != '#') continue;
    s = trim(s.substr(1));
    std::string err;
    if (s.starts_with("expect:")) {
      err = parse_expect(s.substr(7), lineno, out);
    } else if (s.starts_with("options:")) {
      for (auto w : words(s.substr(8))) {
        if (w == "info") out.report_info = true;
        else err = "unknown option '" + std::string(w) + "' (known: info)";
      }
    } else if (s.starts_with("expect") || s.starts_with("option")) {
      err = "looks like an expectation but lacks the ':' (\"# expect: ...\")";
    }
    if (!err.empty()) out.errors.push_back(std::to_string(lineno) + ": " + err);
  }
  if (out.none && !out.expected.empty())
    out.errors.push_back("'expect: none' together with other expectations");
  if (!out.none && out.expected.empty())
    out.errors.push_back("no '# expect:' line: every trace must state its expected findings");
  return out;
}

}  // namespace gvt::traces
