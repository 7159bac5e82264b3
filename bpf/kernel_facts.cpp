// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/kernel_facts.h"

#include <sys/utsname.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/error.h"
#include "bpf/read_file.h"

namespace gvt::bpf {

namespace {

struct BtfDeleter {
  void operator()(btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;


bool exists(const std::string& path) {
  std::ifstream in(path);
  return static_cast<bool>(in);
}

// libbpf's btf__find_by_name_kind scans every type from id 1, a module's base (vmlinux)
// included: ~60k function names compared per call, a tenth of a second under TCG, and
// start-up asked ~50 times. So: functions are looked up among a BTF's own types in one
// pass (a module's functions are never in vmlinux), types among its own first.
// scan_own calls f(id, name) for each type of `kind` among b's own types until f
// returns true.
template <class F>
void scan_own(const btf* b, unsigned kind, F&& f) {
  const btf* base = btf__base_btf(b);
  for (uint32_t i = base ? btf__type_cnt(base) : 1, n = btf__type_cnt(b); i < n; ++i) {
    const btf_type* t = btf__type_by_id(b, i);
    if (btf_kind(t) != kind) continue;
    const char* tn = btf__name_by_offset(b, t->name_off);
    if (tn && f(i, std::string_view(tn))) return;
  }
}

int find_own(const btf* b, std::string_view name, unsigned kind) {
  int id = -1;
  scan_own(b, kind, [&](uint32_t i, std::string_view tn) {
    if (tn != name) return false;
    id = static_cast<int>(i);
    return true;
  });
  return id;
}

// A struct or enum: the module's own copy, else the base's (a module's types are
// deduplicated against vmlinux, so shared ones live only there).
int find_type(const btf* b, const char* name, unsigned kind) {
  int id = find_own(b, name, kind);
  if (id < 0 && btf__base_btf(b)) id = btf__find_by_name_kind(b, name, kind);
  return id;
}

// Which of `names` are functions of `b` (its own types), with their type ids, in one
// pass.
template <class Names>
std::map<std::string, uint32_t, std::less<>> funcs_of(const btf* b, const Names& names) {
  std::set<std::string_view> want(std::begin(names), std::end(names));
  std::map<std::string, uint32_t, std::less<>> found;
  if (!b) return found;
  scan_own(b, BTF_KIND_FUNC, [&](uint32_t i, std::string_view tn) {
    if (want.count(tn)) found.emplace(tn, i);
    return found.size() == want.size();
  });
  return found;
}

bool has_func(const btf* b, std::string_view name) {
  return b && find_own(b, name, BTF_KIND_FUNC) > 0;
}

// Member `name` of struct/union type `id` (through typedefs/modifiers): its type id,
// or -1.
int member_type(const btf* b, int id, std::string_view name) {
  const btf_type* t = btf__type_by_id(b, btf__resolve_type(b, id));
  if (!t || (!btf_is_struct(t) && !btf_is_union(t))) return -1;
  const btf_member* m = btf_members(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i, ++m) {
    const char* n = btf__name_by_offset(b, m->name_off);
    if (n && name == n) return static_cast<int>(m->type);
  }
  return -1;
}

Tri has_member_path(const btf* b, const char* strukt, std::initializer_list<std::string_view> path) {
  if (!b) return Tri::absent;
  int id = find_type(b, strukt, BTF_KIND_STRUCT);
  if (id <= 0) return Tri::absent;
  for (std::string_view p : path) {
    id = member_type(b, id, p);
    if (id < 0) return Tri::no;
  }
  return Tri::yes;
}

Tri has_enum_value(const btf* b, const char* en, std::string_view val) {
  if (!b) return Tri::absent;
  int id = find_type(b, en, BTF_KIND_ENUM);
  if (id <= 0) return Tri::absent;
  const btf_type* t = btf__type_by_id(b, id);
  const struct btf_enum* e = btf_enum(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i, ++e) {
    const char* n = btf__name_by_offset(b, e->name_off);
    if (n && val == n) return Tri::yes;
  }
  return Tri::no;
}

// Byte offset of the member path inside struct `strukt` (e.g. kref's counter in
// drm_gpuvm_bo), or nullopt.
std::optional<int64_t> member_offset(const btf* b, const char* strukt, std::initializer_list<std::string_view> path) {
  if (!b) return std::nullopt;
  int id = find_type(b, strukt, BTF_KIND_STRUCT);
  if (id <= 0) return std::nullopt;
  int64_t bits = 0;
  for (std::string_view p : path) {
    const btf_type* t = btf__type_by_id(b, btf__resolve_type(b, id));
    if (!t || (!btf_is_struct(t) && !btf_is_union(t))) return std::nullopt;
    const btf_member* m = btf_members(t);
    bool found = false;
    for (unsigned i = 0; i < btf_vlen(t); ++i, ++m) {
      const char* n = btf__name_by_offset(b, m->name_off);
      if (n && p == n) {
        bits += btf_member_bit_offset(t, i);
        id = static_cast<int>(m->type);
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
  }
  return bits / 8;
}

}  // namespace

bool gpuvm_available(const FactsOptions& o) {
  std::string state;
  if (read_file(o.sysfs + "/module/drm_gpuvm/initstate", state)) return state.starts_with("live");
  // Built in: no module directory, but the functions are in vmlinux BTF.
  BtfPtr vm(btf__parse_raw((o.sysfs + "/kernel/btf/vmlinux").c_str()));
  return vm && has_func(vm.get(), "drm_gpuvm_bo_create");
}

// The preemption model (KernelFacts::preemptible). PREEMPT_DYNAMIC kernels say the
// current one in debugfs, "none voluntary (full) lazy"; otherwise the build string
// (uname -v) names PREEMPT, PREEMPT_RT or PREEMPT_LAZY, or nothing for the
// non-preemptible models, and a PREEMPT_DYNAMIC kernel may name it on its command line.
static void preemption_model(const FactsOptions& o, const utsname& u, KernelFacts& k) {
  std::string s;
  std::string dbg = o.sysfs + "/kernel/debug/sched/preempt";
  if (read_file(dbg, s)) {
    size_t a = s.find('('), b = s.find(')');
    if (a != std::string::npos && b != std::string::npos && b > a) {
      std::string m = s.substr(a + 1, b - a - 1);
      k.preemptible = !(m == "none" || m == "voluntary");
      k.preempt_model = m + ", sched/preempt";
      return;
    }
  }
  std::string v = u.version;
  auto word = [&v](std::string_view w) {
    for (size_t at = v.find(w); at != std::string::npos; at = v.find(w, at + 1)) {
      size_t end = at + w.size();
      if ((at == 0 || v[at - 1] == ' ') && (end == v.size() || v[end] == ' ')) return true;
    }
    return false;
  };
  if (word("PREEMPT") || word("PREEMPT_RT") || word("PREEMPT_LAZY")) {
    k.preemptible = true;
    k.preempt_model = "uname -v";
    return;
  }
  if (!word("PREEMPT_DYNAMIC")) {
    k.preemptible = false;
    k.preempt_model = "none or voluntary, uname -v";
    return;
  }
  if (o.sysfs == "/sys" && read_file("/proc/cmdline", s)) {
    for (std::string_view m : {"none", "voluntary", "full", "lazy"})
      if (s.find("preempt=" + std::string(m)) != std::string::npos) {
        k.preemptible = m == "full" || m == "lazy";
        k.preempt_model = std::string(m) + ", kernel command line";
        return;
      }
  }
  k.preemptible = true;  // dynamic, mode unknown (debugfs not mounted): assume the worst
  k.preempt_model = "PREEMPT_DYNAMIC, mode unknown";
}

KernelFacts gather_facts(const FactsOptions& o) {
  KernelFacts k;
  utsname u{};
  if (uname(&u) == 0) {
    k.release = u.release;
    preemption_model(o, u, k);
  }

  const std::string vmlinux_path = o.sysfs + "/kernel/btf/vmlinux";
  if (!exists(vmlinux_path))
    throw LiveError(Failure::no_btf, "no kernel BTF at " + vmlinux_path +
                                    ": boot a kernel built with CONFIG_DEBUG_INFO_BTF=y");
  BtfPtr vm(btf__parse_raw(vmlinux_path.c_str()));
  if (!vm)
    throw LiveError(Failure::no_btf, "cannot parse kernel BTF at " + vmlinux_path +
                                    ": check that the kernel's BTF is readable");
  {
    std::vector<std::string_view> names(std::begin(lock_function_names()), std::end(lock_function_names()));
    // Without it a preemptible kernel keeps fentry on the lock functions (and may skip).
    names.push_back("bpf_kprobe_multi_link_attach");
    for (const auto& [n, id] : funcs_of(vm.get(), names))
      if (n == "bpf_kprobe_multi_link_attach") {
        k.kprobe_multi = true;
      } else {
        k.vmlinux_btf.emplace(n);
        k.btf_func_ids.emplace(n, id);
      }
  }

  BtfPtr mod;
  const btf* g = nullptr;  // where the GPUVM functions and types live
  std::string state;
  if (read_file(o.sysfs + "/module/drm_gpuvm/initstate", state) && state.starts_with("live")) {
    k.gpuvm_present = true;
    mod.reset(btf__parse_raw_split((o.sysfs + "/kernel/btf/drm_gpuvm").c_str(), vm.get()));
    g = mod.get();
    std::string note;
    if (read_file(o.sysfs + "/module/drm_gpuvm/notes/.note.gnu.build-id", note))
      k.build_id = parse_build_id_note(note);
  } else if (has_func(vm.get(), "drm_gpuvm_bo_create")) {
    // Built in (CONFIG_DRM_GPUVM=y, forced by RUST_DRM_GPUVM): vmlinux has it all.
    k.gpuvm_present = k.gpuvm_builtin = true;
    k.module.clear();
    g = vm.get();
    std::string note;
    if (read_file(o.sysfs + "/kernel/notes", note)) k.build_id = parse_build_id_note(note);
  }
  if (g) {
    for (const auto& [n, id] : funcs_of(g, gpuvm_function_names())) {
      k.gpuvm_btf.emplace(n);
      k.btf_func_ids.emplace(n, id);
    }
    // Features from BTF only, never from the version (vm_bo-lifecycle.md §0.1).
    k.feat_gpuva_mutex = has_member_path(g, "drm_gem_object", {"gpuva", "lock"});
    k.feat_immediate_mode = has_enum_value(g, "drm_gpuvm_flags", "DRM_GPUVM_IMMEDIATE_MODE");
    // Both names are among gpuvm_function_names().
    k.feat_deferred = tri_of(k.gpuvm_btf.count("drm_gpuvm_bo_put_deferred") > 0);
    k.feat_prealloc_self_locks = tri_of(k.gpuvm_btf.count("drm_gpuvm_bo_obtain_locked") > 0);
  }
  if (k.gpuvm_builtin) {
    PutCoverage pc;
    pc.reason = "GPUVM is built into vmlinux (CONFIG_DRM_GPUVM=y, e.g. forced by RUST_DRM_GPUVM): the code "
                "analysis reads module files only, so the put's clones and inlined copies are not checked";
    k.put_analysis = std::move(pc);
  } else if (k.gpuvm_present) {
    // Decided from the code of the module actually loaded (vm_bo-lifecycle.md §B.3).
    PutAnalysisOptions po;
    po.kref_offset = member_offset(g, "drm_gpuvm_bo", {"kref", "refcount", "refs", "counter"});
    po.va_vm_bo_offset = member_offset(g, "drm_gpuva", {"vm_bo"});
    k.put_analysis = analyse_module(o.modroot, k.release, "drm_gpuvm", k.build_id, po);
  }

  std::string aff;
  for (const char* p : {"/sys/kernel/tracing/available_filter_functions",
                        "/sys/kernel/debug/tracing/available_filter_functions"}) {
    if (read_file(o.sysfs == "/sys" ? p : o.sysfs + std::string(p).substr(4), aff) && !aff.empty()) {
      k.have_filter_functions = true;
      parse_filter_functions(aff, k.module, k);
      break;
    }
  }
  return k;
}

}  // namespace gvt::bpf
