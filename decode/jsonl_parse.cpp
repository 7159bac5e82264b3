// SPDX-License-Identifier: GPL-2.0-only
// Over ~500 lines on purpose: the strict parser of every record type shares file-local
// key tables and error helpers that the compiler inlines on the hot path.
// Compiled once per CPU level: as itself (baseline), and through
// jsonl_parse_haswell.cpp / jsonl_parse_icelake.cpp, which define GVT_JSONL_VARIANT.
#ifndef GVT_JSONL_VARIANT
#define GVT_JSONL_BASELINE 1
#endif
#include "decode/jsonl_parse_impl.h"

#include <array>
#include <limits>
#include <optional>
#include <iterator>
#include <utility>
#include <vector>

#include "decode/json_keys.h"

namespace gvt::GVT_JSONL_VARIANT {

namespace od = simdjson::ondemand;
using simdjson::error_code;

namespace {

constexpr int64_t kVersion = 1;

// The canonical writer puts "type" first: read it straight from the bytes and skip
// a second walk over the object. Returns false when the line does not start so (the
// caller then asks simdjson). A JSON string without backslash ends at the next quote,
// so the view is exact; the full parse later still rejects broken JSON.
bool type_fast_path(std::string_view text, std::string_view& type) {
  constexpr std::string_view kPrefix = "{\"type\":\"";
  if (text.substr(0, kPrefix.size()) != kPrefix) return false;
  for (size_t i = kPrefix.size(); i < text.size() && i < 64; ++i) {
    if (text[i] == '\\') return false;
    if (text[i] == '"') {
      type = text.substr(kPrefix.size(), i - kPrefix.size());
      return true;
    }
  }
  return false;
}

const json::Key* find_key(std::string_view name, bool snap) {
  const json::Key* b = snap ? std::begin(json::kSnapKeys) : std::begin(json::kArgKeys);
  const json::Key* e = snap ? std::end(json::kSnapKeys) : std::end(json::kArgKeys);
  if (name.empty()) return nullptr;  // no key is empty
  // Length and first byte rule out nearly every candidate before a memcmp call.
  for (; b != e; ++b)
    if (b->name.size() == name.size() && b->name[0] == name[0] && b->name == name) return b;
  return nullptr;
}

// Hex digit values, 0xff for any other byte.
constexpr std::array<uint8_t, 256> make_hex_table() {
  std::array<uint8_t, 256> t{};
  for (auto& x : t) x = 0xff;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<uint8_t>(c - 'A' + 10);
  return t;
}
constexpr std::array<uint8_t, 256> kHex = make_hex_table();

std::string quoted(std::string_view s) {
  std::string r = "\"";
  r += s;
  r += '"';
  return r;
}

// A value's text for messages, shortened so a huge value does not flood the terminal.
std::string shown(std::string_view raw) {
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == ',' || raw.back() == '\t')) raw.remove_suffix(1);
  if (raw.size() > 40) return std::string(raw.substr(0, 40)) + "...";
  if (raw == "{" || raw == "[") return std::string(raw) + "...";
  return std::string(raw);
}

}  // namespace

bool parse_address(std::string_view s, uint64_t& out) {
  if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s.size() > 18) return false;
  uint64_t v = 0;
  unsigned bad = 0;  // any non-digit sets bit 7..4: one test after the loop
  for (size_t i = 2; i < s.size(); ++i) {
    unsigned d = kHex[static_cast<unsigned char>(s[i])];
    bad |= d;
    v = (v << 4) | (d & 0xf);
  }
  if (bad & 0xf0) return false;
  out = v;
  return true;
}

bool JsonlParser::json_error(error_code e) {
  error_ = "not valid JSON (";
  error_ += simdjson::error_message(e);
  error_ += ')';
  structural_ = true;
  return false;
}

bool JsonlParser::type_error(value& v, std::string_view key, std::string_view expected) {
  error_ = quoted(key);
  error_ += " must be ";
  error_ += expected;
  error_ += ", got ";
  error_ += shown(v.raw_json_token());
  return false;
}

bool JsonlParser::get_u64(value& v, std::string_view key, uint64_t& out) {
  if (v.get_uint64().get(out) == simdjson::SUCCESS) return true;
  return type_error(v, key, "an unsigned 64-bit integer");
}

