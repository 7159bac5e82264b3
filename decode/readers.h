// SPDX-License-Identifier: GPL-2.0-only
// The two trace readers behind read_trace(). `prefix` holds the bytes read_trace
// already consumed from `in` to detect the format.
#pragma once

#include <string_view>

#include "decode/input.h"
#include "decode/trace_io.h"

namespace gvt {

ReadResult read_jsonl(InputFile& in, std::string_view prefix, RecordSink& sink, const ReadOptions& opts);
ReadResult read_gvt(InputFile& in, std::string_view prefix, RecordSink& sink, const ReadOptions& opts);

}  // namespace gvt
