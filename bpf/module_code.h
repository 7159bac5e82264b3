// SPDX-License-Identifier: GPL-2.0-only
// The executable code of a kernel module file (.ko, .ko.xz, .ko.zst) as the put-coverage
// analysis needs it: function symbols, the bytes of every executable section and the
// relocations inside them. In a relocatable .ko a call to another module, to vmlinux
// or to a global symbol of the same module is a relocation, not an address: the
// analysis resolves call/jmp targets through them.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gvt::bpf {

enum class CodeArch : uint8_t { x86_64, aarch64, other };

struct CodeReloc {
  uint32_t type = 0;
  std::string sym;            // symbol name ("" for a section symbol)
  size_t sym_section = 0;     // ELF section index of a defined symbol, 0 when external
  uint64_t sym_value = 0;     // its value (section-relative)
  int64_t addend = 0;
};

struct CodeSection {
  std::string name;
  std::vector<uint8_t> bytes;
  std::map<uint64_t, CodeReloc> relocs;  // by offset of the relocated field
  // Instructions the kernel rewrites at boot (arm64 .altinstructions: e.g. the `b` to
  // the LL/SC fallback that becomes a nop where the CPU has LSE atomics): the code
  // analysis must follow both what is there and what it may become.
  std::set<uint64_t> patched;
};

struct CodeSymbol {
  std::string name;
  size_t section = 0;   // ELF section index (key of ModuleCode::sections)
  uint64_t addr = 0;    // section-relative
  uint64_t size = 0;
  bool global = false;
};

struct ModuleCode {
  CodeArch arch = CodeArch::other;
  std::string build_id;                    // lowercase hex, "" when absent
  std::map<size_t, CodeSection> sections;  // executable sections by ELF index
  std::vector<CodeSymbol> functions;       // STT_FUNC in those sections, sorted
};

struct ModuleFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses a relocatable ELF (the bytes of an uncompressed .ko). Throws ModuleFileError.
ModuleCode load_module_code(std::string_view elf);

// Reads a module file, decompressing .xz / .zst by their magic. Throws ModuleFileError.
std::string read_module_file(const std::string& path);

// The file of module `name` (drm_gpuvm) for kernel release `release` under
// `modroot` (/lib/modules): the modules.dep entry, else a search of the tree.
// "" when there is none.
std::string find_module_file(const std::string& modroot, const std::string& release, std::string_view name);

}  // namespace gvt::bpf
