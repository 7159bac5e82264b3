// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/raw_decode.h"

#include <bit>
#include <cstddef>
#include <cstring>

#include "bpf/gpuvm_trace.h"

namespace gvt {

// The BPF side writes gvt::Field / gvt::Small bit numbers directly; these pin the
// two enumerations together so that a change on either side fails to compile.
constexpr int I(int x) { return x; }
static_assert(I(GVT_FIELD_COUNT_) == I(FIELD_COUNT_));
static_assert(I(GVT_A_NAME) == I(A_NAME) && I(GVT_RET) == I(RET) && I(GVT_S_VM) == I(S_VM) &&
              I(GVT_S_REFCOUNT) == I(S_REFCOUNT) && I(GVT_S_VM_NAME) == I(S_VM_NAME) &&
              I(GVT_STACK) == I(STACK) && I(GVT_SYMBOL) == I(SYMBOL) &&
              I(GVT_S_GEM_LIST_SAME_VM) == I(S_GEM_LIST_SAME_VM) && I(GVT_S_VM_BO) == I(S_VM_BO));
static_assert(I(GVT_SMALL_COUNT_) == I(SMALL_COUNT_) && I(GVT_A_EVICT) == I(A_EVICT) &&
              I(GVT_S_N_VA_NONZERO) == I(S_N_VA_NONZERO) && I(GVT_S_HELD) == I(S_HELD));
static_assert(GVT_FN_COUNT_ == static_cast<int>(Fn::count_) &&
              GVT_FN_bo_put == static_cast<int>(Fn::bo_put) &&
              GVT_FN_ww_mutex_unlock == static_cast<int>(Fn::ww_mutex_unlock) &&
              GVT_FN_sys_exit == static_cast<int>(Fn::sys_exit));
static_assert(static_cast<unsigned>(Tri::yes) == GVT_V_YES &&
              static_cast<unsigned>(Tri::unknown) == GVT_V_UNKNOWN &&
              static_cast<unsigned>(Tri::no) == GVT_V_NO);

std::string_view raw_status_text(RawStatus s) {
  switch (s) {
    case RawStatus::ok: return "ok";
    case RawStatus::short_record: return "record shorter than its header";
    case RawStatus::bad_magic: return "record magic mismatch (BPF object of another version)";
    case RawStatus::bad_kind: return "unknown record kind";
    case RawStatus::bad_size: return "record size inconsistent with its contents";
    case RawStatus::bad_field: return "function, phase or return kind out of range";
  }
  return "?";
}

namespace {

std::string_view fixed_str(const char* p, size_t n) { return {p, strnlen(p, n)}; }

// The return register as the ABI defines it for each kind (the BPF side copies the
// whole register; the bits above a bool or int are undefined).
void set_ret(Event& e, uint8_t kind, uint64_t raw) {
  switch (kind) {
    case GVT_RET_PTR:
      if (raw >= static_cast<uint64_t>(-4095)) {
        e.ret_kind = RetKind::err;  // ERR_PTR(-errno)
      } else {
        e.ret_kind = RetKind::addr;
      }
      e.v[RET] = raw;
      break;
    case GVT_RET_BOOL:
      e.ret_kind = RetKind::boolean;
      e.v[RET] = (raw & 0xff) != 0;
      break;
    case GVT_RET_INT:
      e.ret_kind = RetKind::integer;
      e.v[RET] = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(raw)));
      break;
    default:
      e.ret_kind = RetKind::none;
      break;
  }
}

}  // namespace

