// SPDX-License-Identifier: GPL-2.0-only
// Text building blocks shared by the finding printer, lint and replay: JSON string
// escaping, addresses, one finding as a JSON object or as a kernel-style report.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "decode/event.h"
#include "decode/json_text.h"
#include "decode/model/checker.h"
#include "decode/model/finding.h"

namespace gvt::cli {

// ANSI colours; every accessor returns "" when colour is off so callers never branch.
struct Style {
  bool on = false;
  std::string_view bold() const { return on ? "\x1b[1m" : ""; }
  std::string_view red() const { return on ? "\x1b[1;31m" : ""; }
  std::string_view yellow() const { return on ? "\x1b[1;33m" : ""; }
  std::string_view cyan() const { return on ? "\x1b[36m" : ""; }
  std::string_view blue() const { return on ? "\x1b[34m" : ""; }
  std::string_view dim() const { return on ? "\x1b[2m" : ""; }
  std::string_view reset() const { return on ? "\x1b[0m" : ""; }
};

// "sym [module]" of trace-format.md's findings stream; the address when no symbol.
std::string frame_text(const Frame& f);

// "violation" / "unknown" / "info": the "type" of a finding object.
std::string_view finding_type(const Finding& f);

// One finding as a JSON object (no newline), keys in the order of trace-format.md.
// `stack` resolves the finding's stack id (nullptr: no frames written).
// Resolves a stack id to its record (nullptr when the trace never had it).
using StackLookup = std::function<const StackRec*(uint64_t)>;

std::string finding_json(const Finding& f, const StackLookup& stacks);

// One finding as a kernel-style report ending in '\n':
//   error: RULE: message
//     at ts=… tid=… comm=… fn=… vm_bo=0x…#gen vm=… line N
//       frame
// `indent` prefixes every line (replay nests findings under events).
std::string finding_text(const Finding& f, const StackLookup& stacks, const Style& st,
                         std::string_view indent = "");

// The summary object; `file` is added as an extra key when not empty (several
// inputs), `info` adds the "infos" count, `stats` (a JSON object, cli/stats.h) the
// optional "stats" key; "hidden" is there when a filter was active.
std::string summary_json(const Summary& s, bool info, std::string_view file = {},
                         std::string_view stats = {});
std::string summary_text(const Summary& s, bool info, const Style& st,
                         std::string_view file = {});

}  // namespace gvt::cli
