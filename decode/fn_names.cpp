// SPDX-License-Identifier: GPL-2.0-only
// Kernel function names of trace-format.md <-> gvt::Fn (decode/fn_table.h).
#include <array>
#include <string_view>

#include "decode/event.h"

namespace gvt {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Fn::count_)> kNames = [] {
  std::array<std::string_view, static_cast<size_t>(Fn::count_)> n{};  // [0]: unknown = ""
  for (const FnInfo& f : kFunctions) n[static_cast<size_t>(f.fn)] = f.symbol;
  return n;
}();

// Every name is unique: checked at compile time so a typo in the table cannot make
// two functions share a name.
constexpr bool names_unique() {
  for (size_t i = 1; i < kNames.size(); ++i) {
    if (kNames[i].empty()) return false;
    for (size_t j = i + 1; j < kNames.size(); ++j)
      if (kNames[i] == kNames[j]) return false;
  }
  return true;
}
static_assert(names_unique(), "decode/fn_table.h: every function needs its own non-empty symbol");

}  // namespace

std::string_view fn_name(Fn f) {
  auto i = static_cast<size_t>(f);
  return i < kNames.size() ? kNames[i] : std::string_view{};
}

Fn fn_from_name(std::string_view name) {
  // 35 names, looked up once per JSONL event: the length filter rejects most
  // candidates before a byte is compared, which is cheaper than hashing the name.
  for (size_t i = 1; i < kNames.size(); ++i)
    if (kNames[i].size() == name.size() && kNames[i] == name) return static_cast<Fn>(i);
  return Fn::unknown;
}

}  // namespace gvt
