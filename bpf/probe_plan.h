// SPDX-License-Identifier: GPL-2.0-only
// Which kernel symbol each logical function is probed at, and how (spec §B.3).
// A pure function of facts gathered from the running kernel (kernel_facts.h), so
// that every decision is unit-tested on fixtures without a kernel.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/put_coverage.h"
#include "decode/event.h"

namespace gvt::bpf {

enum class Mech : uint8_t { fentry, fexit, kprobe, kretprobe, raw_tracepoint };
std::string_view mech_name(Mech m);

// What the kernel offers. Sets hold names of interest only.
struct KernelFacts {
  std::string release;                 // uname -r
  bool gpuvm_present = false;          // module loaded, or built into vmlinux
  bool gpuvm_builtin = false;
  std::string module = "drm_gpuvm";    // "" when built in
  std::string build_id;                // hex; "" when unknown (the loaded module's)
  // Put coverage decided from the module's code (put_coverage.h); absent = not analysed.
  std::optional<PutCoverage> put_analysis;
  // available_filter_functions could be read (root): clones are known. Without it
  // the plan rests on BTF alone and uses exported entry points.
  bool have_filter_functions = false;
  std::set<std::string, std::less<>> gpuvm_traceable;   // in the GPUVM module (or vmlinux)
  std::set<std::string, std::less<>> vmlinux_traceable; // ww_mutex_*, mutex_*
  std::set<std::string, std::less<>> gpuvm_btf;         // FUNC names in GPUVM BTF
  std::set<std::string, std::less<>> vmlinux_btf;       // lock FUNC names in vmlinux BTF
  // The FUNC type id of each name of the two sets above, in its own BTF object (the
  // module's for GPUVM functions unless built in): the loader passes these to the
  // kernel instead of having libbpf search every BTF by name (btf_targets.cpp).
  // Absent from fixtures: the loader then lets libbpf look the name up.
  std::map<std::string, uint32_t, std::less<>> btf_func_ids;
  Tri feat_deferred = Tri::absent;
  Tri feat_gpuva_mutex = Tri::absent;
  Tri feat_immediate_mode = Tri::absent;
  Tri feat_prealloc_self_locks = Tri::absent;
  // Can a running tracing program be preempted (preemption model full, lazy or RT)?
  // An fentry/fexit program runs with migration disabled only: preempted inside it, a
  // task keeps the program's per-CPU busy mark, and the kernel skips the program for
  // every other task on that CPU until it resumes (issue 13: tens of lost lock events
  // per second under load on Debian 7.2, PREEMPT_LAZY). gather_facts() decides;
  // unknown counts as yes there.
  bool preemptible = false;
  std::string preempt_model;  // how it was decided, for the plan's notes
  bool kprobe_multi = false;  // BPF kprobe.multi links (CONFIG_FPROBE, vmlinux BTF)
};

struct PlannedProbe {
  Fn fn = Fn::unknown;
  std::string symbol;   // kernel symbol attached to
  std::string module;   // "" for vmlinux
  Mech mech = Mech::fentry;
  std::string why;
  // kprobe/kretprobe attached as a kprobe.multi link (fprobe): its program runs with
  // preemption disabled, so no other task's run on that CPU is skipped.
  bool multi = false;
};

struct Skipped {
  Fn fn = Fn::unknown;
  std::string symbol;
  std::string why;
};

struct PlanOptions {
  bool kprobes = false;   // -k: kprobe/kretprobe instead of fentry/fexit
};

struct Plan {
  std::vector<PlannedProbe> probes;
  std::vector<Skipped> skipped;       // functions this kernel lacks or we decline
  std::vector<std::string> notices;   // one line each, shown once at start
  std::vector<std::string> missing;   // required functions that cannot be probed
  bool put_complete = false;
  std::string put_reason;                // why complete / partial (one line)
  std::vector<std::string> put_evidence; // the code analysis' findings
  bool locks_complete = false;
  bool watch_mutexes = false;         // mutex_* probes planned (gpuva.lock kernels)
  // Logical name → symbol when they differ (written as the event's "symbol").
  std::string_view symbol_for(Fn fn) const;
};

Plan make_plan(const KernelFacts& k, const PlanOptions& o);

// Parses /sys/kernel/tracing/available_filter_functions text into the two
// traceable sets of `k` (names of interest only; `module` "" = GPUVM built in).
void parse_filter_functions(std::string_view text, const std::string& module, KernelFacts& k);

// The GNU build-id note as /sys/module/M/notes/.note.gnu.build-id holds it →
// lowercase hex; "" when the bytes are not such a note.
std::string parse_build_id_note(std::string_view bytes);

// Every kernel function name the plan may look up (for BTF queries).
const std::vector<std::string_view>& gpuvm_function_names();
const std::vector<std::string_view>& lock_function_names();

}  // namespace gvt::bpf
