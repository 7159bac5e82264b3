// SPDX-License-Identifier: GPL-2.0-only
// Each rule of rule_catalog.cpp: a trigger, a near miss, and where it matters the unknown outcome.
#include <gtest/gtest.h>

#include "decode/model/rule_ids.h"
#include "tests/model/builder.h"

namespace gvt::test {
namespace {

namespace id = gvt::model::rules::id;

// A registered, mapped-nowhere vm_bo B of (V, G) on a K612 VM with `flags`.
void registered(Feed& f, uint32_t flags = 0) {
  f.init(V, flags, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes, flags);
  f.unlock(Gr);
}

Ev extobj_add(Feed& f, Tri held_vm, uint64_t obj = G, uint64_t resv = Gr, uint32_t flags = kProt) {
  return std::move(f.entry(Fn::bo_extobj_add).a(A_VM_BO, B).vmbo(V, obj, resv, 1, true, false, false, flags)
                       .held(held_vm, Tri::yes, Tri::yes));
}

// ---------------------------------------------------------------- extobj-add-unlocked
TEST(ExtobjAddUnlocked, PrivateGemIsWarning) {
  Feed f(Feed::k612());
  registered(f, kProt);
  extobj_add(f, Tri::no, P, R).send();
  ASSERT_EQ(f.sink.violations(id::extobj_add_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::extobj_add_unlocked)->severity, Severity::warning);
}

TEST(ExtobjAddUnlocked, NearMissHeldOrUnprotected) {
  Feed f(Feed::k612());
  registered(f, kProt);
  extobj_add(f, Tri::yes).send();
  extobj_add(f, Tri::no, G, Gr, 0).send();  // not RESV_PROTECTED: spinlock path
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(ExtobjAddUnlocked, UnknownWithoutHeldEvidence) {
  Feed f(Feed::k612());
  registered(f, kProt);
  extobj_add(f, Tri::absent).send();
  EXPECT_EQ(f.sink.unknowns(id::extobj_add_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u);
}

TEST(ExtobjAddUnlocked, HeldSetFromObservedLockEvents) {
  Feed f(Feed::k612());
  registered(f, kProt);
  f.lock(R, CTX);
  extobj_add(f, Tri::absent).send();  // held: this task's own lock event says yes
  f.unlock(R);
  extobj_add(f, Tri::absent).send();  // and now it says no
  ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].kind, FindingKind::violation);
}

TEST(ExtobjAddUnlocked, PartialLockCoverageDoesNotTrustLockEvents) {
  Header h = Feed::k612();
  h.coverage_locks = "partial";
  Feed f(h);
  registered(f, kProt);
  f.lock(R, CTX);
  f.unlock(R);
  extobj_add(f, Tri::absent).send();  // an unprobed lock path may have taken it again
  EXPECT_EQ(f.sink.unknowns(id::extobj_add_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u) << f.sink.dump();
}

// ---------------------------------------------------------------- evict-unlocked
TEST(EvictUnlocked, TriggerNearMissUnknown) {
  Feed f(Feed::k612());
  registered(f);
  auto evict = [&](Tri held, int32_t tid = 100) {
    f.entry(Fn::bo_evict, tid).a(A_VM_BO, B).b(A_EVICT, true).vmbo(V, G, Gr, 1, true).held(Tri::no, held, held).send();
    f.exit(Fn::bo_evict, tid).a(A_VM_BO, B).send();
  };
  evict(Tri::yes);
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  evict(Tri::no);
  EXPECT_EQ(f.sink.violations(id::evict_unlocked), 1u) << f.sink.dump();
  // Another task with no snapshot and no lock event of its own on the BO resv.
  evict(Tri::unknown, 200);
  EXPECT_EQ(f.sink.unknowns(id::evict_unlocked), 1u) << f.sink.dump();
  // This task's last snapshot said "not held" and no lock event followed: still no.
  evict(Tri::unknown);
  EXPECT_EQ(f.sink.violations(id::evict_unlocked), 2u) << f.sink.dump();
}

// ---------------------------------------------------------------- obtain-unlocked
TEST(ObtainUnlocked, ObtainWithoutBoResv) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  f.obtain_new(B, G, Gr, Tri::no);
  ASSERT_EQ(f.sink.violations(id::obtain_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
}

TEST(ObtainUnlocked, FindAndNearMiss) {
  Feed f(Feed::k612());
  registered(f);
  f.entry(Fn::bo_find).a(A_GPUVM, V).a(A_OBJ, G).a(S_BO_RESV, Gr).held(Tri::no, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_find).a(A_GPUVM, V).a(A_OBJ, G).ret_addr(B).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  f.entry(Fn::bo_find).a(A_GPUVM, V).a(A_OBJ, G).a(S_BO_RESV, Gr).held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_find).a(A_GPUVM, V).a(A_OBJ, G).ret_addr(B).send();
  EXPECT_EQ(f.sink.violations(id::obtain_unlocked), 1u) << f.sink.dump();
}

TEST(ObtainUnlocked, PreallocOnlyWithoutSelfLocking) {
  for (bool knew : {false, true}) {
    Feed f(knew ? Feed::knew() : Feed::k612());
    uint32_t flags = knew ? kImmProt : kProt;
    f.init(V, flags, R);
    f.create(B, V, G);
    f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, flags)
        .held(Tri::yes, Tri::no, Tri::no).send();
    f.exit(Fn::bo_obtain_prealloc).a(A_VM_BO, B).ret_addr(B).send();
    EXPECT_EQ(f.sink.violations(id::obtain_unlocked), knew ? 0u : 1u) << knew << f.sink.dump();
    EXPECT_EQ(f.sink.all.size(), knew ? 0u : 1u) << f.sink.dump();
  }
}

TEST(ObtainUnlocked, CustomGpuvaLockUnresolvedIsUnknown) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  // The recorder says it could not resolve the gpuva lock (driver-private lock).
  f.entry(Fn::bo_obtain).a(A_GPUVM, V).a(A_OBJ, G).a(S_BO_RESV, Gr)
      .held(Tri::no, Tri::no, Tri::unknown).send();
  EXPECT_EQ(f.sink.unknowns(id::obtain_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u);
}

// ---------------------------------------------------------------- link-unlocked
TEST(LinkUnlocked, ImmediateModeNeedsTheSnapshot) {
  Feed f(Feed::knew());
  f.init(V, kImmProt, R);
  f.create(B, V, G);
  f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_obtain_prealloc).a(A_VM_BO, B).ret_addr(B).send();
  // Holding the BO resv proves nothing in immediate mode: the gpuva lock is the mutex.
  f.entry(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, true, false, kImmProt)
      .t(S_HELD_BO_RESV, Tri::yes).send();
  f.exit(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).send();
  EXPECT_EQ(f.sink.unknowns(id::link_unlocked), 1u) << f.sink.dump();
  f.entry(Fn::va_link).a(A_VA, VA2).a(A_VM_BO, B).vmbo(V, G, Gr, 2, true, true, true, kImmProt)
      .held(Tri::no, Tri::yes, Tri::no).send();
  EXPECT_EQ(f.sink.violations(id::link_unlocked), 1u) << f.sink.dump();
}

TEST(LinkUnlocked, FeaturesAbsentAnswerUnknown) {
  Header h;
  h.coverage_put = "complete";
  h.coverage_locks = "complete";
  Feed f(h);
  f.init(V, 0, R);
  f.entry(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true).t(S_HELD_BO_RESV, Tri::no).send();
  EXPECT_EQ(f.sink.unknowns(id::link_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u) << f.sink.dump();
}

// ---------------------------------------------------------------- put-final-unlocked
TEST(PutFinalUnlocked, NonFinalPutNeedsNoLock) {
  Feed f(Feed::k612());
  registered(f);
  f.link(VA, B, 1);
  f.put(B, 2, false, true, Tri::no, Tri::no);
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(PutFinalUnlocked, ProtectedVmNeedsVmResv) {
  Feed f(Feed::k612());
  registered(f, kProt);
  f.put(B, 1, true, false, Tri::yes, Tri::no, G, Gr, kProt);
  ASSERT_EQ(f.sink.violations(id::put_final_unlocked), 1u) << f.sink.dump();
  EXPECT_NE(f.sink.all[0].message.find("VM's dma-resv"), std::string::npos) << f.sink.all[0].message;
}

// A finding decided at a call's exit carries the entry's stack: a return probe's stack
// lacks the probed function's own frame (the K612 put is a kretprobe on .part.0).
TEST(PutFinalUnlocked, ReportsTheEntryStack) {
  Feed f(Feed::k612());
  registered(f);
  f.entry(Fn::bo_put).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, 0)
      .held(Tri::no, Tri::no, Tri::no).s(STACK, 7).send();
  f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(true).s(STACK, 8).send();
  ASSERT_EQ(f.sink.violations(id::put_final_unlocked), 1u) << f.sink.dump();
  EXPECT_TRUE(f.sink.all[0].has_stack);
  EXPECT_EQ(f.sink.all[0].stack, 7u);
}

// ---------------------------------------------------------------- gem-freed-under-gpuva-lock
TEST(GemFreedUnderGpuvaLock, TriggerAndNearMiss) {
  for (int bo_ref : {1, 2}) {
    Feed f(Feed::knew());
    f.init(V, kImm, R);
    f.create(B, V, G);
    f.entry(Fn::bo_put).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, kImm).s(S_BO_REFCOUNT, bo_ref)
        .held(Tri::no, Tri::no, Tri::yes).send();
    f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(true).send();
    EXPECT_EQ(f.sink.violations(id::gem_freed_under_gpuva_lock), bo_ref == 1 ? 1u : 0u) << f.sink.dump();
    EXPECT_EQ(f.sink.all.size(), bo_ref == 1 ? 1u : 0u) << f.sink.dump();
  }
}

// ---------------------------------------------------------------- gpuva-lock-recursion
void knew_registered(Feed& f) {
  f.init(V, kImmProt, R);
  f.create(B, V, G);
  f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_obtain_prealloc).a(A_VM_BO, B).ret_addr(B).send();
}

