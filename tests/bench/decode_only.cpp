// SPDX-License-Identifier: GPL-2.0-only
// gvt-decode-only FILE: reads a trace with the same readers `lint` uses, into a sink
// that only counts, so tests/bench/run.sh can say how much of lint's time is the
// model (lint's rate against this one, in the same run). Not a user command.
#include <cstdio>
#include <string>

#include "decode/trace_io.h"

namespace {

class CountingSink final : public gvt::RecordSink {
 public:
  void on_header(const gvt::Header&) override {}
  // Reads two fields so the event cannot be decoded for nothing.
  void on_event(const gvt::Event& e) override {
    ++events;
    sum += e.ts ^ e.present;
  }
  void on_lost(const gvt::Lost&) override {}
  void on_stack(const gvt::StackRec&) override {}
  void on_footer(const gvt::Footer&) override {}
  uint64_t events = 0;
  uint64_t sum = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gvt-decode-only TRACE (.gvt or JSONL; - for stdin)\n");
    return 2;
  }
  CountingSink sink;
  gvt::ReadResult r = gvt::read_trace(argv[1], sink);
  if (!r.ok) {
    std::fprintf(stderr, "gvt-decode-only: %s\n", r.error.c_str());
    return 2;
  }
  std::printf("{\"events\":%llu,\"records\":%llu,\"sum\":%llu}\n", static_cast<unsigned long long>(sink.events),
              static_cast<unsigned long long>(r.records), static_cast<unsigned long long>(sink.sum));
  return 0;
}