bool JsonlParser::get_i64(value& v, std::string_view key, int64_t& out) {
  if (v.get_int64().get(out) == simdjson::SUCCESS) return true;
  return type_error(v, key, "a signed 64-bit integer");
}

bool JsonlParser::get_u32(value& v, std::string_view key, uint32_t& out) {
  uint64_t x;
  if (v.get_uint64().get(x) == simdjson::SUCCESS && x <= std::numeric_limits<uint32_t>::max()) {
    out = static_cast<uint32_t>(x);
    return true;
  }
  return type_error(v, key, "an unsigned 32-bit integer");
}

bool JsonlParser::get_i32(value& v, std::string_view key, int32_t& out) {
  int64_t x;
  if (v.get_int64().get(x) == simdjson::SUCCESS && x >= std::numeric_limits<int32_t>::min() &&
      x <= std::numeric_limits<int32_t>::max()) {
    out = static_cast<int32_t>(x);
    return true;
  }
  return type_error(v, key, "a 32-bit integer");
}

bool JsonlParser::get_addr(value& v, std::string_view key, uint64_t& out) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS && parse_address(s, out)) return true;
  return type_error(v, key, "an address string like \"0xffff9e3a01a87c00\"");
}

bool JsonlParser::get_str(value& v, std::string_view key, std::string_view& out) {
  if (v.get_string().get(out) == simdjson::SUCCESS) return true;
  return type_error(v, key, "a string");
}

bool JsonlParser::get_bool(value& v, std::string_view key, bool& out) {
  if (v.get_bool().get(out) == simdjson::SUCCESS) return true;
  return type_error(v, key, "true or false");
}

bool JsonlParser::get_tri(value& v, std::string_view key, Tri& out) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    if (s == "yes") { out = Tri::yes; return true; }
    if (s == "no") { out = Tri::no; return true; }
    if (s == "unknown") { out = Tri::unknown; return true; }
  }
  return type_error(v, key, "\"yes\", \"no\" or \"unknown\"");
}

JsonlParser::Kind JsonlParser::bad_json(error_code e) {
  json_error(e);
  return Kind::error;
}

JsonlParser::Kind JsonlParser::finish(Kind k) {
  // current_location() succeeds only while unread text remains after the root.
  if (doc_.current_location().error() == simdjson::SUCCESS) {
    error_ = "not valid JSON (text after the end of the object)";
    structural_ = true;
    return Kind::error;
  }
  return k;
}

JsonlParser::Kind JsonlParser::parse(std::string_view text, uint64_t line) {
  error_.clear();
  structural_ = false;
  if (auto e = parser_.iterate(text.data(), text.size(), text.size() + kPadding).get(doc_)) {
    json_error(e);
    return Kind::error;
  }
  std::string_view type;
  if (!type_fast_path(text, type)) {
    od::object obj;
    if (auto e = doc_.get_object().get(obj)) {
      if (e == simdjson::INCORRECT_TYPE) {
        error_ = "a record must be a JSON object";
        return Kind::error;
      }
      json_error(e);
      return Kind::error;
    }
    // Walk the keys unescaped (find_field compares raw text): "t\u0079pe" is "type".
    bool found = false;
    for (auto fr : obj) {
      od::field f;
      if (auto err = std::move(fr).get(f)) return bad_json(err);
      std::string_view key;
      if (auto err = f.unescaped_key().get(key)) return bad_json(err);
      if (key != "type") continue;
      std::string_view t;
      if (!get_str(f.value(), "type", t)) return Kind::error;
      opaque_.type.assign(t);  // the parser's string buffer is reused after the rewind
      found = true;
      break;
    }
    if (!found) {
      error_ = "record without \"type\"";
      return Kind::error;
    }
    type = opaque_.type;
    doc_.rewind();
  }
  od::object obj;
  if (auto e = doc_.get_object().get(obj)) {
    if (e == simdjson::INCORRECT_TYPE) {
      error_ = "a record must be a JSON object";
      return Kind::error;
    }
    json_error(e);
    return Kind::error;
  }
  if (type == "event") return parse_event(obj, text, line);
  // Rare records: one extra walk for duplicate top-level keys (events check theirs
  // while parsing).
  if (!top_keys_unique(obj)) return Kind::error;
  doc_.rewind();
  if (auto e = doc_.get_object().get(obj)) {
    json_error(e);
    return Kind::error;
  }
  if (type == "stack") return parse_stack(obj, line);
  if (type == "lost") return parse_lost(obj, line);
  if (type == "header") return parse_header(obj, text, line);
  if (type == "footer") return parse_footer(obj, line);
  return parse_opaque(obj, text, type, line);
}

