// SPDX-License-Identifier: GPL-2.0-only
// The put-coverage analysis on real AArch64 code (label unit): drm_gpuvm_bo_put,
// drm_gpuva_unlink (.text 0x2008..0x2190) and drm_gpuva_link (0x3b58..0x3c98) as
// Debian's arm64 kernel 7.2.12+deb13 (linux-modules-7.2.12+deb13-arm64, drm_gpuvm.ko)
// ships them, with the relocations and the .altinstructions entries of those ranges.
// The whole module is analysed by the kernel-label test (put_coverage_kernel_test.cpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "bpf/probe_plan.h"
#include "bpf/put_coverage.h"

using namespace gvt::bpf;

namespace {

constexpr uint64_t kBoPut = 0x2008, kUnlink = 0x20b8, kLink = 0x3b58;

// drm_gpuvm_bo_put: if (!vm_bo) return 0; kref_put(): the LSE ldaddl at +0x30 (reached
// when the kernel patches the `b` at +0x28 to a nop) and the LL/SC loop at +0x58..+0x64.
const std::vector<uint32_t> kBoPutCode = {
    0xd503201f, 0xd503201f, 0xb5000060, 0x52800000, 0xd65f03c0, 0xd503233f, 0xa9be7bfd, 0x91005002,
    0x910003fd, 0xf9000bf3, 0x14000009, 0x12800013, 0xb8730053, 0x7100067f, 0x540001c0, 0x7100027f,
    0x5400028d, 0x52800000, 0x1400000e, 0x91005000, 0x52800021, 0xf9800011, 0x885f7c13, 0x4b010263,
    0x8804fc03, 0x35ffffa4, 0x7100067f, 0x54fffe81, 0xd50339bf, 0xaa0203e0, 0x97ffff62, 0x2a1303e0,
    0xf9400bf3, 0xa8c27bfd, 0xd50323bf, 0xd65f03c0, 0xaa0203e0, 0x52800061, 0x94000000, 0x52800000,
    0x17fffff8,
};
// drm_gpuva_unlink with drm_gpuvm_bo_put inlined (GCC's choice on arm64; on x86 it
// tail-jumps to the export): its own LSE/LL-SC refcount drop of va->vm_bo.
const std::vector<uint32_t> kUnlinkCode = {
    0xd503201f, 0xd503201f, 0xd503233f, 0xa9bd7bfd, 0x910003fd, 0xa90153f3, 0xaa0003f3, 0xf90013f5,
    0xf9401800, 0xf9400675, 0xb4000180, 0x9100e274, 0xaa1403e0, 0x94000000, 0x36000080, 0xa9438261,
    0xf9000420, 0xf9000001, 0xf9001e74, 0xf900067f, 0xf9002274, 0xb50000d5, 0xf94013f5, 0xa94153f3,
    0xa8c37bfd, 0xd50323bf, 0xd65f03c0, 0x910052a0, 0x1400000a, 0x12800001, 0xb8610001, 0x7100043f,
    0x540001e0, 0x7100003f, 0x54fffe8c, 0x52800061, 0x94000000, 0x17fffff1, 0x910052a5, 0x52800022,
    0xf98000b1, 0x885f7ca1, 0x4b020023, 0x8804fca3, 0x35ffffa4, 0x7100043f, 0x54fffe61, 0xd50339bf,
    0x97ffff24, 0xf94013f5, 0xa94153f3, 0xa8c37bfd, 0xd50323bf, 0xd65f03c0,
};

// drm_gpuva_link: `str x19, [x23, #8]` at +0x5c stores its vm_bo argument (x1, kept
// in x19) into the VA (x0, kept in x23): va->vm_bo = drm_gpuvm_bo_get(vm_bo), so
// drm_gpuva.vm_bo is at offset 8 (what BTF says too).
const std::vector<uint32_t> kLinkCode = {
    0xd503201f, 0xd503201f, 0xd503233f, 0xa9bc7bfd, 0x910003fd, 0xa90153f3, 0xaa0103f3, 0xf9401801, 0xb40003a1,
    0xa9025bf5, 0xf9001bf7, 0xaa0003f7, 0xf9400660, 0xeb01001f, 0x540005c1, 0x91005260, 0x14000019, 0x52800021,
    0xb8210001, 0x340004c1, 0x11000422, 0x2a010041, 0x37f80401, 0xf90006f3, 0x9100e2f5, 0x91006276, 0xaa1503e0,
    0xf9401274, 0xaa1603e2, 0xaa1403e1, 0x94000000, 0x36000220, 0xf9001275, 0xa903d2f6, 0xf9000295, 0xa9425bf5,
    0xf9401bf7, 0xa94153f3, 0xa8c47bfd, 0xd50323bf, 0xd65f03c0, 0x91005264, 0xf9800091, 0x885f7c81, 0x11000422,
    0x88037c82, 0x35ffffa3, 0x17ffffe4, 0xf9401bf7, 0xa9425bf5, 0xa94153f3, 0xa8c47bfd, 0xd50323bf, 0xd65f03c0,
    0x52800021, 0x94000000, 0x17ffffdf, 0x52800041, 0x94000000, 0x17ffffdc, 0xf94002f4, 0xf9400a80, 0xb4000040,
    0xf9400400, 0x94000000, 0xf9400a83, 0xaa0003e1, 0xb4000043, 0xf9400463, 0xf9402862, 0xb4000102, 0x90000003,
    0x90000000, 0x91000063, 0x91000000, 0x94000000, 0xd4210000, 0x17ffffc2, 0xf9400062, 0x17fffff8,
};

ModuleCode debian_arm64(bool with_unlink, bool with_alternatives, bool with_link = true) {
  ModuleCode m;
  m.arch = CodeArch::aarch64;
  CodeSection& s = m.sections[10];
  s.name = ".text";
  s.bytes.resize(0x3c98);
  auto put = [&](uint64_t at, const std::vector<uint32_t>& code) {
    for (size_t i = 0; i < code.size(); ++i)
      for (int b = 0; b < 4; ++b) s.bytes[at + 4 * i + b] = static_cast<uint8_t>(code[i] >> (8 * b));
  };
  put(kBoPut, kBoPutCode);
  m.functions.push_back({"drm_gpuvm_bo_put", 10, kBoPut, 164, true});
  s.relocs[0x20a0] = {283, "refcount_warn_saturate", 0, 0, 0};  // R_AARCH64_CALL26
  if (with_alternatives) s.patched.insert(0x2030);
  if (with_unlink) {
    put(kUnlink, kUnlinkCode);
    m.functions.push_back({"drm_gpuva_unlink", 10, kUnlink, 216, true});
    s.relocs[0x20ec] = {283, "__list_del_entry_valid_or_report", 0, 0, 0};
    s.relocs[0x2148] = {283, "refcount_warn_saturate", 0, 0, 0};
    if (with_alternatives) s.patched.insert(0x2128);
  }
  if (with_link) {
    put(kLink, kLinkCode);
    m.functions.push_back({"drm_gpuva_link", 10, kLink, 320, true});
    s.relocs[0x3bd0] = {283, "__list_add_valid_or_report", 0, 0, 0};
    s.relocs[0x3c34] = {283, "refcount_warn_saturate", 0, 0, 0};
    s.relocs[0x3c40] = {283, "refcount_warn_saturate", 0, 0, 0};
    s.relocs[0x3c58] = {283, "dev_driver_string", 0, 0, 0};
    s.relocs[0x3c84] = {283, "__warn_printk", 0, 0, 0};
    if (with_alternatives) s.patched.insert(0x3b98);
  }
  return m;
}

// Rewrites the instruction at `at` (a .text address).
void patch(ModuleCode& m, uint64_t at, uint32_t insn) {
  uint8_t* p = m.sections[10].bytes.data() + at;
  for (int b = 0; b < 4; ++b) p[b] = static_cast<uint8_t>(insn >> (8 * b));
}

std::string all(const PutCoverage& r) {
  std::string t = r.reason;
  for (const auto& d : r.details) t += "\n  " + d;
  return t;
}

TEST(PutCoverageAArch64, DebianBoPutHoldsThePutOnBothAtomicPaths) {
  PutCoverage r = analyse_put_coverage(debian_arm64(false, true));
  ASSERT_TRUE(r.complete) << all(r);
  EXPECT_EQ(r.put_symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(r.kref_offset, 0x14);
  EXPECT_EQ(r.vm_bo_arg, 0);
  EXPECT_EQ(r.convention(), "(vm_bo = argument 1 in x0) -> destroyed flag in w0");
  // Both the LSE ldaddl (capstone 4 cannot decode it) and the LL/SC stlxr are found.
  EXPECT_NE(all(r).find("drm_gpuvm_bo_put+0x30, drm_gpuvm_bo_put+0x60"), std::string::npos) << all(r);
}

TEST(PutCoverageAArch64, BtfOffsetIsCheckedAgainstTheCode) {
  PutAnalysisOptions o;
  o.kref_offset = 0x14;
  EXPECT_TRUE(analyse_put_coverage(debian_arm64(false, true), o).complete);
  o.kref_offset = 0x18;
  PutCoverage r = analyse_put_coverage(debian_arm64(false, true), o);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("BTF puts drm_gpuvm_bo.kref at 0x18"), std::string::npos) << r.reason;
}

// Without the .altinstructions entry the LSE path is unreachable to the walker: its
// atomic is at an address the analysis cannot follow, and no verdict may ignore it.
TEST(PutCoverageAArch64, UnfollowedLsePathIsPartial) {
  PutCoverage r = analyse_put_coverage(debian_arm64(false, false));
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("drm_gpuvm_bo_put+0x30"), std::string::npos) << all(r);
}

