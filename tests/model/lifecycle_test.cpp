// SPDX-License-Identifier: GPL-2.0-only
// The state machine of §D: transitions, identity by (address, generation), adoption,
// call matching per task, lost-event uncertainty, bounded tombstones.
#include <gtest/gtest.h>

#include <map>

#include "decode/model/lifecycle.h"
#include "decode/model/rule_ids.h"
#include "tests/model/builder.h"

namespace gvt::test {
namespace {

namespace id = gvt::model::rules::id;

// Records what replay would show.
class Recorder : public TransitionObserver {
 public:
  void on_applied(const Event& e, std::span<const Transition> touched) override {
    applied++;
    for (const auto& t : touched) log.push_back(t);
  }
  void on_closed(uint64_t vm_bo, uint32_t gen) override { closed.emplace_back(vm_bo, gen); }
  size_t applied = 0;
  std::vector<Transition> log;
  std::vector<std::pair<uint64_t, uint32_t>> closed;
};

TEST(Lifecycle, ObtainWithNestedCreateRegistersAndPutDestroys) {
  Recorder r;
  Feed f(Feed::k612(), {}, &r);
  f.init(V, 0, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes);
  f.put(B, 1, true);
  f.unlock(Gr);
  ASSERT_EQ(r.log.size(), 3u);
  EXPECT_EQ(r.log[0].to, LifeState::allocated);   // T1
  EXPECT_EQ(r.log[1].from, LifeState::allocated);  // T2: created inside this obtain
  EXPECT_EQ(r.log[1].to, LifeState::registered);
  EXPECT_EQ(r.log[2].to, LifeState::destroyed);    // T10 ret 1
  EXPECT_EQ(r.log[2].gen, 1u);
  EXPECT_EQ(r.applied, f.chk.summary().events);    // once per event, touched or not
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_EQ(r.closed[0], std::make_pair(B, 1u));
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(Lifecycle, ObtainFoundIsRefGain) {
  Recorder r;
  Feed f(Feed::k612(), {}, &r);
  f.init(V, 0, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes);
  r.log.clear();
  f.entry(Fn::bo_obtain).a(A_GPUVM, V).a(A_OBJ, G).held(Tri::no, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_obtain).a(A_GPUVM, V).a(A_OBJ, G).ret_addr(B).send();
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_EQ(r.log[0].from, LifeState::registered);
  EXPECT_EQ(r.log[0].to, LifeState::registered);
  EXPECT_EQ(r.log[0].note, "ref +1");
}

// T7 takes the entry's `evict` argument: the entry keeps it as a model answer and the
// exit must read it back as one (it was once reinterpreted as a JSON boolean, which
// turned yes into no and absent into yes).
TEST(Lifecycle, EvictTakesTheEntrysArgument) {
  for (int arg : {1, 0, -1}) {  // evict = true, false, absent
    Recorder r;
    Feed f(Feed::k612(), {}, &r);
    f.init(V, 0, R);
    f.lock(Gr);
    f.obtain_new(B, G, Gr, Tri::yes);
    r.log.clear();
    Ev en = f.entry(Fn::bo_evict);
    en.a(A_VM_BO, B).vmbo(V, G, Gr, 1, true).held(Tri::no, Tri::yes, Tri::yes);
    if (arg >= 0) en.b(A_EVICT, arg == 1);
    en.send();
    f.exit(Fn::bo_evict).a(A_VM_BO, B).send();
    ASSERT_EQ(r.log.size(), 1u) << arg;
    EXPECT_EQ(r.log[0].note, arg == 1 ? "evicted" : "evict") << arg;
  }
}

TEST(Lifecycle, AddressReuseStartsANewGeneration) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes);
  f.link(VA, B, 1);
  // B over-put and freed (destroy-while-mapped), then the slab hands B out again.
  f.put(B, 1, true, true);
  f.obtain_new(B, G, Gr, Tri::yes);
  EXPECT_EQ(f.chk.summary().vm_bos, 2u);
  // The VA still names generation 1: unlinking it now is a use-after-free even though
  // the address is live again.
  f.entry(Fn::va_unlink).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true).held(Tri::no, Tri::yes, Tri::yes).send();
  const Finding* uaf = f.sink.first(id::use_after_free);
  ASSERT_NE(uaf, nullptr) << f.sink.dump();
  EXPECT_EQ(uaf->gen, 1u);
  EXPECT_EQ(f.sink.violations(id::destroy_while_mapped), 1u) << f.sink.dump();
}

