// SPDX-License-Identifier: GPL-2.0-only
#include "cli/common.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace gvt::cli {

bool want_color(bool json) {
  if (json) return false;
  const char* nc = std::getenv("NO_COLOR");
  if (nc && *nc) return false;
  const char* term = std::getenv("TERM");
  if (term && std::strcmp(term, "dumb") == 0) return false;
  return isatty(STDOUT_FILENO) == 1;
}

std::optional<uint64_t> parse_addr(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Severity parse_fail_on(std::string_view s) {
  return s == "warning" ? Severity::warning : Severity::error;
}

void print_error(std::string_view msg) {
  std::fflush(stdout);
  fmt::print(stderr, "gpuvm-trace: {}\n", msg);
}

bool report_read_result(const ReadResult& r, std::string_view path) {
  std::fflush(stdout);
  if (!r.ok) {
    print_error(r.error.empty() ? fmt::format("{}: cannot read trace", path) : r.error);
    return false;
  }
  if (!r.note.empty()) {
    // Name the file once, whether or not the reader already did.
    if (r.note.find(path) == std::string::npos)
      fmt::print(stderr, "gpuvm-trace: note: {}: {}\n", path, r.note);
    else
      fmt::print(stderr, "gpuvm-trace: note: {}\n", r.note);
  } else if (r.truncated) {
    fmt::print(stderr, "gpuvm-trace: note: {}: the trace ends in an incomplete record\n", path);
  } else if (!r.footer) {
    fmt::print(stderr, "gpuvm-trace: note: {}: no footer (the recorder did not finish)\n", path);
  }
  if (r.skipped)
    fmt::print(stderr, "gpuvm-trace: note: {}: {} malformed line{} skipped (--keep-going)\n",
               path, r.skipped, r.skipped == 1 ? "" : "s");
  return true;
}

}  // namespace gvt::cli
