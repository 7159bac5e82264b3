// SPDX-License-Identifier: GPL-2.0-only
// The progress line of the offline subcommands (lint, replay, convert): bytes and events
// done, rate and ETA on standard error, redrawn in place a few times a second and
// cleared at the end; only when standard error is a terminal (or --progress).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "decode/event.h"
#include "decode/trace_io.h"

namespace gvt::cli {

enum class ProgressMode { automatic, on, off };

// --progress / --no-progress on `sub`.
void add_progress_flags(CLI::App* sub, ProgressMode& mode);

// A RecordSink in front of the real one. The cost on the hot path is a counter per
// record and, every kCheckEvery records, one clock read: nothing measurable next to
// the decoding and the model (tests/bench/progress_overhead.sh measures it).
class ProgressSink : public RecordSink {
 public:
  // `terminal`: draw in place with carriage returns; else (forced onto a file or a
  // pipe) one line per update, at most once a second.
  ProgressSink(RecordSink& inner, std::string label, const ReadProgress& read, bool terminal);
  ~ProgressSink() override;
  ProgressSink(const ProgressSink&) = delete;
  ProgressSink& operator=(const ProgressSink&) = delete;

  void on_header(const Header& h) override { inner_.on_header(h); }
  void on_event(const Event& e) override {
    ++events_;
    if ((++records_ & (kCheckEvery - 1)) == 0) tick();
    inner_.on_event(e);
  }
  void on_lost(const Lost& l) override { count(); inner_.on_lost(l); }
  void on_stack(const StackRec& s) override { count(); inner_.on_stack(s); }
  void on_footer(const Footer& f) override { inner_.on_footer(f); }
  void on_opaque(const Opaque& o) override { count(); inner_.on_opaque(o); }
  void on_skipped(uint64_t line, std::string_view why) override { inner_.on_skipped(line, why); }

  // Removes the line from the terminal (before other output, and at the end).
  void clear();

 private:
  static constexpr uint64_t kCheckEvery = 1024;  // records between clock reads (power of 2)
  using Clock = std::chrono::steady_clock;
  void count() {
    if ((++records_ & (kCheckEvery - 1)) == 0) tick();
  }
  void tick();
  void draw(Clock::time_point now);

  RecordSink& inner_;
  std::string label_;
  const ReadProgress& read_;
  bool terminal_;
  uint64_t records_ = 0;
  uint64_t events_ = 0;
  Clock::time_point start_;
  Clock::time_point next_;      // earliest time of the next redraw
  Clock::duration interval_;
  size_t shown_ = 0;            // width of the line on screen (0: none)
};

// The progress sink for this run, or nullptr when there is to be none (off, or
// automatic and standard error is not a terminal).
std::unique_ptr<ProgressSink> make_progress(ProgressMode mode, RecordSink& inner, std::string label,
                                            const ReadProgress& read);

// Clears the line of the progress sink alive now, if one is on screen and standard
// output is a terminal too: called before printing findings there. `stderr_too`: also
// when only standard error is a terminal (before a message on standard error).
void progress_clear(bool stderr_too = false);

}  // namespace gvt::cli
