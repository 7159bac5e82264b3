// SPDX-License-Identifier: GPL-2.0-only
// Spec-trace runner: one test per JSON Lines trace given on the command line (files
// or directories). Each trace is read with gvt::read_trace, fed to a gvt::Checker,
// and the findings are compared with the trace's "# expect:" comments (README.md).
// The comparison is exact: a missing finding and an extra one both fail.
// --via-gvt first converts each trace to the binary .gvt format and checks that file
// instead: same findings expected, compared without line numbers (.gvt keeps none).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "decode/trace_io.h"
#include "decode/model/checker.h"
#include "decode/model/finding.h"
#include "tests/traces/expectations.h"

namespace gvt::traces {
namespace {

std::string_view kind_name(FindingKind k) {
  switch (k) {
    case FindingKind::violation: return "violation";
    case FindingKind::unknown: return "unknown";
    case FindingKind::info: return "info";
  }
  return "?";
}

std::string sev_text(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "?";
}

// Where a finding was made when line numbers are not available (.gvt input).
constexpr uint64_t kDuringRead = 0;

std::string where(uint64_t line) {
  if (line == kEndLine) return "@end";
  if (line == kDuringRead) return "@(not end)";
  return "@" + std::to_string(line);
}

struct Got {
  Finding f;
  uint64_t line = 0;  // event line; kEndLine at end of trace; kDuringRead without lines
};

class Collector : public FindingSink {
 public:
  explicit Collector(bool lines_known) : lines_known_(lines_known) {}
  // With line numbers, a finding tied to no event line (line 0) is an end-of-trace
  // finding too, whichever callback produced it (finish(), or the footer record).
  void on_finding(const Finding& f) override {
    uint64_t line = at_end ? kEndLine : lines_known_ ? (f.line == 0 ? kEndLine : f.line) : kDuringRead;
    got.push_back({f, line});
  }
  std::vector<Got> got;
  bool at_end = false;