int JsonlParser::event_key_bit(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"type", "ts",   "fn",    "cpu",   "pid",   "tid",
                                               "ret",  "comm", "args",  "snap",  "phase", "stack",
                                               "symbol"};
  for (int i = 0; i < static_cast<int>(std::size(kKeys)); ++i)
    if (kKeys[i] == key) return i;
  return -1;
}

bool JsonlParser::duplicate_key(std::string_view in, std::string_view key) {
  error_ = in.empty() ? "duplicate key " + quoted(key) + " (one JSON object per line, each key once)"
                      : "duplicate key " + quoted(key) + " in " + quoted(in);
  return false;
}

bool JsonlParser::top_keys_unique(object obj) {
  std::vector<std::string> keys;
  for (auto fr : obj) {
    od::field f;
    if (auto err = std::move(fr).get(f)) return json_error(err);
    std::string_view key;
    if (auto err = f.unescaped_key().get(key)) return json_error(err);
    for (const std::string& k : keys)
      if (k == key) return duplicate_key("", key);
    keys.emplace_back(key);
  }
  return true;
}

// args / snap objects: every known key through the shared key table.
bool JsonlParser::parse_keys(object obj, bool snap) {
  Event& e = event_;
  uint64_t seen = 0;  // duplicate keys: bit = index, +32 for the 2-bit (Small) fields
  for (auto fr : obj) {
    od::field f;
    if (auto err = std::move(fr).get(f)) return json_error(err);
    std::string_view key;
    if (auto err = f.unescaped_key().get(key)) return json_error(err);
    const json::Key* k = find_key(key, snap);
    if (!k) continue;  // unknown keys are ignored (forward compatibility)
    {
      bool small = k->kind == json::Kind::boolean || k->kind == json::Kind::tri;
      uint64_t bit = uint64_t{1} << ((k->index & 31) + (small ? 32 : 0));
      if (seen & bit) return duplicate_key(snap ? "snap" : "args", k->name);
      seen |= bit;
    }
    value& v = f.value();
    switch (k->kind) {
      case json::Kind::addr:
      case json::Kind::u64:
      case json::Kind::i64: {
        uint64_t x = 0;
        if (k->kind == json::Kind::addr) {
          if (!get_addr(v, k->name, x)) return false;
        } else if (k->kind == json::Kind::u64) {
          if (!get_u64(v, k->name, x)) return false;
        } else {
          int64_t s;
          if (!get_i64(v, k->name, s)) return false;
          x = static_cast<uint64_t>(s);
        }
        e.set(static_cast<Field>(k->index), x);
        break;
      }
      case json::Kind::str: {
        std::string_view s;
        if (!get_str(v, k->name, s)) return false;
        std::string_view stored = strings_.intern(s);
        if (k->index == A_NAME) e.name = stored;
        else e.vm_name = stored;
        e.set(static_cast<Field>(k->index), 0);
        break;
      }
      case json::Kind::boolean: {
        bool b;
        if (!get_bool(v, k->name, b)) return false;
        e.set_tri(static_cast<Small>(k->index), tri_of(b));
        break;
      }
      case json::Kind::tri: {
        Tri t;
        if (!get_tri(v, k->name, t)) return false;
        e.set_tri(static_cast<Small>(k->index), t);
        break;
      }
    }
  }
  return true;
}

