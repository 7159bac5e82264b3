// SPDX-License-Identifier: GPL-2.0-only
// `gpuvm-trace replay`: the history of each vm_bo lifecycle, one block per (address,
// generation), with the state change every event caused and the findings inline.
// A block is printed when its lifecycle closes (or at the end of the trace), so memory
// grows with the live vm_bos only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "decode/event.h"
#include "decode/model/checker.h"
#include "decode/model/finding.h"

namespace gvt::cli {

struct ReplayOptions {
  bool json = false;
  bool color = false;
  bool info = false;
  std::optional<uint64_t> vm_bo;   // --vm-bo: only this address (every generation)
  std::optional<uint32_t> gen;     // --vm-bo ADDR#GEN: only this generation
  std::optional<uint64_t> vm;      // --vm
  std::optional<int32_t> tid;      // --tid: only events (and findings) of this task
  // --rule: only lifecycles with a finding (the checker's filter passes only the asked
  // rules' findings), each with its whole history.
  bool only_with_findings = false;
};

// Both an observer of the model's transitions and the sink of its findings, so that
// each finding lands under the event that triggered it whichever callback the
// checker calls first.
class ReplayPrinter : public TransitionObserver, public FindingSink {
 public:
  ReplayPrinter(ReplayOptions opts, std::FILE* out);
  void set_stack_lookup(std::function<const StackRec*(uint64_t)> stacks);

  void on_applied(const Event& e, std::span<const Transition> touched) override;
  void on_closed(uint64_t vm_bo, uint32_t gen) override;
  void on_finding(const Finding& f) override;

  // End of trace: prints every block still open, in order of first appearance.
  void finish();

  uint64_t blocks_printed() const { return printed_; }

 private:
  struct Step {
    uint64_t ts = 0;
    uint64_t line = 0;
    int32_t tid = 0;
    std::string comm;
    Fn fn = Fn::unknown;
    Phase phase = Phase::entry;
    LifeState from = LifeState::none;
    LifeState to = LifeState::none;
    std::string note;
    uint64_t seq = 0;               // which applied event (to attach late findings)
    std::vector<Finding> findings;
  };
  struct Block {
    uint64_t vm_bo = 0;
    uint32_t gen = 0;
    uint64_t vm = 0;
    uint64_t obj = 0;
    uint64_t order = 0;             // first appearance, for end-of-trace order
    bool adopted = false;
    bool closing = false;
    LifeState first_from = LifeState::none;
    bool has_first = false;
    uint64_t last_seq = 0;          // last applied event listed in this block
    LifeState state = LifeState::none;
    std::vector<Step> steps;
    std::vector<Finding> pending;   // findings not (yet) matched to an event
  };
  struct Key {
    uint64_t vm_bo;
    uint32_t gen;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>{}(k.vm_bo * 0x9e3779b97f4a7c15ull ^ k.gen);
    }
  };

  bool wants_vm_bo(uint64_t vm_bo, uint32_t gen) const;
  static bool touches(std::span<const Transition> touched, const Key& k);
  void add_step(Block& b, const Event& e, LifeState from, LifeState to, const std::string& note);
  Block& block(uint64_t vm_bo, uint32_t gen);
  void flush_closing(const Event* e, std::span<const Transition> touched);
  void emit(Block& b);
  void emit_text(const Block& b);
  void emit_json(const Block& b);
  void emit_loose(const Finding& f);

  ReplayOptions opts_;
  std::FILE* out_;
  std::function<const StackRec*(uint64_t)> stacks_;
  std::unordered_map<Key, Block, KeyHash> blocks_;
  std::unordered_map<uint64_t, uint32_t> latest_gen_;  // for findings without a gen
  std::vector<Key> closing_;
  std::vector<Key> with_pending_;  // blocks holding findings not yet matched to an event
  uint64_t t0_ = 0;
  bool have_t0_ = false;
  uint64_t seq_ = 0;
  uint64_t order_ = 0;
  uint64_t printed_ = 0;
};

}  // namespace gvt::cli
