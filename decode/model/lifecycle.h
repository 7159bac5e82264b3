// SPDX-License-Identifier: GPL-2.0-only
// The vm_bo lifecycle state machine of vm_bo-lifecycle.md §D, laid out like the spec:
// states (§D.2) as distinct types so that attributes such as n_va only exist while the
// memory is alive, identity by (address, generation) (§D.1), adoption (§D.7), the VM
// table, and the transitions T1–T15 (§D.4) as named functions of LifecycleTable.
// Rules (model/rules/) read this state; only the transitions write it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <tsl/robin_map.h>

#include "decode/event.h"
#include "decode/model/big_alloc.h"
#include "decode/model/checker.h"

namespace gvt::model {

enum class Origin : uint8_t { observed, adopted };

// Kernel addresses share their low bits (slab strides, alignment); robin_map masks the
// hash with a power of two, so the identity std::hash would cluster them badly.
struct AddrHash {
  size_t operator()(uint64_t x) const {
    // murmur3 fmix64
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
};

// Who did something to a lifecycle, when and from where: the evidence findings quote
// (KASAN's "Allocated by" / "Freed by"). 24 bytes, so every live vm_bo can carry two;
// stacks are the trace's deduplicated stack ids, never copies.
struct Who {
  uint64_t ts = 0;
  uint32_t line = 0;         // JSONL line; 0 = none (or beyond 4 G lines)
  uint32_t stack = 0;        // stack id + 1; 0 = no stack
  int32_t tid = 0;
  uint32_t comm : 24 = 0;    // interned comm id (0 = unknown)
  uint32_t fn : 7 = 0;       // Fn of the event
  uint32_t adopted : 1 = 0;  // `created` only: first seen, its creation was not observed
  bool known() const { return ts != 0 || tid != 0 || line != 0; }
};
static_assert(sizeof(Who) == 24);
static_assert(static_cast<unsigned>(Fn::count_) <= 128);

// §D.2 attributes, alive only in ALLOCATED / REGISTERED and frozen in ZOMBIE.
struct Attrs {
  uint64_t vm = 0;            // 0 = unknown
  uint64_t obj = 0;           // 0 = unknown
  uint64_t bo_resv = 0;       // last snapshot of obj->resv, 0 = unknown
  uint64_t last_ts = 0;       // last event naming this lifecycle (vm-bo-leak --idle)
  uint64_t sync_epoch = 0;    // lost-epoch when created/adopted/re-synchronised
  uint64_t gain_seq = 0;      // event seq of the last observed reference gain
  uint64_t drop_seq = 0;      // event seq of the last observed reference drop (T10 ret 0)
  int32_t refcount = 0;       // last snapshot (never reconstructed: gets are invisible)
  int32_t n_va = 0;           // VAs linked while observed (exact iff n_va_exact)
  uint32_t vm_gen = 0;        // generation of the VM this lifecycle counts against
  Tri extobj = Tri::unknown;      // on vm->extobj.list
  Tri external = Tri::unknown;    // obj->resv != VM resv
  Tri evicted = Tri::unknown;
  Tri on_evict = Tri::unknown;
  bool refcount_known = false;
  bool n_va_exact = false;    // false: links older than the observation may exist
  Origin origin = Origin::observed;
  bool reported_extobj_missing = false;  // one report per root cause
  bool reported_saturated = false;
  bool in_suspects = false;   // listed in Model::extobj_suspects
  bool indexed = false;       // listed in Model::registered
  Who created;                // T1 (or first sight, `adopted`)
  Who last_ref;               // last observed reference change (or creation)
};

struct Allocated { Attrs a; };
struct Registered { Attrs a; };
struct Zombie { Attrs a; uint64_t pushed_seq = 0; };
// Terminal. A small tombstone is all that survives (use-after-free / double-put need
// when, where and by whom the generation died).
struct Destroyed {
  uint64_t ts = 0;
  uint64_t vm = 0, obj = 0;
  uint64_t epoch = 0;         // lost-epoch at destruction
  uint64_t line = 0;
  int32_t tid = 0;
  uint32_t comm = 0;          // interned comm id
  bool observed = true;       // false: closed as destroyed-unobserved (§D.1)
  bool certain = true;        // the lifecycle was certain when it ended
  Who created;                // carried over from the live generation
  Who by;                     // the event that destroyed it (stack included)
};

// The alternatives' order is relied on by Slot::life() and Slot::attrs().
using State = std::variant<Allocated, Registered, Zombie, Destroyed>;
static_assert(std::is_same_v<std::variant_alternative_t<0, State>, Allocated> &&
              std::is_same_v<std::variant_alternative_t<1, State>, Registered> &&
              std::is_same_v<std::variant_alternative_t<2, State>, Zombie> &&
              std::is_same_v<std::variant_alternative_t<3, State>, Destroyed>);

struct Slot {
  uint32_t gen = 0;
  State st;

