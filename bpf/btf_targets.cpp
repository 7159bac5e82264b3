// SPDX-License-Identifier: GPL-2.0-only
// libbpf 1.4 (Debian 12's) resolves an fentry/fexit target by name with a linear
// scan of vmlinux's BTF, then of each module's BTF from id 1, vmlinux's types again
// included, until one matches: for a module function that is (1 + the modules before
// it) full scans, per program. With ~40 programs that was a third of the tracer's
// start-up in the test guest, and it grows with every module a real machine has
// loaded. (libbpf 1.5 takes "module:function"; 1.4 does not.) The kernel facts have
// already found every target's id in one pass over the BTF the kernel itself uses
// (/sys/kernel/btf/*), so these handlers pass the ids to the kernel directly.
#include "bpf/btf_targets.h"

#include <unistd.h>

#include <cstring>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

namespace gvt::bpf {

namespace {

struct Target {
  int obj_fd;    // 0 = vmlinux
  uint32_t id;
};

// The handlers are process-wide C callbacks; the targets of the object being loaded
// are found here by program.
struct Registry {
  std::mutex mu;
  std::unordered_map<const bpf_program*, Target> targets;
};

Registry& registry() {
  static Registry r;
  return r;
}

int prepare_load(bpf_program* prog, bpf_prog_load_opts* opts, long /*cookie*/) {
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  // Not ours: libbpf's own lookup (bpf_program__set_attach_target) has filled the
  // attach fields already.
  if (auto it = r.targets.find(prog); it != r.targets.end()) {
    opts->attach_btf_obj_fd = static_cast<uint32_t>(it->second.obj_fd);
    opts->attach_btf_id = it->second.id;
  }
  return 0;
}

}  // namespace

bool BtfTargets::install() {
  static const bool ok = [] {
    LIBBPF_OPTS(libbpf_prog_handler_opts, ho, .prog_prepare_load_fn = prepare_load);
    // Exact section names: the programs are SEC("fentry") / SEC("fexit"), their
    // targets set at run time; custom handlers take precedence over libbpf's.
    int entry = libbpf_register_prog_handler("fentry", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, &ho);
    int exit = libbpf_register_prog_handler("fexit", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, &ho);
    if (entry > 0 && exit > 0) return true;
    if (entry > 0) libbpf_unregister_prog_handler(entry);
    if (exit > 0) libbpf_unregister_prog_handler(exit);
    return false;
  }();
  return ok;
}

BtfTargets::~BtfTargets() {
  {
    Registry& r = registry();
    std::lock_guard lk(r.mu);
    for (bpf_program* p : progs_) r.targets.erase(p);
  }
  for (auto& [name, fd] : fds_)
    if (fd > 0) ::close(fd);
}

// The kernel's BTF object of a module is found by name among all BTF objects (what
// libbpf does too); the ids in /sys/kernel/btf/<module> are that object's.
int BtfTargets::module_fd(std::string_view module) {
  if (auto it = fds_.find(module); it != fds_.end()) return it->second;
  int found = -1;
  for (uint32_t id = 0; found < 0 && bpf_btf_get_next_id(id, &id) == 0;) {
    int fd = bpf_btf_get_fd_by_id(id);
    if (fd < 0) continue;  // unloaded meanwhile
    char name[64] = {};
    bpf_btf_info info{};
    uint32_t len = sizeof info;
    info.name = reinterpret_cast<uintptr_t>(name);
    info.name_len = sizeof name;
    if (bpf_btf_get_info_by_fd(fd, &info, &len) == 0 && info.kernel_btf && module == name)
      found = fd;
    else
      ::close(fd);
  }
  fds_.emplace(std::string(module), found);
  return found;
}

bool BtfTargets::set(bpf_program* p, std::string_view module, uint32_t id) {
  int fd = 0;
  if (!module.empty() && (fd = module_fd(module)) < 0) return false;
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  r.targets[p] = Target{fd, id};
  progs_.push_back(p);
  return true;
}

}  // namespace gvt::bpf