 private:
  bool lines_known_;
};

// A scratch file removed when the test ends, however it ends.
class TempFile {
 public:
  explicit TempFile(const std::string& stem) {
    path_ = (std::filesystem::temp_directory_path() /
             (stem + "." + std::to_string(::getpid()) + ".gvt")).string();
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Forwards every record to the checker and keeps what the runner needs to judge the
// trace itself: which lines hold events (expectations must point at one) and whether
// the reader failed to understand a record (a typo in a hand-written trace).
class Tee : public RecordSink {
 public:
  explicit Tee(RecordSink& next) : next_(next) {}
  void on_header(const Header& h) override { next_.on_header(h); }
  void on_event(const Event& e) override {
    event_lines.insert(e.line);
    next_.on_event(e);
  }
  void on_lost(const Lost& l) override { next_.on_lost(l); }
  void on_stack(const StackRec& s) override { next_.on_stack(s); }
  void on_footer(const Footer& f) override { next_.on_footer(f); }
  void on_opaque(const Opaque& o) override {
    opaque.push_back(std::to_string(o.line) + ": " + (o.unknown_fn ? "unknown fn in " : "unknown record type ") + o.json);
    next_.on_opaque(o);
  }
  void on_skipped(uint64_t line, std::string_view why) override {
    opaque.push_back(std::to_string(line) + ": skipped: " + std::string(why));
    next_.on_skipped(line, why);
  }
  std::set<uint64_t> event_lines;
  std::vector<std::string> opaque;

 private:
  RecordSink& next_;
};

std::string describe(const Got& g) {
  const Finding& f = g.f;
  std::ostringstream o;
  o << kind_name(f.kind) << ' ' << f.rule;
  if (f.kind == FindingKind::violation) o << ' ' << sev_text(f.severity);
  o << ' ' << where(g.line);
  if (!f.fn.empty()) o << " fn=" << f.fn;
  if (f.tid) o << " tid=" << f.tid;
  if (f.vm_bo) o << " vm_bo=0x" << std::hex << f.vm_bo << std::dec << " gen=" << f.gen;
  if (!f.message.empty()) o << " msg=\"" << f.message << '"';
  if (!f.reason.empty()) o << " reason=\"" << f.reason << '"';
  return o.str();
}

std::string describe(const Expected& e) {
  std::ostringstream o;
  o << kind_name(e.kind) << ' ' << e.rule;
  if (e.kind == FindingKind::violation) o << ' ' << sev_text(e.severity);
  o << ' ' << where(e.line) << "   (expectation on line " << e.source_line << ')';
  return o.str();
}

bool matches(const Expected& e, const Got& g, bool lines_known) {
  uint64_t want = lines_known || e.line == kEndLine ? e.line : kDuringRead;
  if (e.kind != g.f.kind || e.rule != g.f.rule || want != g.line) return false;
  return e.kind != FindingKind::violation || e.severity == g.f.severity;
}

class SpecTrace : public testing::Test {
 public:
  SpecTrace(std::string path, bool via_gvt) : path_(std::move(path)), via_gvt_(via_gvt) {}

  void TestBody() override {
    ExpectationSet exp = parse_expectations(path_);
    for (const auto& err : exp.errors) ADD_FAILURE() << path_ << ":" << err;
    for (const auto& e : exp.expected)
      if (e.kind == FindingKind::info && !exp.report_info)
        ADD_FAILURE() << path_ << ":" << e.source_line << ": an info expectation needs '# options: info'";
    if (!exp.errors.empty()) return;

    std::string input = path_;
    std::unique_ptr<TempFile> gvt;
    if (via_gvt_) {
      gvt = std::make_unique<TempFile>(std::filesystem::path(path_).stem().string());
      auto writer = make_writer(gvt->path(), Format::gvt);
      ReadResult wr = read_trace(path_, *writer);
      ASSERT_TRUE(wr.ok) << "trace cannot be read: " << wr.error;
      writer->close();
      input = gvt->path();
    }

    Collector sink(!via_gvt_);
    CheckerOptions opts;
    opts.report_info = exp.report_info;
    Checker checker(opts, sink);
    Tee tee(checker);
    ReadResult rr = read_trace(input, tee);
    ASSERT_TRUE(rr.ok) << "trace cannot be read: " << rr.error;
    sink.at_end = true;
    checker.finish();

    for (const auto& o : tee.opaque) ADD_FAILURE() << path_ << ":" << o << "\n  (the trace uses something the reader does not know)";
    if (!via_gvt_)
      for (const auto& e : exp.expected)
        if (e.line != kEndLine && !tee.event_lines.count(e.line))
          ADD_FAILURE() << path_ << ":" << e.source_line << ": expectation points at line " << e.line
                        << ", which holds no event record";

    std::vector<Got> got;
    for (auto& g : sink.got)
      if (g.f.kind != FindingKind::info || exp.report_info) got.push_back(g);

    std::vector<bool> used(got.size(), false);
    std::vector<const Expected*> missing;
    for (const auto& e : exp.expected) {
      bool found = false;
      for (size_t i = 0; i < got.size() && !found; ++i)
        if (!used[i] && matches(e, got[i], !via_gvt_)) used[i] = found = true;
      if (!found) missing.push_back(&e);
    }
    std::vector<const Got*> extra;
    for (size_t i = 0; i < got.size(); ++i)
      if (!used[i]) extra.push_back(&got[i]);

    if (missing.empty() && extra.empty()) return;
    std::ostringstream o;
    o << path_ << (via_gvt_ ? " (converted to .gvt)" : "") << ": findings differ from the expectations\n  expected (" << exp.expected.size() << "):\n";
    if (exp.expected.empty()) o << "    none\n";
    for (const auto& e : exp.expected) o << "    " << describe(e) << '\n';
    o << "  got (" << got.size() << (exp.report_info ? ", infos included" : ", infos ignored") << "):\n";
    if (got.empty()) o << "    none\n";
    for (const auto& g : got) o << "    " << describe(g) << '\n';
    for (const auto* e : missing) o << "  MISSING    " << describe(*e) << '\n';
    for (const auto* g : extra) o << "  UNEXPECTED " << describe(*g) << '\n';
    ADD_FAILURE() << o.str();
  }

 private:
  std::string path_;
  bool via_gvt_;
};

// gtest names must not contain '.', '-' or '/' (filter syntax).
std::string test_name(const std::filesystem::path& p) {
  std::string s = p.filename().string();
  if (s.ends_with(".jsonl")) s.resize(s.size() - 6);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

}  // namespace
}  // namespace gvt::traces

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  bool via_gvt = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--via-gvt") {
      via_gvt = true;
      continue;
    }
    fs::path p(argv[i]);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& de : fs::directory_iterator(p, ec))
        if (de.path().extension() == ".jsonl") files.push_back(de.path());
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      fprintf(stderr, "trace_runner: %s: no such file or directory (pass .jsonl traces or their folder)\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    fprintf(stderr, "trace_runner: no traces given; usage: trace_runner [gtest flags] [--via-gvt] TRACE.jsonl|DIR...\n");
    return 2;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string path = f.string();
    // gtest's factory contract hands ownership of a raw pointer to the framework.
    testing::RegisterTest(via_gvt ? "SpecTraceGvt" : "SpecTrace", gvt::traces::test_name(f).c_str(), nullptr,
                          nullptr, __FILE__, __LINE__,
                          [path, via_gvt]() -> testing::Test* { return new gvt::traces::SpecTrace(path, via_gvt); });
  }
  return RUN_ALL_TESTS();
}
