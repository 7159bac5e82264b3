// SPDX-License-Identifier: GPL-2.0-only
// Ring-buffer records → events: every record kind, every return kind, and every
// way a record can be malformed.
#include <cstddef>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "bpf/gpuvm_trace.h"
#include "bpf/raw_decode.h"

namespace gvt {
namespace {

gvt_raw_event base_event(uint8_t fn, uint8_t phase) {
  gvt_raw_event r;
  std::memset(&r, 0xa5, sizeof r);  // garbage everywhere a field is absent
  r.hdr.magic = GVT_RAW_MAGIC;
  r.hdr.kind = GVT_RAW_EVENT;
  r.hdr.size = GVT_RAW_EVENT_SIZE;
  r.hdr.ts = 5012345678;
  r.hdr.cpu = 1;
  r.hdr.pid = 151;
  r.hdr.tid = 152;
  std::memset(r.hdr.comm, 0, sizeof r.hdr.comm);
  std::strcpy(r.hdr.comm, "insmod");
  r.fn = fn;
  r.phase = phase;
  r.ret_kind = GVT_RET_NONE;
  r.stack_id = -1;
  r.probe = 0;
  r.present = 0;
  r.small = 0;
  return r;
}

void set_v(gvt_raw_event& r, int f, uint64_t x) {
  r.present |= 1u << f;
  r.v[f] = x;
}
void set_small(gvt_raw_event& r, int s, unsigned x) { r.small |= (x & 3u) << (2 * s); }

// Bytes of a record as the ring buffer would hand them over.
std::vector<uint8_t> bytes(const gvt_raw_event& r, size_t size) {
  std::vector<uint8_t> b(size);
  std::memcpy(b.data(), &r, std::min(size, sizeof r));
  return b;
}

RawStatus decode(RawDecoder& d, const std::vector<uint8_t>& b, RawEvent& out) {
  return d.decode(b.data(), b.size(), out);
}

TEST(RawDecode, VmBoEventWithSnapshotAndStack) {
  gvt_raw_event r = base_event(GVT_FN_bo_extobj_add, GVT_PH_ENTRY);
  set_v(r, GVT_A_VM_BO, 0xffff9e3a022c45a0);
  set_v(r, GVT_S_VM, 0xffff9e3a01a86600);
  set_v(r, GVT_S_REFCOUNT, static_cast<uint64_t>(-1));  // saturated: negative
  set_v(r, GVT_S_VM_FLAGS, 1);
  set_small(r, GVT_S_ON_GEM, GVT_V_YES);
  set_small(r, GVT_S_ON_EXTOBJ, GVT_V_NO);
  set_small(r, GVT_S_HELD_VM_RESV, GVT_V_NO);
  set_small(r, GVT_S_HELD_GPUVA_LOCK, GVT_V_UNKNOWN);
  r.present |= 1u << GVT_STACK | 1u << GVT_SYMBOL;  // user space's to set: dropped
  r.stack_id = 42;
  RawDecoder d;
  RawEvent out;
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::ok);
  const Event& e = out.ev;
  EXPECT_EQ(e.fn, Fn::bo_extobj_add);
  EXPECT_EQ(e.phase, Phase::entry);
  EXPECT_EQ(e.ts, 5012345678u);
  EXPECT_EQ(e.pid, 151);
  EXPECT_EQ(e.tid, 152);
  EXPECT_TRUE(e.has_cpu);
  EXPECT_EQ(e.cpu, 1u);
  EXPECT_EQ(e.comm, "insmod");
  EXPECT_EQ(e.get(A_VM_BO), 0xffff9e3a022c45a0u);
  EXPECT_EQ(e.sget(S_REFCOUNT), -1);
  EXPECT_EQ(e.get(S_VM_FLAGS), 1u);
  EXPECT_FALSE(e.has(A_GPUVM));
  EXPECT_FALSE(e.has(RET));
  EXPECT_FALSE(e.has(STACK));
  EXPECT_FALSE(e.has(SYMBOL));
  EXPECT_EQ(e.tri(S_ON_GEM), Tri::yes);
  EXPECT_EQ(e.tri(S_ON_EXTOBJ), Tri::no);
  EXPECT_EQ(e.tri(S_ON_EVICT), Tri::absent);
  EXPECT_EQ(e.tri(S_HELD_VM_RESV), Tri::no);
  EXPECT_EQ(e.tri(S_HELD_GPUVA_LOCK), Tri::unknown);
  EXPECT_EQ(e.tri(S_HELD_BO_RESV), Tri::absent);
  EXPECT_EQ(out.stack_id, 42);
}

TEST(RawDecode, InitCarriesNames) {
  gvt_raw_event r = base_event(GVT_FN_gpuvm_init, GVT_PH_EXIT);
  set_v(r, GVT_A_GPUVM, 0x1000);
  r.present |= 1u << GVT_A_NAME | 1u << GVT_S_VM_NAME;
  std::memset(r.name, 0, sizeof r.name);
  std::strcpy(r.name, "exerciser-vm");
  std::memset(r.vm_name, 'x', sizeof r.vm_name);  // full, not NUL-terminated
  RawDecoder d;
  RawEvent out;
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::ok);
  EXPECT_EQ(out.ev.fn, Fn::gpuvm_init);
  EXPECT_EQ(out.ev.phase, Phase::exit);
  EXPECT_EQ(out.ev.name, "exerciser-vm");
  EXPECT_EQ(out.ev.vm_name, std::string(GVT_NAME_LEN, 'x'));
  EXPECT_EQ(out.stack_id, -1);
}

