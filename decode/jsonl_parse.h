// SPDX-License-Identifier: GPL-2.0-only
// Parses one JSON Lines record (trace-format.md) into the in-memory records of
// event.h. Used by the JSONL reader for every line and by the .gvt reader for the
// header text it stores verbatim.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "decode/event.h"
#include "decode/string_store.h"

namespace gvt {

// What every per-CPU build of the parser fills in (jsonl_parse_impl.h), and the
// accessors readers use.
class JsonlParserBase {
 public:
  enum class Kind { header, event, lost, stack, footer, opaque, error, future_version };

  virtual ~JsonlParserBase() = default;
  JsonlParserBase(const JsonlParserBase&) = delete;
  JsonlParserBase& operator=(const JsonlParserBase&) = delete;

  // `text` must be followed by kPadding readable bytes. `line` goes into the record.
  // On Kind::error, error() says why (no file/line prefix). On future_version,
  // version() is the version the header announced.
  virtual Kind parse(std::string_view text, uint64_t line) = 0;

  const Event& event() const { return event_; }
  const Header& header() const { return header_; }
  const Lost& lost() const { return lost_; }
  const StackRec& stack() const { return stack_; }
  const Footer& footer() const { return footer_; }
  const Opaque& opaque() const { return opaque_; }
  const std::string& error() const { return error_; }
  int64_t version() const { return version_; }

 protected:
  explicit JsonlParserBase(StringStore& strings) : strings_(strings) {}

  StringStore& strings_;
  Event event_;
  Header header_;
  Lost lost_;
  StackRec stack_;
  Footer footer_;
  Opaque opaque_;
  std::string error_;
  bool structural_ = false;  // error_ is a JSON syntax error (the line is not JSON)
  int64_t version_ = 0;
};

// The parser readers use. simdjson's On-Demand front end is compiled for one CPU
// level only (its headers pick the "builtin" implementation from the compiler's
// flags, and the build targets baseline x86-64, where that is the scalar fallback),
// so the parser is built once per level (jsonl_parse_impl.h) and this picks, at
// run time, the one simdjson's own CPU detection selects.
class JsonlParser {
 public:
  using Kind = JsonlParserBase::Kind;
  // Bytes that must be readable (any content) after the end of a line passed to parse()
  // (simdjson::SIMDJSON_PADDING; checked where simdjson is included).
  static constexpr size_t kPadding = 64;

  explicit JsonlParser(StringStore& strings);

  Kind parse(std::string_view text, uint64_t line) { return p_->parse(text, line); }
  const Event& event() const { return p_->event(); }
  const Header& header() const { return p_->header(); }
  const Lost& lost() const { return p_->lost(); }
  const StackRec& stack() const { return p_->stack(); }
  const Footer& footer() const { return p_->footer(); }
  const Opaque& opaque() const { return p_->opaque(); }
  const std::string& error() const { return p_->error(); }
  int64_t version() const { return p_->version(); }

  // The simdjson implementation the parsers of this process use ("icelake",
  // "haswell", "fallback", "arm64", ...). SIMDJSON_FORCE_IMPLEMENTATION overrides it.
  static std::string_view implementation();

 private:
  std::unique_ptr<JsonlParserBase> p_;
};

// "0x..." (1-16 hex digits, either case) -> value; false when malformed.
bool parse_address(std::string_view s, uint64_t& out);

}  // namespace gvt
