// SPDX-License-Identifier: GPL-2.0-only
// Ring-buffer records of the live tracer (bpf/gpuvm_trace.h) → gvt::Event. Needs no
// kernel and no libbpf, so the decoding is unit-tested on hand-made byte buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "decode/event.h"

namespace gvt {

enum class RawStatus : uint8_t {
  ok,
  short_record,  // fewer bytes than the record header or the fixed event part
  bad_magic,     // not written by this version's BPF object
  bad_kind,      // a record kind this version does not know
  bad_size,      // the header's size disagrees with the bytes or the frame count
  bad_field,     // function, phase or return kind out of range
};

std::string_view raw_status_text(RawStatus s);

struct RawEvent {
  Event ev;
  // Id of the kernel stack in the tracer's BPF stack map; < 0 = none. The tracer
  // turns it into a `stack` record the first time it sees it.
  int32_t stack_id = -1;
  uint8_t mechanism = 0;  // 0 fentry/fexit, 1 kprobe/kretprobe, 2 tracepoint
  // Records dropped (all CPUs, mod 2^32) before this one was made: a jump since the
  // previous record is a loss that belongs right before this record.
  uint32_t drop_seq = 0;
};

// Decodes one record at a time. Strings (comm, names) are interned: the views in
// the produced events stay valid for the decoder's lifetime, and a string already
// seen costs no allocation.
class RawDecoder {
 public:
  RawStatus decode(const void* data, size_t size, RawEvent& out);

 private:
  std::string_view intern(std::string_view s);
  std::unordered_map<std::string_view, std::unique_ptr<std::string>> strings_;
};

}  // namespace gvt
