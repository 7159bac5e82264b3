// SPDX-License-Identifier: GPL-2.0-only
// The live tracer: loads the embedded BPF skeleton, attaches the probe plan, and
// turns ring-buffer records into trace records (events, deduplicated symbolized
// stacks, `lost` records placed before the first record made after each loss) for
// any RecordSink.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bpf/probe_plan.h"
#include "decode/event.h"

namespace gvt::bpf {

// Which GPUVM records carry a kernel stack. `needed`: those a finding may cite
// (decided in the BPF program, see stack_needed() there); unwinding is most of a
// record's cost, so `all` is for debugging the tracer itself.
enum class StackPolicy { none, needed, all };

struct TracerOptions {
  bool kprobes = false;
  StackPolicy stacks = StackPolicy::needed;
  bool all_locks = false;
  uint32_t ringbuf_kb = 32 << 10;  // rounded up to a power of two of pages
  uint32_t filter_tgid = 0;   // 0 = none
  bool filter_tree = false;   // also the descendants of filter_tgid (-c)
  std::string comm;           // "" = none
  // Where the tracer's warnings for the user go (lost events, a probe that did not
  // attach): the caller decides how to show them. Called from the tracer's threads.
  std::function<void(const std::string&)> warn;
  // -v: where detail goes, as it is (libbpf's messages, the verifier log of a failed
  // load, losses per CPU, function and program); empty = not shown.
  std::function<void(const std::string&)> verbose;
};

class Tracer {
 public:
  // Opens, loads and attaches; throws LiveError naming the cause (bpf/error.h).
  Tracer(const TracerOptions& o, const KernelFacts& k, const Plan& p);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  int attached() const;
  // Header of the trace: kernel, clock, features and coverage as attached.
  Header header() const;

  // Waits up to timeout_ms for records and delivers everything available to `sink`.
  // A loss reaches the sink (as a `lost` record) before the first record made after
  // it; losses no record followed yet are delivered at the end.
  void poll(RecordSink& sink, int timeout_ms);

  // Calls `fn` at least every `every` while poll() drains records (a backlog of
  // seconds under load), so that `record` can flush its file and a killed recorder
  // loses at most that much. The first call comes `every` after this one.
  void set_tick(std::function<void()> fn, std::chrono::milliseconds every);

  uint64_t events() const;
  uint64_t lost() const;
  // Records written without the kernel stack they should carry: both stack maps had
  // another stack in its bucket. Not a loss (the record is there), but a finding on
  // such a record shows no stack.
  uint64_t stacks_lost() const;
  // Stacked records whose stack id came from the task's stack memo (no unwind), and
  // those that unwound after a look there (x86-64 fentry entries, --stacks=needed).
  struct MemoCounts {
    uint64_t reused = 0, unwound = 0;
  };
  MemoCounts stack_memo() const;
  // Why events were lost, with the remedy that fits each cause ("" when none was):
  // a full ring buffer (a larger --ringbuf-mb helps), reservations the kernel
  // refused while the buffer had room, failed tracer map updates, probes the kernel
  // skipped. With -v the counts per CPU, function and program go to stderr.
  std::string loss_explanation() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Process privileges: true when BPF tracing is allowed (root, or CAP_BPF and
// CAP_PERFMON in the effective set).
bool have_bpf_privileges();

}  // namespace gvt::bpf
