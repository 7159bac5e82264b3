// SPDX-License-Identifier: GPL-2.0-only
// Interned strings with stable storage: the string_views in gvt::Event point here and
// stay valid for the store's lifetime. Memory grows only with distinct strings.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace gvt {

class StringStore {
 public:
  StringStore() = default;
  StringStore(const StringStore&) = delete;
  StringStore& operator=(const StringStore&) = delete;

  // Returns a view of the stored copy of s (one copy per distinct content).
  std::string_view intern(std::string_view s);
  size_t size() const { return set_.size(); }

 private:
  std::string_view copy(std::string_view s);

  static constexpr size_t kBlock = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0;
  size_t cap_ = 0;
  std::unordered_set<std::string_view> set_;
  // Traces repeat a few strings (comm, VM names) on nearby events: a small cache of
  // recent results, indexed by length and last byte, skips most hash lookups.
  std::array<std::string_view, 16> recent_{};
};

}  // namespace gvt
