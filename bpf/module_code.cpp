// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/module_code.h"
#include "bpf/read_file.h"

#include <gelf.h>
#include <libelf.h>
#include <lzma.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace gvt::bpf {

namespace {

struct ElfDeleter {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

struct LzmaStream {
  lzma_stream s = LZMA_STREAM_INIT;
  ~LzmaStream() { lzma_end(&s); }
};
struct ZstdDeleter {
  void operator()(ZSTD_DStream* d) const { ZSTD_freeDStream(d); }
};

std::string unxz(const std::string& in, const std::string& path) {
  LzmaStream z;
  if (lzma_stream_decoder(&z.s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
    throw ModuleFileError("cannot start the xz decoder (liblzma) for " + path);
  std::string out;
  z.s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  z.s.avail_in = in.size();
  char buf[1 << 16];
  for (;;) {
    z.s.next_out = reinterpret_cast<uint8_t*>(buf);
    z.s.avail_out = sizeof buf;
    lzma_ret r = lzma_code(&z.s, LZMA_FINISH);
    out.append(buf, sizeof buf - z.s.avail_out);
    if (r == LZMA_STREAM_END) return out;
    if (r != LZMA_OK) throw ModuleFileError(fmt::format("{}: corrupt xz data (liblzma error {})", path, int(r)));
  }
}

std::string unzstd(const std::string& in, const std::string& path) {
  std::unique_ptr<ZSTD_DStream, ZstdDeleter> d(ZSTD_createDStream());
  if (!d) throw ModuleFileError("cannot start the zstd decoder for " + path);
  ZSTD_initDStream(d.get());
  std::string out;
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::vector<char> buf(ZSTD_DStreamOutSize());
  size_t r = 1;
  while (ib.pos < ib.size) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    r = ZSTD_decompressStream(d.get(), &ob, &ib);
    if (ZSTD_isError(r)) throw ModuleFileError(fmt::format("{}: corrupt zstd data ({})", path, ZSTD_getErrorName(r)));
    out.append(buf.data(), ob.pos);
  }
  if (r != 0) throw ModuleFileError(path + ": truncated zstd data");
  return out;
}

std::string build_id_of(Elf* e) {
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(e, scn))) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE) continue;
    Elf_Data* d = elf_getdata(scn, nullptr);
    if (!d) continue;
    size_t off = 0, name_off = 0, desc_off = 0;
    GElf_Nhdr nh;
    while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
          std::string_view(static_cast<const char*>(d->d_buf) + name_off, 3) == "GNU") {
        std::string hex;
        for (size_t i = 0; i < nh.n_descsz; ++i)
          hex += fmt::format("{:02x}", static_cast<const uint8_t*>(d->d_buf)[desc_off + i]);
        return hex;
      }
    }
  }
  return "";
}

}  // namespace

std::string read_module_file(const std::string& path) {
  std::string raw;
  if (!read_file(path, raw))
    throw ModuleFileError(fmt::format("cannot read {}: {}", path, std::error_code(errno, std::generic_category()).message()));
  if (raw.size() >= 6 && raw.compare(0, 6, "\xFD" "7zXZ\0", 6) == 0) return unxz(raw, path);
  if (raw.size() >= 4 && raw.compare(0, 4, "\x28\xB5\x2F\xFD", 4) == 0) return unzstd(raw, path);
  if (raw.size() >= 4 && raw.compare(0, 4, "\x7F" "ELF", 4) == 0) return raw;
  throw ModuleFileError(path + ": neither ELF nor xz/zstd-compressed ELF");
}

