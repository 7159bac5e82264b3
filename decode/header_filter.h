// SPDX-License-Identifier: GPL-2.0-only
// The optional "filter" key of a trace header: `record --tid/--vm` keeps every event
// (the other tasks' events are evidence) and writes what the user asked to look at
//   "filter":{"tid":[151,152],"vm":"0xffff9e3a01a86600"}
// so that lint and replay of the file report only those findings by default. A free
// header key of trace-format.md: readers that do not know it ignore it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "decode/event.h"

namespace gvt {

struct HeaderFilter {
  std::vector<int32_t> tids;
  std::optional<uint64_t> vm;
  bool empty() const { return tids.empty() && !vm; }
};

// `h` with the filter key added (h.raw_json is set to the header's full text).
Header with_header_filter(const Header& h, const HeaderFilter& f);

// The filter a header carries; nullopt when it has none (or an unreadable one: a
// filter only narrows what is shown, so a bad one is ignored rather than trusted).
std::optional<HeaderFilter> header_filter(const Header& h);

// "--tid 151 --tid 152 --vm 0x..." as the user would type it, for notes.
std::string header_filter_text(const HeaderFilter& f);

}  // namespace gvt