TEST(GpuvaLockRecursion, UnlinkDeferWhileHoldingTheMutex) {
  Feed f(Feed::knew());
  knew_registered(f);
  f.entry(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::yes).send();
  f.exit(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).send();
  uint64_t l = f.entry(Fn::va_unlink_defer).a(A_VA, VA).a(A_VM_BO, B)
                   .vmbo(V, G, Gr, 2, true, false, true, kImmProt).held(Tri::no, Tri::no, Tri::yes).send();
  ASSERT_EQ(f.sink.violations(id::gpuva_lock_recursion), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::gpuva_lock_recursion)->line, l);
}

TEST(GpuvaLockRecursion, PutDeferredDecidedByTheNestedLock) {
  Feed f(Feed::knew());
  knew_registered(f);
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::yes).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  uint64_t l = f.entry(Fn::mutex_lock).a(A_LOCK, GM).t(S_HELD, Tri::yes).send();
  ASSERT_EQ(f.sink.violations(id::gpuva_lock_recursion), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::gpuva_lock_recursion)->line, l);
}

TEST(GpuvaLockRecursion, PutDeferredNotLastRefIsNearMiss) {
  Feed f(Feed::knew());
  knew_registered(f);
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).vmbo(V, G, Gr, 2, true, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::yes).send();
  f.exit(Fn::bo_put_deferred).a(A_VM_BO, B).ret_bool(false).send();
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(GpuvaLockRecursion, PutDeferredWithoutLockCoverageIsUnknown) {
  Header h = Feed::knew();
  h.coverage_locks = "partial";
  Feed f(h);
  knew_registered(f);
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::yes).send();
  EXPECT_EQ(f.sink.unknowns(id::gpuva_lock_recursion), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u);
}

