// SPDX-License-Identifier: GPL-2.0-only
// read_trace / make_writer: format detection and dispatch.
#include "decode/trace_io.h"

#include <cerrno>

#include "decode/gvt_format.h"
#include "decode/input.h"
#include "decode/readers.h"
#include "decode/writers.h"

namespace gvt {

ReadResult read_trace(const std::string& path, RecordSink& sink, const ReadOptions& opts) {
  InputFile in(path);
  if (!in.valid()) {
    ReadResult r;
    r.ok = false;
    r.error = in.error();
    return r;
  }
  if (opts.progress) opts.progress->total = in.regular() && !in.is_stdin() ? in.size() : 0;
  // The first byte decides: the .gvt magic starts with 0x89, which no JSON Lines
  // trace (UTF-8 text starting with '{', '#' or blank) can start with.
  char prefix[sizeof gvtf::kMagic];
  ssize_t got = in.read_full(prefix, sizeof prefix);
  if (got < 0) {
    ReadResult r;
    r.ok = false;
    r.error = in.name() + ": read error: " + errno_text(errno);
    return r;
  }
  std::string_view head(prefix, static_cast<size_t>(got));
  if (!head.empty() && static_cast<uint8_t>(head[0]) == gvtf::kMagic[0]) return read_gvt(in, head, sink, opts);
  if (head.empty()) {
    ReadResult r;
    r.ok = false;
    r.error = in.name() + ": empty file: a trace starts with a header line like "
                          R"({"type":"header","format":"gpuvm-trace","version":1,...})";
    return r;
  }
  return read_jsonl(in, head, sink, opts);
}

Format format_for_path(const std::string& path) {
  constexpr std::string_view ext = ".gvt";
  return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0 ? Format::gvt
                                                                                                   : Format::jsonl;
}

std::unique_ptr<TraceWriter> make_writer(const std::string& path, Format fmt) {
  return fmt == Format::gvt ? make_gvt_writer(path) : make_jsonl_writer(path);
}

}  // namespace gvt
