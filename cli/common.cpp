// SPDX-License-Identifier: GPL-2.0-only
#include <cerrno>
#include "cli/common.h"

#include "cli/progress.h"
#include "decode/input.h"
#include "decode/model/rule_catalog.h"
#include "decode/safe_text.h"

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

bool parse_filter(const std::vector<std::string>& rules, const std::string& vm,
                  const std::vector<int32_t>& tids, FindingFilter& f) {
  for (const std::string& r : rules) {
    const model::RuleInfo* info = model::find_rule(r);
    if (!info) {
      print_error(fmt::format("--rule: '{}' is not a rule ID; 'gpuvm-trace rules' lists them", r));
      return false;
    }
    f.rules.push_back(info->id);  // the catalogue's static string
  }
  if (!vm.empty()) {
    auto addr = parse_addr(vm);
    if (!addr) {
      print_error(fmt::format("--vm: '{}' is not an address; give 0xHEX", vm));
      return false;
    }
    f.vm = addr;
  }
  f.tids.insert(f.tids.end(), tids.begin(), tids.end());
  return true;
}

void note_recorded_filter(const Summary& s, std::string_view path) {
  if (s.recorded_filter.empty()) return;
  std::fflush(stdout);
  fmt::print(stderr,
             "gpuvm-trace: note: {}: recorded with {}: only those findings are reported "
             "(--no-recorded-filter shows every finding)\n",
             safe_text(path), safe_text(s.recorded_filter));
}

Severity parse_fail_on(std::string_view s) {
  return s == "warning" ? Severity::warning : Severity::error;
}

void print_error(std::string_view msg) {
  progress_clear(true);
  std::fflush(stdout);
  fmt::print(stderr, "gpuvm-trace: {}\n", safe_text(msg));
}

void warn(const std::string& msg) {
  std::fflush(stdout);
  std::fprintf(stderr, "gpuvm-trace: warning: %s\n", msg.c_str());
}

void print_verbose(const std::string& text) {
  std::fflush(stdout);
  std::fputs(text.c_str(), stderr);
}

namespace {
int g_stdout_errno = 0;  // first failed flush of stdout
}  // namespace

void flush_out(std::FILE* out) {
  errno = 0;
  if ((std::fflush(out) != 0 || std::ferror(out)) && out == stdout && !g_stdout_errno) g_stdout_errno = errno;
}

bool stdout_ok() {
  flush_out(stdout);
  if (!std::ferror(stdout)) return true;
  int e = g_stdout_errno ? g_stdout_errno : EIO;
  fmt::print(stderr, "gpuvm-trace: <stdout>: write error: {}\n", errno_text(e));
  return false;
}

bool report_read_result(const ReadResult& r, std::string_view path) {
  progress_clear(true);
  std::fflush(stdout);
  if (!r.ok) {
    print_error(r.error.empty() ? fmt::format("{}: cannot read trace", path) : r.error);
    return false;
  }
  if (!r.note.empty()) {
    // Name the file once, whether or not the reader already did.
    if (r.note.find(path) == std::string::npos)
      fmt::print(stderr, "gpuvm-trace: note: {}: {}\n", safe_text(path), safe_text(r.note));
    else
      fmt::print(stderr, "gpuvm-trace: note: {}\n", safe_text(r.note));
  } else if (r.truncated) {
    fmt::print(stderr, "gpuvm-trace: note: {}: the trace ends in an incomplete record\n", safe_text(path));
  } else if (!r.footer) {
    fmt::print(stderr, "gpuvm-trace: note: {}: no footer (the recorder did not finish)\n", safe_text(path));
  }
  if (r.skipped) {
    fmt::print(stderr, "gpuvm-trace: note: {}: {} malformed line{} skipped (--keep-going):\n",
               safe_text(path), r.skipped, r.skipped == 1 ? "" : "s");
    for (const std::string& l : r.skipped_list)
      fmt::print(stderr, "gpuvm-trace: note:   {}:{}\n", safe_text(path), safe_text(l));
    if (r.skipped > r.skipped_list.size())
      fmt::print(stderr, "gpuvm-trace: note:   ... and {} more\n", r.skipped - r.skipped_list.size());
  }
  return true;
}

}  // namespace gvt::cli
