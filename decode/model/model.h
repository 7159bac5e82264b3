// SPDX-License-Identifier: GPL-2.0-only
// The checker's internal state, shared by the event dispatcher (checker.cpp), the
// evidence helpers (evidence.cpp) and the rules (rules/*.cpp). Not a public header.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tsl/robin_map.h>

#include "decode/event.h"
#include "decode/json_text.h"
#include "decode/model/checker.h"
#include "decode/model/finding.h"
#include "decode/model/lifecycle.h"
#include "decode/model/stats.h"
#include "decode/model/tasks.h"

namespace gvt::model {

// Errno values the lock results are compared with (§C.1).
inline constexpr int64_t kEALREADY = -114;

// A three-valued answer and, when unknown, which evidence is missing.
struct Ans {
  Tri v = Tri::unknown;
  const char* why = "";
  static Ans yes() { return {Tri::yes, ""}; }
  static Ans no() { return {Tri::no, ""}; }
  static Ans unknown(const char* w) { return {Tri::unknown, w}; }
};

// Which lock protects a GEM's vm_bo list (§A.3, §C.4).
enum class GpuvaLock : uint8_t { bo_resv, gem_mutex, unknown };

struct LinkRec {
  uint64_t vm_bo = 0;
  uint64_t epoch = 0;  // lost-epoch at link
  uint32_t gen = 0;
};

// One VA: the vm_bo key recorded at drm_gpuva_link (§D.1) and whether a
// drm_gpuva_insert of it was observed (per-VM VA counts). One map for both keeps the
// per-VA memory to a single bucket.
struct VaRec {
  uint64_t vm_bo = 0;
  uint64_t vm = 0;       // VM it was inserted into
  uint64_t epoch = 0;    // lost-epoch at link
  uint32_t gen = 0;
  bool linked = false;
  bool inserted = false;
};

// What a finding is about.
struct Subject {
  uint64_t vm_bo = 0;
  uint32_t gen = 0;
  uint64_t vm = 0;
  uint64_t obj = 0;
};

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    AddrHash h;
    return h(p.first ^ h(p.second));
  }
};

class Model : public LifecycleEvents {
 public:
  Model(CheckerOptions opts, FindingSink& sink, TransitionObserver* obs);

  // ---- configuration from the header ----
  CheckerOptions opts;
  FindingSink& sink;
  TransitionObserver* observer;
  Tri feat_deferred = Tri::unknown;
  Tri feat_gpuva_mutex = Tri::unknown;
  Tri feat_immediate = Tri::unknown;
  Tri feat_self_locks = Tri::unknown;  // prealloc_self_locks, inferred when absent
  bool put_complete_hdr = false;   // header coverage.put == "complete"
  // header coverage.put_inlined_in lists drm_gpuva_unlink: its put of va->vm_bo is
  // inlined (no bo_put event), applied at unlink's exit from the entry's snapshot
  bool unlink_puts = false;
  bool locks_complete = false;     // header coverage.locks == "complete"
  bool put_coverage_broken = false;  // an obtain returned a vm_bo whose create we missed

  // ---- running state ----
  Summary summary;
  std::unique_ptr<StatsCollector> stats;  // --stats only
  uint64_t seq = 0;                // events seen (sequence numbers)
  uint64_t lost_epoch = 0;         // bumps at every lost record
  uint64_t last_ts = 0;
  bool incomplete = false;         // a line was skipped (--keep-going)
  uint32_t pending_vm_puts = 0;    // VMs with an undecided vm-bo-leak-at-vm-destroy (a)
  uint32_t vm_gens = 0;            // VM generations across all addresses (identity of a VM gen)
  LifecycleTable table;
  tsl::robin_map<uint64_t, VmState, AddrHash> vms;  // insert/erase only via vm() / vm_erase()
  // vm_if() cache, direct-mapped by address; cleared when `vms` changes shape.
  std::array<std::pair<uint64_t, VmState*>, 64> vm_cache{};
  void vm_cache_clear() { vm_cache.fill({0, nullptr}); }
  tsl::robin_map<int32_t, Task, AddrHash> tasks;
  // task_of() cache, direct-mapped by tid; cleared when `tasks` grows (entries move).
  std::array<std::pair<int32_t, Task*>, 64> task_cache{};
  BigMap<uint64_t, VaRec, AddrHash> vas;          // per VA: link key and insertion
  BigMap<std::pair<uint64_t, uint64_t>, uint64_t, PairHash> registered;  // (vm,obj) → vm_bo
  tsl::robin_map<uint64_t, uint32_t, AddrHash> extobj_suspects;  // vm_bo → gen: mapped, external, not on extobj
  tsl::robin_map<uint64_t, StackRec, AddrHash> stacks;
  std::vector<std::string> comms{std::string()};
  tsl::robin_map<std::string, uint32_t> comm_ids;
  std::vector<Transition> touched;
  // Frame of an exit whose entry was not seen, or of an entry dropped because its task's
  // stack is full; both live for one event only.
  Frame scratch_frame;
  // While an exit is handled: its matched entry's frame. Findings decided at an exit
  // carry the entry's stack, which (unlike a return probe's) names the call itself.
  const Frame* exit_frame = nullptr;
  // The event being applied and its task (nullptr between events): transitions stamp
  // who made them (Who) without every handler passing the event along.
  const Event* cur_event = nullptr;
  const Task* cur_task = nullptr;