TEST(RawDecode, ReturnKinds) {
  RawDecoder d;
  RawEvent out;
  struct Case {
    uint8_t fn, kind;
    uint64_t raw;
    RetKind want;
    uint64_t value;
  } cases[] = {
      {GVT_FN_bo_create, GVT_RET_PTR, 0xffff9e3a022c45a0, RetKind::addr, 0xffff9e3a022c45a0},
      {GVT_FN_bo_find, GVT_RET_PTR, 0, RetKind::addr, 0},
      {GVT_FN_bo_obtain, GVT_RET_PTR, static_cast<uint64_t>(-12), RetKind::err, static_cast<uint64_t>(-12)},
      // Only the low byte of a bool is defined by the ABI.
      {GVT_FN_bo_put, GVT_RET_BOOL, 0xdeadbeef00000100, RetKind::boolean, 0},
      {GVT_FN_bo_put, GVT_RET_BOOL, 0xdeadbeef00000001, RetKind::boolean, 1},
      // Only the low 32 bits of an int.
      {GVT_FN_ww_mutex_lock, GVT_RET_INT, 0x12345678ffffffdd, RetKind::integer, static_cast<uint64_t>(-35)},
      {GVT_FN_ww_mutex_trylock, GVT_RET_INT, 0xffffffff00000001, RetKind::integer, 1},
  };
  for (const Case& c : cases) {
    gvt_raw_event r = base_event(c.fn, GVT_PH_EXIT);
    r.ret_kind = c.kind;
    set_v(r, GVT_RET, c.raw);
    ASSERT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::ok);
    EXPECT_TRUE(out.ev.has(RET));
    EXPECT_EQ(out.ev.ret_kind, c.want) << int(c.fn);
    EXPECT_EQ(out.ev.get(RET), c.value) << int(c.fn);
  }
}

TEST(RawDecode, LockAndSysExitRecords) {
  RawDecoder d;
  RawEvent out;
  // Lock records end after v[RET].
  gvt_raw_event r = base_event(GVT_FN_ww_mutex_unlock, GVT_PH_ENTRY);
  r.hdr.size = GVT_RAW_LOCK_SIZE;
  set_v(r, GVT_A_LOCK, 0xffff9e3a01a86700);
  set_small(r, GVT_S_HELD, GVT_V_NO);
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::ok);
  EXPECT_EQ(out.ev.fn, Fn::ww_mutex_unlock);
  EXPECT_EQ(out.ev.get(A_LOCK), 0xffff9e3a01a86700u);
  EXPECT_EQ(out.ev.tri(S_HELD), Tri::no);

  r = base_event(GVT_FN_ww_mutex_lock, GVT_PH_EXIT);
  r.hdr.size = GVT_RAW_LOCK_SIZE;
  set_v(r, GVT_A_LOCK, 0xffff9e3a01a86700);
  set_v(r, GVT_A_CTX, 0);
  r.ret_kind = GVT_RET_INT;
  set_v(r, GVT_RET, 0);
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::ok);
  EXPECT_EQ(out.ev.get(A_CTX), 0u);
  EXPECT_TRUE(out.ev.has(A_CTX));
  EXPECT_EQ(out.ev.ret_kind, RetKind::integer);

  r = base_event(GVT_FN_sys_exit, GVT_PH_ENTRY);
  r.hdr.size = GVT_RAW_LOCK_SIZE;
  r.probe = 2;
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::ok);
  EXPECT_EQ(out.ev.fn, Fn::sys_exit);
  EXPECT_EQ(out.ev.present, 0u);
  EXPECT_EQ(out.mechanism, 2);
}

