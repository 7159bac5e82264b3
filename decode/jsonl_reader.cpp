// SPDX-License-Identifier: GPL-2.0-only
// Streaming JSON Lines reader: the file is read in large blocks into one padded
// buffer that simdjson parses in place, line by line; memory does not grow with the
// trace (only with its longest line and its distinct strings).
#include <cstring>
#include <memory>
#include <string>

#include "decode/jsonl_parse.h"
#include "decode/readers.h"
#include "decode/string_store.h"

namespace gvt {
namespace {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kMaxLine = 64u << 20;  // no record is near this; binary junk is
constexpr std::string_view kHeaderExample =
    R"({"type":"header","format":"gpuvm-trace","version":1,...})";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

const char* kind_name(JsonlParser::Kind k, const JsonlParser& p) {
  switch (k) {
    case JsonlParser::Kind::event: return "event";
    case JsonlParser::Kind::lost: return "lost";
    case JsonlParser::Kind::stack: return "stack";
    case JsonlParser::Kind::footer: return "footer";
    case JsonlParser::Kind::opaque: return p.opaque().type.c_str();
    default: return "header";
  }
}

class JsonlReader {
 public:
  JsonlReader(InputFile& in, std::string_view prefix, RecordSink& sink, const ReadOptions& opts)
      : in_(in), sink_(sink), opts_(opts), parser_(strings_) {
    cap_ = std::max(kBlock, prefix.size());
    buf_ = std::make_unique_for_overwrite<char[]>(cap_ + JsonlParser::kPadding);
    std::memcpy(buf_.get(), prefix.data(), prefix.size());
    end_ = prefix.size();
  }

  ReadResult run();

 private:
  // false: stop reading (result_ holds the error).
  bool line(std::string_view text, bool unterminated);
  bool fail(std::string msg) {
    result_.ok = false;
    result_.error = std::move(msg);
    return false;
  }
  std::string where() const { return in_.name() + ":" + std::to_string(line_no_) + ": "; }

