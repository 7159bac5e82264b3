// SPDX-License-Identifier: GPL-2.0-only
// Export of a trace as Chrome Trace Event Format JSON (opens in ui.perfetto.dev and
// chrome://tracing): one track per vm_bo generation whose life is a slice and whose
// calls are instants carrying their arguments, one track per (task, lock) with each
// hold as a slice, findings as slices on a "findings" track carrying rule, message and
// stack, and a flow arrow from each finding's vm_bo creation to the finding.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "decode/event.h"
#include "decode/model/checker.h"

namespace gvt {

class TraceEventExporter : public RecordSink {
 public:
  // Writes to `out` (not owned); findings use `opts` (report_info: include infos).
  TraceEventExporter(std::FILE* out, CheckerOptions opts);
  ~TraceEventExporter() override;

  void on_header(const Header&) override;
  void on_event(const Event&) override;
  void on_lost(const Lost&) override;
  void on_stack(const StackRec&) override;
  void on_footer(const Footer&) override;
  void on_opaque(const Opaque&) override;
  void on_skipped(uint64_t line, std::string_view why) override;

  // End of trace: closes open slices, runs end-of-trace rules, ends the JSON document.
  // Returns false if writing failed.
  bool finish();
  const Summary& summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gvt
