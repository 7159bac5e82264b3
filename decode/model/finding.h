// SPDX-License-Identifier: GPL-2.0-only
// What the checker reports: the findings stream of trace-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gvt {

enum class Severity : uint8_t { info = 0, warning = 1, error = 2 };
std::string_view severity_name(Severity s);

enum class FindingKind : uint8_t {
  violation,  // certain given the trace
  unknown,    // a rule applies but evidence is missing (lost events, partial history...)
  info,       // reported only with --info
};

struct Finding {
  FindingKind kind = FindingKind::violation;
  std::string_view rule;  // stable rule ID of vm_bo-lifecycle.md §E.1 (static storage)
  Severity severity = Severity::error;
  uint64_t ts = 0;
  int32_t tid = 0;
  std::string comm;
  std::string_view fn;  // logical function name ("" when not at an event)
  uint64_t vm_bo = 0;   // 0 = not about one vm_bo
  uint32_t gen = 0;
  uint64_t vm = 0;
  uint64_t obj = 0;
  uint64_t line = 0;    // JSONL line of the triggering event (0 = none)
  std::string message;  // for violations and infos
  std::string reason;   // for unknowns: which evidence is missing
  bool has_stack = false;
  uint64_t stack = 0;   // id of a stack record
  bool incomplete_trace = false;  // rests on a trace with skipped lines (--keep-going)
};

class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void on_finding(const Finding&) = 0;
};

}  // namespace gvt
