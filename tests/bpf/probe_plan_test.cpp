// SPDX-License-Identifier: GPL-2.0-only
// Probe planning on fixtures of available_filter_functions + BTF presence.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "bpf/probe_plan.h"

namespace gvt::bpf {
namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in) << p;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kK612BuildId = "cb41676e7d0a466001593339c8e1fd1286caf0ac";

// K612: Debian 6.12.95 drm_gpuvm.ko as shipped (symbols, BTF and build-id of the
// real module).
KernelFacts k612() {
  KernelFacts k;
  k.release = "6.12.95+deb12-amd64";
  k.gpuvm_present = true;
  k.build_id = parse_build_id_note(slurp(GVT_BPF_TEST_DATA "/k612_build_id.note"));
  k.have_filter_functions = true;
  parse_filter_functions(slurp(GVT_BPF_TEST_DATA "/k612_available_filter_functions.txt"), "drm_gpuvm", k);
  std::istringstream btf(slurp(GVT_BPF_TEST_DATA "/k612_gpuvm_btf_funcs.txt"));
  for (std::string n; std::getline(btf, n);)
    if (!n.empty()) k.gpuvm_btf.insert(n);
  for (auto n : lock_function_names()) k.vmlinux_btf.emplace(n);
  k.feat_deferred = k.feat_gpuva_mutex = k.feat_immediate_mode = k.feat_prealloc_self_locks = Tri::no;
  // What the code analysis finds in this module (put_coverage_kernel_test checks it on
  // the real file).
  PutCoverage a;
  a.complete = true;
  a.put_symbol = "drm_gpuvm_bo_put.part.0";
  a.vm_bo_arg = 0;
  a.vm_bo_reg = "rdi";
  a.returns_destroyed = true;
  a.ret_reg = "eax";
  a.reason = "every final vm_bo put is in drm_gpuvm_bo_put.part.0";
  k.put_analysis = a;
  return k;
}

std::vector<PlannedProbe> probes_for(const Plan& p, Fn fn) {
  std::vector<PlannedProbe> out;
  for (const auto& pp : p.probes)
    if (pp.fn == fn) out.push_back(pp);
  return out;
}

bool skipped(const Plan& p, std::string_view sym) {
  for (const auto& s : p.skipped)
    if (s.symbol == sym) return true;
  return false;
}

TEST(ProbePlan, BuildIdNote) {
  EXPECT_EQ(parse_build_id_note(slurp(GVT_BPF_TEST_DATA "/k612_build_id.note")), kK612BuildId);
  EXPECT_EQ(parse_build_id_note(""), "");
  EXPECT_EQ(parse_build_id_note(std::string("\x04\0\0\0\x40\0\0\0\x03\0\0\0GNU\0", 16)), "");  // truncated
}

TEST(ProbePlan, FilterFunctionsKeepOnlyTheGpuvmModule) {
  KernelFacts k = k612();
  EXPECT_TRUE(k.gpuvm_traceable.count("drm_gpuvm_bo_put.part.0"));
  EXPECT_TRUE(k.gpuvm_traceable.count("drm_gpuvm_bo_create"));
  EXPECT_FALSE(k.gpuvm_traceable.count("drm_gpuvm_fake_from_other"));  // other module
  EXPECT_TRUE(k.vmlinux_traceable.count("ww_mutex_lock"));
  EXPECT_FALSE(k.vmlinux_traceable.count("drm_gem_object_init"));
}