RawStatus RawDecoder::decode(const void* data, size_t size, RawEvent& out) {
  if (size < sizeof(gvt_raw_hdr)) return RawStatus::short_record;
  gvt_raw_hdr h;
  std::memcpy(&h, data, sizeof h);
  if (h.magic != GVT_RAW_MAGIC) return RawStatus::bad_magic;
  if (h.kind != GVT_RAW_EVENT) return RawStatus::bad_kind;
  if (size < GVT_RAW_EVENT_HEAD_SIZE) return RawStatus::short_record;
  if (h.size < GVT_RAW_EVENT_HEAD_SIZE || h.size > size || h.size > sizeof(gvt_raw_event))
    return RawStatus::bad_size;

  // Read in place, field by field (a ring-buffer sample is only 8-byte aligned, a
  // caller's buffer maybe not at all, hence memcpy): copying the whole ~400-byte
  // record into a zeroed struct first was a fifth of the live consumer's time under
  // TCG. Every read below lies inside h.size, checked before it.
  const auto* p = static_cast<const unsigned char*>(data);
  auto at = [p](size_t off, auto& x) { std::memcpy(&x, p + off, sizeof x); };
  uint8_t fn = 0, phase = 0, ret_kind = 0, probe = 0;
  int32_t stack_id = -1;
  uint32_t present_raw = 0, small = 0;
  at(offsetof(gvt_raw_event, fn), fn);
  at(offsetof(gvt_raw_event, phase), phase);
  at(offsetof(gvt_raw_event, ret_kind), ret_kind);
  at(offsetof(gvt_raw_event, probe), probe);
  at(offsetof(gvt_raw_event, stack_id), stack_id);
  at(offsetof(gvt_raw_event, present), present_raw);
  at(offsetof(gvt_raw_event, small), small);
  static_assert(offsetof(gvt_raw_event, small) + sizeof(uint32_t) <= GVT_RAW_EVENT_HEAD_SIZE);
  if (fn == 0 || fn >= GVT_FN_COUNT_ || phase > GVT_PH_EXIT || ret_kind > GVT_RET_INT) return RawStatus::bad_field;
  // Every present value must lie inside the record: the highest one is the last.
  uint32_t present = present_raw & ((1u << FIELD_COUNT_) - 1) & ~(bit(STACK) | bit(SYMBOL));
  if (present && offsetof(gvt_raw_event, v) + (32u - std::countl_zero(present)) * sizeof(uint64_t) > h.size)
    return RawStatus::bad_size;
  if ((present & bit(A_NAME)) && offsetof(gvt_raw_event, name) + sizeof(gvt_raw_event::name) > h.size)
    return RawStatus::bad_size;
  if ((present & bit(S_VM_NAME)) && offsetof(gvt_raw_event, vm_name) + sizeof(gvt_raw_event::vm_name) > h.size)
    return RawStatus::bad_size;

  // The Event is reused: values of fields the previous record had and this one lacks
  // go back to 0 (clearing all of it per record cost more than the decoding).
  Event& e = out.ev;
  for (uint32_t stale = e.present & ~present; stale; stale &= stale - 1) e.v[std::countr_zero(stale)] = 0;
  e.name = e.vm_name = e.symbol = {};
  e.line = 0;
  e.ret_kind = RetKind::none;
  e.ts = h.ts;
  e.pid = static_cast<int32_t>(h.pid);
  e.tid = static_cast<int32_t>(h.tid);
  e.cpu = h.cpu;
  e.has_cpu = true;
  // Consecutive records mostly come from one task: its comm bytes are compared whole.
  static_assert(sizeof h.comm == sizeof last_comm_);
  if (last_comm_view_.data() == nullptr || std::memcmp(h.comm, last_comm_, sizeof last_comm_) != 0) {
    std::memcpy(last_comm_, h.comm, sizeof last_comm_);
    last_comm_view_ = strings_.intern(fixed_str(h.comm, sizeof h.comm));
  }
  e.comm = last_comm_view_;
  e.fn = static_cast<Fn>(fn);
  e.phase = phase == GVT_PH_EXIT ? Phase::exit : Phase::entry;
  // Stack ids and probed symbols are user space's to assign.
  e.present = present;
  e.small = small & ((1u << (2 * SMALL_COUNT_)) - 1);
  for (uint32_t m = present; m; m &= m - 1) {
    unsigned f = static_cast<unsigned>(std::countr_zero(m));
    at(offsetof(gvt_raw_event, v) + f * sizeof(uint64_t), e.v[f]);
  }
  if (e.has(RET)) set_ret(e, ret_kind, e.v[RET]);
  if (e.has(A_NAME))
    e.name = strings_.intern(fixed_str(reinterpret_cast<const char*>(p + offsetof(gvt_raw_event, name)),
                                       sizeof(gvt_raw_event::name)));
  if (e.has(S_VM_NAME))
    e.vm_name = strings_.intern(fixed_str(reinterpret_cast<const char*>(p + offsetof(gvt_raw_event, vm_name)),
                                          sizeof(gvt_raw_event::vm_name)));
  e.v[A_NAME] = e.v[S_VM_NAME] = 0;

  out.mechanism = probe;
  out.stack_id = stack_id;
  out.drop_seq = h.drop_seq;
  return RawStatus::ok;
}

}  // namespace gvt