bool JsonlParser::names_unknown_fn(std::string_view text) {
  if (parser_.iterate(text.data(), text.size(), text.size() + kPadding).get(doc_)) return false;
  od::object obj;
  if (doc_.get_object().get(obj)) return false;
  bool unknown = false;
  // Walk every key (not find_field): the whole object must be sound JSON, since it
  // is kept verbatim.
  for (auto fr : obj) {
    od::field f;
    if (std::move(fr).get(f)) return false;
    std::string_view key, fn;
    if (f.unescaped_key().get(key)) return false;
    if (key == "fn" && f.value().get_string().get(fn) == simdjson::SUCCESS) unknown = fn_from_name(fn) == Fn::unknown;
  }
  return unknown && doc_.current_location().error() != simdjson::SUCCESS;
}

JsonlParser::Kind JsonlParser::parse_event(object obj, std::string_view text, uint64_t line) {
  Event& e = event_;
  e = Event{};
  e.line = line;
  bool have_ts = false, have_tid = false, have_fn = false, have_phase = false;
  bool unknown_fn = false;
  enum class Ret { none, addr, boolean, integer } ret = Ret::none;
  uint64_t ret_v = 0;

  uint32_t seen = 0;  // one bit per top-level key this reader knows
  auto fields_ok = [&]() -> bool {
    for (auto fr : obj) {
      od::field f;
      if (auto err = std::move(fr).get(f)) return json_error(err);
      std::string_view key;
      if (auto err = f.unescaped_key().get(key)) return json_error(err);
      // After an unknown function only the JSON structure is still checked.
      if (unknown_fn) continue;
      // The contract is one JSON object per line: with a key twice its meaning would
      // depend on the reader (first or last wins), so it is a malformed line.
      if (int b = event_key_bit(key); b >= 0) {
        if (seen & (1u << b)) return duplicate_key("", key);
        seen |= 1u << b;
      }
      value& v = f.value();
      switch (key.size()) {
        case 2:
          if (key == "ts") {
            if (!get_u64(v, key, e.ts)) return false;
            have_ts = true;
          } else if (key == "fn") {
            std::string_view s;
            if (!get_str(v, key, s)) return false;
            e.fn = fn_from_name(s);
            have_fn = true;
            // A newer recorder's function: hand the line on verbatim, whatever else
            // it carries, rather than judging keys we may not understand.
            if (e.fn == Fn::unknown) unknown_fn = true;
          }
          break;
        case 3:
          if (key == "cpu") {
            if (!get_u32(v, key, e.cpu)) return false;
            e.has_cpu = true;
          } else if (key == "pid") {
            if (!get_i32(v, key, e.pid)) return false;
          } else if (key == "tid") {
            if (!get_i32(v, key, e.tid)) return false;
            have_tid = true;
          } else if (key == "ret") {
            od::json_type t;
            if (auto err = v.type().get(t)) return json_error(err);
            if (t == od::json_type::string) {
              if (!get_addr(v, key, ret_v)) return false;
              ret = Ret::addr;
            } else if (t == od::json_type::boolean) {
              bool b;
              if (!get_bool(v, key, b)) return false;
              ret_v = b;
              ret = Ret::boolean;
            } else {
              int64_t s;
              if (v.get_int64().get(s))
                return type_error(v, key, "an address string, a boolean or a signed 64-bit integer");
              ret_v = static_cast<uint64_t>(s);
              ret = Ret::integer;
            }
          }
          break;
        case 4:
          if (key == "comm") {
            std::string_view s;
            if (!get_str(v, key, s)) return false;
            e.comm = strings_.intern(s);
          } else if (key == "args") {
            od::object o;
            if (v.get_object().get(o)) return type_error(v, key, "an object");
            if (!parse_keys(o, false)) return false;
          } else if (key == "snap") {
            od::object o;
            if (v.get_object().get(o)) return type_error(v, key, "an object");
            if (!parse_keys(o, true)) return false;
          }
          break;
        case 5:
          if (key == "phase") {
            std::string_view s;
            if (!get_str(v, key, s)) return false;
            if (s == "entry") e.phase = Phase::entry;
            else if (s == "exit") e.phase = Phase::exit;
            else return type_error(v, key, "\"entry\" or \"exit\"");
            have_phase = true;
          } else if (key == "stack") {
            uint64_t id;
            if (!get_u64(v, key, id)) return false;
            e.set(STACK, id);
          }
          break;
        case 6:
          if (key == "symbol") {
            std::string_view s;
            if (!get_str(v, key, s)) return false;
            e.symbol = strings_.intern(s);
            e.set(SYMBOL, 0);
          }
          break;
        default:
          break;
      }
    }
    return true;
  };

  bool ok = fields_ok();
  if (unknown_fn || (!ok && !structural_ && !have_fn && names_unknown_fn(text))) {
    opaque_.json.assign(text);
    opaque_.type = "event";
    opaque_.unknown_fn = true;
    opaque_.line = line;
    error_.clear();
    // Keep rejecting lines that are not JSON at all, even with an unknown function.
    if (!unknown_fn) return Kind::opaque;  // names_unknown_fn() checked the whole line
    return finish(Kind::opaque);
  }
  if (!ok) return Kind::error;
  const char* missing = !have_ts ? "ts" : !have_tid ? "tid" : !have_fn ? "fn" : !have_phase ? "phase" : nullptr;
  if (missing) {
    error_ = "event without required key \"";
    error_ += missing;
    error_ += '"';
    return Kind::error;
  }
  switch (ret) {
    case Ret::none: break;
    case Ret::addr: e.ret_kind = RetKind::addr; break;
    case Ret::boolean: e.ret_kind = RetKind::boolean; break;
    case Ret::integer: e.ret_kind = json::returns_pointer(e.fn) ? RetKind::err : RetKind::integer; break;
  }
  if (ret != Ret::none) e.set(RET, ret_v);
  return finish(Kind::event);
}