  // ---- helpers (evidence.cpp) ----
  bool put_complete() const { return put_complete_hdr && !put_coverage_broken; }
  bool uncertain(const Attrs& a) const;
  bool vm_uncertain(const VmState& v) const { return v.partial || v.init_epoch != lost_epoch; }
  const char* vm_uncertain_why(const VmState& v) const;
  // A tombstone good enough for history rules (double-put / use-after-free).
  Ans tombstone_certain(const Destroyed& d) const;
  VmState& vm(uint64_t addr);      // creates a partial VM on first sight
  // Inline: asked several times per event, nearly always answered by vm_cache.
  VmState* vm_if(uint64_t addr) {
    const auto& c = vm_cache[(addr >> 12 ^ addr >> 6) & 63];
    if (c.first == addr && c.second) return c.second;
    return vm_if_slow(addr);
  }
  VmState* vm_if_slow(uint64_t addr);
  void vm_erase(uint64_t addr);
  uint64_t event_vm(const Event& e, const Attrs* a) const {
    if (e.has(A_GPUVM)) return e.get(A_GPUVM);
    if (e.has(S_VM)) return e.get(S_VM);
    if (a) return a->vm;
    return 0;
  }
  Ans protected_vm(const Event& e, uint64_t vm);
  Ans immediate_vm(const Event& e, uint64_t vm);
  GpuvaLock gpuva_lock_kind(const Event& e, uint64_t vm, const char** why);
  Ans external(const Event& e, const Attrs* a, uint64_t vm);
  Ans held_vm_resv(const Event& e, Task& t, uint64_t vm);
  Ans held_bo_resv(const Event& e, Task& t, const Attrs* a);
  Ans held_gpuva(const Event& e, Task& t, const Attrs* a, uint64_t vm);
  // Whether current holds the GEM's own gpuva.lock mutex (the lock the self-locking
  // calls take regardless of the mode the gpuva lock resolves to).
  Ans held_gem_mutex(const Event& e, uint64_t vm);
  // What this task's held set says about `addr`; only trusted with complete lock
  // coverage (an unobserved lock or unlock would leave it stale).
  Tri task_held(Task& t, uint64_t addr) const { return locks_complete ? t.held(addr) : Tri::unknown; }
  uint32_t intern_comm(std::string_view c);
  std::string_view comm(uint32_t id) const { return id < comms.size() ? std::string_view(comms[id]) : std::string_view(); }
  DeathInfo death(const Event& e, const Task& t, bool certain = true) const;
  // The event `e` of task `t` as evidence: time, task, line and the call's stack (an
  // exit quotes its entry's stack, which names the call itself).
  Who who(const Event& e, const Task& t) const;
  Who who_now() const { return cur_event && cur_task ? who(*cur_event, *cur_task) : Who{}; }
  // Evidence for a finding about `subj` (history) or at `e` (held locks).
  void add_evidence(Finding& f, const Event* e, const Subject& subj) const;
  Attrs attrs_from_snapshot(const Event& e, uint64_t vm, uint64_t obj) const;
  LifeState adopted_state(const Event& e, bool* sure) const;
  // The latest generation at `addr`, adopting one from the event's snapshot if the
  // address was never seen (§D.7).
  Slot* slot_for(uint64_t addr, const Event& e, const Task& t, uint64_t vm = 0, uint64_t obj = 0);
  // Re-synchronises an uncertain lifecycle from a full entry snapshot.
  void resync(Slot& s, const Event& e);
  // Records a transition for replay; nothing to do (and nothing built) without an observer.
  void note(uint64_t addr, const Slot& s, LifeState from, std::string_view text, bool adopted = false) {
    if (observer) note_for_observer(addr, s, from, text, adopted);
  }
  void note_for_observer(uint64_t addr, const Slot& s, LifeState from, std::string_view text, bool adopted);
  void update_suspect(uint64_t addr, const Slot& s);

  // ---- findings ----
  void report(FindingKind kind, std::string_view rule, Severity sev, const Event* e,
              const Subject& subj, std::string text);
  void violation(std::string_view rule, Severity sev, const Event& e, const Subject& s,
                 std::string msg) {
    report(FindingKind::violation, rule, sev, &e, s, std::move(msg));
  }
  void unknown(std::string_view rule, Severity sev, const Event& e, const Subject& s,
               std::string why) {
    report(FindingKind::unknown, rule, sev, &e, s, std::move(why));
  }
  void info(std::string_view rule, const Event* e, const Subject& s, std::string msg);

  // LifecycleEvents
  void lifecycle_started(uint64_t addr, Slot& s) override;
  void lifecycle_ended(uint64_t addr, uint32_t gen, const Attrs& a) override;
};

}  // namespace gvt::model
