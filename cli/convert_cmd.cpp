// SPDX-License-Identifier: GPL-2.0-only
// `gpuvm-trace convert`: JSON Lines <-> .gvt, record for record.
#include <cstdio>
#include <cstring>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <stdexcept>
#include <system_error>

#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "decode/input.h"
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
  bool salvage = false;
  ProgressMode progress = ProgressMode::automatic;
};

// read_trace into `sink`, through a Redactor when asked, with the progress line.
ReadResult read_into(const ConvertArgs& a, RecordSink& sink) {
  ReadOptions ro;
  ro.keep_going = a.keep_going;
  ro.salvage = a.salvage;
  std::unique_ptr<Redactor> red;
  RecordSink* first = &sink;
  if (a.redact || a.redact_comm) {
    red = std::make_unique<Redactor>(sink, RedactOptions{a.redact_comm});
    first = red.get();
  }
  ReadProgress rp;
  std::unique_ptr<ProgressSink> progress =
      make_progress(a.progress, *first, "convert " + (a.in == "-" ? std::string("<stdin>") : a.in), rp);
  if (progress) {
    ro.progress = &rp;
    first = progress.get();
  }
  return read_trace(a.in, *first, ro);
}

bool same_file(const std::string& a, const std::string& b) {
  if (a == "-" || b == "-") return false;
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

// The output is written under a temporary name in the same directory and renamed
// over OUT only when the conversion finished: a failed or interrupted convert never
// leaves a file that looks like a finished trace. Devices and pipes (-o /dev/stdout,
// a FIFO) are written directly.
class TempOutput {
 public:
  explicit TempOutput(const std::string& out) : out_(out) {
    if (out == "-") return;
    std::error_code ec;
    auto st = std::filesystem::status(out, ec);
    if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st)) return;
    std::filesystem::path p(out);
    std::string tmpl = (p.parent_path() / ("." + p.filename().string() + ".XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());  // 0600, O_EXCL: never someone else's file
    if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot create a temporary file next to it: {}", out, errno_text(errno)));
    ::close(fd);
    tmp_ = tmpl;
  }
  ~TempOutput() {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }
  TempOutput(const TempOutput&) = delete;
  TempOutput& operator=(const TempOutput&) = delete;
  const std::string& path() const { return tmp_.empty() ? out_ : tmp_; }
  void commit() {
    if (tmp_.empty()) return;
    if (::rename(tmp_.c_str(), out_.c_str()) != 0)
      throw std::runtime_error(fmt::format("{}: cannot rename the finished output into place: {}", out_, errno_text(errno)));
    tmp_.clear();
  }

 private:
  std::string out_;
  std::string tmp_;  // empty: writing `out_` directly
};

// Trace Event Format JSON for ui.perfetto.dev / chrome://tracing (the exporter lives
// in decode/model: it needs the lifecycle model and the findings). Written like the
// other outputs: 0600 under a temporary name, renamed into place when finished.
int run_perfetto(const ConvertArgs& a) {
  std::unique_ptr<TempOutput> tmp;
  std::FILE* out = stdout;
  try {
    tmp = std::make_unique<TempOutput>(a.out);
  } catch (const std::exception& e) {
    print_error(fmt::format("convert: {}", e.what()));
    return kExitUsage;
  }
  if (a.out != "-") {
    out = std::fopen(tmp->path().c_str(), "w");
    if (!out) {
      print_error(fmt::format("convert: cannot create {}: {}", a.out, errno_text(errno)));
      return kExitUsage;
    }
  }
  struct Closer {
    std::FILE*& f;
    ~Closer() { if (f && f != stdout) std::fclose(f); }
  } closer{out};
  CheckerOptions co;
  co.report_info = true;  // a timeline shows every finding, infos included
  TraceEventExporter ex(out, co);
  ReadResult r;
  try {
    r = read_into(a, ex);
  } catch (const std::exception& e) {
    print_error(fmt::format("convert: {}", e.what()));
    return kExitUsage;
  }
  if (!report_read_result(r, a.in)) return kExitUsage;  // ~TempOutput removes it
  if (!ex.finish() || std::fflush(out) != 0) {
    print_error(fmt::format("convert: error writing {}: {}", a.out, errno_text(errno)));
    return kExitWrite;
  }
  if (out != stdout) {
    int rc = std::fclose(out);
    out = nullptr;
    if (rc != 0) {
      print_error(fmt::format("convert: error writing {}: {}", a.out, errno_text(errno)));
      return kExitWrite;
    }
  }
  try {
    tmp->commit();
  } catch (const std::exception& e) {
    print_error(fmt::format("convert: {}", e.what()));
    return kExitWrite;
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
  std::unique_ptr<TempOutput> tmp;
  std::unique_ptr<TraceWriter> w;
  try {
    tmp = std::make_unique<TempOutput>(a.out);
    w = make_writer(tmp->path(), fmt_out);
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitUsage;
  }
  ReadResult r;
  try {
    // The writer is a RecordSink: every record, opaque ones and the footer included,
    // goes through unchanged.
    r = read_into(a, *w);
    if (!r.ok) {
      report_read_result(r, a.in);
      return kExitUsage;  // ~TempOutput removes the partial output
    }
    w->close();
    tmp->commit();
  } catch (const std::exception& e) {
    // A write error (disk full, EPIPE, ...): the same status as live/record's.
    print_error(fmt::format("convert: {}", e.what()));
    return kExitWrite;
  }
  report_read_result(r, a.in);
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
  sub->add_flag("--salvage", a->salvage,
                "Damaged .gvt: skip chunks that fail their checks (a lost record marks each gap)");
  add_progress_flags(sub, a->progress);
  sub->footer(
      "EXAMPLES:\n"
      "    gpuvm-trace convert trace.jsonl -o trace.gvt     # compact binary for big traces\n"
      "    gpuvm-trace convert trace.gvt -o trace.jsonl     # back to JSON Lines, byte for byte\n"
      "    gpuvm-trace convert trace.gvt -o - --format jsonl | less\n"
      "    gpuvm-trace convert --to perfetto trace.gvt -o trace.json   # open in ui.perfetto.dev\n"
      "    gpuvm-trace convert --redact trace.gvt -o share.jsonl      # for a public bug report\n"
      "\n"
      "EXIT STATUS: 0 converted, 2 usage or input error (OUT is left untouched), 8 write error");
  sub->callback([a, &exit_status] { exit_status = run_convert(*a); });
}

}  // namespace gvt::cli
