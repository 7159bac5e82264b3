// SPDX-License-Identifier: GPL-2.0-only
// Expectation comments of the spec traces (see README.md in this folder):
//   # expect: violation <rule> <error|warning> @<line|end>
//   # expect: unknown <rule> @<line|end>
//   # expect: info <rule> @<line|end>
//   # expect: none
//   # options: info
// Parsed strictly: a typo in an expectation must fail the test, never weaken it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "decode/model/finding.h"

namespace gvt::traces {

// kEndLine marks a finding produced at end of trace (Checker::finish), "@end".
inline constexpr uint64_t kEndLine = UINT64_MAX;

struct Expected {
  FindingKind kind = FindingKind::violation;
  std::string rule;
  Severity severity = Severity::error;  // compared for violations only
  uint64_t line = 0;                    // kEndLine for "@end"
  uint64_t source_line = 0;             // where the expectation itself is written
};

struct ExpectationSet {
  std::vector<Expected> expected;
  bool none = false;          // "# expect: none"
  bool report_info = false;   // "# options: info"
  std::vector<std::string> errors;  // malformed expectation lines, "LINE: cause"
};

// Reads every comment line of `path`. I/O errors land in `errors`.
ExpectationSet parse_expectations(const std::string& path);

}  // namespace gvt::traces