// What Debian's arm64 7.2 really is: the put inlined into drm_gpuva_unlink. Both of its
// atomic paths (LSE ldaddl, LL/SC stlxr) drop the reference of the pointer unlink loaded
// from va->vm_bo (`ldr x21, [x19, #8]`, x19 = the VA): complete, the model applies it.
TEST(PutCoverageAArch64, PutInlinedIntoUnlinkIsVaVmBoPut) {
  PutCoverage r = analyse_put_coverage(debian_arm64(true, true));
  ASSERT_TRUE(r.complete) << all(r);
  EXPECT_EQ(r.put_symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(r.inline_puts, std::vector<std::string>{"drm_gpuva_unlink"});
  EXPECT_EQ(r.va_vm_bo_offset, 8);
  EXPECT_EQ(r.reason,
            "every final vm_bo put is in drm_gpuvm_bo_put (vm_bo = argument 1 in x0) -> destroyed flag in w0; "
            "inlined puts in probed drm_gpuva_unlink")
      << all(r);
  EXPECT_NE(all(r).find("inlined put in drm_gpuva_unlink at drm_gpuva_unlink+0x78, drm_gpuva_unlink+0xac: drops "
                        "the reference of va->vm_bo (refcount at 0x14 of the pointer loaded from argument 1 + 0x8 at "
                        "drm_gpuva_unlink+0x24; drm_gpuva.vm_bo at 0x8, learned from drm_gpuva_link's store of its "
                        "vm_bo argument)"),
            std::string::npos)
      << all(r);
}

// With BTF's offset: checked against drm_gpuva_link's store.
TEST(PutCoverageAArch64, UnlinkVaVmBoOffsetFromBtfIsChecked) {
  PutAnalysisOptions o;
  o.kref_offset = 0x14;
  o.va_vm_bo_offset = 8;
  PutCoverage r = analyse_put_coverage(debian_arm64(true, true), o);
  ASSERT_TRUE(r.complete) << all(r);
  EXPECT_NE(all(r).find("drm_gpuva.vm_bo at 0x8, module BTF, matching drm_gpuva_link's store"), std::string::npos)
      << all(r);
  o.va_vm_bo_offset = 0x10;
  r = analyse_put_coverage(debian_arm64(true, true), o);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.reason,
            "vm_bo put inlined into drm_gpuva_unlink: drm_gpuva_link stores its vm_bo at offset 0x8 of the VA but "
            "BTF puts drm_gpuva.vm_bo at 0x10: the code is not understood")
      << all(r);
  // BTF alone (no drm_gpuva_link to check it against) is enough.
  o.va_vm_bo_offset = 8;
  EXPECT_TRUE(analyse_put_coverage(debian_arm64(true, true, false), o).complete);
}