TEST(RawDecode, CommIsInternedAndStable) {
  RawDecoder d;
  RawEvent a, b;
  gvt_raw_event r = base_event(GVT_FN_bo_put, GVT_PH_ENTRY);
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), a), RawStatus::ok);
  std::string_view first = a.ev.comm;
  std::strcpy(r.hdr.comm, "kworker/0:1");
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), b), RawStatus::ok);
  EXPECT_EQ(first, "insmod");  // still valid after another decode
  EXPECT_EQ(b.ev.comm, "kworker/0:1");
  std::strcpy(r.hdr.comm, "insmod");
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), b), RawStatus::ok);
  EXPECT_EQ(b.ev.comm.data(), first.data());  // same storage: no new allocation
}

// The tracer decodes every record into one RawEvent: nothing of a record may show in
// the next one, which lacks those fields (values, names, the stack and symbol the
// tracer added, the return kind).
TEST(RawDecode, ReusedEventShowsNothingOfThePreviousRecord) {
  RawDecoder d;
  RawEvent out;
  gvt_raw_event init = base_event(GVT_FN_gpuvm_init, GVT_PH_EXIT);
  set_v(init, GVT_A_GPUVM, 0xffff9e3a01a86600);
  set_v(init, GVT_S_VM_KREF, 1);
  init.present |= 1u << GVT_A_NAME | 1u << GVT_S_VM_NAME;
  std::strcpy(init.name, "vm-a");
  std::strcpy(init.vm_name, "vm-a");
  ASSERT_EQ(decode(d, bytes(init, init.hdr.size), out), RawStatus::ok);
  out.ev.set(STACK, 7);  // as the tracer does
  out.ev.symbol = "drm_gpuvm_init";
  out.ev.set(SYMBOL, 0);
  gvt_raw_event create = base_event(GVT_FN_bo_create, GVT_PH_EXIT);
  create.ret_kind = GVT_RET_PTR;
  set_v(create, GVT_RET, 0xffff9e3a022c45a0);
  std::strcpy(create.hdr.comm, "kworker/0:1");
  ASSERT_EQ(decode(d, bytes(create, create.hdr.size), out), RawStatus::ok);
  EXPECT_EQ(out.ev.present, bit(RET));
  EXPECT_EQ(out.ev.get(RET), 0xffff9e3a022c45a0u);
  EXPECT_EQ(out.ev.ret_kind, RetKind::addr);
  for (Field f : {A_GPUVM, S_VM_KREF, A_NAME, S_VM_NAME, STACK, SYMBOL}) EXPECT_EQ(out.ev.v[f], 0u) << f;
  EXPECT_TRUE(out.ev.name.empty());
  EXPECT_TRUE(out.ev.vm_name.empty());
  EXPECT_TRUE(out.ev.symbol.empty());
  EXPECT_EQ(out.ev.comm, "kworker/0:1");
  gvt_raw_event put = base_event(GVT_FN_bo_put, GVT_PH_ENTRY);
  set_v(put, GVT_A_VM_BO, 0xffff9e3a022c45a0);
  ASSERT_EQ(decode(d, bytes(put, put.hdr.size), out), RawStatus::ok);
  EXPECT_EQ(out.ev.present, bit(A_VM_BO));
  EXPECT_EQ(out.ev.v[RET], 0u);
  EXPECT_EQ(out.ev.ret_kind, RetKind::none);
  EXPECT_EQ(out.ev.comm, "insmod");
  // Another RawEvent in between does not confuse the comm of this one.
  RawEvent other;
  std::strcpy(put.hdr.comm, "other");
  ASSERT_EQ(decode(d, bytes(put, put.hdr.size), other), RawStatus::ok);
  ASSERT_EQ(decode(d, bytes(put, put.hdr.size), out), RawStatus::ok);
  EXPECT_EQ(out.ev.comm, "other");
}