TEST(ProbePlan, K612PutThroughPart0ByKprobe) {
  Plan p = make_plan(k612(), {});
  EXPECT_TRUE(p.missing.empty());
  auto put = probes_for(p, Fn::bo_put);
  ASSERT_EQ(put.size(), 2u);
  EXPECT_EQ(put[0].symbol, "drm_gpuvm_bo_put.part.0");
  EXPECT_EQ(put[0].mech, Mech::kprobe);
  EXPECT_EQ(put[1].symbol, "drm_gpuvm_bo_put.part.0");
  EXPECT_EQ(put[1].mech, Mech::kretprobe);
  EXPECT_EQ(put[0].module, "drm_gpuvm");
  // The exported wrapper would duplicate the logical call.
  EXPECT_TRUE(skipped(p, "drm_gpuvm_bo_put"));
  for (const auto& pp : p.probes) EXPECT_NE(pp.symbol, "drm_gpuvm_bo_put");
  EXPECT_TRUE(p.put_complete);
  EXPECT_TRUE(p.locks_complete);
  EXPECT_EQ(p.symbol_for(Fn::bo_put), "drm_gpuvm_bo_put.part.0");
  EXPECT_EQ(p.symbol_for(Fn::bo_create), "");

  // BTF functions by fentry/fexit.
  auto create = probes_for(p, Fn::bo_create);
  ASSERT_EQ(create.size(), 2u);
  EXPECT_EQ(create[0].mech, Mech::fentry);
  EXPECT_EQ(create[1].mech, Mech::fexit);
  // Exit-only and entry-only functions.
  auto init = probes_for(p, Fn::gpuvm_init);
  ASSERT_EQ(init.size(), 1u);
  EXPECT_EQ(init[0].mech, Mech::fexit);
  auto fr = probes_for(p, Fn::gpuvm_free);  // static, but has BTF and ftrace
  ASSERT_EQ(fr.size(), 1u);
  EXPECT_EQ(fr[0].mech, Mech::fentry);
  auto unlock = probes_for(p, Fn::ww_mutex_unlock);
  ASSERT_EQ(unlock.size(), 1u);
  EXPECT_EQ(unlock[0].module, "");

  // 6.12 lacks the deferred API and the rename; no gpuva mutex to watch.
  EXPECT_TRUE(skipped(p, "drm_gpuvm_bo_put_deferred"));
  EXPECT_TRUE(skipped(p, "drm_gpuvm_bo_deferred_cleanup"));
  EXPECT_TRUE(skipped(p, "drm_gpuva_unlink_defer"));
  EXPECT_TRUE(skipped(p, "drm_gpuvm_bo_obtain_locked"));
  EXPECT_TRUE(probes_for(p, Fn::mutex_lock).empty());
  EXPECT_FALSE(p.watch_mutexes);
  EXPECT_EQ(probes_for(p, Fn::bo_obtain).size(), 2u);
  EXPECT_EQ(probes_for(p, Fn::sys_exit).size(), 1u);
}

// Issue 13: on a preemptible kernel the lock functions go to kprobe.multi (their
// fentry programs, preempted, made the kernel skip them for every other task on the
// CPU); the GPUVM functions keep fentry/fexit. Not without kprobe.multi support, not
// on a non-preemptible kernel, and -k keeps plain kprobes.
TEST(ProbePlan, PreemptibleKernelProbesLocksByKprobeMulti) {
  KernelFacts k = k612();
  k.preemptible = true;
  k.preempt_model = "lazy, test";
  k.kprobe_multi = true;
  Plan p = make_plan(k, {});
  for (Fn f : {Fn::ww_mutex_lock, Fn::ww_mutex_unlock}) {
    auto lk = probes_for(p, f);
    ASSERT_FALSE(lk.empty());
    for (const auto& pp : lk) {
      EXPECT_TRUE(pp.multi) << pp.symbol;
      EXPECT_TRUE(pp.mech == Mech::kprobe || pp.mech == Mech::kretprobe) << pp.symbol;
      EXPECT_NE(pp.why.find("preemptible kernel (lazy, test)"), std::string::npos) << pp.why;
    }
  }
  EXPECT_EQ(probes_for(p, Fn::ww_mutex_lock).size(), 2u);  // the exit carries the result
  auto create = probes_for(p, Fn::bo_create);
  ASSERT_EQ(create.size(), 2u);
  EXPECT_EQ(create[0].mech, Mech::fentry);
  EXPECT_FALSE(create[0].multi);
  EXPECT_TRUE(p.locks_complete);

  k.kprobe_multi = false;
  for (const auto& pp : probes_for(make_plan(k, {}), Fn::ww_mutex_lock)) EXPECT_FALSE(pp.multi);
  k.kprobe_multi = true;
  k.preemptible = false;
  for (const auto& pp : probes_for(make_plan(k, {}), Fn::ww_mutex_lock)) EXPECT_FALSE(pp.multi);
  k.preemptible = true;
  for (const auto& pp : make_plan(k, {.kprobes = true}).probes) EXPECT_FALSE(pp.multi) << pp.symbol;
}

