// SPDX-License-Identifier: GPL-2.0-only
// Redaction for sharing a trace: a RecordSink filter that replaces every kernel pointer
// with a keyed hash (SipHash-2-4 under a random per-trace key), so addresses keep their
// identity within the trace (lifecycles and findings are unchanged) and reveal nothing
// else, e.g. no KASLR offset. NULL stays NULL. Stack frames keep their symbols,
// offsets and modules; only their raw addresses are hashed. The header says
// `redacted: true` and loses its free keys (host name, command line). Task names are
// kept, or hashed too with `hash_comm`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "decode/event.h"

namespace gvt {

struct RedactOptions {
  bool hash_comm = false;
};

class Redactor : public RecordSink {
 public:
  // A fresh random key (getrandom): two redactions of one trace do not correlate.
  Redactor(RecordSink& next, RedactOptions opts);
  // A fixed key, for tests.
  Redactor(RecordSink& next, RedactOptions opts, const std::array<uint64_t, 2>& key);

  uint64_t addr(uint64_t a) const;  // the hashed form of a kernel address (0 stays 0)

  void on_header(const Header&) override;
  void on_event(const Event&) override;
  void on_lost(const Lost&) override;
  void on_stack(const StackRec&) override;
  void on_footer(const Footer&) override;
  void on_opaque(const Opaque&) override;
  void on_skipped(uint64_t line, std::string_view why) override;

 private:
  std::string_view comm(std::string_view c);

  RecordSink& next_;
  RedactOptions opts_;
  std::array<uint64_t, 2> key_{};
  std::unordered_map<std::string, std::string> comms_;  // node-based: views stay valid
};

}  // namespace gvt