TEST(RawDecode, UnalignedBuffer) {
  gvt_raw_event r = base_event(GVT_FN_bo_put, GVT_PH_ENTRY);
  set_v(r, GVT_A_VM_BO, 0xffff9e3a022c45a0);
  std::vector<uint8_t> b(r.hdr.size + 1);
  std::memcpy(b.data() + 1, &r, r.hdr.size);
  RawDecoder d;
  RawEvent out;
  ASSERT_EQ(d.decode(b.data() + 1, r.hdr.size, out), RawStatus::ok);
  EXPECT_EQ(out.ev.get(A_VM_BO), 0xffff9e3a022c45a0u);
}

// GPUVM records other than gpuvm_init's end before the names: every value fits, a
// name claimed present does not, and a value cut by the end is refused.
TEST(RawDecode, GpuvmSizeRecords) {
  static_assert(GVT_RAW_GPUVM_SIZE == offsetof(gvt_raw_event, name));
  static_assert(GVT_RAW_LOCK_SIZE < GVT_RAW_GPUVM_SIZE && GVT_RAW_GPUVM_SIZE < GVT_RAW_EVENT_SIZE);
  RawDecoder d;
  RawEvent out;
  gvt_raw_event r = base_event(GVT_FN_va_unlink, GVT_PH_ENTRY);
  r.hdr.size = GVT_RAW_GPUVM_SIZE;
  set_v(r, GVT_A_VA, 0xffff9e3a022c4000);
  set_v(r, GVT_S_REFCOUNT, 1);
  set_v(r, GVT_S_VM_BO, 0xffff9e3a022c45a0);  // the last value slot
  ASSERT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::ok);
  EXPECT_EQ(out.ev.get(S_VM_BO), 0xffff9e3a022c45a0u);
  EXPECT_EQ(out.ev.get(S_REFCOUNT), 1u);
  EXPECT_TRUE(out.ev.name.empty());
  EXPECT_TRUE(out.ev.vm_name.empty());

  gvt_raw_event bad = r;
  bad.present |= 1u << GVT_A_NAME;
  EXPECT_EQ(decode(d, bytes(bad, bad.hdr.size), out), RawStatus::bad_size);
  bad = r;
  bad.present |= 1u << GVT_S_VM_NAME;
  EXPECT_EQ(decode(d, bytes(bad, bad.hdr.size), out), RawStatus::bad_size);
  bad = r;
  bad.hdr.size = GVT_RAW_GPUVM_SIZE - 1;  // S_VM_BO cut short
  EXPECT_EQ(decode(d, bytes(bad, bad.hdr.size), out), RawStatus::bad_size);
  bad = r;  // a ring-buffer sample shorter than the size the record claims
  EXPECT_EQ(decode(d, bytes(bad, GVT_RAW_GPUVM_SIZE - 8), out), RawStatus::bad_size);
}

