// SPDX-License-Identifier: GPL-2.0-only
// The usage sequences of vm_bo-lifecycle.md §G: G1–G3 give no finding; X1–X6 give
// exactly the finding the spec names.
#include <gtest/gtest.h>

#include "decode/model/rule_ids.h"
#include "tests/model/builder.h"

namespace gvt::test {
namespace {

namespace id = gvt::model::rules::id;

// G1 lines 1–9: bind, B registered, linked, ref 1 left (the VA's).
void g1_bind(Feed& f) {
  f.init(V, 0, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes);
  f.unlock(Gr);
  f.entry(Fn::bo_extobj_add).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true).held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_extobj_add).a(A_VM_BO, B).b(S_ON_EXTOBJ, true).send();
  f.lock(R, CTX);
  f.lock(Gr, CTX);
  f.exit(Fn::va_insert).a(A_GPUVM, V).a(A_VA, VA).ret_int(0).send();
  f.link(VA, B, 1);
  f.unlock(Gr);
  f.unlock(R);
  f.lock(Gr);
  f.put(B, 2, false, true);
  f.unlock(Gr);
}

// G1 lines 10–12: unbind; B destroyed by the put nested in the unlink.
void g1_unbind(Feed& f, Tri held_g = Tri::yes) {
  f.lock(R, CTX);
  if (held_g == Tri::yes) f.lock(Gr, CTX);
  f.exit(Fn::va_remove).a(A_VA, VA).send();
  f.entry(Fn::va_unlink).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, true, true)
      .held(Tri::yes, held_g, held_g).send();
  f.put(B, 1, true, false, held_g, Tri::yes);
  f.exit(Fn::va_unlink).a(A_VA, VA).send();
  if (held_g == Tri::yes) f.unlock(Gr);
  f.unlock(R);
}

TEST(Fixtures, G1NouveauBindUnbindIsClean) {
  Feed f(Feed::k612());
  g1_bind(f);
  g1_unbind(f);
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  EXPECT_EQ(f.chk.summary().vm_bos, 1u);
  EXPECT_EQ(f.chk.summary().unmatched_exits, 0u);
}

TEST(Fixtures, G2XeProtectedBindIsClean) {
  Feed f(Feed::k612());
  f.init(V, 1, R);
  f.lock(R, CTX);
  f.lock(Gr, CTX);
  f.obtain_new(B, G, Gr, Tri::yes, 1);
  f.entry(Fn::bo_extobj_add).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, 1)
      .held(Tri::yes, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_extobj_add).a(A_VM_BO, B).b(S_ON_EXTOBJ, true).send();
  f.link(VA, B, 1, true, Tri::yes, G, Gr, 1);
  f.put(B, 2, false, true, Tri::yes, Tri::yes, G, Gr, 1);
  f.unlock(Gr);
  f.unlock(R);
  f.lock(Gr);
  f.entry(Fn::bo_evict).a(A_VM_BO, B).b(A_EVICT, true).vmbo(V, G, Gr, 1, true, true, true, 1)
      .held(Tri::no, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_evict).a(A_VM_BO, B).b(S_ON_EVICT, false).send();
  f.unlock(Gr);
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// G3 (Tyr, KNEW, IMMEDIATE | PROTECTED) lines 1–5.
void g3_bind(Feed& f) {
  f.init(V, kImmProt, R);
  f.create(B, V, G);
  f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B).vmbo(V, G, Gr, 1, false, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.entry(Fn::mutex_lock).a(A_LOCK, GM).t(S_HELD, Tri::no).send();
  f.exit(Fn::mutex_lock).a(A_LOCK, GM).send();
  f.entry(Fn::mutex_unlock).a(A_LOCK, GM).t(S_HELD, Tri::yes).send();
  f.exit(Fn::bo_obtain_prealloc).a(A_VM_BO, B).ret_addr(B).send();
  f.lock(R, 0);
  f.entry(Fn::bo_extobj_add).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, kImmProt)
      .held(Tri::yes, Tri::no, Tri::no).send();
  f.exit(Fn::bo_extobj_add).a(A_VM_BO, B).b(S_ON_EXTOBJ, true).send();
  f.unlock(R);
  f.exit(Fn::va_insert).a(A_GPUVM, V).a(A_VA, VA).ret_int(0).send();
  f.entry(Fn::mutex_lock).a(A_LOCK, GM).t(S_HELD, Tri::no).send();
  f.exit(Fn::mutex_lock).a(A_LOCK, GM).send();
  f.entry(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, true, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::yes).send();
  f.exit(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B).send();
  f.entry(Fn::mutex_unlock).a(A_LOCK, GM).t(S_HELD, Tri::yes).send();
  f.entry(Fn::bo_put_deferred).a(A_VM_BO, B).vmbo(V, G, Gr, 2, true, true, true, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_put_deferred).a(A_VM_BO, B).ret_bool(false).send();
  f.entry(Fn::bo_deferred_cleanup).a(A_GPUVM, V).a(S_VM_FLAGS, kImmProt).t(S_HELD_VM_RESV, Tri::no).send();
  f.exit(Fn::bo_deferred_cleanup).a(A_GPUVM, V).send();
}