// ---------------------------------------------------------------- deferred-cleanup-resv-held
TEST(DeferredCleanupResvHeld, ReplacesLockUnbalanced) {
  Feed f(Feed::knew());
  f.init(V, kImmProt, R);
  f.lock(R, 0);
  f.entry(Fn::bo_deferred_cleanup).a(A_GPUVM, V).a(S_VM_FLAGS, kImmProt).t(S_HELD_VM_RESV, Tri::yes).send();
  uint64_t l = f.entry(Fn::ww_mutex_lock).a(A_LOCK, R).a(A_CTX, 0).t(S_HELD, Tri::yes).send();
  f.finish();
  ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].rule, id::deferred_cleanup_resv_held);
  EXPECT_EQ(f.sink.all[0].line, l);
}

TEST(DeferredCleanupResvHeld, NearMissEmptyListOrNotHeld) {
  Feed f(Feed::knew());
  f.init(V, kImmProt, R);
  f.lock(R, 0);
  // Held, but the list is empty: nothing is locked, the call returns.
  f.entry(Fn::bo_deferred_cleanup).a(A_GPUVM, V).a(S_VM_FLAGS, kImmProt).t(S_HELD_VM_RESV, Tri::yes).send();
  f.exit(Fn::bo_deferred_cleanup).a(A_GPUVM, V).send();
  f.unlock(R);
  f.deferred_cleanup_self_locked();
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// ---------------------------------------------------------------- mode-mismatch
TEST(ModeMismatch, DeferredApiOnStagedVm) {
  Feed f(Feed::knew());
  f.init(V, kProt, R);
  f.create(B, V, G);
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, kProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  ASSERT_EQ(f.sink.violations(id::mode_mismatch), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::mode_mismatch)->severity, Severity::warning);
}