TEST(RawDecode, MalformedRecordsAreRejected) {
  RawDecoder d;
  RawEvent out;
  gvt_raw_event good = base_event(GVT_FN_bo_put, GVT_PH_ENTRY);

  EXPECT_EQ(d.decode(&good, 0, out), RawStatus::short_record);
  EXPECT_EQ(d.decode(&good, sizeof(gvt_raw_hdr) - 1, out), RawStatus::short_record);
  EXPECT_EQ(d.decode(&good, GVT_RAW_EVENT_HEAD_SIZE - 1, out), RawStatus::short_record);

  gvt_raw_event r = good;
  r.hdr.magic = 0x1234;
  EXPECT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::bad_magic);
  r = good;
  r.hdr.kind = 9;
  EXPECT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::bad_kind);
  r = good;  // claims more than delivered
  EXPECT_EQ(decode(d, bytes(r, GVT_RAW_LOCK_SIZE), out), RawStatus::bad_size);
  r = good;
  r.hdr.size = 8;
  EXPECT_EQ(decode(d, bytes(r, GVT_RAW_EVENT_SIZE), out), RawStatus::bad_size);
  r = good;
  r.hdr.size = GVT_RAW_EVENT_SIZE + 8;  // larger than any record
  EXPECT_EQ(decode(d, bytes(r, GVT_RAW_EVENT_SIZE + 8), out), RawStatus::bad_size);
  // A present value beyond the record's end (a lock-size record with a snapshot).
  r = good;
  r.hdr.size = GVT_RAW_LOCK_SIZE;
  set_v(r, GVT_S_REFCOUNT, 1);
  EXPECT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::bad_size);
  r = good;
  r.hdr.size = GVT_RAW_LOCK_SIZE;
  r.present = 1u << GVT_A_NAME;
  EXPECT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::bad_size);
  r = good;
  r.fn = 0;
  EXPECT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::bad_field);
  r.fn = GVT_FN_COUNT_;
  EXPECT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::bad_field);
  r = good;
  r.phase = 2;
  EXPECT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::bad_field);
  r = good;
  r.ret_kind = 7;
  EXPECT_EQ(decode(d, bytes(r, r.hdr.size), out), RawStatus::bad_field);

  // A ring-buffer sample may be longer than the record it holds (8-byte rounding).
  r = good;
  r.hdr.size = GVT_RAW_LOCK_SIZE;
  EXPECT_EQ(decode(d, bytes(r, GVT_RAW_EVENT_SIZE), out), RawStatus::ok);
  EXPECT_FALSE(raw_status_text(RawStatus::bad_magic).empty());
}

// The BPF side stamps each record with the global drop count; the decoder hands it on
// and the placer reports a loss right before the first record made after it.
TEST(RawDecode, DropSequenceIsHandedOn) {
  gvt_raw_event r = base_event(GVT_FN_bo_put, GVT_PH_ENTRY);
  r.hdr.drop_seq = 4711;
  RawDecoder d;
  RawEvent out;
  ASSERT_EQ(decode(d, bytes(r, GVT_RAW_EVENT_SIZE), out), RawStatus::ok);
  EXPECT_EQ(out.drop_seq, 4711u);
}

TEST(LossPlacer, ReportsEachDropOnceBeforeTheFirstLaterRecord) {
  LossPlacer p;
  EXPECT_EQ(p.before_record(0), 0u);   // no drop yet
  EXPECT_EQ(p.before_record(3), 3u);   // three drops before this record
  EXPECT_EQ(p.before_record(3), 0u);   // already reported
  EXPECT_EQ(p.before_record(2), 0u);   // a record made before the third drop
  EXPECT_EQ(p.from_counter(5, true), 2u);  // two more, no record after them yet
  EXPECT_EQ(p.before_record(5), 0u);   // ... and not again when one arrives
  EXPECT_EQ(p.from_counter(5, true), 0u);
  // The stamp is 32 bits: wrap-around keeps counting.
  LossPlacer w;
  EXPECT_EQ(w.from_counter(0xffffffffull, true), 0xffffffffull);
  EXPECT_EQ(w.before_record(2), 3u);   // 0x1'0000'0002 - 0xffff'ffff
  EXPECT_EQ(w.from_counter(0x100000002ull, true), 0u);
}

// A drain ends; the producers refill the tiny ring (records made before the drop),
// then a drop: the counter says 1 while those records wait. Reported then, the loss
// would precede them; it must come after them, before the first record made after it.
TEST(LossPlacer, ADropIsNotReportedAheadOfRecordsStillInTheRing) {
  LossPlacer p;
  EXPECT_EQ(p.before_record(0), 0u);          // read in the drain
  EXPECT_EQ(p.from_counter(1, false), 0u);    // the ring is not empty: wait
  EXPECT_EQ(p.before_record(0), 0u);          // made before the drop (a create, say)
  EXPECT_EQ(p.before_record(1), 1u);          // the first record made after it
  EXPECT_EQ(p.from_counter(1, true), 0u);
  // No record after a drop: the next drain that finds the ring empty reports it.
  EXPECT_EQ(p.from_counter(3, false), 0u);
  EXPECT_EQ(p.before_record(1), 0u);
  EXPECT_EQ(p.from_counter(3, true), 2u);
}

}  // namespace
}  // namespace gvt
