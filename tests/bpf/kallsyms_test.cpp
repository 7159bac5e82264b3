// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include "bpf/kallsyms.h"

namespace gvt::bpf {
namespace {

Kallsyms fixture() {
  Kallsyms k;
  std::string err;
  EXPECT_TRUE(k.load(GVT_BPF_TEST_DATA "/kallsyms.txt", &err)) << err;
  return k;
}

TEST(Kallsyms, ParsesTextSymbolsOnly) {
  Kallsyms k = fixture();
  // 11 text symbols: data/bss, malformed, zero and non-hex lines are skipped.
  EXPECT_EQ(k.size(), 11u);
}

TEST(Kallsyms, ExactAndOffsetLookups) {
  Kallsyms k = fixture();
  auto h = k.lookup(0xffffffff81003000);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "ww_mutex_lock");
  EXPECT_EQ(h->offset, 0u);
  EXPECT_EQ(h->module, "");

  h = k.lookup(0xffffffff81003105);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "ww_mutex_unlock");
  EXPECT_EQ(h->offset, 5u);

  h = k.lookup(0xffffffff81003210);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "weak_fn");
}

TEST(Kallsyms, ModuleSymbolsAndUnsortedInput) {
  Kallsyms k = fixture();
  // The module lines are not in address order in the fixture.
  auto h = k.lookup(0xffffffffc0a1b105);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "drm_gpuvm_bo_put");
  EXPECT_EQ(h->offset, 5u);
  EXPECT_EQ(h->module, "drm_gpuvm");

  h = k.lookup(0xffffffffc0a1b050);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "drm_gpuvm_bo_put.part.0");

  h = k.lookup(0xffffffffc0b00115);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "ex_init");
  EXPECT_EQ(h->offset, 0x115u);
  EXPECT_EQ(h->module, "gpuvm_exerciser");

  h = k.lookup(0xffffffffa0000010);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->module, "bpf");
}

TEST(Kallsyms, UnknownAddresses) {
  Kallsyms k = fixture();
  EXPECT_FALSE(k.lookup(0x1000));                       // below every symbol
  EXPECT_FALSE(k.lookup(0xffffffffc0b00000 + Kallsyms::kMaxOffset + 1));  // past any function
  Kallsyms empty;
  empty.parse("0000000000000000 T hidden\n0000000000000000 t also_hidden\n");
  EXPECT_TRUE(empty.empty());  // kptr_restrict: nothing usable
  EXPECT_FALSE(empty.lookup(0xffffffff81000000));
  Kallsyms missing;
  std::string err;
  EXPECT_FALSE(missing.load("/nonexistent/kallsyms", &err));
  EXPECT_NE(err.find("/nonexistent/kallsyms"), std::string::npos);
}

// The watcher re-reads kallsyms when modules come or go, not when a module's use
// count changes (a debugfs file of the traced driver opened: the bench's stress run
// re-read the table, seconds of CPU in the guest, on every run).
TEST(Kallsyms, ModuleLayoutIgnoresUseCounts) {
  const char* idle =
      "gpuvm_exerciser 86016 0 - Live 0xffffffffc0a00000 (OE)\n"
      "drm_gpuvm 45056 1 gpuvm_exerciser, Live 0xffffffffc09f0000\n";
  const char* busy =
      "gpuvm_exerciser 86016 1 - Live 0xffffffffc0a00000 (OE)\n"
      "drm_gpuvm 45056 1 gpuvm_exerciser, Live 0xffffffffc09f0000\n";
  EXPECT_EQ(module_layout(idle), module_layout(busy));
  EXPECT_EQ(module_layout(idle),
            "gpuvm_exerciser 86016 Live 0xffffffffc0a00000\n"
            "drm_gpuvm 45056 Live 0xffffffffc09f0000\n");
  // Loaded again elsewhere, still loading, or gone: the symbols changed.
  EXPECT_NE(module_layout(idle), module_layout("gpuvm_exerciser 86016 0 - Live 0xffffffffc0b00000 (OE)\n"
                                               "drm_gpuvm 45056 1 gpuvm_exerciser, Live 0xffffffffc09f0000\n"));
  EXPECT_NE(module_layout(idle), module_layout("gpuvm_exerciser 86016 0 - Loading 0xffffffffc0a00000 (OE)\n"
                                               "drm_gpuvm 45056 1 gpuvm_exerciser, Live 0xffffffffc09f0000\n"));
  EXPECT_NE(module_layout(idle), module_layout("drm_gpuvm 45056 0 - Live 0xffffffffc09f0000\n"));
  EXPECT_EQ(module_layout(""), "");
}

}  // namespace
}  // namespace gvt::bpf
