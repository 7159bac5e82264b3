// SPDX-License-Identifier: GPL-2.0-only
#include "decode/safe_text.h"

#include <cstdint>

namespace gvt {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void hex_byte(std::string& out, unsigned char c) {
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

void u_escape(std::string& out, uint32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 15];
}

// Length of the valid UTF-8 sequence at s[i] (1..4) and its code point, or 0 when the
// bytes there are not valid UTF-8 (overlong, surrogate, > U+10FFFF, cut short).
size_t utf8_seq(std::string_view s, size_t i, uint32_t& cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t n;
  uint32_t min;
  if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool hides_text(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f)        // C1 controls (0x9b is a one-byte CSI)
         || (cp >= 0x202a && cp <= 0x202e)  // bidi embeddings and overrides
         || (cp >= 0x2066 && cp <= 0x2069)  // bidi isolates
         || cp == 0x200e || cp == 0x200f;   // direction marks
}

}  // namespace

void append_safe_text(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      if (c == '\\') out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case 0x1b: out += "\\e"; break;
        default: hex_byte(out, c);
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t n = utf8_seq(s, i, cp);
    if (n == 0) {
      hex_byte(out, c);
      ++i;
    } else if (hides_text(cp)) {
      u_escape(out, cp);
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
}

std::string safe_text(std::string_view s) {
  std::string out;
  append_safe_text(out, s);
  return out;
}

}  // namespace gvt
