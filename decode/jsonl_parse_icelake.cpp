// SPDX-License-Identifier: GPL-2.0-only
// The JSONL parser built for icelake-level x86-64 CPUs (flags in decode/CMakeLists.txt),
// so that simdjson's On-Demand front end runs its icelake implementation instead of the
// scalar fallback. JsonlParser uses it only where simdjson's CPU detection picks icelake.
#define GVT_JSONL_VARIANT jsonl_icelake
#include "jsonl_parse.cpp"