void g3_unmap(Feed& f) {
  f.exit(Fn::va_remove).a(A_VA, VA).send();
  f.entry(Fn::va_unlink_defer).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, true, true, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::va_unlink_defer).a(A_VA, VA).send();
}

TEST(Fixtures, G3TyrImmediateIsClean) {
  Feed f(Feed::knew());
  g3_bind(f);
  g3_unmap(f);
  f.deferred_cleanup_self_locked();
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  EXPECT_EQ(f.chk.summary().unmatched_exits, 0u);
}

TEST(Fixtures, X1ExtobjAddUnlocked) {
  Feed f(Feed::k612());
  f.init(V, 1, R);
  f.lock(R, CTX);
  f.lock(Gr, CTX);
  f.obtain_new(B, G, Gr, Tri::yes, 1);
  f.unlock(R);
  uint64_t line = f.entry(Fn::bo_extobj_add).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, 1)
                      .held(Tri::no, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_extobj_add).a(A_VM_BO, B).b(S_ON_EXTOBJ, true).send();
  f.finish();
  ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
  const Finding& x = f.sink.all[0];
  EXPECT_EQ(x.rule, id::extobj_add_unlocked);
  EXPECT_EQ(x.kind, FindingKind::violation);
  EXPECT_EQ(x.severity, Severity::error);
  EXPECT_EQ(x.line, line);
  EXPECT_EQ(x.vm_bo, B);
  EXPECT_EQ(x.gen, 1u);
  EXPECT_EQ(x.fn, "drm_gpuvm_bo_extobj_add");
  EXPECT_NE(x.message.find("not held by tid 100"), std::string::npos) << x.message;
}

TEST(Fixtures, X2DoublePutAfterDestroy) {
  Feed f(Feed::k612());
  g1_bind(f);
  g1_unbind(f);
  // Error path with the stale pointer; the parked memory reads refcount 0.
  uint64_t line = f.entry(Fn::bo_put).a(A_VM_BO, B).vmbo(V, G, Gr, 0, false).held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(false).send();
  f.finish();
  ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].rule, id::double_put);
  EXPECT_EQ(f.sink.all[0].line, line);
  EXPECT_NE(f.sink.all[0].message.find("destroyed at ts"), std::string::npos) << f.sink.all[0].message;
}

TEST(Fixtures, X2DoublePutWithoutRefcountSnapshotUsesTombstone) {
  Feed f(Feed::k612());
  g1_bind(f);
  g1_unbind(f);
  f.entry(Fn::bo_put).a(A_VM_BO, B).send();
  f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(false).send();
  ASSERT_EQ(f.sink.violations(id::double_put), 1u) << f.sink.dump();
}

TEST(Fixtures, X2VariantDestroyWhileMappedThenUseAfterFree) {
  Feed f(Feed::k612());
  g1_bind(f);
  // Extra put with g held while va is still linked: destroys B.
  f.lock(Gr);
  uint64_t l1 = f.entry(Fn::bo_put).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, true, true)
                    .held(Tri::no, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(true).send();
  f.unlock(Gr);
  f.lock(R, CTX);
  f.lock(Gr, CTX);
  f.exit(Fn::va_remove).a(A_VA, VA).send();
  uint64_t l2 = f.entry(Fn::va_unlink).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 0, false)
                    .held(Tri::yes, Tri::yes, Tri::yes).send();
  f.put(B, 0, false);
  f.exit(Fn::va_unlink).a(A_VA, VA).send();
  f.finish();
  ASSERT_EQ(f.sink.all.size(), 2u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].rule, id::destroy_while_mapped);
  EXPECT_EQ(f.sink.all[0].line, l1 + 1);  // decided at the exit (ret 1)
  EXPECT_EQ(f.sink.all[1].rule, id::use_after_free);
  EXPECT_EQ(f.sink.all[1].line, l2);
}