TEST(ProbePlan, K612WithKprobesOption) {
  Plan p = make_plan(k612(), {.kprobes = true});
  for (const auto& pp : p.probes)
    EXPECT_TRUE(pp.mech == Mech::kprobe || pp.mech == Mech::kretprobe || pp.mech == Mech::raw_tracepoint)
        << pp.symbol;
  // gpuvm_init writes only its exit, but the kprobe entry must keep the argument.
  auto init = probes_for(p, Fn::gpuvm_init);
  ASSERT_EQ(init.size(), 2u);
  EXPECT_EQ(init[0].mech, Mech::kprobe);
  EXPECT_EQ(init[1].mech, Mech::kretprobe);
  EXPECT_TRUE(p.put_complete);
}

TEST(ProbePlan, PartialAnalysisMeansExportedPutAndPartial) {
  KernelFacts k = k612();
  k.put_analysis->complete = false;
  k.put_analysis->reason = "vm_bo put inlined into drm_gpuvm_exec_lock (not probed as a put)";
  Plan p = make_plan(k, {});
  auto put = probes_for(p, Fn::bo_put);
  ASSERT_EQ(put.size(), 2u);
  EXPECT_EQ(put[0].symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(put[0].mech, Mech::fentry);
  EXPECT_FALSE(p.put_complete);
  EXPECT_TRUE(skipped(p, "drm_gpuvm_bo_put.part.0"));
  bool noticed = false;
  for (const auto& n : p.notices) noticed |= n.find("put coverage partial: vm_bo put inlined into drm_gpuvm_exec_lock") != std::string::npos;
  EXPECT_TRUE(noticed);
  EXPECT_EQ(p.put_reason, k.put_analysis->reason);
  EXPECT_EQ(p.symbol_for(Fn::bo_put), "");
}

TEST(ProbePlan, NoAnalysisMeansPartialPut) {
  KernelFacts k = k612();
  k.put_analysis.reset();
  Plan p = make_plan(k, {});
  EXPECT_FALSE(p.put_complete);
  EXPECT_EQ(probes_for(p, Fn::bo_put)[0].symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(p.put_reason, "the module's code was not analysed");
}

TEST(ProbePlan, OtherClonesAreListedNotUsed) {
  KernelFacts k = k612();
  k.gpuvm_traceable.insert("drm_gpuvm_bo_obtain.isra.0");
  k.gpuvm_traceable.insert("drm_gpuvm_bo_obtain.cold");  // never a candidate
  Plan p = make_plan(k, {});
  EXPECT_TRUE(skipped(p, "drm_gpuvm_bo_obtain.isra.0"));
  EXPECT_FALSE(skipped(p, "drm_gpuvm_bo_obtain.cold"));
  for (const auto& pp : probes_for(p, Fn::bo_obtain)) EXPECT_EQ(pp.symbol, "drm_gpuvm_bo_obtain");
  EXPECT_TRUE(p.put_complete);
}

TEST(ProbePlan, NoTracefsAccessFallsBackToBtf) {
  KernelFacts k = k612();
  k.have_filter_functions = false;
  k.gpuvm_traceable.clear();
  k.vmlinux_traceable.clear();
  k.build_id.clear();
  Plan p = make_plan(k, {});
  EXPECT_TRUE(p.missing.empty());
  EXPECT_FALSE(p.put_complete);
  EXPECT_EQ(probes_for(p, Fn::bo_put)[0].symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(probes_for(p, Fn::bo_create).size(), 2u);
}

TEST(ProbePlan, KnewLikeKernelWithDeferredCleanup) {
  KernelFacts k;
  k.release = "7.3.0-rc1";
  k.gpuvm_present = true;
  k.have_filter_functions = true;
  std::string aff =
      "ww_mutex_lock\nww_mutex_lock_interruptible\nww_mutex_trylock\nww_mutex_unlock\n"
      "mutex_lock\nmutex_lock_interruptible\nmutex_lock_killable\nmutex_trylock\nmutex_unlock\n";
  for (const char* f : {"drm_gpuvm_init", "drm_gpuvm_put", "drm_gpuvm_free", "drm_gpuvm_bo_create",
                        "drm_gpuvm_bo_obtain_locked", "drm_gpuvm_bo_obtain_prealloc", "drm_gpuvm_bo_find",
                        "drm_gpuvm_bo_put", "drm_gpuvm_bo_put_deferred", "drm_gpuvm_bo_deferred_cleanup",
                        "drm_gpuvm_bo_extobj_add", "drm_gpuvm_bo_evict", "drm_gpuva_link",
                        "drm_gpuva_unlink", "drm_gpuva_unlink_defer", "drm_gpuva_insert", "drm_gpuva_remove"}) {
    aff += std::string(f) + " [drm_gpuvm]\n";
    k.gpuvm_btf.insert(f);
  }
  parse_filter_functions(aff, "drm_gpuvm", k);
  for (auto n : lock_function_names()) k.vmlinux_btf.emplace(n);
  k.feat_deferred = k.feat_gpuva_mutex = k.feat_immediate_mode = k.feat_prealloc_self_locks = Tri::yes;

  Plan p = make_plan(k, {});
  EXPECT_TRUE(p.missing.empty());
  EXPECT_EQ(probes_for(p, Fn::bo_put_deferred).size(), 2u);
  EXPECT_EQ(probes_for(p, Fn::bo_deferred_cleanup).size(), 2u);
  EXPECT_EQ(probes_for(p, Fn::va_unlink_defer).size(), 2u);
  EXPECT_EQ(probes_for(p, Fn::bo_obtain_locked).size(), 2u);
  EXPECT_TRUE(probes_for(p, Fn::bo_obtain).empty());
  EXPECT_TRUE(skipped(p, "drm_gpuvm_bo_obtain"));
  // Not analysed: the exported put is probed, but coverage cannot be claimed.
  EXPECT_EQ(probes_for(p, Fn::bo_put)[0].symbol, "drm_gpuvm_bo_put");
  EXPECT_FALSE(p.put_complete);
  // The 7.2 shape the analysis finds: the put in the export, inlined puts in three
  // probed functions.
  PutCoverage a;
  a.complete = true;
  a.put_symbol = "drm_gpuvm_bo_put";
  a.vm_bo_arg = 0;
  a.returns_destroyed = true;
  a.inline_puts = {"drm_gpuva_unlink_defer", "drm_gpuvm_bo_obtain_prealloc", "drm_gpuvm_bo_put_deferred"};
  a.reason = "every final vm_bo put is in drm_gpuvm_bo_put";
  k.put_analysis = a;
  Plan q = make_plan(k, {});
  EXPECT_TRUE(q.put_complete) << q.put_reason;
  EXPECT_EQ(probes_for(q, Fn::bo_put)[0].symbol, "drm_gpuvm_bo_put");
  EXPECT_EQ(probes_for(q, Fn::bo_put)[0].mech, Mech::fentry);
  // An inlined put in a function that cannot be probed breaks the coverage.
  k.gpuvm_traceable.erase("drm_gpuva_unlink_defer");
  k.gpuvm_btf.erase("drm_gpuva_unlink_defer");
  Plan r = make_plan(k, {});
  EXPECT_FALSE(r.put_complete);
  EXPECT_NE(r.put_reason.find("drm_gpuva_unlink_defer"), std::string::npos) << r.put_reason;
  // gpuva.lock exists: the mutex functions are watched.
  EXPECT_TRUE(p.watch_mutexes);
  EXPECT_EQ(probes_for(p, Fn::mutex_lock).size(), 2u);
  EXPECT_EQ(probes_for(p, Fn::mutex_unlock).size(), 1u);
  EXPECT_TRUE(p.locks_complete);
}

TEST(ProbePlan, MissingRequiredFunctionsAndModule) {
  KernelFacts k = k612();
  k.gpuvm_traceable.erase("drm_gpuvm_bo_create");
  Plan p = make_plan(k, {});
  ASSERT_EQ(p.missing.size(), 1u);
  EXPECT_EQ(p.missing[0], "drm_gpuvm_bo_create");

  KernelFacts none;
  Plan q = make_plan(none, {});
  EXPECT_FALSE(q.missing.empty());
  EXPECT_TRUE(q.probes.empty());

  KernelFacts nolock = k612();
  nolock.vmlinux_traceable.erase("ww_mutex_unlock");
  Plan r = make_plan(nolock, {});
  EXPECT_FALSE(r.locks_complete);
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0], "ww_mutex_unlock");
}

}  // namespace
}  // namespace gvt::bpf