JsonlParser::Kind JsonlParser::parse_lost(object obj, uint64_t line) {
  lost_ = Lost{};
  lost_.line = line;
  bool have_count = false;
  for (auto fr : obj) {
    od::field f;
    if (auto err = std::move(fr).get(f)) return bad_json(err);
    std::string_view key;
    if (auto err = f.unescaped_key().get(key)) return bad_json(err);
    value& v = f.value();
    if (key == "count") {
      if (!get_u64(v, key, lost_.count)) return Kind::error;
      have_count = true;
    } else if (key == "ts") {
      uint64_t ts;
      if (!get_u64(v, key, ts)) return Kind::error;
      lost_.ts = ts;
    } else if (key == "cpu") {
      uint32_t cpu;
      if (!get_u32(v, key, cpu)) return Kind::error;
      lost_.cpu = cpu;
    }
  }
  if (!have_count) {
    error_ = "lost record without required key \"count\"";
    return Kind::error;
  }
  return finish(Kind::lost);
}

JsonlParser::Kind JsonlParser::parse_stack(object obj, uint64_t line) {
  stack_.id = 0;
  stack_.frames.clear();
  stack_.line = line;
  bool have_id = false, have_frames = false;
  for (auto fr : obj) {
    od::field f;
    if (auto err = std::move(fr).get(f)) return bad_json(err);
    std::string_view key;
    if (auto err = f.unescaped_key().get(key)) return bad_json(err);
    value& v = f.value();
    if (key == "id") {
      if (!get_u64(v, key, stack_.id)) return Kind::error;
      have_id = true;
    } else if (key == "frames") {
      od::array arr;
      if (v.get_array().get(arr)) {
        type_error(v, key, "an array of frames");
        return Kind::error;
      }
      stack_.frames.clear();
      for (auto elr : arr) {
        value el;
        if (auto err = std::move(elr).get(el)) return bad_json(err);
        od::object fo;
        if (el.get_object().get(fo)) {
          type_error(el, "frames", "an array of objects");
          return Kind::error;
        }
        Frame& fm = stack_.frames.emplace_back();
        bool have_addr = false;
        for (auto ffr : fo) {
          od::field ff;
          if (auto err = std::move(ffr).get(ff)) return bad_json(err);
          std::string_view fk;
          if (auto err = ff.unescaped_key().get(fk)) return bad_json(err);
          value& fv = ff.value();
          if (fk == "addr") {
            if (!get_addr(fv, fk, fm.addr)) return Kind::error;
            have_addr = true;
          } else if (fk == "sym" || fk == "module") {
            std::string_view s;
            if (!get_str(fv, fk, s)) return Kind::error;
            (fk == "sym" ? fm.sym : fm.module).assign(s);
          }
        }
        if (!have_addr) {
          error_ = "stack frame without required key \"addr\"";
          return Kind::error;
        }
      }
      have_frames = true;
    }
  }
  if (!have_id || !have_frames) {
    error_ = "stack record without required key \"";
    error_ += !have_id ? "id" : "frames";
    error_ += '"';
    return Kind::error;
  }
  return finish(Kind::stack);
}

