// SPDX-License-Identifier: GPL-2.0-only
// The put-coverage code analysis on crafted relocatable objects compiled here with
// gcc -O2 (label unit): each mimics a drm_gpuvm.ko layout whose puts the tool can or
// cannot see, and the verdict and its reason are checked.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>

#include "bpf/put_coverage.h"

namespace fs = std::filesystem;
using namespace gvt::bpf;

namespace {

// Kernel-like vm_bo: refcount at offset 20 as in drm_gpuvm_bo (vm, obj, evicted, kref).
constexpr const char* kPrelude = R"(
#include <stdbool.h>
#include <stddef.h>
struct list { struct list *next, *prev; };
struct drm_gpuvm_bo { void *vm; void *obj; bool evicted; int kref; struct list gem; };
struct drm_gpuva { struct drm_gpuvm_bo *vm_bo; struct list entry; };
void kfree(void *);
void vm_put(void *);
void obj_put(void *);
void might_sleep(void);
static void __attribute__((noinline)) destroy(struct drm_gpuvm_bo *b) {
  b->gem.prev->next = b->gem.next; b->gem.next->prev = b->gem.prev;
  void *vm = b->vm, *obj = b->obj;
  kfree(b); vm_put(vm); obj_put(obj);
}
void refcount_warn_saturate(int *r, int how);
// As include/linux/refcount.h and kref.h have them.
static inline bool refcount_dec_and_test(int *r) {
  int old = __atomic_fetch_sub(r, 1, __ATOMIC_RELEASE);
  if (old == 1) return true;
  if (__builtin_expect(old <= 0, 0)) refcount_warn_saturate(r, 3);
  return false;
}
#define KREF_PUT(b) (refcount_dec_and_test(&(b)->kref) ? (destroy(b), 1) : 0)
)";

struct ScratchDir {
  fs::path dir = fs::temp_directory_path() / ("gvt-putcov-" + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(dir); }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::string compile(const std::string& name, const std::string& body) {
  static ScratchDir scratch;
  const fs::path& dir = scratch.dir;
  const fs::path c = dir / (name + ".c"), o = dir / (name + ".o");
  std::ofstream(c) << kPrelude << body;
  const std::string cmd = "gcc -O2 -fno-pic -fno-asynchronous-unwind-tables -c -o '" + o.string() + "' '" +
                          c.string() + "' 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return o.string();
}

PutCoverage run(const std::string& name, const std::string& body, bool btf = true) {
  ModuleCode m = load_module_code(read_module_file(compile(name, body)));
  PutAnalysisOptions o;
  if (btf) o.kref_offset = 20;
  PutCoverage r = analyse_put_coverage(m, o);
  std::string all = r.reason;
  for (const auto& d : r.details) all += "\n  " + d;
  ::testing::Test::RecordProperty(name, all);
  std::cout << name << ": " << (r.complete ? "complete" : "partial") << ": " << all << "\n";
  return r;
}

// Callers as drm_gpuvm.c has them, reaching the put by a real call.
constexpr const char* kCallers = R"(
void drm_gpuva_unlink(struct drm_gpuva *va) { struct drm_gpuvm_bo *b = va->vm_bo; va->vm_bo = NULL; drm_gpuvm_bo_put(b); }
int drm_gpuvm_validate(struct drm_gpuvm_bo **v, int n) { int d = 0; for (int i = 0; i < n; ++i) d += drm_gpuvm_bo_put(v[i]); return d; }
)";

