// SPDX-License-Identifier: GPL-2.0-only
// The in-memory form of one trace record. Every reader (JSON Lines, .gvt, the live
// ring buffer) produces these; the lifecycle model and every writer consume them.
// Field names and meanings follow ../shared/docs/trace-format.md exactly.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decode/fn_table.h"

namespace gvt {

// Logical kernel functions of trace-format.md, from decode/fn_table.h. The numeric
// values are part of the .gvt format (decode/GVT-FORMAT.md): append only, never renumber.
#define GVT_FN_CXX_ENUMERATOR_(group, num, name, ...) name = num,
enum class Fn : uint8_t {
  unknown = 0,
  GVT_FUNCTIONS(GVT_FN_CXX_ENUMERATOR_)
  count_
};
#undef GVT_FN_CXX_ENUMERATOR_

// What decode/fn_table.h says of one function (see the column list there).
enum class FnGroup : uint8_t { GPUVM, LOCK, TP };
enum class FnRet : uint8_t { NONE, PTR, BOOL, INT };
enum class FnPhases : uint8_t { BOTH, ENTRY, EXIT };
struct FnInfo {
  Fn fn;
  FnGroup group;
  std::string_view symbol;   // = the trace-format name
  std::string_view alt;      // symbol tried when `symbol` is not traceable, or ""
  uint8_t nargs;
  FnRet ret;
  FnPhases phases;
  std::string_view absent;   // why a kernel may lack it, or ""
};
#define GVT_FN_INFO_(group, num, name, sym, alt, nargs, ret, phases, absent) \
  FnInfo{Fn::name, FnGroup::group, sym, alt, nargs, FnRet::ret, FnPhases::phases, absent},
inline constexpr FnInfo kFunctions[] = {GVT_FUNCTIONS(GVT_FN_INFO_)};
#undef GVT_FN_INFO_
// Numbered 1.. in table order: kFunctions[i] describes Fn(i + 1).
constexpr bool fn_table_dense() {
  for (size_t i = 0; i < std::size(kFunctions); ++i)
    if (static_cast<size_t>(kFunctions[i].fn) != i + 1) return false;
  return std::size(kFunctions) + 1 == static_cast<size_t>(Fn::count_);
}
static_assert(fn_table_dense(), "decode/fn_table.h: numbers must be 1, 2, ... in order");
// Valid for every f in (Fn::unknown, Fn::count_).
constexpr const FnInfo& fn_info(Fn f) { return kFunctions[static_cast<size_t>(f) - 1]; }

std::string_view fn_name(Fn f);                // "" for unknown
Fn fn_from_name(std::string_view name);        // Fn::unknown when not a known name

enum class Phase : uint8_t { entry = 0, exit = 1 };

// The one three-valued fact type: JSON booleans that may be absent, the "yes"/"no"/
// "unknown" snapshot keys, header features and the model's answers. `absent` is kept
// apart from an explicit `unknown` only so that a conversion reproduces the input
// exactly; the model reads every fact through unknown_if_absent() and never sees
// `absent`. The values are the 2-bit encoding of Event::small and of .gvt (a JSON
// boolean slot holds absent/no/yes only): never renumber.
enum class Tri : uint8_t { absent = 0, no = 1, yes = 2, unknown = 3 };
inline bool is_yes(Tri t) { return t == Tri::yes; }
inline bool is_no(Tri t) { return t == Tri::no; }
inline bool is_known(Tri t) { return t == Tri::yes || t == Tri::no; }
inline bool is_present(Tri t) { return t != Tri::absent; }
inline Tri tri_of(bool b) { return b ? Tri::yes : Tri::no; }
inline Tri unknown_if_absent(Tri t) { return t == Tri::absent ? Tri::unknown : t; }
// "yes", "no" or "unknown" (also for absent).
inline std::string_view tri_name(Tri t) { return t == Tri::yes ? "yes" : t == Tri::no ? "no" : "unknown"; }

// Wide (64-bit) optional fields of an event, one bit each in Event::present. The
// order is the on-disk order of .gvt: append only.
enum Field : uint32_t {
  // args
  A_GPUVM = 0, A_OBJ, A_VM_BO, A_VA, A_LOCK, A_CTX, A_R_OBJ, A_OPS, A_EXEC,
  A_FLAGS, A_NUM_FENCES, A_NAME /* string */,
  RET /* see RetKind */,
  // snapshot
  S_VM, S_OBJ, S_VM_FLAGS, S_VM_KREF, S_VM_RESV, S_BO_RESV, S_BO_REFCOUNT, S_REFCOUNT,
  S_OPS_VM_BO_ALLOC, S_OPS_VM_BO_FREE, S_VM_NAME /* string */,
  STACK, SYMBOL /* string */,
  // Extension (optional snap key "gem_list_same_vm"): number of vm_bos of this VM on
  // obj->gpuva.list, from a bounded walk (32) at obtain*/find exit; absent when the
  // walk did not complete. Feeds duplicate-vm-bo (walk form).
  S_GEM_LIST_SAME_VM,
  // snap key "vm_bo" (trace-format.md: drm_gpuva_unlink[_defer] carry `va` in args and
  // `va->vm_bo` read at entry in snap). Kept apart from A_VM_BO so conversion is exact;
  // consumers wanting "the vm_bo of this event" read A_VM_BO, else S_VM_BO.
  S_VM_BO,
  FIELD_COUNT_
};
static_assert(FIELD_COUNT_ <= 32);
constexpr uint32_t bit(Field f) { return 1u << f; }

// Two-bit optional booleans / tri-states, packed in Event::small. Order is on-disk.
enum Small : uint32_t {
  A_EVICT = 0,  // JSON boolean (Tri absent/no/yes)
  S_ON_GEM, S_ON_EXTOBJ, S_ON_EVICT, S_ON_DEFER, S_EVICTED, S_N_VA_NONZERO,  // JSON booleans
  S_HELD_VM_RESV, S_HELD_BO_RESV, S_HELD_GPUVA_LOCK, S_HELD,                 // "yes"/"no"/"unknown"
  SMALL_COUNT_
};
static_assert(SMALL_COUNT_ <= 16);

enum class RetKind : uint8_t { none = 0, addr = 1, err = 2, boolean = 3, integer = 4 };

struct Event {
  uint64_t ts = 0;
  uint64_t line = 0;      // JSONL line number (0 when not read from JSONL)
  int32_t pid = 0;
  int32_t tid = 0;
  uint32_t cpu = 0;
  bool has_cpu = false;
  Fn fn = Fn::unknown;
  Phase phase = Phase::entry;
  RetKind ret_kind = RetKind::none;
  uint32_t present = 0;   // bit(Field)
  uint32_t small = 0;     // 2 bits per Small
  std::string_view comm;  // owned by the reader's string store; valid while it lives
  std::string_view name;  // A_NAME
  std::string_view vm_name;  // S_VM_NAME
  std::string_view symbol;   // SYMBOL
  uint64_t v[FIELD_COUNT_] = {};  // value of each wide field; strings use the views above

