// SPDX-License-Identifier: GPL-2.0-only
#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "decode/env_ms.h"
#include "decode/safe_text.h"

namespace gvt::cli {
namespace {

ProgressSink* g_current = nullptr;  // the one progress line of this process
bool g_stdout_tty = false;          // stdout shares the screen: clear before it prints

// GVT_PROGRESS_MS: redraw interval (tests shorten it so that a small trace draws).
std::chrono::milliseconds redraw_interval(bool terminal) {
  return env_ms("GVT_PROGRESS_MS", 60000).value_or(std::chrono::milliseconds(terminal ? 250 : 1000));
}

std::string bytes_text(uint64_t b) {
  if (b < 10 * 1024) return fmt::format("{} B", b);
  if (b < 10 * 1024 * 1024) return fmt::format("{:.1f} KiB", b / 1024.0);
  if (b < 10ull * 1024 * 1024 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  return fmt::format("{:.1f} GiB", b / (1024.0 * 1024 * 1024));
}

std::string count_text(double n) {
  if (n < 1e4) return fmt::format("{:.0f}", n);
  if (n < 1e7) return fmt::format("{:.1f} k", n / 1e3);
  return fmt::format("{:.1f} M", n / 1e6);
}

std::string duration_text(double s) {
  auto t = static_cast<uint64_t>(s + 0.5);
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, t / 60 % 60);
}

}  // namespace

void add_progress_flags(CLI::App* sub, ProgressMode& mode) {
  auto* on = sub->add_flag_callback("--progress", [&mode] { mode = ProgressMode::on; },
                                    "Show a progress line on standard error even when it is not a terminal");
  auto* off = sub->add_flag_callback("--no-progress", [&mode] { mode = ProgressMode::off; },
                                     "No progress line (default: shown when standard error is a terminal)");
  on->excludes(off);
}

ProgressSink::ProgressSink(RecordSink& inner, std::string label, const ReadProgress& read, bool terminal)
    : inner_(inner), label_(std::move(label)), read_(read), terminal_(terminal) {
  start_ = Clock::now();
  interval_ = redraw_interval(terminal);
  // Nothing for runs that end within two intervals: no flicker on small traces.
  next_ = start_ + 2 * interval_;
  g_current = this;
}

ProgressSink::~ProgressSink() {
  clear();
  if (g_current == this) g_current = nullptr;
}

void ProgressSink::tick() {
  Clock::time_point now = Clock::now();
  if (now < next_) return;
  next_ = now + interval_;
  draw(now);
}

void ProgressSink::draw(Clock::time_point now) {
  double secs = std::chrono::duration<double>(now - start_).count();
  if (secs <= 0) secs = 1e-9;
  const uint64_t done = read_.bytes, total = read_.total;
  std::string line = label_ + ": " + bytes_text(done);
  if (total >= done && total > 0)
    line += fmt::format(" of {} ({:.0f}%)", bytes_text(total), 100.0 * static_cast<double>(done) / total);
  line += fmt::format(", {} events, {}/s, {} events/s", count_text(static_cast<double>(events_)),
                      bytes_text(static_cast<uint64_t>(done / secs)), count_text(events_ / secs));
  if (total > done && done > 0) line += ", ETA " + duration_text(secs * static_cast<double>(total - done) / done);
  std::string out;
  if (terminal_) {
    // Pad over a longer previous line instead of an ANSI erase: works on any terminal.
    out = "\r" + line;
    if (line.size() < shown_) out.append(shown_ - line.size(), ' ');
    shown_ = line.size();
  } else {
    out = line + "\n";
  }
  std::fflush(stdout);  // keep the order of what stdout already said
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

void ProgressSink::clear() {
  if (!shown_) return;
  std::string out = "\r" + std::string(shown_, ' ') + "\r";
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
  shown_ = 0;
}

std::unique_ptr<ProgressSink> make_progress(ProgressMode mode, RecordSink& inner, std::string label,
                                            const ReadProgress& read) {
  if (mode == ProgressMode::off) return nullptr;
  const bool tty = isatty(STDERR_FILENO) == 1;
  if (mode == ProgressMode::automatic && !tty) return nullptr;
  g_stdout_tty = isatty(STDOUT_FILENO) == 1;
  return std::make_unique<ProgressSink>(inner, safe_text(label), read, tty);
}

void progress_clear(bool stderr_too) {
  if (g_current && (g_stdout_tty || stderr_too)) g_current->clear();
}

}  // namespace gvt::cli
