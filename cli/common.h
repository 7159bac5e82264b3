// SPDX-License-Identifier: GPL-2.0-only
// Small helpers shared by the offline subcommands.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decode/trace_io.h"
#include "decode/model/checker.h"
#include "decode/model/finding.h"

namespace gvt::cli {

// Colour only for a terminal, never for machine output, and never when the user
// set NO_COLOR (no-color.org) or TERM=dumb.
bool want_color(bool json);

// "0xffff9e3a022c45a0" or bare hex; nullopt when not an address.
std::optional<uint64_t> parse_addr(std::string_view s);

// --rule IDs (each must be in the rules catalogue), --vm ADDR and --tid TIDs into `f`.
// On a bad value prints one line naming it and the fix, and returns false (exit 2).
bool parse_filter(const std::vector<std::string>& rules, const std::string& vm,
                  const std::vector<int32_t>& tids, FindingFilter& f);

// Says on stderr that the trace header's filter (record --tid/--vm) was applied.
void note_recorded_filter(const Summary& s, std::string_view path);

// "error" / "warning" (what --fail-on accepts).
Severity parse_fail_on(std::string_view s);

// Prints the reader's error (when !r.ok) or its notes to stderr with the program
// prefix, after flushing stdout so the two streams interleave in order. Returns
// false on an input error.
bool report_read_result(const ReadResult& r, std::string_view path);

// One-line error on stderr: "gpuvm-trace: <msg>".
void print_error(std::string_view msg);

// One-line warning on stderr: "gpuvm-trace: warning: <msg>".
void warn(const std::string& msg);

// -v detail (libbpf's messages, a verifier log, losses per CPU): `text` as it is, on
// stderr after stdout.
void print_verbose(const std::string& text);

// Flushes `out`, remembering the errno of the first failed flush of stdout: stdio
// keeps only an error flag, and by the time the command ends errno says nothing.
void flush_out(std::FILE* out);

// Flushes standard output; on a write error (now or earlier) prints one line with the
// errno text and returns false. Callers then exit with kExitWrite.
bool stdout_ok();

}  // namespace gvt::cli