JsonlParser::Kind JsonlParser::parse_footer(object obj, uint64_t line) {
  footer_ = Footer{};
  footer_.line = line;
  for (auto fr : obj) {
    od::field f;
    if (auto err = std::move(fr).get(f)) return bad_json(err);
    std::string_view key;
    if (auto err = f.unescaped_key().get(key)) return bad_json(err);
    value& v = f.value();
    std::optional<uint64_t>* slot = key == "events"        ? &footer_.events
                                    : key == "lost"        ? &footer_.lost
                                    : key == "duration_ns" ? &footer_.duration_ns
                                                           : nullptr;
    if (!slot) continue;
    uint64_t x;
    if (!get_u64(v, key, x)) return Kind::error;
    *slot = x;
  }
  return finish(Kind::footer);
}

JsonlParser::Kind JsonlParser::parse_header(object obj, std::string_view text, uint64_t line) {
  header_ = Header{};
  header_.line = line;
  bool have_format = false, have_version = false;
  std::string version_error;
  // The version decides whether the rest can be judged at all: a newer header may
  // give known keys new types, so its errors are reported only for version 1.
  std::string first_error;
  auto keep = [&](bool ok) {
    if (!ok && first_error.empty()) first_error = error_;
    return ok;
  };
  // "features" and "coverage": objects whose unknown keys are ignored. A non-object is a
  // type error kept like the others; broken JSON inside stops the line (the result).
  auto members = [&](value& v, std::string_view key, auto&& on_member) -> std::optional<Kind> {
    od::object o;
    if (v.get_object().get(o)) {
      keep(type_error(v, key, "an object"));
      return std::nullopt;
    }
    for (auto fr : o) {
      od::field f;
      if (auto err = std::move(fr).get(f)) return bad_json(err);
      std::string_view fk;
      if (auto err = f.unescaped_key().get(fk)) return bad_json(err);
      on_member(fk, f.value());
    }
    return std::nullopt;
  };
  for (auto fr : obj) {
    od::field f;
    if (auto err = std::move(fr).get(f)) return bad_json(err);
    std::string_view key;
    if (auto err = f.unescaped_key().get(key)) return bad_json(err);
    value& v = f.value();
    if (key == "format") {
      std::string_view s;
      if (!get_str(v, key, s)) return Kind::error;
      have_format = true;
      if (s != "gpuvm-trace") {
        error_ = "not a gpuvm-trace header: \"format\" is " + quoted(s) + ", expected \"gpuvm-trace\"";
        return Kind::error;
      }
    } else if (key == "version") {
      int64_t ver;
      if (!get_i64(v, key, ver)) {
        version_error = error_;
        continue;
      }
      version_ = ver;
      have_version = true;
    } else if (key == "kernel" || key == "clock") {
      std::string_view s;
      if (keep(get_str(v, key, s))) (key == "kernel" ? header_.kernel : header_.clock).assign(s);
    } else if (key == "redacted") {
      bool b;
      if (keep(get_bool(v, key, b))) header_.redacted = b;
    } else if (key == "features") {
      auto feature = [&](std::string_view fk, value& fv) {
        Tri* slot = fk == "deferred"              ? &header_.feat_deferred
                        : fk == "gpuva_mutex"         ? &header_.feat_gpuva_mutex
                        : fk == "immediate_mode"      ? &header_.feat_immediate_mode
                        : fk == "prealloc_self_locks" ? &header_.feat_prealloc_self_locks
                                                      : nullptr;
        bool b;
        if (slot && keep(get_bool(fv, fk, b))) *slot = tri_of(b);
      };
      if (auto k = members(v, key, feature)) return *k;
    } else if (key == "coverage") {
      std::optional<Kind> broken;
      auto coverage = [&](std::string_view fk, value& fv) {
        if (fk == "put_inlined_in") {
          // An array of function names (this tool's optional extension, GVT-FORMAT.md).
          od::array arr;
          if (fv.get_array().get(arr)) {
            keep(type_error(fv, fk, "an array of function names"));
            return;
          }
          header_.coverage_put_inlined_in.clear();
          for (auto elr : arr) {
            value el;
            if (auto err = std::move(elr).get(el)) {
              if (!broken) broken = bad_json(err);
              return;
            }
            std::string_view name;
            if (!keep(get_str(el, fk, name))) return;
            header_.coverage_put_inlined_in.emplace_back(name);
          }
          return;
        }
        std::string* slot = fk == "put"          ? &header_.coverage_put
                            : fk == "locks"      ? &header_.coverage_locks
                            : fk == "put_reason" ? &header_.coverage_put_reason
                                                 : nullptr;
        std::string_view cs;
        if (slot && keep(get_str(fv, fk, cs))) slot->assign(cs);
      };
      if (auto k = members(v, key, coverage)) return *k;
      if (broken) return *broken;
    }
  }
  if (!have_format) {
    error_ = "header without required key \"format\" (expected \"format\":\"gpuvm-trace\")";
    return Kind::error;
  }
  if (!version_error.empty()) {
    error_ = version_error;
    return Kind::error;
  }
  if (!have_version) {
    error_ = "header without required key \"version\"";
    return Kind::error;
  }
  if (version_ > kVersion) return Kind::future_version;
  if (version_ < 1) {
    error_ = "unsupported trace format version " + std::to_string(version_) + " (this gpuvm-trace reads 1)";
    return Kind::error;
  }
  if (!first_error.empty()) {
    error_ = first_error;
    return Kind::error;
  }
  header_.version = static_cast<int>(version_);
  header_.raw_json.assign(text);
  return finish(Kind::header);
}

