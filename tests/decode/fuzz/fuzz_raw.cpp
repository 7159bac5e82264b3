// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target: the ring-buffer record decoder (bpf/raw_decode.cpp), which
// reads what the BPF programs wrote. Oracle: a record it accepts is a sound event
// (fuzz_common.h checks) that both writers write and read back identically.
#include <cstring>

#include "bpf/raw_decode.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gvt;
  static RawDecoder dec;  // long-lived as in the tracer: interned strings accumulate
  RawEvent raw;
  // Ring-buffer samples are 8-byte aligned: decode from an aligned copy.
  std::string buf(reinterpret_cast<const char*>(data), size);
  RawStatus st = dec.decode(buf.data(), buf.size(), raw);
  if (raw_status_text(st).empty()) abort();
  if (st != RawStatus::ok) return 0;
  fuzz::Collect c;
  Header h;
  h.version = 1;
  h.kernel = "fuzz";
  c.on_header(h);
  c.on_event(raw.ev);
  fuzz::round_trip(c, ReadOptions{});
  return 0;
}