TEST(Fixtures, X3UnlinkWithoutBoLock) {
  Feed f(Feed::k612());
  g1_bind(f);
  f.lock(R, CTX);
  f.exit(Fn::va_remove).a(A_VA, VA).send();
  uint64_t l1 = f.entry(Fn::va_unlink).a(A_VA, VA).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, true, true)
                    .held(Tri::yes, Tri::no, Tri::no).send();
  f.entry(Fn::bo_put).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, true, false).held(Tri::yes, Tri::no, Tri::no).send();
  uint64_t l2 = f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(true).send();
  f.exit(Fn::va_unlink).a(A_VA, VA).send();
  f.unlock(R);
  f.finish();
  ASSERT_EQ(f.sink.all.size(), 2u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].rule, id::link_unlocked);
  EXPECT_EQ(f.sink.all[0].line, l1);
  EXPECT_EQ(f.sink.all[1].rule, id::put_final_unlocked);
  EXPECT_EQ(f.sink.all[1].line, l2);
}

// X4: B registered; P pre-allocated, obtain_prealloc finds B and frees P; then P is linked.
void x4_prefix(Feed& f) {
  f.init(V, 1, R);
  f.lock(R, CTX);
  f.lock(Gr, CTX);
  f.obtain_new(B, G, Gr, Tri::yes, 1);
  f.create(B2, V, G);
}

TEST(Fixtures, X4UseAfterFreeOfDeadPrealloc) {
  Feed f(Feed::k612());
  x4_prefix(f);
  f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B2).vmbo(V, G, Gr, 1, false, false, false, 1)
      .held(Tri::yes, Tri::yes, Tri::yes).send();
  f.put(B2, 1, true, false, Tri::yes, Tri::yes, G, Gr, 1);
  f.exit(Fn::bo_obtain_prealloc).a(A_VM_BO, B2).ret_addr(B).send();
  uint64_t l = f.entry(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B2).vmbo(V, G, Gr, 0, false, false, false, 1)
                   .held(Tri::yes, Tri::yes, Tri::yes).send();
  f.exit(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B2).send();
  f.finish();
  ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].rule, id::use_after_free);
  EXPECT_EQ(f.sink.all[0].line, l);
  EXPECT_EQ(f.sink.all[0].vm_bo, B2);
}

TEST(Fixtures, X4VariantLinkBeforeObtainIsLinkUnregistered) {
  Feed f(Feed::k612());
  x4_prefix(f);
  uint64_t l = f.entry(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B2).vmbo(V, G, Gr, 1, false, false, false, 1)
                   .held(Tri::yes, Tri::yes, Tri::yes).send();
  f.exit(Fn::va_link).a(A_VA, VA).a(A_VM_BO, B2).send();
  ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].rule, id::link_unregistered);
  EXPECT_EQ(f.sink.all[0].line, l);
}

TEST(Fixtures, X4VariantLiveVmBoPassedIsPreallocReused) {
  Feed f(Feed::k612());
  x4_prefix(f);
  uint64_t l = f.entry(Fn::bo_obtain_prealloc).a(A_VM_BO, B).vmbo(V, G, Gr, 1, true, false, false, 1)
                   .held(Tri::yes, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_obtain_prealloc).a(A_VM_BO, B).ret_addr(B).send();
  ASSERT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].rule, id::prealloc_reused);
  EXPECT_EQ(f.sink.all[0].severity, Severity::error);
  EXPECT_EQ(f.sink.all[0].line, l);
}

