// SPDX-License-Identifier: GPL-2.0-only
// `--stats` output (lint, replay, live): TraceStats as text after the summary line, or
// as the optional "stats" object of the JSON summary record.
#pragma once

#include <string>

#include "cli/format.h"
#include "decode/model/checker.h"

namespace gvt::cli {

// The value of the summary's "stats" key (a JSON object, no newline).
std::string stats_json(const TraceStats& st);

// Text blocks, each line ending in '\n'. Long lists are cut (the JSON has them all).
std::string stats_text(const TraceStats& st, const Style& style);

}  // namespace gvt::cli
