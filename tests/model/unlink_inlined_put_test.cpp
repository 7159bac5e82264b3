// SPDX-License-Identifier: GPL-2.0-only
// drm_gpuva_unlink with drm_gpuvm_bo_put inlined (Debian's arm64 7.2: the header's
// coverage.put_inlined_in lists drm_gpuva_unlink). No bo_put event shows that put: the
// model applies it at unlink's exit from the refcount read at its entry. Without the
// header key (x86, old traces) the unlink applies no put: its put is a nested event.
#include <gtest/gtest.h>

#include "decode/model/rule_ids.h"
#include "tests/model/builder.h"

namespace gvt::test {
namespace {

namespace id = gvt::model::rules::id;

Header arm64() {
  Header h = Feed::k612();
  h.kernel = "7.2.12+deb13-arm64";
  h.coverage_put_inlined_in = {"drm_gpuva_unlink", "drm_gpuva_unlink_defer"};
  return h;
}

// B registered on V (not protected) and mapped once by VA: refcount 2 (the caller's
// reference, the VA's), then the caller's reference dropped: 1, owned by VA.
void mapped(Feed& f) {
  f.init(V, 0, R);
  f.lock(Gr);
  f.obtain_new(B, G, Gr, Tri::yes);
  f.link(VA, B, 1);
  f.put(B, 2, false, true);
  f.unlock(Gr);
}

// The unlink as the recorder writes it: va->vm_bo read at entry with B's snapshot.
void unlink(Feed& f, int refcount, Tri held_gpuva, bool n_va = true, int32_t tid = 100) {
  f.entry(Fn::va_unlink, tid).a(A_VA, VA).a(S_VM_BO, B).vmbo(V, G, Gr, refcount, true, false, n_va)
      .held(Tri::unknown, held_gpuva, held_gpuva).send();
  f.exit(Fn::va_unlink, tid).a(A_VA, VA).send();
}

// A later put of B with a parked-memory snapshot (refcount 0): double-put if B was
// destroyed, and also if it was not (refcount 0 at entry): the message tells which.
std::string later_put_message(Feed& f) {
  f.lock(Gr);
  f.entry(Fn::bo_put).a(A_VM_BO, B).vmbo(V, G, Gr, 0, false).held(Tri::unknown, Tri::yes, Tri::yes).send();
  f.exit(Fn::bo_put).a(A_VM_BO, B).ret_bool(false).send();
  f.unlock(Gr);
  const auto* d = f.sink.first(id::double_put);
  return d ? d->message : "";
}

TEST(UnlinkInlinedPut, FinalPutWithoutTheGpuvaLockIsPutFinalUnlocked) {
  Feed f(arm64());
  mapped(f);
  unlink(f, 1, Tri::no);
  // One report per rule (§E.1): the VA list changed unlocked (entry) and the final
  // put without the lock (exit), as the x86 nested put would give.
  EXPECT_EQ(f.sink.violations(id::link_unlocked), 1u) << f.sink.dump();
  ASSERT_EQ(f.sink.violations(id::put_final_unlocked), 1u) << f.sink.dump();
  EXPECT_NE(f.sink.first(id::put_final_unlocked)->message.find("drm_gpuva_unlink (its inlined drm_gpuvm_bo_put)"),
            std::string::npos)
      << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 2u) << f.sink.dump();
  // B is gone: a later put on it is a put after its last reference was dropped.
  EXPECT_NE(later_put_message(f).find("was destroyed"), std::string::npos) << f.sink.dump();
}

TEST(UnlinkInlinedPut, FinalPutUnderTheLockIsSilentAndDestroys) {
  Feed f(arm64());
  mapped(f);
  f.lock(Gr);
  unlink(f, 1, Tri::yes);
  f.unlock(Gr);
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
  EXPECT_NE(later_put_message(f).find("was destroyed"), std::string::npos) << f.sink.dump();
}

TEST(UnlinkInlinedPut, NonFinalPutIsSilentAndKeepsTheVmBo) {
  Feed f(arm64());
  mapped(f);
  f.lock(Gr);
  unlink(f, 2, Tri::yes);  // another reference left: a drop, no destroy
  f.put(B, 1, true);       // the last one, observed: no double put
  f.unlock(Gr);
  f.finish();
  EXPECT_TRUE(f.sink.all.empty()) << f.sink.dump();
}

// Another VA still linked when the unlink drops the last reference: someone over-put.
TEST(UnlinkInlinedPut, FinalPutWithAnotherVaLinkedIsDestroyWhileMapped) {
  Feed f(arm64());
  mapped(f);
  f.lock(Gr);
  f.link(VA2, B, 2);
  f.put(B, 2, false, true);  // the over-put: VA2's reference
  unlink(f, 1, Tri::yes);
  f.unlock(Gr);
  EXPECT_EQ(f.sink.violations(id::destroy_while_mapped), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 1u) << f.sink.dump();
}

// No refcount snapshot at the entry: whether the put was final is not known. The rules
// it could trigger answer unknown, never violation, and B's history is uncertain.
TEST(UnlinkInlinedPut, UnknownSnapshotIsUnknown) {
  Feed f(arm64());
  mapped(f);
  f.entry(Fn::va_unlink).a(A_VA, VA).a(S_VM_BO, B).a(S_VM, V).a(S_OBJ, G).a(S_BO_RESV, Gr)
      .held(Tri::unknown, Tri::no, Tri::no).send();
  f.exit(Fn::va_unlink).a(A_VA, VA).send();
  EXPECT_EQ(f.sink.violations(id::link_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.violations(id::put_final_unlocked), 0u) << f.sink.dump();
  EXPECT_EQ(f.sink.unknowns(id::put_final_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 1u) << f.sink.dump();
}

// Another task's put of B open across the unlink: its decrement may come before or
// after the unlink's, so refcount 2 at the unlink's entry proves nothing.
TEST(UnlinkInlinedPut, ConcurrentDropMakesItUnknown) {
  Feed f(arm64());
  mapped(f);
  f.lock(Gr);
  f.link(VA2, B, 1);  // refcount 2: VA and VA2
  f.entry(Fn::bo_put, 200).a(A_VM_BO, B).vmbo(V, G, Gr, 2, true, false, true)
      .held(Tri::unknown, Tri::no, Tri::no).send();
  unlink(f, 2, Tri::no);
  EXPECT_EQ(f.sink.unknowns(id::put_final_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.violations(id::put_final_unlocked), 0u) << f.sink.dump();
  f.exit(Fn::bo_put, 200).a(A_VM_BO, B).ret_bool(false).send();
  f.unlock(Gr);
  EXPECT_EQ(f.sink.violations(id::put_final_unlocked), 0u) << f.sink.dump();
}

// Without the header key the unlink's put is a nested bo_put event (x86): the unlink
// itself applies none. The same events give link-unlocked only, and B stays alive.
TEST(UnlinkInlinedPut, WithoutTheHeaderKeyUnlinkAppliesNoPut) {
  Feed f(Feed::k612());
  mapped(f);
  unlink(f, 1, Tri::no);
  EXPECT_EQ(f.sink.violations(id::link_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.unknowns(id::put_final_unlocked), 0u) << f.sink.dump();
  EXPECT_NE(later_put_message(f).find("already 0 at entry"), std::string::npos) << f.sink.dump();
}

// A header that lists drm_gpuva_unlink while a real put still comes nested in it (a
// wrong header, or a kernel where both exist): the put is applied once.
TEST(UnlinkInlinedPut, NestedPutIsAppliedOnce) {
  Feed f(arm64());
  mapped(f);
  f.entry(Fn::va_unlink).a(A_VA, VA).a(S_VM_BO, B).vmbo(V, G, Gr, 1, true, false, true)
      .held(Tri::unknown, Tri::no, Tri::no).send();
  f.put(B, 1, true, false, Tri::no, Tri::unknown);
  f.exit(Fn::va_unlink).a(A_VA, VA).send();
  EXPECT_EQ(f.sink.violations(id::put_final_unlocked), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.count(id::put_final_unlocked, FindingKind::unknown), 0u) << f.sink.dump();
}

// An unlink on a vm_bo whose refcount is already 0 is a double put, as the nested put
// would report on x86; the exit then applies nothing.
TEST(UnlinkInlinedPut, RefcountZeroAtEntryIsDoublePut) {
  Feed f(arm64());
  mapped(f);
  f.lock(Gr);
  unlink(f, 0, Tri::yes);
  f.unlock(Gr);
  EXPECT_EQ(f.sink.violations(id::double_put), 1u) << f.sink.dump();
  EXPECT_EQ(f.sink.total_violations(), 1u) << f.sink.dump();
}

}  // namespace
}  // namespace gvt::test