TEST(Lifecycle, CreateAtLiveAddressClosesDestroyedUnobserved) {
  Recorder r;
  Feed f(Feed::k612(), {}, &r);
  f.init(V, 0, R);
  f.create(B, V, G);
  f.create(B, V, G);  // the end of generation 1 was not observed
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_EQ(r.closed[0], std::make_pair(B, 1u));
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  // A put of generation 2 is normal; generation 1's history rules are disabled.
  f.put(B, 1, true);
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(Lifecycle, AdoptionFromSnapshot) {
  Recorder r;
  Feed f(Feed::k612(), {}, &r);
  // No init, no create: objects older than the trace.
  f.put(B, 2, false, true);
  ASSERT_GE(r.log.size(), 1u);
  EXPECT_TRUE(r.log[0].adopted);
  EXPECT_EQ(r.log[0].to, LifeState::registered);
  // An adopted zombie (refcount 0, on bo_defer) put again is a double put by snapshot.
  Feed g(Feed::knew());
  g.entry(Fn::bo_put_deferred).a(A_VM_BO, B2).vmbo(V, G, Gr, 0, false, false, false, 3)
      .b(S_ON_DEFER, true).held(Tri::no, Tri::no, Tri::no).send();
  EXPECT_EQ(g.sink.violations(id::double_put), 1u) << g.sink.dump();
}

TEST(Lifecycle, MidflightObjectsAndLocksGiveNoViolation) {
  Feed f(Feed::k612());
  // The VM, B and the BO lock all predate the trace; snapshots show them.
  f.link(VA, B, 2);
  f.entry(Fn::va_unlink).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 3, true, false, true)
      .held(Tri::no, Tri::yes, Tri::yes).send();
  f.put(B, 3, false, true);
  f.exit(Fn::va_unlink).a(A_VA, VA).send();
  f.unlock(Gr, Tri::yes);
  f.entry(Fn::sys_exit).send();
  f.finish();
  EXPECT_EQ(f.sink.total_violations(), 0u) << f.sink.dump();
}

TEST(Lifecycle, UnmatchedExitsAreCountedNotViolations) {
  Feed f(Feed::k612());
  f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(false).send();         // trace started mid-call
  f.exit(Fn::bo_extobj_add).a(A_VM_BO, B).send();
  f.exit(Fn::ww_mutex_lock).a(A_LOCK, Gr).a(A_CTX, 0).ret_int(0).send();  // entry optional
  f.exit(Fn::va_insert).a(A_GPUVM, V).a(A_VA, VA).ret_int(0).send();       // exit-only
  EXPECT_EQ(f.chk.summary().unmatched_exits, 2u);
  EXPECT_EQ(f.sink.total_violations(), 0u) << f.sink.dump();
}

TEST(Lifecycle, NestedPutInsideUnlinkAndPrepareInsideExecLock) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes);
  f.link(VA, B, 1);
  f.entry(Fn::vm_exec_lock).a(A_GPUVM, V).send();
  f.entry(Fn::vm_prepare_objects).a(A_GPUVM, V).send();
  f.exit(Fn::vm_prepare_objects).a(A_GPUVM, V).ret_int(0).send();
  f.exit(Fn::vm_exec_lock).a(A_GPUVM, V).ret_int(0).send();
  f.entry(Fn::va_unlink).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 2, true, false, true)
      .held(Tri::no, Tri::yes, Tri::yes).send();
  f.put(B, 2, false, false);
  f.exit(Fn::va_unlink).a(A_VA, VA).send();
  f.put(B, 1, true);
  f.unlock(Gr);
  EXPECT_EQ(f.chk.summary().unmatched_exits, 0u);
  EXPECT_EQ(f.sink.total_violations(), 0u) << f.sink.dump();
}

TEST(Lifecycle, MutexCallsInsideWwMutexAreIgnored) {
  Feed f(Feed::k612());
  f.entry(Fn::ww_mutex_lock).a(A_LOCK, Gr).a(A_CTX, 0).t(S_HELD, Tri::no).send();
  f.entry(Fn::mutex_lock).a(A_LOCK, Gr).send();
  f.exit(Fn::mutex_lock).a(A_LOCK, Gr).send();
  f.exit(Fn::ww_mutex_lock).a(A_LOCK, Gr).a(A_CTX, 0).ret_int(0).send();
  f.entry(Fn::ww_mutex_unlock).a(A_LOCK, Gr).t(S_HELD, Tri::yes).send();
  f.entry(Fn::mutex_unlock).a(A_LOCK, Gr).send();  // inside ww_mutex_unlock
  f.entry(Fn::sys_exit).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  EXPECT_EQ(f.chk.summary().unmatched_exits, 0u);
}

TEST(Lifecycle, LostEventsForgetHeldLocksAndMakeLifecyclesUncertain) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  f.lock(Gr);
  f.unlock(Gr);
  f.lost(5);
  // Without evidence after the loss, a sys_exit claim or an unlock claim is impossible.
  f.unlock(Gr, Tri::absent);
  f.entry(Fn::sys_exit).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  EXPECT_EQ(f.chk.summary().lost, 5u);
}

