// SPDX-License-Identifier: GPL-2.0-only
// Kernel facts from a fake sysfs: the error paths that need no DRM kernel.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <bpf/btf.h>
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

// A loaded drm_gpuvm module: its split BTF (built here over the host's vmlinux BTF, as
// the kernel exposes /sys/kernel/btf/drm_gpuvm) is where functions and features are
// looked up. The lookups search the module's own types, not vmlinux's (a module's
// functions are never there), and find what the module has.
TEST(KernelFacts, ModuleSplitBtfFunctionsAndFeatures) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux here";
  FakeSys s;
  fs::copy_file("/sys/kernel/btf/vmlinux", s.root / "kernel/btf/vmlinux");
  btf* base = btf__parse_raw((s.root / "kernel/btf/vmlinux").c_str());
  ASSERT_NE(base, nullptr);
  btf* mod = btf__new_empty_split(base);
  ASSERT_NE(mod, nullptr);
  int proto = btf__add_func_proto(mod, 0);
  ASSERT_GT(proto, 0);
  std::map<std::string, uint32_t, std::less<>> ids;  // what the loader will hand the kernel
  for (const char* f : {"drm_gpuvm_bo_create", "drm_gpuvm_bo_put_deferred", "drm_gpuvm_bo_obtain_locked"}) {
    int id = btf__add_func(mod, f, BTF_FUNC_GLOBAL, proto);
    ASSERT_GT(id, 0) << f;
    ids.emplace(f, static_cast<uint32_t>(id));
  }
  // A vmlinux lock function keeps its vmlinux id.
  int ww = btf__find_by_name_kind(base, "ww_mutex_lock", BTF_KIND_FUNC);
  ASSERT_GT(ww, 0);
  ids.emplace("ww_mutex_lock", static_cast<uint32_t>(ww));
  ASSERT_GT(btf__add_enum(mod, "drm_gpuvm_flags", 4), 0);
  ASSERT_EQ(btf__add_enum_value(mod, "DRM_GPUVM_RESV_PROTECTED", 1), 0);
  ASSERT_EQ(btf__add_enum_value(mod, "DRM_GPUVM_IMMEDIATE_MODE", 2), 0);
  uint32_t size = 0;
  const void* raw = btf__raw_data(mod, &size);
  ASSERT_NE(raw, nullptr);
  std::ofstream(s.root / "kernel/btf/drm_gpuvm", std::ios::binary).write(static_cast<const char*>(raw), size);
  btf__free(mod);
  btf__free(base);
  fs::create_directories(s.root / "module/drm_gpuvm");
  std::ofstream(s.root / "module/drm_gpuvm/initstate") << "live\n";

  KernelFacts k = gather_facts({s.root.string()});
  EXPECT_TRUE(k.gpuvm_present);
  EXPECT_FALSE(k.gpuvm_builtin);
  EXPECT_EQ(k.gpuvm_btf, (std::set<std::string, std::less<>>{"drm_gpuvm_bo_create", "drm_gpuvm_bo_obtain_locked",
                                                              "drm_gpuvm_bo_put_deferred"}));
  EXPECT_EQ(k.feat_deferred, Tri::yes);
  EXPECT_EQ(k.feat_prealloc_self_locks, Tri::yes);
  EXPECT_EQ(k.feat_immediate_mode, Tri::yes);
  // Neither in the module nor (on a host without DRM) in vmlinux.
  EXPECT_EQ(k.feat_gpuva_mutex, Tri::absent);
  EXPECT_TRUE(k.vmlinux_btf.count("ww_mutex_lock"));
  // Every function found has its id in its own BTF object, and those are the ids.
  EXPECT_EQ(k.btf_func_ids.size(), k.gpuvm_btf.size() + k.vmlinux_btf.size());
  for (const auto& [name, id] : ids) {
    auto it = k.btf_func_ids.find(name);
    ASSERT_NE(it, k.btf_func_ids.end()) << name;
    EXPECT_EQ(it->second, id) << name;
  }
}

}  // namespace
}  // namespace gvt::bpf