  // Asked on nearly every event: inline, from the variant's index.
  LifeState life() const {
    switch (st.index()) {
      case 0: return LifeState::allocated;
      case 1: return LifeState::registered;
      case 2: return LifeState::zombie;
      default: return LifeState::destroyed;
    }
  }
  bool alive() const { return !std::holds_alternative<Destroyed>(st); }
  Attrs* attrs() {            // nullptr when DESTROYED
    switch (st.index()) {
      case 0: return &std::get<0>(st).a;
      case 1: return &std::get<1>(st).a;
      case 2: return &std::get<2>(st).a;
      default: return nullptr;
    }
  }
  const Attrs* attrs() const { return const_cast<Slot*>(this)->attrs(); }
  const Destroyed* dead() const { return std::get_if<Destroyed>(&st); }
};

// A VM (§A.1): generation bumps at drm_gpuvm_init.
struct VmState {
  uint32_t gen = 0;
  bool partial = true;        // first seen after drm_gpuvm_init: counts unknown
  bool flags_known = false;
  bool ops_seen = false;      // alloc-free-asymmetric looked at this gen's ops
  uint32_t flags = 0;
  uint64_t resv = 0;          // vm->r_obj->resv, 0 = unknown
  uint64_t init_epoch = 0;    // lost-epoch at init (losses after it: uncertain)
  int64_t live_gens = 0;      // live vm_bo generations counted against this VM gen
  int64_t inserted_vas = 0;   // drm_gpuva_insert minus remove, observed
  // Pending vm-bo-leak-at-vm-destroy (a): decided at the vm_put exit.
  int32_t put_tid = 0;
  bool put_pending = false;
  bool put_unknown = false;   // the (a) check could not be decided at entry
  const char* put_unknown_why = nullptr;
  int64_t put_kref = 0;
  uint64_t put_line = 0, put_ts = 0;
  std::vector<std::pair<uint64_t, uint32_t>> zombies;  // (address, gen), lazily pruned
};

// Hooks the table calls when a lifecycle starts or ends (summary, observer, VM counts).
struct LifecycleEvents {
  virtual ~LifecycleEvents() = default;
  virtual void lifecycle_started(uint64_t addr, Slot& s) = 0;
  virtual void lifecycle_ended(uint64_t addr, uint32_t gen, const Attrs& a) = 0;
};

// Who/when a destruction happened, recorded into the tombstone.
struct DeathInfo {
  uint64_t ts = 0, line = 0, epoch = 0;
  int32_t tid = 0;
  uint32_t comm = 0;
  bool certain = true;
  Who who;                    // the same, with the stack, for findings' evidence
};

class LifecycleTable {
 public:
  explicit LifecycleTable(LifecycleEvents& ev, size_t tombstone_cap = 1u << 16);

