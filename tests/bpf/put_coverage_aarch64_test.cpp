// SPDX-License-Identifier: GPL-2.0-only
// The put-coverage analysis on real AArch64 code (label unit): drm_gpuvm_bo_put and
// drm_gpuva_unlink as Debian's arm64 kernel 7.2.12+deb13 (linux-modules-7.2.12+deb13-arm64,
// drm_gpuvm.ko .text 0x2008..0x2190) ships them, with the relocations and the
// .altinstructions entries of that range. The whole module is analysed by the
// kernel-label test (put_coverage_kernel_test.cpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "bpf/put_coverage.h"

using namespace gvt::bpf;

namespace {

constexpr uint64_t kBoPut = 0x2008, kUnlink = 0x20b8;

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

ModuleCode debian_arm64(bool with_unlink, bool with_alternatives) {
  ModuleCode m;
  m.arch = CodeArch::aarch64;
  CodeSection& s = m.sections[10];
  s.name = ".text";
  s.bytes.resize(0x2190);
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
  return m;
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

// What Debian's arm64 7.2 really is: the put inlined into drm_gpuva_unlink, whose
// puts the model does not apply: partial, naming it.
TEST(PutCoverageAArch64, PutInlinedIntoUnlinkIsPartial) {
  PutCoverage r = analyse_put_coverage(debian_arm64(true, true));
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.reason,
            "vm_bo put inlined into drm_gpuva_unlink (not probed as a put): decrement of a vm_bo refcount at "
            "drm_gpuva_unlink+0x78")
      << all(r);
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
