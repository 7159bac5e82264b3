// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target for both trace readers (built only with clang; see
// tests/decode/CMakeLists.txt). The first input byte picks the mode:
//   even: the rest is a whole file (JSON Lines, .gvt, or junk) given to read_trace;
//   odd:  the rest is the payload of a .gvt chunk, wrapped in a valid file (header
//         chunk + this chunk with a correct checksum), so the fuzzer reaches the
//         record decoder instead of stopping at the checksum.
// Both readers must return normally on any input; the sink checks what it is given.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "decode/gvt_format.h"
#include "decode/trace_io.h"

namespace {

using namespace gvt;

struct CheckingSink : RecordSink {
  void on_header(const Header& h) override { touch(h.raw_json); }
  void on_event(const Event& e) override {
    if (e.fn == Fn::unknown || e.fn >= Fn::count_) abort();  // must have been Opaque
    if (static_cast<unsigned>(e.ret_kind) > static_cast<unsigned>(RetKind::integer)) abort();
    for (unsigned f = 0; f < FIELD_COUNT_; ++f)
      if (!e.has(static_cast<Field>(f)) && e.v[f] != 0) abort();  // absent reads 0
    touch(e.comm), touch(e.name), touch(e.vm_name), touch(e.symbol);
  }
  void on_lost(const Lost&) override {}
  void on_stack(const StackRec& s) override {
    for (auto& f : s.frames) touch(f.sym), touch(f.module);
  }
  void on_footer(const Footer&) override {}
  void on_opaque(const Opaque& o) override { touch(o.json), touch(o.type); }
  // Reads every byte so ASan sees a dangling view.
  void touch(std::string_view s) {
    for (char c : s) sum += static_cast<unsigned char>(c);
  }
  unsigned sum = 0;
};

int memfd() {
  static int fd = memfd_create("fuzz-trace", 0);
  return fd;
}

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
  int fd = memfd();
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, file.data(), file.size(), 0) != static_cast<ssize_t>(file.size()))
    abort();
  CheckingSink sink;
  ReadOptions opts;
  opts.keep_going = size % 3 == 0;
  ReadResult r = read_trace("/proc/self/fd/" + std::to_string(fd), sink, opts);
  if (!r.ok && r.error.empty()) abort();
  if (r.error.find('\n') != std::string::npos || r.note.find('\n') != std::string::npos) abort();
  return 0;
}
