// SPDX-License-Identifier: GPL-2.0-only
// Reading and writing traces: JSON Lines (trace-format.md) and the binary .gvt
// (decode/GVT-FORMAT.md). Readers stream: memory does not grow with trace length.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decode/event.h"

namespace gvt {

enum class Format { jsonl, gvt };

// How far a reader got, for a progress line: the readers store the input bytes consumed
// once per buffer refill or chunk (never per record), read_trace the input's size.
struct ReadProgress {
  uint64_t bytes = 0;  // input bytes consumed so far
  uint64_t total = 0;  // size of the input; 0 when unknown (a pipe)
};

struct ReadOptions {
  bool keep_going = false;  // skip and count malformed lines instead of failing
  // .gvt: a damaged chunk (bad magic, sequence, size or checksum with bytes after it)
  // is an input error unless this is set; then the reader skips to the next chunk that
  // verifies, hands the sink a `lost` record for the gap and reports it in `damaged`.
  bool salvage = false;
  ReadProgress* progress = nullptr;  // optional
};

struct ReadResult {
  bool ok = true;           // false: input error (exit status 2); `error` says why
  std::string error;        // one line: "FILE:LINE: cause" (+ fix when there is one)
  Format format = Format::jsonl;
  uint64_t records = 0;     // records delivered to the sink
  uint64_t skipped = 0;     // malformed lines skipped (--keep-going)
  // The first kMaxSkippedListed of them, "LINE: cause", for the user to fix by hand.
  static constexpr size_t kMaxSkippedListed = 10;
  std::vector<std::string> skipped_list;
  bool footer = false;      // a footer record was seen
  bool truncated = false;   // the file ends in an incomplete line / chunk
  std::string note;         // human text about an ending without footer / truncation
  uint64_t damaged = 0;     // --salvage: damaged regions skipped (0 = none)
  uint64_t damaged_bytes = 0;  // bytes in those regions
  std::string damage;       // --salvage: one line naming the first damaged chunk and offset
};

// Detects the format from the first bytes (.gvt magic, else JSON Lines). "-" reads
// standard input (either format).
ReadResult read_trace(const std::string& path, RecordSink& sink, const ReadOptions& opts = {});

// Guess the output format from a file name: ".gvt" → gvt, anything else → jsonl.
Format format_for_path(const std::string& path);

// A writer is a sink: feed it records, then close(). Writers never leave a torn
// record behind a flush(): a reader of a file whose writer was killed sees every
// record up to the last flush (JSONL: the last complete line; gvt: the last chunk).
class TraceWriter : public RecordSink {
 public:
  // Write what is buffered so that it survives the writer being killed.
  virtual void flush() = 0;
  // Flush and close; the footer is the caller's to write before (on_footer).
  virtual void close() = 0;
  // Bytes written so far (for progress / benchmarks).
  virtual uint64_t bytes_written() const = 0;
};

// path "-" writes standard output. Throws std::runtime_error with a one-line cause
// when the file cannot be created.
std::unique_ptr<TraceWriter> make_writer(const std::string& path, Format fmt);

}  // namespace gvt