TEST(ModeMismatch, ObtainLockedOnImmediateVm) {
  Feed f(Feed::knew());
  f.init(V, kImmProt, R);
  f.entry(Fn::bo_obtain_locked).a(A_GPUVM, V).a(A_OBJ, G).a(S_VM_FLAGS, kImmProt).held(Tri::no, Tri::no, Tri::yes).send();
  EXPECT_EQ(f.sink.violations(id::mode_mismatch), 1u) << f.sink.dump();
}

TEST(ModeMismatch, Bit1IsNotImmediateWithoutTheFeature) {
  Feed f(Feed::k612());  // bit 1 = DRM_GPUVM_USERBITS on 6.12
  f.init(V, kImm, R);
  f.entry(Fn::bo_obtain_locked).a(A_GPUVM, V).a(A_OBJ, G).a(S_VM_FLAGS, kImm).held(Tri::no, Tri::yes, Tri::yes).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// ---------------------------------------------------------------- double-put
TEST(DoublePut, PutOnZombie) {
  Feed f(Feed::knew());
  knew_registered(f);
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_put_deferred).a(A_VM_BO, B).ret_bool(true).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).vmbo(V, G, Gr, 0, false, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  EXPECT_EQ(f.sink.violations(id::double_put), 1u) << f.sink.dump();
}

TEST(DoublePut, AfterLostEventsOnlyTheSnapshotProves) {
  Feed f(Feed::k612());
  registered(f);
  f.put(B, 1, true);
  f.lost(3);
  f.entry(Fn::bo_put).a(A_VM_BO, B).send();  // no snapshot: the address may be reused
  f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(false).send();
  EXPECT_EQ(f.sink.unknowns(id::double_put), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u);
  f.entry(Fn::bo_put).a(A_VM_BO, B).vmbo(V, G, Gr, 0, false).held(Tri::no, Tri::yes, Tri::yes).send();
  EXPECT_EQ(f.sink.violations(id::double_put), 1u) << f.sink.dump();
  EXPECT_EQ(f.chk.summary().lost, 3u);
}

TEST(DoublePut, PartialPutCoverageIsUnknown) {
  Header h = Feed::k612();
  h.coverage_put = "partial";
  Feed f(h);
  registered(f);
  f.put(B, 1, true);
  f.entry(Fn::bo_put).a(A_VM_BO, B).send();
  EXPECT_EQ(f.sink.unknowns(id::double_put), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u);
}

TEST(DoublePut, NearMissRefcountTwo) {
  Feed f(Feed::k612());
  registered(f);
  f.link(VA, B, 1);
  f.put(B, 2, false, true);
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// ---------------------------------------------------------------- destroy-while-mapped
TEST(DestroyWhileMapped, PutDeferredWithVas) {
  Feed f(Feed::knew());
  knew_registered(f);
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, true, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  uint64_t l = f.exit(Fn::bo_put_deferred).a(A_VM_BO, B).ret_bool(true).send();
  ASSERT_EQ(f.sink.violations(id::destroy_while_mapped), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::destroy_while_mapped)->line, l);
}

TEST(DestroyWhileMapped, UnlinkDeferWithAnotherVaLinked) {
  Feed f(Feed::knew());
  knew_registered(f);
  for (uint64_t va : {VA, VA2}) {
    f.entry(Fn::va_link).a(A_VA, va).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, kImmProt)
        .held(Tri::no, Tri::no, Tri::yes).send();
    f.exit(Fn::va_link).a(A_VA, va).a(A_VM_BO, B).send();
  }
  // Someone over-put: refcount 1 with two VAs linked; unlinking one makes a zombie.
  f.entry(Fn::va_unlink_defer).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, true, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::va_unlink_defer).a(A_VA, VA).send();
  EXPECT_EQ(f.sink.violations(id::destroy_while_mapped), 1u) << f.sink.dump();
}

