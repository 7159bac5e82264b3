// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target: the JSON Lines reader. The input is a whole file; the oracle
// (fuzz_common.h) round-trips whatever the reader accepted through both writers.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gvt;
  // A leading 0x89 would make it a .gvt: that is fuzz_gvt's input.
  if (size > 0 && data[0] == 0x89) return 0;
  std::string file(reinterpret_cast<const char*>(data), size);
  fuzz::Collect c;
  ReadOptions opts;
  opts.keep_going = size % 3 == 0;
  ReadResult r = read_trace(fuzz::memfile(0, file), c, opts);
  fuzz::check_result(r);
  fuzz::round_trip(c, opts);
  return 0;
}
