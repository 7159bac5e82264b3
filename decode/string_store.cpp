// SPDX-License-Identifier: GPL-2.0-only
#include "decode/string_store.h"

#include <cstring>

namespace gvt {

std::string_view StringStore::copy(std::string_view s) {
  if (s.size() > cap_ - used_) {
    // Large strings get a block of their own so a block never wastes much space.
    size_t n = s.size() > kBlock / 4 ? s.size() : kBlock;
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(n == 0 ? 1 : n));
    if (n != kBlock) {
      char* p = blocks_.back().get();
      std::memcpy(p, s.data(), s.size());
      // Keep filling the previous block: swap the big one behind it.
      if (blocks_.size() >= 2) std::swap(blocks_[blocks_.size() - 1], blocks_[blocks_.size() - 2]);
      return {p, s.size()};
    }
    used_ = 0;
    cap_ = kBlock;
  }
  char* p = blocks_.back().get() + used_;
  std::memcpy(p, s.data(), s.size());
  used_ += s.size();
  return {p, s.size()};
}

std::string_view StringStore::intern(std::string_view s) {
  if (s.empty()) return {};
  std::string_view& hit = recent_[(s.size() + static_cast<unsigned char>(s.back())) & 15];
  if (hit == s) return hit;
  auto it = set_.find(s);
  if (it == set_.end()) it = set_.insert(copy(s)).first;
  hit = *it;
  return hit;
}

}  // namespace gvt