JsonlParser::Kind JsonlParser::parse_opaque(object obj, std::string_view text, std::string_view type,
                                            uint64_t line) {
  // Walk the object once so a broken line is still rejected: it is kept verbatim and
  // must stay readable JSON for whoever reads the converted trace.
  std::string t(type);
  for (auto fr : obj) {
    od::field f;
    if (auto err = std::move(fr).get(f)) return bad_json(err);
  }
  opaque_.type = std::move(t);
  opaque_.json.assign(text);
  opaque_.unknown_fn = false;
  opaque_.line = line;
  return finish(Kind::opaque);
}

std::unique_ptr<JsonlParserBase> make_parser(StringStore& strings) {
  return std::make_unique<JsonlParser>(strings);
}

}  // namespace gvt::GVT_JSONL_VARIANT

#if GVT_JSONL_BASELINE
// The run-time choice, made once here in the baseline build.
#if GVT_JSONL_X86_VARIANTS
namespace gvt::jsonl_haswell {
std::unique_ptr<JsonlParserBase> make_parser(StringStore& strings);
}
namespace gvt::jsonl_icelake {
std::unique_ptr<JsonlParserBase> make_parser(StringStore& strings);
}
#endif

namespace gvt {

namespace {
using MakeParser = std::unique_ptr<JsonlParserBase> (*)(StringStore&);
// simdjson selects its implementation from the CPU (and the OS's saving of the vector
// registers) the first time it is asked; a variant is used only when simdjson chose
// the same level, so no instruction the CPU lacks can run.
MakeParser choose() {
#if GVT_JSONL_X86_VARIANTS
  const std::string name = simdjson::get_active_implementation()->name();
  if (name == "icelake") return jsonl_icelake::make_parser;
  if (name == "haswell") return jsonl_haswell::make_parser;
#endif
  return jsonl_baseline::make_parser;
}
MakeParser chosen() {
  static const MakeParser make = choose();
  return make;
}
}  // namespace

JsonlParser::JsonlParser(StringStore& strings) : p_(chosen()(strings)) {}

std::string_view JsonlParser::implementation() {
  MakeParser m = chosen();
#if GVT_JSONL_X86_VARIANTS
  if (m == jsonl_icelake::make_parser) return "icelake";
  if (m == jsonl_haswell::make_parser) return "haswell";
#endif
  (void)m;
  return SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION);
}

bool parse_address(std::string_view s, uint64_t& out) { return jsonl_baseline::parse_address(s, out); }

}  // namespace gvt
#endif  // GVT_JSONL_BASELINE