TEST(Fixtures, X5DeferredNeverCleanedAtVmPut) {
  Feed f(Feed::knew());
  g3_bind(f);
  g3_unmap(f);
  uint64_t l = f.entry(Fn::gpuvm_put).a(A_GPUVM, V).s(S_VM_KREF, 2).send();
  uint64_t lx = f.exit(Fn::gpuvm_put).a(A_GPUVM, V).send();
  (void)l;
  ASSERT_EQ(f.sink.all.size(), 2u) << f.sink.dump();
  EXPECT_EQ(f.sink.all[0].rule, id::vm_bo_leak_at_vm_destroy);
  EXPECT_EQ(f.sink.all[0].severity, Severity::warning);
  EXPECT_EQ(f.sink.all[0].line, lx);
  EXPECT_EQ(f.sink.all[1].rule, id::deferred_never_cleaned);
  EXPECT_EQ(f.sink.all[1].severity, Severity::warning);
  EXPECT_EQ(f.sink.all[1].vm_bo, B);
}

TEST(Fixtures, X5NearMissWithCleanupOrOtherRefs) {
  Feed f(Feed::knew());
  g3_bind(f);
  g3_unmap(f);
  // A driver still holds a VM ref: kref 3 → 2 left ≠ 1 zombie.
  f.entry(Fn::gpuvm_put).a(A_GPUVM, V).s(S_VM_KREF, 3).send();
  f.exit(Fn::gpuvm_put).a(A_GPUVM, V).send();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

TEST(Fixtures, X6ExtobjMissingTwoTasks) {
  Feed f(Feed::knew());
  constexpr int A = 100, Bt = 200;
  constexpr uint64_t PA = B, PB = B2;
  f.init(V, kImmProt, R);
  f.create(PA, V, G, A);
  f.entry(Fn::bo_obtain_prealloc, A).a(A_VM_BO, PA).vmbo(V, G, Gr, 1, false, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_obtain_prealloc, A).a(A_VM_BO, PA).ret_addr(PA).send();
  f.create(PB, V, G, Bt);
  f.entry(Fn::bo_obtain_prealloc, Bt).a(A_VM_BO, PB).vmbo(V, G, Gr, 1, false, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::no).send();
  f.exit(Fn::bo_obtain_prealloc, Bt).a(A_VM_BO, PB).ret_addr(PA).send();
  f.entry(Fn::mutex_lock, Bt).a(A_LOCK, GM).t(S_HELD, Tri::no).send();
  f.exit(Fn::mutex_lock, Bt).a(A_LOCK, GM).send();
  f.entry(Fn::va_link, Bt).a(A_VA, VA).a(A_VM_BO, PA).vmbo(V, G, Gr, 2, true, false, false, kImmProt)
      .held(Tri::no, Tri::no, Tri::yes).send();
  f.exit(Fn::va_link, Bt).a(A_VA, VA).a(A_VM_BO, PA).send();
  f.entry(Fn::mutex_unlock, Bt).a(A_LOCK, GM).t(S_HELD, Tri::yes).send();
  f.entry(Fn::vm_exec_lock, Bt).a(A_GPUVM, V).send();
  f.lock(R, CTX, 0, Bt);
  f.entry(Fn::vm_prepare_objects, Bt).a(A_GPUVM, V).send();
  f.exit(Fn::vm_prepare_objects, Bt).a(A_GPUVM, V).ret_int(0).send();
  uint64_t l = f.exit(Fn::vm_exec_lock, Bt).a(A_GPUVM, V).ret_int(0).send();
  f.lock(R, 0, 0, A);
  f.entry(Fn::bo_extobj_add, A).a(A_VM_BO, PA).vmbo(V, G, Gr, 2, true, false, true, kImmProt)
      .held(Tri::yes, Tri::no, Tri::no).send();
  f.exit(Fn::bo_extobj_add, A).a(A_VM_BO, PA).b(S_ON_EXTOBJ, true).send();
  f.unlock(R, Tri::yes, A);
  f.finish();
  ASSERT_EQ(f.sink.violations(id::extobj_missing), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.first(id::extobj_missing)->line, l);
  EXPECT_EQ(f.sink.total_violations(), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.all.size(), 1u) << f.sink.dump();
}

TEST(Fixtures, X6InfoAtLinkWithInfoOption) {
  CheckerOptions o;
  o.report_info = true;
  Feed f(Feed::k612(), o);
  f.init(V, 0, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes);
  f.link(VA, B, 1);
  EXPECT_EQ(f.sink.count(id::extobj_missing, FindingKind::info), 1u) << f.sink.dump();
}

}  // namespace
}  // namespace gvt::test
