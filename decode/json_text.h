// SPDX-License-Identifier: GPL-2.0-only
// Canonical JSON Lines text of each record (trace-format.md): the one place that
// decides key order and number formatting, shared by the JSONL writer and by the .gvt
// writer (header text) and reader (events it must hand on as Opaque).
#pragma once

#include <string>
#include <string_view>

#include "decode/event.h"

namespace gvt {

// "0x1f": a kernel address the way traces write it (lowercase hex, no leading zeros),
// for messages and reports; append_addr below is the same text quoted.
std::string hex(uint64_t v);

}  // namespace gvt

namespace gvt::json {

// Each appends one record WITHOUT the trailing newline.
void append_event(std::string& out, const Event& e);
void append_lost(std::string& out, const Lost& l);
void append_stack(std::string& out, const StackRec& s);
void append_footer(std::string& out, const Footer& f);
// Header::raw_json verbatim when set, else built from the fields.
void append_header(std::string& out, const Header& h);
void append_opaque(std::string& out, const Opaque& o);

// The pieces, for tests and other writers.
void append_string(std::string& out, std::string_view s);  // quoted, escaped, valid UTF-8
void append_addr(std::string& out, uint64_t a);              // "0x..." lowercase
void append_u64(std::string& out, uint64_t v);
void append_i64(std::string& out, int64_t v);

// A record kept verbatim must stay on one line: JSON allows raw CR/LF only as
// whitespace between tokens, so replacing them with spaces keeps the meaning.
void append_one_line(std::string& out, std::string_view json);

}  // namespace gvt::json
