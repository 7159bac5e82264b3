// SPDX-License-Identifier: GPL-2.0-only
// Kernel facts from a fake sysfs: the error paths that need no DRM kernel.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "bpf/error.h"
#include "bpf/kernel_facts.h"

namespace gvt::bpf {
namespace {

namespace fs = std::filesystem;

struct FakeSys {
  fs::path root;
  FakeSys() {
    root = fs::temp_directory_path() / ("gvt-fakesys-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "kernel/btf");
  }
  ~FakeSys() { fs::remove_all(root); }
};

TEST(KernelFacts, NoVmlinuxBtfIsExit4) {
  FakeSys s;
  try {
    gather_facts({s.root.string()});
    FAIL() << "expected LiveError";
  } catch (const LiveError& e) {
    EXPECT_EQ(e.cause(), Failure::no_btf);
    EXPECT_NE(std::string(e.what()).find("CONFIG_DEBUG_INFO_BTF"), std::string::npos);
  }
}

TEST(KernelFacts, GarbageBtfIsExit4) {
  FakeSys s;
  std::ofstream(s.root / "kernel/btf/vmlinux") << "not BTF";
  try {
    gather_facts({s.root.string()});
    FAIL() << "expected LiveError";
  } catch (const LiveError& e) {
    EXPECT_EQ(e.cause(), Failure::no_btf);
  }
}

// With the build machine's own BTF (no DRM on it): GPUVM is reported absent.
TEST(KernelFacts, HostWithoutGpuvm) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux here";
  FakeSys s;
  fs::copy_file("/sys/kernel/btf/vmlinux", s.root / "kernel/btf/vmlinux");
  KernelFacts k = gather_facts({s.root.string()});
  if (!k.gpuvm_btf.empty()) GTEST_SKIP() << "this kernel has GPUVM built in";
  EXPECT_FALSE(k.gpuvm_present);
  EXPECT_FALSE(gpuvm_available({s.root.string()}));
  EXPECT_TRUE(k.vmlinux_btf.count("ww_mutex_lock"));
  EXPECT_FALSE(k.have_filter_functions);

  // A loaded-but-initialising module is not yet usable.
  fs::create_directories(s.root / "module/drm_gpuvm");
  std::ofstream(s.root / "module/drm_gpuvm/initstate") << "coming\n";
  EXPECT_FALSE(gpuvm_available({s.root.string()}));
}

}  // namespace
}  // namespace gvt::bpf