// ---------------------------------------------------------------- use-after-free
TEST(UseAfterFree, ExtobjAddOnFreedVmBo) {
  Feed f(Feed::k612());
  registered(f, kProt);
  f.put(B, 1, true, false, Tri::yes, Tri::yes, G, Gr, kProt);
  uint64_t l = extobj_add(f, Tri::yes).send();
  ASSERT_EQ(f.sink.violations(id::use_after_free), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::use_after_free)->line, l);
  EXPECT_NE(f.sink.first(id::use_after_free)->message.find("destroyed at ts"), std::string::npos);
  EXPECT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
}

TEST(UseAfterFree, UnknownAfterLoss) {
  Feed f(Feed::k612());
  registered(f, kProt);
  f.put(B, 1, true, false, Tri::yes, Tri::yes, G, Gr, kProt);
  f.lost();
  extobj_add(f, Tri::yes).send();
  EXPECT_EQ(f.sink.unknowns(id::use_after_free), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u);
}

// ---------------------------------------------------------------- refcount-saturated
TEST(RefcountSaturated, OncePerGeneration) {
  Feed f(Feed::k612());
  registered(f, kProt);
  extobj_add(f, Tri::yes).s(S_REFCOUNT, -1073741824).send();
  extobj_add(f, Tri::yes).s(S_REFCOUNT, -1073741824).send();
  EXPECT_EQ(f.sink.violations(id::refcount_saturated), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
}

// ---------------------------------------------------------------- prealloc-reused
TEST(PreallocReused, ExtraReferenceAloneIsWarning) {
  Feed f(Feed::k612());
  f.init(V, kProt, R);
  f.create(B, V, G);
  f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B).vmbo(V, G, Gr, 2, false, false, false, kProt)
      .held(Tri::yes, Tri::yes, Tri::yes).send();
  ASSERT_EQ(f.sink.violations(id::prealloc_reused), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::prealloc_reused)->severity, Severity::warning);
}

TEST(PreallocReused, FreshPreallocIsNearMiss) {
  Feed f(Feed::k612());
  f.init(V, kProt, R);
  f.create(B, V, G);
  f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, kProt)
      .held(Tri::yes, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_obtain_prealloc).a(A_VM_BO, B).ret_addr(B).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// ---------------------------------------------------------------- duplicate-vm-bo
TEST(DuplicateVmBo, WalkFormUnderTheLock) {
  Feed f(Feed::k612());
  f.init(V, 0, R);
  f.lock(Gr);
  f.entry(Fn::bo_obtain).a(A_GPUVM, V).a(A_OBJ, G).a(S_BO_RESV, Gr).held(Tri::no, Tri::yes, Tri::yes).send();
  uint64_t l = f.exit(Fn::bo_obtain).a(A_GPUVM, V).a(A_OBJ, G).ret_addr(B).a(S_GEM_LIST_SAME_VM, 2).send();
  ASSERT_EQ(f.sink.violations(id::duplicate_vm_bo), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::duplicate_vm_bo)->line, l);
}

