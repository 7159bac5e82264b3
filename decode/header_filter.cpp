// SPDX-License-Identifier: GPL-2.0-only
#include "decode/header_filter.h"

#include <charconv>
#include <limits>

#include <simdjson.h>

#include "decode/json_text.h"

namespace gvt {

Header with_header_filter(const Header& h, const HeaderFilter& f) {
  Header out = h;
  if (f.empty()) return out;
  std::string text;
  json::append_header(text, h);
  if (text.empty() || text.back() != '}') return out;
  text.pop_back();
  text += ",\"filter\":{";
  bool first = true;
  if (!f.tids.empty()) {
    text += "\"tid\":[";
    for (size_t i = 0; i < f.tids.size(); ++i) {
      if (i) text += ',';
      json::append_i64(text, f.tids[i]);
    }
    text += ']';
    first = false;
  }
  if (f.vm) {
    if (!first) text += ',';
    text += "\"vm\":";
    json::append_addr(text, *f.vm);
  }
  text += "}}";
  out.raw_json = std::move(text);
  return out;
}

std::optional<HeaderFilter> header_filter(const Header& h) {
  if (h.raw_json.find("\"filter\"") == std::string::npos) return std::nullopt;  // the usual case: no parse
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(h.raw_json).get(root) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::object filter;
  if (root["filter"].get_object().get(filter) != simdjson::SUCCESS) return std::nullopt;
  HeaderFilter f;
  simdjson::dom::array tids;
  if (filter["tid"].get_array().get(tids) == simdjson::SUCCESS) {
    for (simdjson::dom::element t : tids) {
      int64_t v = 0;
      if (t.get_int64().get(v) != simdjson::SUCCESS || v <= 0 || v > std::numeric_limits<int32_t>::max())
        return std::nullopt;
      f.tids.push_back(static_cast<int32_t>(v));
    }
  }
  std::string_view vm;
  if (filter["vm"].get_string().get(vm) == simdjson::SUCCESS) {
    if (vm.size() < 3 || vm.substr(0, 2) != "0x") return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(vm.data() + 2, vm.data() + vm.size(), v, 16);
    if (ec != std::errc{} || p != vm.data() + vm.size()) return std::nullopt;
    f.vm = v;
  }
  if (f.empty()) return std::nullopt;
  return f;
}

std::string header_filter_text(const HeaderFilter& f) {
  std::string s;
  for (int32_t t : f.tids) s += (s.empty() ? "" : " ") + std::string("--tid ") + std::to_string(t);
  if (f.vm) {
    std::string a;
    json::append_addr(a, *f.vm);
    s += (s.empty() ? "" : " ") + std::string("--vm ") + a.substr(1, a.size() - 2);
  }
  return s;
}

}  // namespace gvt