  bool has(Field f) const { return present & bit(f); }
  uint64_t get(Field f) const { return v[f]; }
  std::optional<uint64_t> opt(Field f) const {
    if (has(f)) return v[f];
    return std::nullopt;
  }
  void set(Field f, uint64_t x) { present |= bit(f); v[f] = x; }
  // Signed view of a wide field (refcounts, kref, ret integers, errno).
  int64_t sget(Field f) const { return static_cast<int64_t>(v[f]); }

  unsigned small_raw(Small s) const { return (small >> (2 * s)) & 3u; }
  void set_small_raw(Small s, unsigned x) {
    small = (small & ~(3u << (2 * s))) | ((x & 3u) << (2 * s));
  }
  Tri tri(Small s) const { return static_cast<Tri>(small_raw(s)); }
  void set_tri(Small s, Tri x) { set_small_raw(s, static_cast<unsigned>(x)); }

  // ret helpers (valid when has(RET)); ret_kind says how to read v[RET].
  bool ret_is_null() const { return ret_kind == RetKind::addr && v[RET] == 0; }
  bool ret_is_ptr() const { return ret_kind == RetKind::addr && v[RET] != 0; }
  int64_t ret_int() const { return static_cast<int64_t>(v[RET]); }
};

// A wide field's value, or `otherwise` when the event does not carry it (addresses:
// 0 means unknown throughout the model).
inline uint64_t arg(const Event& e, Field f, uint64_t otherwise = 0) { return e.has(f) ? e.get(f) : otherwise; }

struct Frame {
  uint64_t addr = 0;
  std::string sym;     // empty = absent
  std::string module;  // empty = absent
};

struct StackRec {
  uint64_t id = 0;
  std::vector<Frame> frames;
  uint64_t line = 0;
};

struct Lost {
  uint64_t count = 0;
  std::optional<uint64_t> ts;
  std::optional<uint32_t> cpu;
  uint64_t line = 0;
};

struct Header {
  int version = 1;
  std::string kernel;
  std::string clock;
  Tri feat_deferred = Tri::absent;
  Tri feat_gpuva_mutex = Tri::absent;
  Tri feat_immediate_mode = Tri::absent;
  Tri feat_prealloc_self_locks = Tri::absent;
  // coverage: "complete" / "partial" / "" (absent = unknown, treated as partial)
  std::string coverage_put;
  std::string coverage_locks;
  std::string coverage_put_reason;  // optional: why put coverage is complete / partial
  // optional: probed functions holding an inlined vm_bo put that no bo_put event shows
  // (the code analysis' finding); the model applies drm_gpuva_unlink's at its exit only
  // when it is listed (on x86 the same unlink is followed by a real, probed put).
  std::vector<std::string> coverage_put_inlined_in;
  bool redacted = false;
  // The header exactly as read (JSON object text), so free keys survive conversion.
  std::string raw_json;
  uint64_t line = 0;
};

struct Footer {
  std::optional<uint64_t> events;
  std::optional<uint64_t> lost;
  std::optional<uint64_t> duration_ns;
  uint64_t line = 0;
};

// A record the reader does not understand (unknown type, or an event naming a
// function this version does not know). Kept verbatim so conversion loses nothing.
struct Opaque {
  std::string json;
  std::string type;  // the record's "type", for counting
  bool unknown_fn = false;
  uint64_t line = 0;
};

// Receives records in file order. Readers call exactly one on_header first.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void on_header(const Header&) = 0;
  virtual void on_event(const Event&) = 0;
  virtual void on_lost(const Lost&) = 0;
  virtual void on_stack(const StackRec&) = 0;
  virtual void on_footer(const Footer&) = 0;
  virtual void on_opaque(const Opaque&) {}
  // --keep-going: a malformed line was skipped; every later finding rests on an
  // incomplete trace.
  virtual void on_skipped(uint64_t /*line*/, std::string_view /*why*/) {}
};

}  // namespace gvt