TEST(DuplicateVmBo, TrackerFormTwoRegisteredGenerations) {
  Feed f(Feed::k612());
  registered(f);
  // An unlocked obtain on another task registers a second vm_bo for (V, G).
  f.entry(Fn::bo_obtain, 200).a(A_GPUVM, V).a(A_OBJ, G).a(S_BO_RESV, Gr).held(Tri::no, Tri::no, Tri::no).send();
  f.create(B2, V, G, 200);
  f.exit(Fn::bo_obtain, 200).a(A_GPUVM, V).a(A_OBJ, G).ret_addr(B2).send();
  EXPECT_EQ(f.sink.violations(id::obtain_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.violations(id::duplicate_vm_bo), 1u) << f.sink.dump();
}

TEST(DuplicateVmBo, NearMissAfterTheFirstIsDestroyed) {
  Feed f(Feed::k612());
  registered(f);
  f.lock(Gr);
  f.put(B, 1, true);
  f.obtain_new(B2, G, Gr, Tri::yes);
  f.unlock(Gr);
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// ---------------------------------------------------------------- extobj-missing
TEST(ExtobjMissing, AddFenceFormAndNearMissWhenResvHeld) {
  for (bool held : {false, true}) {
    Feed f(Feed::k612());
    registered(f);
    f.lock(Gr);
    f.link(VA, B, 1);
    f.unlock(Gr);
    if (held) f.lock(Gr, CTX);
    f.entry(Fn::vm_resv_add_fence).a(A_GPUVM, V).send();
    f.exit(Fn::vm_resv_add_fence).a(A_GPUVM, V).send();
    EXPECT_EQ(f.sink.violations(id::extobj_missing), held ? 0u : 1u) << f.sink.dump();
  }
}

TEST(ExtobjMissing, NearMissOnceAdded) {
  Feed f(Feed::k612());
  registered(f);
  f.entry(Fn::bo_extobj_add).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true).held(Tri::no, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_extobj_add).a(A_VM_BO, B).b(S_ON_EXTOBJ, true).send();
  f.link(VA, B, 1);
  f.entry(Fn::vm_resv_add_fence).a(A_GPUVM, V).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(ExtobjMissing, StaleSnapshotFromAnotherCpuDoesNotUndoExtobjAdd) {
  Feed f(Feed::k612());
  registered(f);
  f.entry(Fn::bo_extobj_add).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true).held(Tri::no, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_extobj_add).a(A_VM_BO, B).b(S_ON_EXTOBJ, true).send();
  // Task 200 read its snapshot before the add but is delivered after it.
  f.entry(Fn::va_link, 200).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false)
      .held(Tri::no, Tri::yes, Tri::yes).send();
  f.exit(Fn::va_link, 200).a(A_VA, VA).a(A_VM_BO, B).send();
  f.unlock(Gr, Tri::yes, 200);  // task 200 now certainly does not hold the BO resv
  f.entry(Fn::vm_resv_add_fence, 200).a(A_GPUVM, V).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// ---------------------------------------------------------------- vm-bo-leak-at-vm-destroy
TEST(VmBoLeakAtVmDestroy, FreeWithLiveVmBoIsError) {
  Feed f(Feed::k612());
  registered(f);
  uint64_t l = f.entry(Fn::gpuvm_free).a(A_GPUVM, V).send();
  ASSERT_EQ(f.sink.violations(id::vm_bo_leak_at_vm_destroy), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::vm_bo_leak_at_vm_destroy)->severity, Severity::error);
  EXPECT_EQ(f.sink.first(id::vm_bo_leak_at_vm_destroy)->line, l);
}

TEST(VmBoLeakAtVmDestroy, NearMissAllDestroyed) {
  Feed f(Feed::k612());
  registered(f);
  f.put(B, 1, true);
  f.entry(Fn::gpuvm_put).a(A_GPUVM, V).s(S_VM_KREF, 1).send();
  f.entry(Fn::gpuvm_free).a(A_GPUVM, V).send();
  f.exit(Fn::gpuvm_put).a(A_GPUVM, V).send();
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(VmBoLeakAtVmDestroy, PutLeavingOnlyInternalRefsIsWarning) {
  Feed f(Feed::k612());
  registered(f);
  f.entry(Fn::gpuvm_put).a(A_GPUVM, V).s(S_VM_KREF, 2).send();
  f.exit(Fn::gpuvm_put).a(A_GPUVM, V).send();
  ASSERT_EQ(f.sink.violations(id::vm_bo_leak_at_vm_destroy), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::vm_bo_leak_at_vm_destroy)->severity, Severity::warning);
}

TEST(VmBoLeakAtVmDestroy, PartialVmIsUnknown) {
  Feed f(Feed::k612());
  // No drm_gpuvm_init: the VM is older than the trace.
  f.entry(Fn::gpuvm_put).a(A_GPUVM, V).s(S_VM_KREF, 2).send();
  f.exit(Fn::gpuvm_put).a(A_GPUVM, V).send();
  EXPECT_EQ(f.sink.unknowns(id::vm_bo_leak_at_vm_destroy), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 0u);
}

// ---------------------------------------------------------------- lock-unbalanced
TEST(LockUnbalanced, DoubleUnlock) {
  Feed f(Feed::k612());
  f.lock(Gr);
  f.unlock(Gr, Tri::absent);
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  f.unlock(Gr, Tri::absent);  // this task's own events say it was released
  EXPECT_EQ(f.sink.violations(id::lock_unbalanced), 1u) << f.sink.dump();
}