TEST(PutCoverage, ExportedPutCalledEverywhereIsComplete) {
  PutCoverage r = run("exported", std::string(R"(
bool __attribute__((noinline)) drm_gpuvm_bo_put(struct drm_gpuvm_bo *b) { might_sleep(); if (!b) return false; return KREF_PUT(b); }
)") + kCallers, /*btf=*/false);
  EXPECT_TRUE(r.complete) << r.reason;
  EXPECT_EQ(r.put_symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(r.kref_offset, 20);  // learned from the code: no BTF given
  EXPECT_EQ(r.vm_bo_arg, 0);
  EXPECT_EQ(r.vm_bo_reg, "rdi");
  EXPECT_TRUE(r.returns_destroyed);
  EXPECT_NE(r.reason.find("drm_gpuva_unlink"), std::string::npos) << r.reason;
}

TEST(PutCoverage, PutInlinedIntoCallerIsPartial) {
  // The compiler inlines the put into an unprobed caller: that final put is invisible.
  PutCoverage r = run("inlined", R"(
bool __attribute__((noinline)) drm_gpuvm_bo_put(struct drm_gpuvm_bo *b) { might_sleep(); if (!b) return false; return KREF_PUT(b); }
void drm_gpuva_unlink(struct drm_gpuva *va) { struct drm_gpuvm_bo *b = va->vm_bo; va->vm_bo = NULL; KREF_PUT(b); }
)");
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("vm_bo put inlined into drm_gpuva_unlink"), std::string::npos) << r.reason;
}

TEST(PutCoverage, IsraCloneTakingTheRefcountIsPartial) {
  // An .isra clone whose argument is the refcount itself, not the vm_bo: the BPF put
  // probe (vm_bo = first argument) cannot use it.
  PutCoverage r = run("isra", R"(
static bool __attribute__((noinline)) put_isra(int *kref, struct drm_gpuvm_bo *b) __asm__("drm_gpuvm_bo_put.isra.0");
static bool __attribute__((noinline)) put_isra(int *kref, struct drm_gpuvm_bo *b) {
  if (refcount_dec_and_test(kref)) { destroy(b); return true; }
  return false;
}
bool drm_gpuvm_bo_put(struct drm_gpuvm_bo *b) { might_sleep(); if (!b) return false; return put_isra(&b->kref, b); }
void drm_gpuva_unlink(struct drm_gpuva *va) { struct drm_gpuvm_bo *b = va->vm_bo; va->vm_bo = NULL; put_isra(&b->kref, b); }
)");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.put_symbol, "drm_gpuvm_bo_put.isra.0");
  EXPECT_NE(r.reason.find("calling convention is unknown"), std::string::npos) << r.reason;
}

TEST(PutCoverage, CloneWithVmBoInSecondArgumentIsPartial) {
  PutCoverage r = run("constprop", R"(
static bool __attribute__((noinline)) put2(void *ctx, struct drm_gpuvm_bo *b) __asm__("drm_gpuvm_bo_put.constprop.0");
static bool __attribute__((noinline)) put2(void *ctx, struct drm_gpuvm_bo *b) { obj_put(ctx); return KREF_PUT(b); }
bool drm_gpuvm_bo_put(struct drm_gpuvm_bo *b) { might_sleep(); if (!b) return false; return put2(b->obj, b); }
)");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.vm_bo_arg, 1);
  EXPECT_NE(r.reason.find("takes the vm_bo as argument 2 (rsi)"), std::string::npos) << r.reason;
}

TEST(PutCoverage, CloneWithoutDestroyedFlagIsPartial) {
  PutCoverage r = run("voidclone", R"(
static void __attribute__((noinline)) put_v(struct drm_gpuvm_bo *b) __asm__("drm_gpuvm_bo_put.part.0");
static void __attribute__((noinline)) put_v(struct drm_gpuvm_bo *b) { if (refcount_dec_and_test(&b->kref)) destroy(b); }
bool drm_gpuvm_bo_put(struct drm_gpuvm_bo *b) { might_sleep(); if (!b) return false; put_v(b); return true; }
)");
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("destroyed flag is not proven"), std::string::npos) << r.reason;
}

TEST(PutCoverage, PartClonePutsCompleteWhenEveryCallerEntersIt) {
  // The K612 shape: the export tail-jumps to .part.0, which internal callers enter too.
  PutCoverage r = run("part", std::string(R"(
static bool __attribute__((noinline)) put_p(struct drm_gpuvm_bo *b) __asm__("drm_gpuvm_bo_put.part.0");
static bool __attribute__((noinline)) put_p(struct drm_gpuvm_bo *b) { return KREF_PUT(b); }
bool drm_gpuvm_bo_put(struct drm_gpuvm_bo *b) { might_sleep(); if (!b) return false; return put_p(b); }
void drm_gpuva_unlink(struct drm_gpuva *va) { struct drm_gpuvm_bo *b = va->vm_bo; va->vm_bo = NULL; put_p(b); }
)"));
  EXPECT_TRUE(r.complete) << r.reason;
  EXPECT_EQ(r.put_symbol, "drm_gpuvm_bo_put.part.0");
  EXPECT_NE(r.reason.find("drm_gpuva_unlink"), std::string::npos) << r.reason;
}

TEST(PutCoverage, PutInCloneOfDeferredPutIsPartial) {
  PutCoverage r = run("deferredclone", R"(
bool __attribute__((noinline)) drm_gpuvm_bo_put(struct drm_gpuvm_bo *b) { might_sleep(); if (!b) return false; return KREF_PUT(b); }
static bool __attribute__((noinline)) pd(struct drm_gpuvm_bo *b) __asm__("drm_gpuvm_bo_put_deferred.part.0");
static bool __attribute__((noinline)) pd(struct drm_gpuvm_bo *b) { return KREF_PUT(b); }
bool drm_gpuvm_bo_put_deferred(struct drm_gpuvm_bo *b) { if (!b) return false; return pd(b); }
)");
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("compiler clone of drm_gpuvm_bo_put_deferred"), std::string::npos) << r.reason;
}

TEST(PutCoverage, MismatchWithBtfIsPartial) {
  ModuleCode m = load_module_code(read_module_file(compile("btfmismatch", R"(
bool __attribute__((noinline)) drm_gpuvm_bo_put(struct drm_gpuvm_bo *b) { if (!b) return false; return KREF_PUT(b); }
)")));
  PutAnalysisOptions o;
  o.kref_offset = 24;
  PutCoverage r = analyse_put_coverage(m, o);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("BTF puts drm_gpuvm_bo.kref at 0x18"), std::string::npos) << r.reason;
}

TEST(PutCoverage, NotAModuleIsAClearError) {
  EXPECT_THROW(load_module_code("not an elf"), ModuleFileError);
  EXPECT_THROW(read_module_file("/nonexistent/drm_gpuvm.ko"), ModuleFileError);
  PutCoverage r = analyse_module("/nonexistent", "0.0", "drm_gpuvm", "");
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.reason.find("no drm_gpuvm.ko file"), std::string::npos) << r.reason;
}

}  // namespace
