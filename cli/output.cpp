// SPDX-License-Identifier: GPL-2.0-only
#include "cli/output.h"

#include <string>

#include "cli/common.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/stats.h"

namespace gvt::cli {

FindingPrinter::FindingPrinter(OutputOptions opts, std::FILE* out,
                               std::function<const StackRec*(uint64_t)> stacks)
    : opts_(opts), out_(out), stacks_(std::move(stacks)) {}

void FindingPrinter::set_stack_lookup(std::function<const StackRec*(uint64_t)> stacks) {
  stacks_ = std::move(stacks);
}

void FindingPrinter::on_finding(const Finding& f) {
  if (f.kind == FindingKind::info && !opts_.info) return;
  progress_clear();
  std::string s = opts_.json ? finding_json(f, stacks_) + '\n'
                             : finding_text(f, stacks_, Style{opts_.color && !opts_.json});
  std::fwrite(s.data(), 1, s.size(), out_);
  // Findings are rare and live mode shows them as they happen: do not let them sit in
  // a buffer behind a quiet trace.
  flush_out(out_);
}

void print_summary(const Summary& s, const OutputOptions& opts, std::FILE* out, const TraceStats* stats) {
  std::string line = opts.json ? summary_json(s, opts.info, {}, stats ? stats_json(*stats) : std::string()) + '\n'
                               : summary_text(s, opts.info, Style{opts.color});
  if (stats && !opts.json) line += stats_text(*stats, Style{opts.color});
  std::fwrite(line.data(), 1, line.size(), out);
  flush_out(out);
}

int findings_exit_status(const Summary& s, Severity fail_on) {
  uint64_t n = s.errors;
  if (fail_on <= Severity::warning) n += s.warnings;
  if (fail_on <= Severity::info) n += s.infos;
  return n > 0 ? 1 : 0;
}

}  // namespace gvt::cli