TEST(Lifecycle, ResyncAfterLossFromAFullSnapshot) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes);
  f.lost();
  // A full snapshot (refcount + on_gem) re-synchronises B: history rules apply again.
  f.put(B, 1, true);
  f.entry(Fn::bo_put).a(A_VM_BO, B).send();
  EXPECT_EQ(f.sink.violations(id::double_put), 1u) << f.sink.dump();
}

TEST(Lifecycle, UnlinkDeferGainDuringCallIsUncertain) {
  Feed f(Feed::knew());
  f.init(V, 3, R);
  f.create(B, V, G);
  f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, 3)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_obtain_prealloc).a(A_VM_BO, B).ret_addr(B).send();
  f.entry(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, 3)
      .held(Tri::no, Tri::no, Tri::yes).send();
  f.exit(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).send();
  f.entry(Fn::va_unlink_defer).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, true, 3)
      .held(Tri::no, Tri::no, Tri::no).send();
  // Another task gains a reference before the unlink returns: ZOMBIE is not certain.
  f.entry(Fn::bo_find, 200).a(A_GPUVM, V).a(A_OBJ, G).held(Tri::no, Tri::no, Tri::yes).a(S_VM_FLAGS, 3).send();
  f.exit(Fn::bo_find, 200).a(A_GPUVM, V).a(A_OBJ, G).ret_addr(B).send();
  f.exit(Fn::va_unlink_defer).a(A_VA, VA).send();
  // A put now is not a certain double put.
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).a(S_VM_FLAGS, 3).held(Tri::no, Tri::no, Tri::no).send();
  EXPECT_EQ(f.sink.violations(id::double_put), 0u) << f.sink.dump();
  EXPECT_EQ(f.sink.unknowns(id::double_put), 1u) << f.sink.dump();
}

// Tombstones are bounded: memory does not grow with the number of objects ever freed.
struct NullEvents : model::LifecycleEvents {
  void lifecycle_started(uint64_t, model::Slot&) override {}
  void lifecycle_ended(uint64_t, uint32_t, const model::Attrs&) override {}
};

TEST(Lifecycle, TombstonesAreBounded) {
  NullEvents ev;
  model::LifecycleTable t(ev, 16);
  model::DeathInfo d;
  for (uint64_t i = 0; i < 1000; i++) {
    uint64_t addr = 0xffff888000000000 + i * 0x60;
    uint32_t closed = 0;
    model::Slot& s = t.t1_create(addr, model::Attrs{}, d, &closed);
    t.destroy(addr, s, d);
  }
  EXPECT_LE(t.size(), 17u);
  // The newest tombstones are still there.
  model::Slot* last = t.find(0xffff888000000000 + 999 * 0x60);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->life(), LifeState::destroyed);
}

TEST(Lifecycle, IncompleteTraceMarksLaterFindings) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  f.chk.on_skipped(3, "bad json");
  f.obtain_new(B, G, Gr, Tri::no);
  ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
  EXPECT_TRUE(f.sink.all[0].incomplete_trace);
  EXPECT_EQ(f.chk.summary().skipped_lines, 1u);
}

TEST(Lifecycle, SummaryCounts) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  f.obtain_new(B, G, Gr, Tri::no);                    // obtain-unlocked error
  f.chk.on_opaque(Opaque{"{}", "weird", false, 9});
  f.chk.on_opaque(Opaque{"{}", "event", true, 10});
  f.chk.on_footer(Footer{});
  const Summary& s = f.chk.summary();
  EXPECT_EQ(s.violations, 1u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.unknown_records, 1u);
  EXPECT_EQ(s.unknown_fn, 1u);
  EXPECT_TRUE(s.footer);
  EXPECT_EQ(s.vm_bos, 1u);
}

TEST(Lifecycle, StackRecordsAreKeptForPrinting) {
  Feed f(Feed::k612());
  StackRec st;
  st.id = 7;
  st.frames.push_back(Frame{0xffffffffc0a1b2c0, "drm_gpuvm_bo_extobj_add+0x0", "drm_gpuvm"});
  f.chk.on_stack(st);
  ASSERT_NE(f.chk.stack(7), nullptr);
  EXPECT_EQ(f.chk.stack(7)->frames.size(), 1u);
  EXPECT_EQ(f.chk.stack(8), nullptr);
  f.init(V, 0, R);
  f.entry(Fn::bo_obtain).a(A_GPUVM, V).a(A_OBJ, G).held(Tri::no, Tri::no, Tri::no).a(STACK, 7).send();
  ASSERT_EQ(f.sink.all.size(), 1u);
  EXPECT_TRUE(f.sink.all[0].has_stack);
  EXPECT_EQ(f.sink.all[0].stack, 7u);
}

}  // namespace
}  // namespace gvt::test
