// SPDX-License-Identifier: GPL-2.0-only
#include "decode/json_text.h"

#include <charconv>
#include <cstring>
#include <iterator>

#include "decode/json_keys.h"

namespace gvt::json {
namespace {

// Length of the valid UTF-8 sequence starting at p (RFC 3629: no overlongs, no
// surrogates, <= U+10FFFF), or 0 when the bytes there are not valid UTF-8.
size_t utf8_len(const unsigned char* p, const unsigned char* end) {
  unsigned c = p[0];
  size_t avail = static_cast<size_t>(end - p);
  auto cont = [&](size_t i) { return i < avail && (p[i] & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;
    if (c == 0xF4 && p[1] > 0x8F) return 0;
    return 4;
  }
  return 0;
}

void append_bool(std::string& out, bool b) { out += b ? "true" : "false"; }

std::string_view tri_text(Tri t) {
  switch (t) {
    case Tri::yes: return "\"yes\"";
    case Tri::no: return "\"no\"";
    default: return "\"unknown\"";
  }
}

std::string_view string_of(const Event& e, unsigned field) {
  switch (field) {
    case A_NAME: return e.name;
    case S_VM_NAME: return e.vm_name;
    default: return e.symbol;
  }
}

// Writes the keys of one args/snap table that are present; returns whether any was.
template <size_t N>
void append_keys(std::string& out, const Event& e, const Key (&keys)[N]) {
  bool first = true;
  for (const Key& k : keys) {
    bool wide = k.kind != Kind::boolean && k.kind != Kind::tri;
    if (wide ? !e.has(static_cast<Field>(k.index))
             : e.small_raw(static_cast<Small>(k.index)) == 0)
      continue;
    out += first ? "\"" : ",\"";
    first = false;
    out += k.name;
    out += "\":";
    switch (k.kind) {
      case Kind::addr: append_addr(out, e.v[k.index]); break;
      case Kind::u64: append_u64(out, e.v[k.index]); break;
      case Kind::i64: append_i64(out, static_cast<int64_t>(e.v[k.index])); break;
      case Kind::str: append_string(out, string_of(e, k.index)); break;
      case Kind::boolean: append_bool(out, e.tri(static_cast<Small>(k.index)) == Tri::yes); break;
      case Kind::tri: out += tri_text(e.tri(static_cast<Small>(k.index))); break;
    }
  }
}

}  // namespace

void append_u64(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_i64(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace gvt::json

std::string gvt::hex(uint64_t v) {
  char buf[20] = {'0', 'x'};
  auto r = std::to_chars(buf + 2, buf + sizeof buf, v, 16);  // lowercase digits
  return {buf, r.ptr};
}

namespace gvt::json {

void append_addr(std::string& out, uint64_t a) {
  char buf[24] = {'"', '0', 'x'};
  auto r = std::to_chars(buf + 3, buf + sizeof buf - 1, a, 16);  // lowercase digits
  *r.ptr++ = '"';
  out.append(buf, r.ptr);
}

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  auto* end = p + s.size();
  while (p < end) {
    // Copy runs of plain characters in one append.
    auto* run = p;
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') ++p;
    out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (p == end) break;
    unsigned c = *p;
    if (c >= 0x80) {
      size_t n = utf8_len(p, end);
      if (n == 0) {  // kernel strings (comm) need not be UTF-8; JSON must be
        out += "\\ufffd";
        ++p;
      } else {
        out.append(reinterpret_cast<const char*>(p), n);
        p += n;
      }
      continue;
    }
    ++p;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out += '"';
}

void append_one_line(std::string& out, std::string_view json) {
  size_t start = out.size();
  out += json;
  for (size_t i = start; i < out.size(); ++i)
    if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
}

void append_event(std::string& out, const Event& e) {
  out += "{\"type\":\"event\",\"ts\":";
  append_u64(out, e.ts);
  if (e.has_cpu) {
    out += ",\"cpu\":";
    append_u64(out, e.cpu);
  }
  // pid has no presence bit: 0 (never a traced task's tgid) means absent.
  if (e.pid != 0) {
    out += ",\"pid\":";
    append_i64(out, e.pid);
  }
  out += ",\"tid\":";
  append_i64(out, e.tid);
  if (!e.comm.empty()) {
    out += ",\"comm\":";
    append_string(out, e.comm);
  }
  out += ",\"fn\":";
  std::string_view fn = fn_name(e.fn);
  // An event built with a function this version cannot name still converts: read
  // back, it becomes an Opaque unknown-function record instead of failing.
  append_string(out, fn.empty() ? std::string_view("unknown") : fn);
  out += e.phase == Phase::exit ? ",\"phase\":\"exit\"" : ",\"phase\":\"entry\"";
  if (e.has(SYMBOL)) {
    out += ",\"symbol\":";
    append_string(out, e.symbol);
  }
  if ((e.present & kArgFields) || (e.small & kArgSmall)) {
    out += ",\"args\":{";
    append_keys(out, e, kArgKeys);
    out += '}';
  }
  if (e.has(RET)) {
    out += ",\"ret\":";
    switch (e.ret_kind) {
      case RetKind::addr: append_addr(out, e.v[RET]); break;
      case RetKind::boolean: append_bool(out, e.v[RET] != 0); break;
      default: append_i64(out, e.ret_int()); break;
    }
  }
  if ((e.present & kSnapFields) || (e.small & kSnapSmall)) {
    out += ",\"snap\":{";
    append_keys(out, e, kSnapKeys);
    out += '}';
  }
  if (e.has(STACK)) {
    out += ",\"stack\":";
    append_u64(out, e.v[STACK]);
  }
  out += '}';
}

void append_lost(std::string& out, const Lost& l) {
  out += "{\"type\":\"lost\"";
  if (l.ts) {
    out += ",\"ts\":";
    append_u64(out, *l.ts);
  }
  if (l.cpu) {
    out += ",\"cpu\":";
    append_u64(out, *l.cpu);
  }
  out += ",\"count\":";
  append_u64(out, l.count);
  out += '}';
}

void append_stack(std::string& out, const StackRec& s) {
  out += "{\"type\":\"stack\",\"id\":";
  append_u64(out, s.id);
  out += ",\"frames\":[";
  bool first = true;
  for (const Frame& f : s.frames) {
    out += first ? "{\"addr\":" : ",{\"addr\":";
    first = false;
    append_addr(out, f.addr);
    if (!f.sym.empty()) {
      out += ",\"sym\":";
      append_string(out, f.sym);
    }
    if (!f.module.empty()) {
      out += ",\"module\":";
      append_string(out, f.module);
    }
    out += '}';
  }
  out += "]}";
}

void append_footer(std::string& out, const Footer& f) {
  out += "{\"type\":\"footer\"";
  if (f.events) {
    out += ",\"events\":";
    append_u64(out, *f.events);
  }
  if (f.lost) {
    out += ",\"lost\":";
    append_u64(out, *f.lost);
  }
  if (f.duration_ns) {
    out += ",\"duration_ns\":";
    append_u64(out, *f.duration_ns);
  }
  out += '}';
}

void append_header(std::string& out, const Header& h) {
  if (!h.raw_json.empty()) {
    append_one_line(out, h.raw_json);
    return;
  }
  out += "{\"type\":\"header\",\"format\":\"gpuvm-trace\",\"version\":";
  append_i64(out, h.version);
  if (!h.kernel.empty()) {
    out += ",\"kernel\":";
    append_string(out, h.kernel);
  }
  if (!h.clock.empty()) {
    out += ",\"clock\":";
    append_string(out, h.clock);
  }
  const std::pair<std::string_view, Tri> feats[] = {
      {"deferred", h.feat_deferred},
      {"gpuva_mutex", h.feat_gpuva_mutex},
      {"immediate_mode", h.feat_immediate_mode},
      {"prealloc_self_locks", h.feat_prealloc_self_locks},
  };
  bool first = true;
  for (auto& [name, val] : feats) {
    if (!is_present(val)) continue;
    out += first ? ",\"features\":{\"" : ",\"";
    first = false;
    out += name;
    out += "\":";
    append_bool(out, is_yes(val));
  }
  if (!first) out += '}';
  if (!h.coverage_put.empty() || !h.coverage_locks.empty() || !h.coverage_put_reason.empty() ||
      !h.coverage_put_inlined_in.empty()) {
    out += ",\"coverage\":{";
    bool first_key = true;
    auto key = [&](std::string_view k) {
      if (!first_key) out += ',';
      first_key = false;
      out += '"';
      out += k;
      out += "\":";
    };
    if (!h.coverage_put.empty()) {
      key("put");
      append_string(out, h.coverage_put);
    }
    if (!h.coverage_locks.empty()) {
      key("locks");
      append_string(out, h.coverage_locks);
    }
    if (!h.coverage_put_reason.empty()) {
      key("put_reason");
      append_string(out, h.coverage_put_reason);
    }
    if (!h.coverage_put_inlined_in.empty()) {
      key("put_inlined_in");
      out += '[';
      for (size_t i = 0; i < h.coverage_put_inlined_in.size(); ++i) {
        if (i) out += ',';
        append_string(out, h.coverage_put_inlined_in[i]);
      }
      out += ']';
    }
    out += '}';
  }
  out += ",\"redacted\":";
  append_bool(out, h.redacted);
  out += '}';
}

void append_opaque(std::string& out, const Opaque& o) { append_one_line(out, o.json); }

}  // namespace gvt::json
