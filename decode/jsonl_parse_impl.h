// SPDX-License-Identifier: GPL-2.0-only
// The simdjson On-Demand parser behind JsonlParser, declared once per CPU level.
// Included only by jsonl_parse.cpp, which is compiled once per level (baseline, and
// on x86-64 haswell and icelake with per-file flags: decode/CMakeLists.txt). Each
// build lives in its own namespace, GVT_JSONL_VARIANT, because simdjson::ondemand
// names a different implementation in each: without the namespaces the class would
// be defined differently in two objects (an ODR violation the linker would resolve
// by picking one at random).
#pragma once

#include <simdjson.h>

#include "decode/jsonl_parse.h"

#ifndef GVT_JSONL_VARIANT
#define GVT_JSONL_VARIANT jsonl_baseline
#endif

namespace gvt::GVT_JSONL_VARIANT {

static_assert(JsonlParser::kPadding == simdjson::SIMDJSON_PADDING);

class JsonlParser final : public JsonlParserBase {
 public:
  static constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;
  using Kind = JsonlParserBase::Kind;

  explicit JsonlParser(StringStore& strings) : JsonlParserBase(strings) {}
  Kind parse(std::string_view text, uint64_t line) override;

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

  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
};

std::unique_ptr<JsonlParserBase> make_parser(StringStore& strings);

}  // namespace gvt::GVT_JSONL_VARIANT
