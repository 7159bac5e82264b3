// SPDX-License-Identifier: GPL-2.0-only
// Compares the findings of a trace and of its redacted form (shared by the CLI tests
// and the VM tests): line for line equal once every address ("0x...") is replaced by
// its counterpart, and that correspondence is one to one (a keyed hash keeps identity).
// With `ignore_lines`, trace line numbers may differ too (convert drops comment lines).
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace gvt::test {

inline std::string same_findings_modulo_addresses(const std::string& plain, const std::string& redacted,
                                                  bool ignore_lines) {
  static const std::regex addr("0x[0-9a-f]+");
  static const std::regex line_key("\"line\":[0-9]+|line [0-9]+");
  // End-of-trace findings come in hash-table order, which depends on the addresses:
  // compare lines as a multiset, and check the address correspondence on the lines
  // that pair up unambiguously.
  auto by_shape = [&](const std::string& text) {
    std::map<std::string, std::vector<std::string>> m;
    size_t i = 0;
    while (i < text.size()) {
      size_t j = text.find('\n', i);
      if (j == std::string::npos) j = text.size();
      std::string l = text.substr(i, j - i);
      if (ignore_lines) l = std::regex_replace(l, line_key, "LINE");
      m[std::regex_replace(l, addr, "ADDR")].push_back(l);
      i = j + 1;
    }
    return m;
  };
  auto a = by_shape(plain), b = by_shape(redacted);
  std::map<std::string, std::string> fwd, back;
  for (const auto& [shape, la] : a) {
    auto it = b.find(shape);
    if (it == b.end() || it->second.size() != la.size()) return "the findings differ beyond their addresses: " + shape;
    if (la.size() != 1) continue;
    const std::string &x = la[0], &y = it->second[0];
    auto ia = std::sregex_iterator(x.begin(), x.end(), addr), ib = std::sregex_iterator(y.begin(), y.end(), addr);
    for (; ia != std::sregex_iterator() && ib != std::sregex_iterator(); ++ia, ++ib) {
      std::string p = ia->str(), q = ib->str();
      // Symbol offsets ("+0x115") are kept as they are, NULL stays NULL.
      if ((ia->position() > 0 && x[ia->position() - 1] == '+') || p == "0x0") {
        if (p != q) return "offset or NULL " + p + " changed to " + q;
        continue;
      }
      if (p == q) return "address " + p + " was not redacted";
      auto [f, fn] = fwd.emplace(p, q);
      auto [r, rn] = back.emplace(q, p);
      if (f->second != q || r->second != p) return "address " + p + " is not mapped one to one";
    }
  }
  if (a.size() != b.size()) return "the redacted trace has findings the plain one lacks";
  return "";
}

}  // namespace gvt::test
