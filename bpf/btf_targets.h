// SPDX-License-Identifier: GPL-2.0-only
// fentry/fexit targets handed to the kernel by BTF type id, found once by the kernel
// facts, instead of by name through libbpf at load time (why: btf_targets.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

struct bpf_program;

namespace gvt::bpf {

class BtfTargets {
 public:
  // Registers libbpf handlers for SEC("fentry") and SEC("fexit"), once per process;
  // call before the BPF object is opened. false when libbpf refused: every target is
  // then left to libbpf's own lookup (bpf_program__set_attach_target).
  static bool install();

  BtfTargets() = default;
  ~BtfTargets();
  BtfTargets(const BtfTargets&) = delete;
  BtfTargets& operator=(const BtfTargets&) = delete;

  // Program `p` will load against FUNC `id` of the kernel's BTF object of `module`
  // ("" = vmlinux). false when that object is not in the kernel (the caller then
  // falls back to libbpf's lookup, which words the error). Valid until destruction,
  // which must come after the object's load.
  bool set(bpf_program* p, std::string_view module, uint32_t id);

 private:
  int module_fd(std::string_view module);

  std::vector<bpf_program*> progs_;
  std::map<std::string, int, std::less<>> fds_;  // module → its BTF object (or -1)
};

}  // namespace gvt::bpf
