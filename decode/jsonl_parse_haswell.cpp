// SPDX-License-Identifier: GPL-2.0-only
// The JSONL parser built for haswell-level x86-64 CPUs (flags in decode/CMakeLists.txt),
// so that simdjson's On-Demand front end runs its haswell implementation instead of the
// scalar fallback. JsonlParser uses it only where simdjson's CPU detection picks haswell.
#define GVT_JSONL_VARIANT jsonl_haswell
#include "jsonl_parse.cpp"
