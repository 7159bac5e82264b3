// SPDX-License-Identifier: GPL-2.0-only
// The chunk walk of a .gvt image, for the tests that cut or damage one (decode and
// cli): read from the chunk headers as decode/GVT-FORMAT.md lays them out, not from
// the reader, so a reader bug cannot hide in both. Header-only: the cli tests link
// no library.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace gvt::test {

// Start offsets of the chunks of a .gvt image, then the end of the last chunk: a
// 16-byte file header, then chunks of a 24-byte header (payload length at +4) and
// the payload.
inline std::vector<size_t> gvt_chunk_starts(const std::string& img) {
  std::vector<size_t> starts;
  size_t off = 16;
  while (off + 24 <= img.size()) {
    starts.push_back(off);
    uint32_t len;
    std::memcpy(&len, img.data() + off + 4, 4);
    off += 24 + len;
  }
  starts.push_back(off);
  return starts;
}

}  // namespace gvt::test