// Neither BTF nor drm_gpuva_link's code says where va->vm_bo is: not provable.
TEST(PutCoverageAArch64, UnlinkPutWithoutVaVmBoOffsetIsPartial) {
  PutCoverage r = analyse_put_coverage(debian_arm64(true, true, false));
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.reason,
            "vm_bo put inlined into drm_gpuva_unlink: no BTF offset of drm_gpuva.vm_bo, and no store of "
            "drm_gpuva_link's vm_bo argument into its VA to learn it from")
      << all(r);
}

// The negative: unlink's put decrements the refcount of a pointer read from another
// field of the VA (`ldr x21, [x19, #16]`, va->va.addr): not va->vm_bo, so the model
// could not apply it from unlink's vm_bo snapshot. Partial, naming the site.
TEST(PutCoverageAArch64, UnlinkPutOfAnotherPointerIsPartial) {
  ModuleCode m = debian_arm64(true, true);
  patch(m, kUnlink + 0x24, 0xf9400a75);  // ldr x21, [x19, #16]
  PutCoverage r = analyse_put_coverage(m);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.reason,
            "drm_gpuva_unlink: decrement of a vm_bo refcount at drm_gpuva_unlink+0x78, not proven to be the put of "
            "va->vm_bo (a decrement by 1 at offset 0x14 of the pointer loaded from argument 1 + 0x8): the model "
            "cannot apply it")
      << all(r);
  // Or of a pointer unlink did not load at all (x21 replaced by x22, whatever the caller
  // left there).
  ModuleCode m2 = debian_arm64(true, true);
  patch(m2, kUnlink + 0x6c, 0x910052c0);  // add x0, x22, #0x14 (LSE path)
  patch(m2, kUnlink + 0x98, 0x910052c5);  // add x5, x22, #0x14 (LL/SC path)
  r = analyse_put_coverage(m2);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("not proven to be the put of va->vm_bo"), std::string::npos) << all(r);
}

