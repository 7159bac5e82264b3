// SPDX-License-Identifier: GPL-2.0-only
// Ring-buffer records of the live tracer (bpf/gpuvm_trace.h) → gvt::Event. Needs no
// kernel and no libbpf, so the decoding is unit-tested on hand-made byte buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "decode/event.h"
#include "decode/string_store.h"

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

// Places ring-buffer losses (bpf/gpuvm_trace.h: every record carries the global drop
// count at its making, mod 2^32): the drops a record reveals are reported right
// before it, so the model learns of a gap before any record made after it.
class LossPlacer {
 public:
  // Drops to report before the record stamped `drop_seq` (0: none). A stamp at or
  // below what was reported is a record made before drops it could have seen.
  uint64_t before_record(uint32_t drop_seq) {
    uint32_t ahead = drop_seq - static_cast<uint32_t>(reported_);
    if (ahead == 0 || ahead >= (1u << 31)) return 0;
    reported_ += ahead;
    return ahead;
  }
  // Drops to report now, after a drain, given the BPF side's full counter read before
  // the ring was found empty (`ring_empty`): drops no record revealed yet. Only then:
  // while the ring still holds records, some may have been made before those drops,
  // and a loss reported ahead of them lands too early. An object such a record
  // creates would count as fully known from its creation although the drop hit it
  // afterwards: a false violation (a destroy-while-mapped in a guest soak with a
  // 16 KiB ring). Those records' successors reveal the drops, or a later drain does.
  uint64_t from_counter(uint64_t drop_seq, bool ring_empty) {
    if (!ring_empty || drop_seq <= reported_) return 0;
    uint64_t n = drop_seq - reported_;
    reported_ = drop_seq;
    return n;
  }

 private:
  uint64_t reported_ = 0;
};

// Decodes one record at a time. Strings (comm, names) are interned: the views in
// the produced events stay valid for the decoder's lifetime, and a string already
// seen costs no allocation.
class RawDecoder {
 public:
  // `out` is meant to be reused from record to record: every field a record does not
  // set is reset, but only where the previous one had set it.
  RawStatus decode(const void* data, size_t size, RawEvent& out);

 private:
  StringStore strings_;
  char last_comm_[16] = {};         // the last record's raw comm bytes
  std::string_view last_comm_view_;  // and their interned copy
};

}  // namespace gvt