  Slot* find(uint64_t addr) {
    // The events of one call, and of the calls of one operation, name the same vm_bo
    // while other tasks' operations interleave: a small direct-mapped cache of recent
    // lookups answers most of them without touching the index.
    const auto& c = cache_[cache_pos(addr)];
    if (c.first == addr && c.second) return c.second;
    return find_slow(addr);
  }
  size_t size() const { return index_.size(); }
  template <class F> void for_each(F&& f) {
    for (auto it = index_.begin(); it != index_.end(); ++it) f(it->first, slot(it->second));
  }

  // T1: bo_create returned `addr`. A still-live latest generation is first closed as
  // destroyed-unobserved (returned in *closed_gen, 0 if none).
  Slot& t1_create(uint64_t addr, const Attrs& a, const DeathInfo& now, uint32_t* closed_gen);
  // §D.7: first sight of an address (or a fresh generation the create of which was not
  // observed): the state comes from the snapshot.
  Slot& adopt(uint64_t addr, LifeState st, const Attrs& a, const DeathInfo& now);
  // T2 / T3: ALLOCATED → REGISTERED (obtain created it / prealloc registered).
  static void t2_register(Slot& s);
  // T2' / T4 (found side) / T5: a reference gain on a REGISTERED vm_bo.
  static void t2b_ref_gain(Slot& s, uint64_t seq, const Who& by);
  // T6: extobj := snapshot.
  static void t6_extobj(Slot& s, Tri on_extobj);
  // T7: evicted := e; on_evict := snapshot.
  static void t7_evict(Slot& s, Tri evict, Tri on_evict);
  // T8: link: ref +1, n_va +1 (VA → key is recorded by the caller).
  static void t8_link(Slot& s, uint64_t seq, const Who& by);
  // T9: unlink: n_va −1 (the put follows as its own event on K612).
  static void t9_unlink(Slot& s);
  // T10 (ret 0) / T13 (iterator put): ref −1.
  static void t10_ref_drop(Slot& s, uint64_t seq, const Who& by);
  // T10 (ret 1), T4 (pre-allocation released), T12 (cleanup), T13: → DESTROYED.
  void destroy(uint64_t addr, Slot& s, const DeathInfo& d, bool observed = true);
  // T11: → ZOMBIE.
  static void t11_zombie(Slot& s, uint64_t seq, const Who& by);

 private:
  // Slots live in fixed-size chunks that never move, so a Slot& stays valid until its
  // address is erased; the hash table holds only address -> slot number (16-byte
  // buckets), so probing and growing it touch a tenth of the memory whole slots did.
  // One chunk is one huge page (big_alloc.h).
  static constexpr uint32_t kChunk = kHugePage / sizeof(Slot);
  Slot& slot(uint32_t i) { return chunks_[i / kChunk][i % kChunk]; }
  struct ChunkFree {
    void operator()(Slot* p) const noexcept {
      std::destroy_n(p, kChunk);
      big_unmap(p, kHugePage);
    }
  };
  Slot* find_slow(uint64_t addr);
  // The slot at `addr`, a fresh default one (gen 0) if the address is not in the table.
  Slot& get_or_add(uint64_t addr);
  void erase(BigMap<uint64_t, uint32_t, AddrHash>::iterator it);

  LifecycleEvents& ev_;
  BigMap<uint64_t, uint32_t, AddrHash> index_;
  std::vector<std::unique_ptr<Slot[], ChunkFree>> chunks_;
  uint32_t used_ = 0;                 // slots handed out from the chunks so far
  std::vector<uint32_t> free_;        // slot numbers given back by erase()
  // find() cache (slots never move); an entry is dropped when its address is erased.
  static size_t cache_pos(uint64_t addr) { return (addr * 0x9e3779b97f4a7c15ull) >> 56; }
  std::array<std::pair<uint64_t, Slot*>, 256> cache_{};
  // Tombstones in order of death; the oldest are dropped beyond the cap so memory is
  // bounded by live objects plus a constant (a dropped tombstone only turns a later
  // certain double-put/use-after-free into an adoption judged from its snapshot).
  std::vector<std::pair<uint64_t, uint32_t>> ring_;
  size_t ring_head_ = 0;
  size_t cap_;
};

}  // namespace gvt::model
