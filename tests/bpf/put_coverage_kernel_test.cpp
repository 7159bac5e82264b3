// SPDX-License-Identifier: GPL-2.0-only
// The put-coverage code analysis on the real drm_gpuvm.ko of the Debian kernels the VM
// tests boot (label kernel; fixture fetch-modules.sh lists them): x86 6.12 and 7.2 and
// the aarch64 guest's arm64 7.2. All must be "complete", with the evidence §B.3 records
// for 6.12 and the shapes found for 7.2.
#include <gtest/gtest.h>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "bpf/kernel_facts.h"
#include "bpf/probe_plan.h"
#include "bpf/put_coverage.h"

using namespace gvt::bpf;

namespace {

struct Kernel {
  std::string release, path;
};

std::map<std::string, Kernel> kernels() {
  std::map<std::string, Kernel> m;
  std::ifstream in(GVT_KERNEL_MODULE_LIST);
  std::string series, rel, path;
  while (in >> series >> rel >> path) m[series] = {rel, path};
  return m;
}

PutCoverage analyse(const std::string& series) {
  auto ks = kernels();
  auto it = ks.find(series);
  if (it == ks.end()) {
    ADD_FAILURE() << "no " << series << " module listed in " << GVT_KERNEL_MODULE_LIST
                  << " (the kernel_modules_fetch fixture failed?)";
    return {};
  }
  auto t0 = std::chrono::steady_clock::now();
  ModuleCode code = load_module_code(read_module_file(it->second.path));
  PutCoverage r = analyse_put_coverage(code);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::cout << it->second.release << " " << it->second.path << ": " << (r.complete ? "complete" : "partial")
            << " (" << ms << " ms incl. decompression)\n  " << r.reason << "\n";
  for (const auto& d : r.details) std::cout << "  - " << d << "\n";
  return r;
}

bool has(const std::vector<std::string>& v, const std::string& prefix) {
  for (const auto& s : v)
    if (s.starts_with(prefix)) return true;
  return false;
}

TEST(PutCoverageKernel, Debian612) {
  PutCoverage r = analyse("6.12");
  EXPECT_TRUE(r.complete) << r.reason;
  EXPECT_EQ(r.put_symbol, "drm_gpuvm_bo_put.part.0");
  EXPECT_EQ(r.vm_bo_arg, 0);
  EXPECT_EQ(r.vm_bo_reg, "rdi");
  EXPECT_TRUE(r.returns_destroyed);
  EXPECT_EQ(r.ret_reg, "eax");
  EXPECT_EQ(r.kref_offset, 0x14);
  // vm_bo-lifecycle.md §B.3: entered directly by unlink, obtain_prealloc,
  // prepare_objects and validate, and by the exported put's tail jump.
  for (const char* f : {"drm_gpuva_unlink ", "drm_gpuvm_bo_obtain_prealloc ", "drm_gpuvm_prepare_objects ",
                        "drm_gpuvm_validate ", "drm_gpuvm_bo_put "})
    EXPECT_TRUE(has(r.entered_by, f)) << f << " missing in: " << r.reason;
  EXPECT_TRUE(r.inline_puts.empty()) << r.reason;
}

TEST(PutCoverageKernel, Debian72) {
  PutCoverage r = analyse("7.2");
  EXPECT_TRUE(r.complete) << r.reason;
  // No .part clone: the export holds the put (drm_gpuvm_bo_destroy inlined).
  EXPECT_EQ(r.put_symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(r.vm_bo_arg, 0);
  EXPECT_TRUE(r.returns_destroyed);
  EXPECT_EQ(r.kref_offset, 0x14);
  for (const char* f : {"drm_gpuva_unlink ", "drm_gpuvm_prepare_objects ", "drm_gpuvm_validate "})
    EXPECT_TRUE(has(r.entered_by, f)) << f << " missing in: " << r.reason;
  // The deferred API and the pre-allocation's put are inlined into probed exports.
  std::vector<std::string> inl = r.inline_puts;
  std::sort(inl.begin(), inl.end());
  EXPECT_EQ(inl, (std::vector<std::string>{"drm_gpuva_unlink_defer", "drm_gpuvm_bo_obtain_prealloc",
                                            "drm_gpuvm_bo_put_deferred"}))
      << r.reason;
}

// The aarch64 guest's kernel (Debian arm64 7.2): the same analysis on AArch64 code, as
// `live` runs it at start-up there. GCC inlined the put into drm_gpuva_unlink, which
// is accepted only as the put of va->vm_bo (the offset learned from drm_gpuva_link's
// store, since no BTF is passed here).
TEST(PutCoverageKernel, Debian72Arm64) {
  PutCoverage r = analyse("arm64:7.2");
  EXPECT_TRUE(r.complete) << r.reason;
  EXPECT_EQ(r.put_symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(r.vm_bo_arg, 0);
  EXPECT_EQ(r.vm_bo_reg, "x0");
  EXPECT_TRUE(r.returns_destroyed);
  EXPECT_EQ(r.kref_offset, 0x14);
  // As on x86 7.2, plus drm_gpuva_unlink.
  std::vector<std::string> inl = r.inline_puts;
  std::sort(inl.begin(), inl.end());
  EXPECT_EQ(inl, (std::vector<std::string>{"drm_gpuva_unlink", "drm_gpuva_unlink_defer",
                                            "drm_gpuvm_bo_obtain_prealloc", "drm_gpuvm_bo_put_deferred"}))
      << r.reason;
  EXPECT_TRUE(has(r.details, "inlined put in drm_gpuva_unlink at ")) << r.reason;
  EXPECT_TRUE(has(r.details, "no other vm_bo refcount decrement in the module")) << r.reason;
}

// The whole start-up path: facts from a sysfs whose drm_gpuvm is "loaded" with the
// 6.12 module's build-id, the module file found under a /lib/modules-like tree,
// analysed, and planned at its .part.0 clone. A different loaded build-id (the file on
// disk is not the loaded module) must make it partial.
TEST(PutCoverageKernel, FactsAndPlanFromTheModuleFile) {
  namespace fs = std::filesystem;
  if (!fs::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux on this host";
  auto ks = kernels();
  ASSERT_TRUE(ks.count("6.12")) << "fixture kernel_modules_fetch did not list 6.12";
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  const fs::path root = fs::temp_directory_path() / ("gvt-putcov-facts-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "sys/kernel/btf");
  fs::create_directories(root / "sys/module/drm_gpuvm/notes");
  fs::copy_file("/sys/kernel/btf/vmlinux", root / "sys/kernel/btf/vmlinux");
  std::ofstream(root / "sys/module/drm_gpuvm/initstate") << "live\n";
  fs::copy_file(GVT_BPF_TEST_DATA "/k612_build_id.note", root / "sys/module/drm_gpuvm/notes/.note.gnu.build-id");
  const fs::path drm = root / "modules" / u.release / "kernel/drivers/gpu/drm";
  fs::create_directories(drm);
  fs::create_symlink(ks["6.12"].path, drm / "drm_gpuvm.ko.xz");

  FactsOptions fo;
  fo.sysfs = (root / "sys").string();
  fo.modroot = (root / "modules").string();
  KernelFacts k = gather_facts(fo);
  ASSERT_TRUE(k.put_analysis);
  EXPECT_TRUE(k.put_analysis->complete) << k.put_analysis->reason;
  EXPECT_EQ(k.put_analysis->put_symbol, "drm_gpuvm_bo_put.part.0");
  EXPECT_EQ(k.put_analysis->module_file, (drm / "drm_gpuvm.ko.xz").string());
  std::cout << "analysis at start-up: " << k.put_analysis->ms << " ms\n";
  k.have_filter_functions = true;
  k.gpuvm_traceable = {"drm_gpuvm_bo_put", "drm_gpuvm_bo_put.part.0"};
  k.gpuvm_btf.insert("drm_gpuvm_bo_put");
  Plan p = make_plan(k, {});
  EXPECT_TRUE(p.put_complete) << p.put_reason;
  EXPECT_EQ(p.symbol_for(gvt::Fn::bo_put), "drm_gpuvm_bo_put.part.0");

  std::ofstream(root / "sys/module/drm_gpuvm/notes/.note.gnu.build-id", std::ios::trunc)
      << std::string("\x04\0\0\0\x04\0\0\0\x03\0\0\0GNU\0\x01\x02\x03\x04", 20);
  KernelFacts other = gather_facts(fo);
  ASSERT_TRUE(other.put_analysis);
  EXPECT_FALSE(other.put_analysis->complete);
  EXPECT_NE(other.put_analysis->reason.find("is not the loaded module"), std::string::npos)
      << other.put_analysis->reason;
  fs::remove_all(root);
}

}  // namespace
