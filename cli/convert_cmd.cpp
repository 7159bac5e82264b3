// SPDX-License-Identifier: GPL-2.0-only
// `gpuvm-trace convert`: JSON Lines <-> .gvt, record for record.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "decode/redact.h"
#include "decode/trace_io.h"
#include "decode/model/trace_event_export.h"

namespace gvt::cli {
namespace {

struct ConvertArgs {
  std::string in;
  std::string out;
  std::string format;  // empty: from OUT's extension
  bool keep_going = false;
  bool redact = false;
  bool redact_comm = false;
};

// read_trace into `sink`, through a Redactor when asked.
ReadResult read_into(const ConvertArgs& a, RecordSink& sink) {
  if (!a.redact && !a.redact_comm) return read_trace(a.in, sink, ReadOptions{a.keep_going});
  Redactor red(sink, RedactOptions{a.redact_comm});
  return read_trace(a.in, red, ReadOptions{a.keep_going});
}

bool same_file(const std::string& a, const std::string& b) {
  if (a == "-" || b == "-") return false;
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

// Trace Event Format JSON for ui.perfetto.dev / chrome://tracing (the exporter lives
// in decode/model: it needs the lifecycle model and the findings).
int run_perfetto(const ConvertArgs& a) {
  std::FILE* out = a.out == "-" ? stdout : std::fopen(a.out.c_str(), "w");
  if (!out) {
    print_error(fmt::format("convert: cannot create {}: {}", a.out, std::strerror(errno)));
    return kExitUsage;
  }
  auto remove_out = [&] {
    if (a.out == "-") return;
    std::fclose(out);
    std::error_code ec;
    std::filesystem::remove(a.out, ec);
  };
  CheckerOptions co;
  co.report_info = true;  // a timeline shows every finding, infos included
  TraceEventExporter ex(out, co);
  ReadResult r;
  try {
    r = read_into(a, ex);
  } catch (const std::exception& e) {
    remove_out();
    print_error(fmt::format("convert: {}", e.what()));
    return kExitUsage;
  }
  if (!report_read_result(r, a.in)) {
    remove_out();
    return kExitUsage;
  }
  if (!ex.finish()) {
    remove_out();
    print_error(fmt::format("convert: error writing {}", a.out));
    return kExitUsage;
  }
  if (a.out != "-" && std::fclose(out) != 0) {
    print_error(fmt::format("convert: error writing {}", a.out));
    return kExitUsage;
  }
  return kExitClean;
}

int run_convert(const ConvertArgs& a) {
  if (same_file(a.in, a.out)) {
    print_error(fmt::format("convert: {} is both input and output; write to another file", a.out));
    return kExitUsage;
  }
  if (a.format == "perfetto") return run_perfetto(a);
  Format fmt_out = a.format.empty() ? format_for_path(a.out)
                                    : (a.format == "gvt" ? Format::gvt : Format::jsonl);
  std::unique_ptr<TraceWriter> w;
  try {
    w = make_writer(a.out, fmt_out);
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitUsage;
  }
  ReadResult r;
  try {
    // The writer is a RecordSink: every record, opaque ones and the footer included,
    // goes through unchanged.
    r = read_into(a, *w);
    w->close();
  } catch (const std::exception& e) {
    print_error(fmt::format("convert: {}", e.what()));
    return kExitUsage;
  }
  if (!report_read_result(r, a.in)) {
    // Do not leave a half-converted file that looks like a finished one.
    if (a.out != "-") {
      std::error_code ec;
      std::filesystem::remove(a.out, ec);
    }
    return kExitUsage;
  }
  return kExitClean;
}

}  // namespace

void add_convert_command(CLI::App& app, int& exit_status) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand(
      "convert", "Convert a trace between JSON Lines and .gvt without loss, or export it as a Perfetto timeline");
  sub->add_option("IN", a->in, "Input trace (format detected; - reads standard input)")->required();
  sub->add_option("-o,--output", a->out, "Output file (- writes standard output)")->required();
  sub->add_option("--format,--to", a->format,
                  "Output format: jsonl, gvt, or perfetto (Trace Event Format JSON for ui.perfetto.dev "
                  "and chrome://tracing); default: .gvt extension -> gvt, else jsonl")
      ->check(CLI::IsMember({"jsonl", "gvt", "perfetto"}));
  sub->add_flag("--redact", a->redact,
                "Replace every kernel address by a keyed hash (random key per run; identity kept "
                "within the trace, stack symbols and offsets kept); header says redacted: true");
  sub->add_flag("--redact-comm", a->redact_comm, "With --redact: hash task names too (implies --redact)");
  sub->add_flag("--keep-going", a->keep_going, "Skip malformed input lines (the output then lacks them)");
  sub->footer(
      "EXAMPLES:\n"
      "    gpuvm-trace convert trace.jsonl -o trace.gvt     # compact binary for big traces\n"
      "    gpuvm-trace convert trace.gvt -o trace.jsonl     # back to JSON Lines, byte for byte\n"
      "    gpuvm-trace convert trace.gvt -o - --format jsonl | less\n"
      "    gpuvm-trace convert --to perfetto trace.gvt -o trace.json   # open in ui.perfetto.dev\n"
      "    gpuvm-trace convert --redact trace.gvt -o share.jsonl      # for a public bug report");
  sub->callback([a, &exit_status] { exit_status = run_convert(*a); });
}

}  // namespace gvt::cli
