// SPDX-License-Identifier: GPL-2.0-only
// The two writers behind make_writer().
#pragma once

#include <memory>
#include <string>

#include "decode/trace_io.h"

namespace gvt {

std::unique_ptr<TraceWriter> make_jsonl_writer(const std::string& path);
std::unique_ptr<TraceWriter> make_gvt_writer(const std::string& path);

}  // namespace gvt
