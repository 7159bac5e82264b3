// SPDX-License-Identifier: GPL-2.0-only
// /proc/kallsyms parsed once into a sorted table; address → "sym+0xoff" [module]
// by binary search. Stacks are symbolized while recording so that a trace stays
// readable on another machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gvt::bpf {

struct SymbolHit {
  std::string_view name;
  uint64_t offset = 0;
  std::string_view module;  // empty for vmlinux
};

class Kallsyms {
 public:
  // Parses kallsyms text ("ADDR TYPE NAME [MODULE]" lines). Text symbols only;
  // malformed lines are skipped. All-zero addresses (kptr_restrict) leave it empty.
  void parse(std::string_view text);
  // Reads and parses a file; false (and `err`) when it cannot be read.
  bool load(const std::string& path, std::string* err = nullptr);

  // The text symbol containing `addr`: the closest one at or below it, unless
  // that is further away than any function can be long (then the address belongs
  // to code whose symbols we do not have, e.g. a module loaded since).
  std::optional<SymbolHit> lookup(uint64_t addr) const;

  size_t size() const { return syms_.size(); }
  bool empty() const { return syms_.empty(); }

  static constexpr uint64_t kMaxOffset = 0x20000;

 private:
  struct Sym {
    uint64_t addr;
    uint32_t name_off;
    uint16_t name_len;
    uint16_t module;  // index into modules_; 0 = vmlinux
  };
  std::vector<Sym> syms_;
  std::string names_;
  std::vector<std::string> modules_{""};
};

// What of /proc/modules decides the kernel's symbols: each module's name, size, state
// and load address, one line each. The use count and the users column change whenever
// a file that a module owns is opened (the traced driver's debugfs or device files):
// comparing the whole text re-read kallsyms, seconds of CPU under TCG, on every open.
std::string module_layout(std::string_view proc_modules);

}  // namespace gvt::bpf