// What `live --dry-run` prints comes from this plan: with the analysis of the arm64
// code, put coverage stays complete (drm_gpuva_unlink is probed at entry and exit) and
// the plan carries the analysis' reason and evidence; without an unlink probe it cannot.
TEST(PutCoverageAArch64, PlanKeepsPutCompleteWithTheAnalysisReasons) {
  KernelFacts k;
  k.release = "7.2.12+deb13-arm64";
  k.gpuvm_present = true;
  k.have_filter_functions = true;
  std::string aff = "ww_mutex_lock\nww_mutex_lock_interruptible\nww_mutex_trylock\nww_mutex_unlock\n";
  for (const char* f : {"drm_gpuvm_init", "drm_gpuvm_put", "drm_gpuvm_free", "drm_gpuvm_bo_create",
                        "drm_gpuvm_bo_obtain_locked", "drm_gpuvm_bo_obtain_prealloc", "drm_gpuvm_bo_find",
                        "drm_gpuvm_bo_put", "drm_gpuvm_bo_extobj_add", "drm_gpuvm_bo_evict", "drm_gpuva_link",
                        "drm_gpuva_unlink", "drm_gpuva_insert", "drm_gpuva_remove"}) {
    aff += std::string(f) + " [drm_gpuvm]\n";
    k.gpuvm_btf.insert(f);
  }
  parse_filter_functions(aff, "drm_gpuvm", k);
  for (auto n : lock_function_names()) k.vmlinux_btf.emplace(n);
  k.feat_deferred = k.feat_gpuva_mutex = k.feat_immediate_mode = k.feat_prealloc_self_locks = gvt::Tri::no;
  k.put_analysis = analyse_put_coverage(debian_arm64(true, true));
  ASSERT_TRUE(k.put_analysis->complete) << all(*k.put_analysis);

  Plan p = make_plan(k, {});
  EXPECT_TRUE(p.put_complete) << p.put_reason;
  EXPECT_EQ(p.put_reason, k.put_analysis->reason);
  EXPECT_EQ(p.put_evidence, k.put_analysis->details);
  bool unlink_exit = false;
  for (const PlannedProbe& pp : p.probes) unlink_exit |= pp.symbol == "drm_gpuva_unlink" && pp.mech == Mech::fexit;
  EXPECT_TRUE(unlink_exit);

  k.gpuvm_traceable.erase("drm_gpuva_unlink");
  k.gpuvm_btf.erase("drm_gpuva_unlink");
  Plan q = make_plan(k, {});
  EXPECT_FALSE(q.put_complete);
  EXPECT_NE(q.put_reason.find("drm_gpuva_unlink holds an inlined vm_bo put but cannot be probed"), std::string::npos)
      << q.put_reason;
}

TEST(PutCoverageAArch64, UndecodableWordIsPartialNotIgnored) {
  ModuleCode m = debian_arm64(false, true);
  // A word capstone cannot decode and that is no LSE atomic, in the put's function.
  uint8_t* p = m.sections[10].bytes.data() + kBoPut + 0x20;  // was `mov x29, sp`
  p[0] = p[1] = p[2] = p[3] = 0;                              // udf #0
  PutAnalysisOptions o;
  o.kref_offset = 0x14;
  PutCoverage r = analyse_put_coverage(m, o);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("undecodable instruction (possibly an atomic update) at drm_gpuvm_bo_put+0x20"),
            std::string::npos) << all(r);
}

TEST(PutCoverageAArch64, OtherArchitectureIsPartial) {
  ModuleCode m = debian_arm64(false, true);
  m.arch = CodeArch::other;
  PutCoverage r = analyse_put_coverage(m);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("not supported"), std::string::npos) << r.reason;
}

}  // namespace
