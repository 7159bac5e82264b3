// SPDX-License-Identifier: GPL-2.0-only
// Parses one JSON Lines record (trace-format.md) into the in-memory records of
// event.h. Used by the JSONL reader for every line and by the .gvt reader for the
// header text it stores verbatim.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "decode/event.h"
#include "decode/string_store.h"

namespace gvt {

class JsonlParser {
 public:
  // Bytes that must be readable (any content) after the end of a line passed to parse().
  static constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;

  enum class Kind { header, event, lost, stack, footer, opaque, error, future_version };

  explicit JsonlParser(StringStore& strings) : strings_(strings) {}

  // `text` must be followed by kPadding readable bytes. `line` goes into the record.
  // On Kind::error, error() says why (no file/line prefix). On future_version,
  // version() is the version the header announced.
  Kind parse(std::string_view text, uint64_t line);

  const Event& event() const { return event_; }
  const Header& header() const { return header_; }
  const Lost& lost() const { return lost_; }
  const StackRec& stack() const { return stack_; }
  const Footer& footer() const { return footer_; }
  const Opaque& opaque() const { return opaque_; }
  const std::string& error() const { return error_; }
  int64_t version() const { return version_; }

 private:
  using value = simdjson::ondemand::value;
  using object = simdjson::ondemand::object;

  Kind parse_event(object obj, std::string_view text, uint64_t line);
  Kind parse_header(object obj, std::string_view text, uint64_t line);
  Kind parse_lost(object obj, uint64_t line);
  Kind parse_stack(object obj, uint64_t line);
  Kind parse_footer(object obj, uint64_t line);
  Kind parse_opaque(object obj, std::string_view text, std::string_view type, uint64_t line);
  bool parse_keys(object obj, bool snap);
  // Duplicate keys: error_ names the key (and the object it is in); returns false.
  bool duplicate_key(std::string_view in, std::string_view key);
  static int event_key_bit(std::string_view key);  // -1: not a key events use
  bool top_keys_unique(object obj);
  Kind finish(Kind k);  // rejects text after the root object

  // Typed getters: on failure they set error_ and return false.
  bool get_u64(value& v, std::string_view key, uint64_t& out);
  bool get_i64(value& v, std::string_view key, int64_t& out);
  bool get_u32(value& v, std::string_view key, uint32_t& out);
  bool get_i32(value& v, std::string_view key, int32_t& out);
  bool get_addr(value& v, std::string_view key, uint64_t& out);
  bool get_str(value& v, std::string_view key, std::string_view& out);  // unescaped, transient
  bool get_bool(value& v, std::string_view key, bool& out);
  bool get_tri(value& v, std::string_view key, Tri& out);
  bool type_error(value& v, std::string_view key, std::string_view expected);
  bool json_error(simdjson::error_code e);
  Kind bad_json(simdjson::error_code e);

  // Whether the line's event names a function this version does not know
  // (re-reads the line: only used on the error path).
  bool names_unknown_fn(std::string_view text);

  StringStore& strings_;
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
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

// "0x..." (1-16 hex digits, either case) -> value; false when malformed.
bool parse_address(std::string_view s, uint64_t& out);

}  // namespace gvt