  InputFile& in_;
  RecordSink& sink_;
  const ReadOptions& opts_;
  StringStore strings_;
  JsonlParser parser_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;  // bytes of data buf_ can hold (the padding follows)
  size_t end_ = 0;
  uint64_t line_no_ = 0;
  bool header_seen_ = false;
  uint64_t events_ = 0;  // event records delivered, for the footer's count
  uint64_t consumed_ = 0;  // bytes read from the input (ReadOptions::progress)
  ReadResult result_;
};

ReadResult JsonlReader::run() {
  result_.format = Format::jsonl;
  size_t begin = 0, scan = 0;
  bool eof = false;
  for (;;) {
    auto* nl = static_cast<char*>(std::memchr(buf_.get() + scan, '\n', end_ - scan));
    if (nl) {
      ++line_no_;
      std::string_view text(buf_.get() + begin, static_cast<size_t>(nl - (buf_.get() + begin)));
      begin = scan = static_cast<size_t>(nl - buf_.get()) + 1;
      if (!line(text, false)) return result_;
      continue;
    }
    if (eof) {
      if (begin < end_) {
        ++line_no_;
        // The padding after the last line must not continue its last token.
        std::memset(buf_.get() + end_, 0, JsonlParser::kPadding);
        line(std::string_view(buf_.get() + begin, end_ - begin), true);
      }
      break;
    }
    // Keep the partial line, refill behind it.
    if (begin > 0) {
      std::memmove(buf_.get(), buf_.get() + begin, end_ - begin);
      end_ -= begin;
      begin = 0;
    }
    scan = end_;
    if (end_ == cap_) {
      if (cap_ >= kMaxLine) {
        ++line_no_;
        fail(where() + "line longer than 64 MiB: not a gpuvm-trace trace");
        return result_;
      }
      size_t ncap = cap_ * 2;
      auto nbuf = std::make_unique_for_overwrite<char[]>(ncap + JsonlParser::kPadding);
      std::memcpy(nbuf.get(), buf_.get(), end_);
      buf_ = std::move(nbuf);
      cap_ = ncap;
    }
    ssize_t n = in_.read_some(buf_.get() + end_, cap_ - end_);
    if (n < 0) {
      fail(in_.name() + ": read error: " + errno_text(errno));
      return result_;
    }
    if (n == 0) eof = true;
    end_ += static_cast<size_t>(n);
    consumed_ += static_cast<uint64_t>(n);
    if (opts_.progress) opts_.progress->bytes = consumed_;
  }

  if (!header_seen_) {
    fail(in_.name() + ":" + std::to_string(line_no_ == 0 ? 1 : line_no_) +
         ": no header: a trace starts with a header line like " + std::string(kHeaderExample));
    return result_;
  }
  if (!result_.truncated && !result_.footer)
    result_.note = in_.name() + ": the trace ended without a footer (recorder killed or still running?)";
  return result_;
}

bool JsonlReader::line(std::string_view text, bool unterminated) {
  // Editors on some systems start UTF-8 files with a byte order mark.
  if (line_no_ == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty() || text.front() == '#') return true;

  JsonlParser::Kind k = parser_.parse(text, line_no_);
  if (!header_seen_) {
    if (k == JsonlParser::Kind::header) {
      header_seen_ = true;
      ++result_.records;
      sink_.on_header(parser_.header());
      return true;
    }
    if (k == JsonlParser::Kind::future_version)
      return fail(in_.name() + ": trace format version " + std::to_string(parser_.version()) +
                  " is newer than this gpuvm-trace (reads 1): upgrade gpuvm-trace");
    if (k == JsonlParser::Kind::error) {
      if (unterminated)
        return fail(where() + "the header line is incomplete (recorder killed before writing it?)");
      return fail(where() + parser_.error() + " (the first line must be a header like " +
                  std::string(kHeaderExample) + ")");
    }
    return fail(where() + "expected the header record first, like " + std::string(kHeaderExample) +
                "; got a \"" + kind_name(k, parser_) + "\" record");
  }

  std::string why;
  if (result_.footer && k != JsonlParser::Kind::error) {
    // The footer is the last record (trace-format.md): a record after it means two
    // traces were concatenated or lines were appended, and the footer's counts lie.
    why = "a record after the footer (the footer ends a trace; concatenated traces?)";
    k = JsonlParser::Kind::error;
  }
  switch (k) {
    case JsonlParser::Kind::event:
      ++result_.records;
      ++events_;
      sink_.on_event(parser_.event());
      return true;
    case JsonlParser::Kind::stack: ++result_.records; sink_.on_stack(parser_.stack()); return true;
    case JsonlParser::Kind::lost: ++result_.records; sink_.on_lost(parser_.lost()); return true;
    case JsonlParser::Kind::opaque:
      ++result_.records;
      if (parser_.opaque().unknown_fn) ++events_;  // an event of a newer recorder: footer counts it
      sink_.on_opaque(parser_.opaque());
      return true;
    case JsonlParser::Kind::footer: {
      const Footer& ft = parser_.footer();
      if (ft.events && *ft.events != events_) {
        // Lines were removed or added after the recorder wrote the trace: findings
        // could rest on missing events. With --keep-going skipped lines explain it.
        std::string msg = "the footer counts " + std::to_string(*ft.events) + " events but the trace has " +
                          std::to_string(events_) + " (lines removed or added: damaged file?)";
        if (!opts_.keep_going) return fail(where() + msg);
        result_.note = where() + msg;
      }
      ++result_.records;
      result_.footer = true;
      sink_.on_footer(ft);
      return true;
    }
    case JsonlParser::Kind::header:
    case JsonlParser::Kind::future_version:
      why = "a second header record (concatenated traces are not supported: convert each file alone)";
      break;
    case JsonlParser::Kind::error:
      if (why.empty()) why = parser_.error();
      break;
  }
  if (unterminated) {
    // A recorder killed in the middle of a write leaves exactly this behind.
    result_.truncated = true;
    result_.note = in_.name() + ": ends in an incomplete line " + std::to_string(line_no_) +
                   " (recorder killed?); read the " + std::to_string(line_no_ - 1) + " complete lines";
    return false;
  }
  if (opts_.keep_going) {
    ++result_.skipped;
    if (result_.skipped_list.size() < ReadResult::kMaxSkippedListed)
      result_.skipped_list.push_back(std::to_string(line_no_) + ": " + why);
    sink_.on_skipped(line_no_, why);
    return true;
  }
  return fail(where() + why);
}

}  // namespace

ReadResult read_jsonl(InputFile& in, std::string_view prefix, RecordSink& sink, const ReadOptions& opts) {
  JsonlReader r(in, prefix, sink, opts);
  return r.run();
}

}  // namespace gvt
