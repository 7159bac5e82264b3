// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target: the .gvt reader (built with -DGVT_FUZZ=ON, clang; see
// tests/decode/CMakeLists.txt). The first input byte picks the mode:
//   even: the rest is a whole file (.gvt, or junk) given to read_trace;
//   odd:  the rest is the payload of a .gvt chunk, wrapped in a valid file (header
//         chunk + this chunk with a correct checksum), so the fuzzer reaches the
//         record decoder instead of stopping at the checksum.
// Oracle (fuzz_common.h): errors are one line, and whatever the reader accepts reads
// back identically from both writers' output. Salvage mode is explored too.
#include <cstdint>
#include <cstring>
#include <string>

#include "decode/gvt_format.h"
#include "fuzz_common.h"

namespace {

using namespace gvt;

void append_chunk(std::string& out, const std::string& payload, uint32_t records, uint32_t seq) {
  uint8_t h[gvtf::kChunkHeaderSize];
  gvtf::store<uint32_t>(h, gvtf::kChunkMagic);
  gvtf::store<uint32_t>(h + 4, static_cast<uint32_t>(payload.size()));
  gvtf::store<uint32_t>(h + 8, records);
  gvtf::store<uint32_t>(h + 12, seq);
  gvtf::store<uint64_t>(h + 16, gvtf::chunk_checksum(payload.data(), payload.size(), gvtf::chunk_seed(records, seq)));
  out.append(reinterpret_cast<char*>(h), sizeof h);
  out += payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string file;
  if (data[0] % 2 == 0) {
    file.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  } else {
    // File header, a header chunk, then the fuzz payload as chunk 2. Its record
    // count comes from the second input byte so both matching and mismatching
    // counts are explored.
    file.assign(reinterpret_cast<const char*>(gvtf::kMagic), sizeof gvtf::kMagic);
    file.append("\x01\x00\x00\x00\x00\x00\x00\x00", 8);
    std::string hdr = R"({"type":"header","format":"gpuvm-trace","version":1})";
    std::string rec(gvtf::kHeaderFixed, '\0');
    rec[0] = static_cast<char>(gvtf::K_HEADER);
    gvtf::store<uint32_t>(reinterpret_cast<uint8_t*>(rec.data()) + 4, static_cast<uint32_t>(hdr.size()));
    append_chunk(file, rec + hdr + std::string(gvtf::kChunkPad, '\0'), 1, 1);
    uint32_t records = size > 1 ? data[1] : 0;
    std::string payload(reinterpret_cast<const char*>(data + 2 < data + size ? data + 2 : data + size),
                        size > 2 ? size - 2 : 0);
    append_chunk(file, payload, records, 2);
  }
  fuzz::Collect c;
  ReadOptions opts;
  opts.keep_going = size % 3 == 0;
  opts.salvage = size % 5 == 0;
  ReadResult r = read_trace(fuzz::memfile(0, file), c, opts);
  fuzz::check_result(r);
  opts.salvage = false;  // the writers' output is never damaged
  fuzz::round_trip(c, opts);
  return 0;
}