ModuleCode load_module_code(std::string_view bytes) {
  if (elf_version(EV_CURRENT) == EV_NONE) throw ModuleFileError("libelf: version mismatch");
  // libelf wants a mutable buffer; ELF_C_READ_MMAP semantics are not needed for a copy.
  std::string copy(bytes);
  ElfPtr e(elf_memory(copy.data(), copy.size()));
  if (!e || elf_kind(e.get()) != ELF_K_ELF) throw ModuleFileError("not an ELF file");
  GElf_Ehdr eh;
  if (!gelf_getehdr(e.get(), &eh)) throw ModuleFileError(fmt::format("bad ELF header: {}", elf_errmsg(-1)));
  if (eh.e_type != ET_REL) throw ModuleFileError("not a relocatable object (a .ko is ET_REL)");
  ModuleCode m;
  m.arch = eh.e_machine == EM_X86_64 ? CodeArch::x86_64 : eh.e_machine == EM_AARCH64 ? CodeArch::aarch64 : CodeArch::other;
  m.build_id = build_id_of(e.get());
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(e.get(), &shstrndx) != 0) throw ModuleFileError("no section name table");

  Elf_Scn* symscn = nullptr;
  GElf_Shdr symsh{};
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(e.get(), scn))) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    if (sh.sh_type == SHT_SYMTAB) {
      symscn = scn;
      symsh = sh;
    }
    if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR)) {
      CodeSection cs;
      const char* n = elf_strptr(e.get(), shstrndx, sh.sh_name);
      cs.name = n ? n : "";
      Elf_Data* d = elf_getdata(scn, nullptr);
      if (d && d->d_buf) {
        auto* p = static_cast<const uint8_t*>(d->d_buf);
        cs.bytes.assign(p, p + d->d_size);
      }
      m.sections.emplace(elf_ndxscn(scn), std::move(cs));
    }
  }
  if (!symscn) throw ModuleFileError("no symbol table (stripped module?)");
  Elf_Data* symd = elf_getdata(symscn, nullptr);
  if (!symd) throw ModuleFileError("unreadable symbol table");
  const size_t nsyms = symsh.sh_entsize ? symsh.sh_size / symsh.sh_entsize : 0;
  std::vector<GElf_Sym> syms(nsyms);
  for (size_t i = 0; i < nsyms; ++i) gelf_getsym(symd, static_cast<int>(i), &syms[i]);
  auto sym_name = [&](const GElf_Sym& s) {
    const char* n = elf_strptr(e.get(), symsh.sh_link, s.st_name);
    return std::string(n ? n : "");
  };
  for (const GElf_Sym& s : syms) {
    if (GELF_ST_TYPE(s.st_info) != STT_FUNC || !m.sections.count(s.st_shndx)) continue;
    m.functions.push_back({sym_name(s), s.st_shndx, s.st_value, s.st_size, GELF_ST_BIND(s.st_info) != STB_LOCAL});
  }
  std::sort(m.functions.begin(), m.functions.end(),
            [](const CodeSymbol& a, const CodeSymbol& b) { return std::tie(a.section, a.addr) < std::tie(b.section, b.addr); });

  scn = nullptr;
  while ((scn = elf_nextscn(e.get(), scn))) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA) continue;
    auto it = m.sections.find(sh.sh_info);
    if (elf_getscn(e.get(), sh.sh_link) != symscn) continue;
    Elf_Data* d = elf_getdata(scn, nullptr);
    if (!d) continue;
    size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
    if (it == m.sections.end()) {
      // arm64 struct alt_instr {s32 orig_offset; s32 alt_offset; u16 cpucap; u8 orig_len;
      // u8 alt_len;}: the PREL32 relocation of each entry's orig_offset (S + A) names
      // the patched instruction.
      GElf_Shdr target;
      const char* tn = gelf_getshdr(elf_getscn(e.get(), sh.sh_info), &target) ? elf_strptr(e.get(), shstrndx, target.sh_name) : nullptr;
      if (m.arch != CodeArch::aarch64 || !tn || std::string_view(tn) != ".altinstructions") continue;
      for (size_t i = 0; i < n; ++i) {
        GElf_Rela r;
        if (!gelf_getrela(d, static_cast<int>(i), &r) || r.r_offset % 12 != 0) continue;
        size_t si = GELF_R_SYM(r.r_info);
        if (si >= syms.size()) continue;
        auto code = m.sections.find(syms[si].st_shndx);
        if (code != m.sections.end()) code->second.patched.insert(syms[si].st_value + r.r_addend);
      }
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      GElf_Rela r;
      if (!gelf_getrela(d, static_cast<int>(i), &r)) continue;
      size_t si = GELF_R_SYM(r.r_info);
      if (si >= syms.size()) continue;
      const GElf_Sym& s = syms[si];
      CodeReloc cr;
      cr.type = static_cast<uint32_t>(GELF_R_TYPE(r.r_info));
      cr.sym = GELF_ST_TYPE(s.st_info) == STT_SECTION ? "" : sym_name(s);
      cr.sym_section = s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE ? 0 : s.st_shndx;
      cr.sym_value = s.st_value;
      cr.addend = r.r_addend;
      it->second.relocs.emplace(r.r_offset, std::move(cr));
    }
  }
  return m;
}

std::string find_module_file(const std::string& modroot, const std::string& release, std::string_view name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(modroot) / release;
  auto matches = [&](std::string_view base) {
    for (std::string_view ext : {".ko", ".ko.xz", ".ko.zst"}) {
      if (base.size() == name.size() + ext.size() && base.starts_with(name) && base.ends_with(ext)) return true;
    }
    return false;
  };
  std::ifstream dep(dir / "modules.dep");
  const bool have_dep = static_cast<bool>(dep);
  std::string line;
  while (std::getline(dep, line)) {
    std::string_view p = std::string_view(line).substr(0, line.find(':'));
    std::string_view base = p.substr(p.rfind('/') == std::string_view::npos ? 0 : p.rfind('/') + 1);
    if (matches(base)) {
      fs::path f = fs::path(p).is_absolute() ? fs::path(p) : dir / p;
      std::error_code ec;
      if (fs::exists(f, ec)) return f.string();
    }
  }
  std::error_code ec;
  // Without modules.dep (an unpacked package, no depmod run): where kbuild installs
  // DRM modules, before a walk of the whole tree.
  for (std::string_view ext : {".ko", ".ko.xz", ".ko.zst"}) {
    fs::path f = dir / "kernel/drivers/gpu/drm" / (std::string(name) + std::string(ext));
    if (fs::exists(f, ec)) return f.string();
  }
  if (have_dep) return "";  // depmod's list is complete: the module is not installed
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && matches(it->path().filename().string())) return it->path().string();
  }
  return "";
}

}  // namespace gvt::bpf