TEST(LockUnbalanced, UnlockOfLockTakenBeforeTheTraceIsFine) {
  Feed f(Feed::k612());
  f.unlock(Gr, Tri::yes);
  f.unlock(R, Tri::absent);  // nothing known: no claim
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(LockUnbalanced, NullContextRecursion) {
  Feed f(Feed::k612());
  f.lock(Gr);
  f.entry(Fn::ww_mutex_lock).a(A_LOCK, Gr).a(A_CTX, 0).t(S_HELD, Tri::absent).send();
  EXPECT_EQ(f.sink.violations(id::lock_unbalanced), 1u) << f.sink.dump();
  // With an acquire context the kernel answers -EALREADY instead: no report.
  f.entry(Fn::ww_mutex_lock).a(A_LOCK, Gr).a(A_CTX, CTX).t(S_HELD, Tri::yes).send();
  EXPECT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
}

TEST(LockUnbalanced, HeldOnReturnToUserSpace) {
  Feed f(Feed::k612());
  f.entry(Fn::ww_mutex_lock).a(A_LOCK, R).a(A_CTX, 0).t(S_HELD, Tri::no).send();
  f.exit(Fn::ww_mutex_lock).a(A_LOCK, R).a(A_CTX, 0).ret_int(0).send();
  f.lock(Gr);
  f.unlock(Gr);
  uint64_t l = f.entry(Fn::sys_exit).send();
  f.entry(Fn::sys_exit).send();  // one report per acquisition
  ASSERT_EQ(f.sink.violations(id::lock_unbalanced), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].line, l);
}

TEST(LockUnbalanced, EdeadlkIsNotAcquired) {
  Feed f(Feed::k612());
  f.lock(Gr, CTX, -35);
  f.entry(Fn::sys_exit).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// ---------------------------------------------------------------- alloc-free-asymmetric
TEST(AllocFreeAsymmetric, AllocOnlyWarningFreeOnlyInfo) {
  CheckerOptions o;
  o.report_info = true;
  for (bool alloc_only : {true, false}) {
    Feed f(Feed::k612(), o);
    f.exit(Fn::gpuvm_init).a(A_GPUVM, V).a(A_FLAGS, 0).a(S_VM_RESV, R)
        .a(S_OPS_VM_BO_ALLOC, alloc_only ? 0xffffffffc0001000 : 0)
        .a(S_OPS_VM_BO_FREE, alloc_only ? 0 : 0xffffffffc0002000).send();
    ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
    EXPECT_EQ(f.sink.all[0].rule, id::alloc_free_asymmetric);
    EXPECT_EQ(f.sink.all[0].kind, alloc_only ? FindingKind::violation : FindingKind::info);
    EXPECT_EQ(f.sink.all[0].severity, alloc_only ? Severity::warning : Severity::info);
  }
}

TEST(AllocFreeAsymmetric, InfoNotEmittedWithoutTheOption) {
  Feed f(Feed::k612());
  f.exit(Fn::gpuvm_init).a(A_GPUVM, V).a(A_FLAGS, 0).a(S_VM_RESV, R).a(S_OPS_VM_BO_ALLOC, 0)
      .a(S_OPS_VM_BO_FREE, 0xffffffffc0002000).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  EXPECT_EQ(f.chk.summary().infos, 0u);
}

// ---------------------------------------------------------------- vm-bo-leak
TEST(VmBoLeak, AllocatedAtEndIsInfo) {
  CheckerOptions o;
  o.report_info = true;
  Feed f(Feed::k612(), o);
  f.init(V, 0, R);
  f.create(B, V, G);
  f.finish();
  ASSERT_EQ(f.sink.count(id::vm_bo_leak, FindingKind::info), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].vm_bo, B);
}

TEST(VmBoLeak, IdleThresholdAndNearMiss) {
  CheckerOptions o;
  o.report_info = true;
  o.idle_ns = 1000000000;  // 1 s
  Feed f(Feed::k612(), o);
  f.init(V, 0, R);
  f.create(B, V, G);
  f.entry(Fn::sys_exit).send();
  f.finish();  // the trace is far shorter than 1 s: not idle
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

}  // namespace
}  // namespace gvt::test
