// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/kallsyms.h"
#include "bpf/read_file.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

namespace gvt::bpf {

namespace {

std::string_view next_field(std::string_view& line) {
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(b);
  size_t e = line.find_first_of(" \t");
  std::string_view f = line.substr(0, e);
  line.remove_prefix(e == std::string_view::npos ? line.size() : e);
  return f;
}

bool is_text(char t) { return t == 't' || t == 'T' || t == 'w' || t == 'W'; }

}  // namespace

void Kallsyms::parse(std::string_view text) {
  syms_.clear();
  names_.clear();
  modules_.assign(1, "");
  std::unordered_map<std::string, uint16_t> mod_index;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);

    std::string_view a = next_field(line), t = next_field(line), n = next_field(line);
    std::string_view m = next_field(line);
    if (a.empty() || t.size() != 1 || n.empty() || !is_text(t[0])) continue;
    uint64_t addr = 0;
    auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), addr, 16);
    if (ec != std::errc() || p != a.data() + a.size() || addr == 0) continue;
    uint16_t mod = 0;
    if (m.size() > 2 && m.front() == '[' && m.back() == ']') {
      std::string name(m.substr(1, m.size() - 2));
      auto it = mod_index.find(name);
      if (it == mod_index.end()) {
        if (modules_.size() >= UINT16_MAX) continue;
        it = mod_index.emplace(name, static_cast<uint16_t>(modules_.size())).first;
        modules_.push_back(name);
      }
      mod = it->second;
    }
    if (n.size() > UINT16_MAX) continue;
    syms_.push_back({addr, static_cast<uint32_t>(names_.size()), static_cast<uint16_t>(n.size()), mod});
    names_.append(n);
  }
  std::stable_sort(syms_.begin(), syms_.end(),
                   [](const Sym& x, const Sym& y) { return x.addr < y.addr; });
}

bool Kallsyms::load(const std::string& path, std::string* err) {
  std::string text;
  if (!read_file(path, text)) {
    if (err) *err = "cannot read " + path;
    return false;
  }
  parse(text);
  return true;
}

std::optional<SymbolHit> Kallsyms::lookup(uint64_t addr) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                             [](uint64_t a, const Sym& s) { return a < s.addr; });
  if (it == syms_.begin()) return std::nullopt;
  const Sym& s = *std::prev(it);
  if (addr - s.addr > kMaxOffset) return std::nullopt;
  return SymbolHit{std::string_view(names_).substr(s.name_off, s.name_len), addr - s.addr,
                   modules_[s.module]};
}

std::string module_layout(std::string_view text) {
  // "NAME SIZE USES DEPS STATE ADDR [TAINT]": keep fields 0, 1, 4 and 5.
  std::string out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    int field = 0;
    bool any = false;
    while (!line.empty()) {
      size_t b = line.find_first_not_of(' ');
      if (b == std::string_view::npos) break;
      line.remove_prefix(b);
      size_t e = line.find(' ');
      std::string_view word = line.substr(0, e);
      line = e == std::string_view::npos ? std::string_view{} : line.substr(e);
      if (field == 0 || field == 1 || field == 4 || field == 5) {
        if (any) out += ' ';
        out += word;
        any = true;
      }
      ++field;
    }
    if (any) out += '\n';
  }
  return out;
}

}  // namespace gvt::bpf
