// SPDX-License-Identifier: GPL-2.0-only
// Printing findings and summaries for lint, replay and live (text or JSON Lines).
#pragma once

#include <cstdio>
#include <functional>

#include "decode/model/checker.h"
#include "decode/model/finding.h"

namespace gvt::cli {

struct OutputOptions {
  bool json = false;     // -f json: the findings stream of trace-format.md
  bool color = false;    // only when stdout is a TTY
  bool info = false;     // --info: print info findings too
};

// Prints each finding as it arrives. Stack ids are resolved through `stacks`
// (usually Checker::stack) so that JSON findings carry symbolized frames.
class FindingPrinter : public FindingSink {
 public:
  FindingPrinter(OutputOptions opts, std::FILE* out,
                 std::function<const StackRec*(uint64_t)> stacks = {});
  void set_stack_lookup(std::function<const StackRec*(uint64_t)> stacks);
  void on_finding(const Finding& f) override;

 private:
  OutputOptions opts_;
  std::FILE* out_;
  std::function<const StackRec*(uint64_t)> stacks_;
};

// `stats` (--stats): after the summary line in text, as its "stats" key in JSON.
void print_summary(const Summary& s, const OutputOptions& opts, std::FILE* out,
                   const TraceStats* stats = nullptr);

// lint's exit status (trace-format.md): 1 when a finding at or above fail_on exists.
int findings_exit_status(const Summary& s, Severity fail_on);

}  // namespace gvt::cli
