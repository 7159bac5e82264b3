// SPDX-License-Identifier: GPL-2.0-only
// Helpers for the decode tests: a sink that records everything it is given as
// canonical text, and temporary files.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "decode/event.h"
#include "decode/trace_io.h"

namespace gvt::test {

// Each record as its canonical JSON line (header as read), in order; skipped lines
// as "skipped LINE: why".
struct RecordingSink : RecordSink {
  std::vector<std::string> lines;
  std::vector<Event> events;  // copies; their string views point into `strings`
  std::vector<Opaque> opaques;
  std::vector<uint64_t> skipped_lines;
  std::vector<std::string> skipped_why;
  Header header;
  int headers = 0;
  std::deque<std::string> strings;  // the reader's views die with the read: keep copies

  void on_header(const Header& h) override;
  void on_event(const Event& e) override;
  void on_lost(const Lost& l) override;
  void on_stack(const StackRec& s) override;
  void on_footer(const Footer& f) override;
  void on_opaque(const Opaque& o) override;
  void on_skipped(uint64_t line, std::string_view why) override;
};

// A fresh file in a per-process temporary directory; returns its path.
std::string temp_path(const std::string& name);
std::string write_temp(const std::string& name, const std::string& content);
std::string read_file(const std::string& path);
std::string data_path(const std::string& name);

// Reads `path` with a writer of `fmt` attached, writing to `out`.
ReadResult convert(const std::string& in, const std::string& out, Format fmt);

inline const std::string kHeaderLine =
    R"({"type":"header","format":"gpuvm-trace","version":1,"kernel":"6.12.95+deb12-amd64"})";

}  // namespace gvt::test
