// SPDX-License-Identifier: GPL-2.0-only
// Over ~500 lines on purpose: one flow walker and the verdict built on it, plus the
// x86-64 decoder (ArchOps) it was written with; the AArch64 decoder is its own file
// (put_coverage_aarch64.cpp) and the shared types are in put_coverage_isa.h.
#include "bpf/put_coverage.h"
#include "bpf/put_coverage_isa.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

namespace gvt::bpf {

std::string PutCoverage::convention() const {
  if (put_symbol.empty() || vm_bo_arg < 0) return "";
  return fmt::format("(vm_bo = argument {} in {}) -> {}", vm_bo_arg + 1, vm_bo_reg,
                     returns_destroyed ? "destroyed flag in " + ret_reg : "no destroyed flag");
}

const std::vector<std::string>& inline_put_roles() {
  static const std::vector<std::string> r = {"drm_gpuvm_bo_put_deferred", "drm_gpuva_unlink_defer",
                                             "drm_gpuvm_bo_obtain_prealloc", "drm_gpuva_unlink"};
  return r;
}

namespace {

using namespace putcov;

constexpr std::string_view kPut = "drm_gpuvm_bo_put";
constexpr std::string_view kUnlink = "drm_gpuva_unlink";
constexpr std::string_view kLink = "drm_gpuva_link";

class X86 final : public ArchOps {
 public:
  X86() {
    // canonical: 0 rax 1 rbx 2 rcx 3 rdx 4 rsi 5 rdi 6 rbp 7 rsp 8..15 r8..r15
    const std::array<std::array<unsigned, 5>, 8> legacy = {{
        {X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH},
        {X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH},
        {X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH},
        {X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH},
        {X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_INVALID},
        {X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_INVALID},
        {X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_INVALID},
        {X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_INVALID},
    }};
    const int bits[5] = {64, 32, 16, 8, 8};
    for (int r = 0; r < 8; ++r)
      for (int k = 0; k < 5; ++k)
        if (legacy[r][k] != X86_REG_INVALID) regs_[legacy[r][k]] = {r, bits[k]};
    const std::array<std::array<unsigned, 4>, 8> ext = {{
        {X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B},
        {X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B},
        {X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B},
        {X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B},
        {X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B},
        {X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B},
        {X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B},
        {X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B},
    }};
    for (int r = 0; r < 8; ++r)
      for (int k = 0; k < 4; ++k) regs_[ext[r][k]] = {8 + r, bits[k] == 8 ? 8 : (k == 0 ? 64 : k == 1 ? 32 : k == 2 ? 16 : 8)};
  }
  cs_arch arch() const override { return CS_ARCH_X86; }
  cs_mode mode() const override { return CS_MODE_64; }
  int arg_reg(int i) const override {
    static const int a[6] = {5, 4, 3, 2, 8, 9};  // System V: rdi rsi rdx rcx r8 r9
    return i >= 0 && i < 6 ? a[i] : -1;
  }
  int ret_reg() const override { return 0; }
  std::string reg_name(int c, int bits) const override {
    static const char* n64[16] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                                  "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    static const char* n32[16] = {"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp",
                                  "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
    if (c < 0 || c >= 16) return "?";
    return bits == 32 ? n32[c] : n64[c];
  }
  const std::vector<int>& caller_saved() const override {
    static const std::vector<int> v = {0, 2, 3, 4, 5, 8, 9, 10, 11};
    return v;
  }
  bool preserves_all(std::string_view ext) const override { return ext == "__fentry__"; }

  Flow flow(csh h, const cs_insn& in, size_t sec, const CodeSection& s) const override {
    Flow f;
    const uint64_t end = in.address + in.size;
    switch (in.id) {
      case X86_INS_RET: case X86_INS_RETF: case X86_INS_RETFQ: case X86_INS_IRET: case X86_INS_IRETQ:
        f.kind = FlowKind::ret; return f;
      case X86_INS_UD2: case X86_INS_INT3: case X86_INS_HLT: case X86_INS_UD0:
        f.kind = FlowKind::stop; return f;
      default: break;
    }
    const bool call = cs_insn_group(h, &in, CS_GRP_CALL);
    const bool jump = cs_insn_group(h, &in, CS_GRP_JUMP);
    if (!call && !jump) return f;
    f.kind = call ? FlowKind::call : in.id == X86_INS_JMP ? FlowKind::jump : FlowKind::cond;
    if (const auto* r = reloc_in(s, in.address, end)) {
      const CodeReloc& cr = r->second;
      if (cr.sym_section == 0) {
        f.direct = true;
        f.ext = cr.sym;
      } else {
        // PC-relative field: value = S + A - P, added to the next instruction's address.
        f.direct = true;
        f.tsec = cr.sym_section;
        f.taddr = (cr.sym.empty() ? 0 : cr.sym_value) + cr.addend + (end - r->first);
      }
    } else {
      const cs_x86& x = in.detail->x86;
      if (x.op_count == 1 && x.operands[0].type == X86_OP_IMM) {
        f.direct = true;
        f.tsec = sec;
        f.taddr = static_cast<uint64_t>(x.operands[0].imm);
      }
    }
    // The kernel returns through a thunk (retbleed/SRSO mitigations).
    if (f.kind == FlowKind::jump && f.ext == "__x86_return_thunk") f.kind = FlowKind::ret;
    if (f.direct && f.ext.starts_with("__x86_indirect_")) f.direct = false;  // retpoline: through a pointer
    return f;
  }

  void transfer(csh h, const cs_insn& in, State& st, uint32_t fresh) const override {
    const cs_x86& x = in.detail->x86;
    auto reg_op = [&](int i) { return x.op_count > i && x.operands[i].type == X86_OP_REG; };
    if (x.op_count == 2 && reg_op(0)) {
      const unsigned d = x.operands[0].reg;
      const int dc = canon(d), dw = width(d);
      const cs_x86_op& s = x.operands[1];
      if (dc >= 0 && (dw == 64 || dw == 32)) {
        const int64_t mask = dw == 32 ? 0xffffffffll : -1;
        auto set = [&](Val v) {
          if (dw == 32 && v.kind != Val::cset) v = v.kind == Val::cnst ? Val::Const(v.c & mask) : Val::Sym(fresh);
          st[dc] = v;
        };
        switch (in.id) {
          case X86_INS_MOV: case X86_INS_MOVABS:
            if (s.type == X86_OP_IMM) return set(Val::Const(s.imm));
            if (s.type == X86_OP_REG && canon(s.reg) >= 0 && width(s.reg) == dw) return set(st[canon(s.reg)]);
            break;
          case X86_INS_XOR: case X86_INS_SUB:
            if (s.type == X86_OP_REG && canon(s.reg) == dc) return set(Val::Const(0));
            if (in.id == X86_INS_SUB && s.type == X86_OP_IMM) return set(st[dc].plus(-s.imm));
            break;
          case X86_INS_ADD:
            if (s.type == X86_OP_IMM) return set(st[dc].plus(s.imm));
            break;
          case X86_INS_LEA:
            if (s.type == X86_OP_MEM && s.mem.index == X86_REG_INVALID && canon(s.mem.base) >= 0 &&
                s.mem.segment == X86_REG_INVALID)
              return set(st[canon(s.mem.base)].plus(s.mem.disp));
            break;
          default: break;
        }
      }
    }
    cs_regs rr, ww;
    uint8_t nr = 0, nw = 0;
    if (cs_regs_access(h, &in, rr, &nr, ww, &nw) == CS_ERR_OK) {
      for (uint8_t i = 0; i < nw; ++i)
        if (int c = canon(ww[i]); c >= 0 && c != 7) st[c] = Val::Sym(fresh);
    }
  }

  Atomic atomic(const cs_insn& in, const State& st) const override {
    Atomic a;
    const cs_x86& x = in.detail->x86;
    if (x.prefix[0] != X86_PREFIX_LOCK) return a;
    const cs_x86_op* mem = nullptr;
    for (int i = 0; i < x.op_count; ++i)
      if (x.operands[i].type == X86_OP_MEM) mem = &x.operands[i];
    if (!mem) return a;
    auto sext = [&](int64_t v) {
      switch (mem->size) {
        case 1: return static_cast<int64_t>(static_cast<int8_t>(v));
        case 2: return static_cast<int64_t>(static_cast<int16_t>(v));
        case 4: return static_cast<int64_t>(static_cast<int32_t>(v));
        default: return v;
      }
    };
    auto src = [&]() -> std::optional<int64_t> {
      for (int i = 0; i < x.op_count; ++i) {
        const cs_x86_op& o = x.operands[i];
        if (o.type == X86_OP_IMM) return sext(o.imm);
        if (o.type == X86_OP_REG && canon(o.reg) >= 0 && st[canon(o.reg)].kind == Val::cnst)
          return sext(st[canon(o.reg)].c);
      }
      return std::nullopt;
    };
    switch (in.id) {
      case X86_INS_XADD: case X86_INS_ADD: a.delta = src(); break;
      case X86_INS_SUB: if (auto v = src()) a.delta = -*v; break;
      case X86_INS_INC: a.delta = 1; break;
      case X86_INS_DEC: a.delta = -1; break;
      case X86_INS_CMPXCHG: case X86_INS_CMPXCHG8B: case X86_INS_CMPXCHG16B: break;  // unknown
      default: return a;  // bit operations, xchg: not a reference count
    }
    a.is = true;
    if (mem->mem.index == X86_REG_INVALID && mem->mem.segment == X86_REG_INVALID && canon(mem->mem.base) >= 0)
      a.addr = st[canon(mem->mem.base)].plus(mem->mem.disp);
    return a;
  }

  // mov r64, qword [base + disp] / mov qword [base + disp], r64|imm
  std::optional<MemMove> load(const cs_insn& in, const State& st) const override {
    const cs_x86& x = in.detail->x86;
    if (in.id != X86_INS_MOV || x.op_count != 2 || x.operands[0].type != X86_OP_REG ||
        width(x.operands[0].reg) != 64 || canon(x.operands[0].reg) < 0)
      return std::nullopt;
    const auto a = plain_mem(x.operands[1], st);
    if (!a) return std::nullopt;
    return MemMove{*a, {}};
  }
  std::optional<MemMove> store(const cs_insn& in, const State& st) const override {
    const cs_x86& x = in.detail->x86;
    if (in.id != X86_INS_MOV || x.op_count != 2 || x.prefix[0] == X86_PREFIX_LOCK) return std::nullopt;
    const auto a = plain_mem(x.operands[0], st);
    if (!a) return std::nullopt;
    const cs_x86_op& v = x.operands[1];
    if (v.type == X86_OP_IMM) return MemMove{*a, Val::Const(v.imm)};
    if (v.type == X86_OP_REG && width(v.reg) == 64 && canon(v.reg) >= 0) return MemMove{*a, st[canon(v.reg)]};
    return std::nullopt;
  }

 private:
  // An 8-byte memory operand [base + disp] (no index, no segment, not rip-relative).
  std::optional<Val> plain_mem(const cs_x86_op& o, const State& st) const {
    if (o.type != X86_OP_MEM || o.size != 8 || o.mem.index != X86_REG_INVALID ||
        o.mem.segment != X86_REG_INVALID || canon(o.mem.base) < 0)
      return std::nullopt;
    return st[canon(o.mem.base)].plus(o.mem.disp);
  }

};

// ---- per-function analysis -----------------------------------------------------------
struct CsHandle {
  csh h = 0;
  bool ok = false;
  explicit CsHandle(const ArchOps& a) {
    ok = cs_open(a.arch(), a.mode(), &h) == CS_ERR_OK;
    if (ok) cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    if (ok && a.skipdata()) cs_option(h, CS_OPT_SKIPDATA, CS_OPT_ON);
  }
  ~CsHandle() { if (ok) cs_close(&h); }
  CsHandle(const CsHandle&) = delete;
  CsHandle& operator=(const CsHandle&) = delete;
};

struct InsnBuf {
  cs_insn* p = nullptr;
  size_t n = 0;
  InsnBuf() = default;
  InsnBuf(InsnBuf&& o) noexcept : p(o.p), n(o.n) { o.p = nullptr; o.n = 0; }
  ~InsnBuf() { if (p) cs_free(p, n); }
};

struct Site {
  std::string where;   // symbol+0xoff
  Val addr;
  std::optional<int64_t> delta;
  bool helper = false;  // out-of-line refcount_dec_* call
  bool undecoded = false;  // an instruction the decoder does not understand
};
struct Ret {
  std::string where;
  Val v;
};
struct Edge {
  std::string target;   // group name or external symbol
  bool external = false;
  bool entry = true;    // enters the target at a symbol's start
  bool tail = false;    // jump (not call)
  Val arg0;             // first argument register at the edge
  std::string where;
};
struct Group {
  std::string name;
  std::vector<const CodeSymbol*> syms;   // main symbol first, then .cold parts
  std::vector<Site> sites;               // atomic RMWs with a non-positive or unknown delta
  std::vector<Ret> rets;
  std::vector<Edge> edges;
  // 64-bit loads by the fresh value they define (kFreshId + instruction index): which
  // field a pointer was read from. And 64-bit stores: which value went where.
  std::map<uint32_t, std::pair<Val, std::string>> loads;  // id -> {address, where}
  std::vector<std::pair<MemMove, std::string>> stores;
  bool indirect_jump = false;
  bool truncated = false;
  size_t ninsns = 0;
};

std::string group_name(std::string_view sym) {
  // F.cold / F.cold.N are parts of F placed elsewhere.
  size_t p = sym.find(".cold");
  return std::string(p == std::string_view::npos ? sym : sym.substr(0, p));
}

bool is_clone_of(std::string_view name, std::string_view base) {
  if (name.size() <= base.size() + 1 || !name.starts_with(base) || name[base.size()] != '.') return false;
  std::string_view rest = name.substr(base.size() + 1);
  bool any = false;
  while (!rest.empty()) {
    size_t dot = rest.find('.');
    std::string_view part = rest.substr(0, dot);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (part == "part" || part == "constprop" || part == "isra") any = true;
    else if (!digits) return false;
    rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
  }
  return any;
}

struct Analyzer {
  const ModuleCode& code;
  const ArchOps& arch;
  csh h;
  std::map<std::string, Group> groups;
  // (section, addr) -> symbol covering it
  std::map<size_t, std::vector<const CodeSymbol*>> by_sec;

  const CodeSymbol* symbol_at(size_t sec, uint64_t addr) const {
    auto it = by_sec.find(sec);
    if (it == by_sec.end()) return nullptr;
    const auto& v = it->second;
    auto u = std::upper_bound(v.begin(), v.end(), addr, [](uint64_t a, const CodeSymbol* s) { return a < s->addr; });
    if (u == v.begin()) return nullptr;
    const CodeSymbol* s = *(u - 1);
    return addr < s->addr + std::max<uint64_t>(s->size, 1) ? s : nullptr;
  }

  static std::string at(const CodeSymbol& s, uint64_t addr) { return fmt::format("{}+{:#x}", s.name, addr - s.addr); }

  void build() {
    for (const CodeSymbol& s : code.functions) {
      if (s.name.starts_with("__pfx_") || s.size == 0) continue;
      by_sec[s.section].push_back(&s);
      Group& g = groups[group_name(s.name)];
      g.name = group_name(s.name);
      if (s.name == g.name) g.syms.insert(g.syms.begin(), &s);
      else g.syms.push_back(&s);
    }
    for (auto& [_, g] : groups) analyse(g);
  }

  void analyse(Group& g) {
    struct I {
      const cs_insn* in;
      const CodeSymbol* sym;
      Flow flow;
    };
    std::vector<InsnBuf> bufs;
    std::vector<I> ins;
    std::map<std::pair<size_t, uint64_t>, size_t> index;
    for (const CodeSymbol* s : g.syms) {
      const CodeSection& sec = code.sections.at(s->section);
      if (s->addr + s->size > sec.bytes.size()) { g.truncated = true; continue; }
      InsnBuf b;
      b.n = cs_disasm(h, sec.bytes.data() + s->addr, s->size, s->addr, 0, &b.p);
      uint64_t covered = b.n ? b.p[b.n - 1].address + b.p[b.n - 1].size - s->addr : 0;
      if (covered < s->size) g.truncated = true;  // undecodable bytes: a gap in the proof
      for (size_t i = 0; i < b.n; ++i) {
        index[{s->section, b.p[i].address}] = ins.size();
        ins.push_back({&b.p[i], s, arch.flow(h, b.p[i], s->section, sec)});
      }
      bufs.push_back(std::move(b));
    }
    g.ninsns = ins.size();
    if (ins.empty()) return;

    std::vector<std::optional<State>> in_state(ins.size());
    State entry;
    for (int r = 0; r < kMaxRegs; ++r) entry[r] = Val::Sym(kEntryId + r);
    for (int i = 0; i < 8; ++i)
      if (int r = arch.arg_reg(i); r >= 0) entry[r] = Val::Sym(kArgId + i);
    in_state[0] = entry;
    std::vector<size_t> work = {0};
    auto in_group = [&](const Flow& f) -> std::optional<size_t> {
      if (!f.direct || f.tsec == 0) return std::nullopt;
      auto it = index.find({f.tsec, f.taddr});
      if (it == index.end()) return std::nullopt;
      return it->second;
    };
    auto next_of = [&](size_t i) -> std::optional<size_t> {
      if (i + 1 < ins.size() && ins[i + 1].sym == ins[i].sym &&
          ins[i + 1].in->address == ins[i].in->address + ins[i].in->size)
        return i + 1;
      return std::nullopt;
    };
    auto prev_of = [&](size_t i) -> const cs_insn* {
      return i > 0 && next_of(i - 1) == i ? ins[i - 1].in : nullptr;
    };
    auto merge = [&](size_t s, const State& out) {
      if (!in_state[s]) {
        in_state[s] = out;
        work.push_back(s);
        return;
      }
      State& cur = *in_state[s];
      bool changed = false;
      for (int r = 0; r < kMaxRegs; ++r) {
        const Val a = cur[r], b = out[r];
        if (a == b) continue;
        Val j;
        if (a.kind == Val::sym && b.kind == Val::sym && a.c == b.c)
          j = Val::Sym(kPhiId + static_cast<uint32_t>(s) * kMaxRegs + r, a.c);
        else if (a.small() && b.small())
          j = Val{Val::cset, 0, static_cast<int64_t>(a.small() | b.small())};
        if (!(j == a)) {
          cur[r] = j;
          changed = true;
        }
      }
      if (changed) work.push_back(s);
    };
    while (!work.empty()) {
      size_t i = work.back();
      work.pop_back();
      State st = *in_state[i];
      const I& x = ins[i];
      if (x.flow.kind == FlowKind::call) {
        if (!arch.preserves_all(x.flow.ext))
          for (int r : arch.caller_saved()) st[r] = Val::Sym(kFreshId + static_cast<uint32_t>(i));
      } else {
        arch.transfer(h, *x.in, st, kFreshId + static_cast<uint32_t>(i));
      }
      switch (x.flow.kind) {
        case FlowKind::seq: case FlowKind::call:
          if (auto n = next_of(i)) merge(*n, st);
          break;
        case FlowKind::cond: {
          State not_taken = st;
          arch.refine(prev_of(i), *x.in, false, not_taken);
          if (auto n = next_of(i)) merge(*n, not_taken);
          arch.refine(prev_of(i), *x.in, true, st);
          if (auto t = in_group(x.flow)) merge(*t, st);
          break;
        }
        case FlowKind::jump:
          if (auto t = in_group(x.flow)) merge(*t, st);
          break;
        case FlowKind::ret: case FlowKind::stop: break;
      }
    }

    // Collect facts from the fixed point (in-states: values before each instruction).
    State unknown;  // all top
    for (size_t i = 0; i < ins.size(); ++i) {
      const I& x = ins[i];
      const std::string where = at(*x.sym, x.in->address);
      if (!arch.decoded(*x.in)) {
        // It may be an atomic update of anything: no verdict may rest on it.
        g.truncated = true;
        g.sites.push_back({where, Val{}, std::nullopt, false, true});
        continue;
      }
      if (!in_state[i]) {
        // Not reached by the paths followed (padding, or code behind a jump the
        // analysis could not resolve): an atomic update there is a possible put at an
        // unknown address, which no verdict may ignore.
        Atomic a = arch.atomic(*x.in, unknown);
        if (a.is && !(a.delta && *a.delta > 0)) g.sites.push_back({where, Val{}, a.delta, false});
        continue;
      }
      const State& st = *in_state[i];
      if (auto ld = arch.load(*x.in, st)) {
        // The loaded value is the load's fresh value only if nothing else got it too
        // (a transfer that could not read the instruction's writes gives it to all).
        const uint32_t id = kFreshId + static_cast<uint32_t>(i);
        State out = st;
        arch.transfer(h, *x.in, out, id);
        if (std::count_if(out.begin(), out.end(), [&](const Val& v) { return v.kind == Val::sym && v.id == id; }) == 1)
          g.loads[id] = {ld->addr, where};
      }
      if (auto sd = arch.store(*x.in, st)) g.stores.emplace_back(*sd, where);
      Atomic a = arch.atomic(*x.in, st);
      if (a.is && !(a.delta && *a.delta > 0)) g.sites.push_back({where, a.addr, a.delta, false});
      const Val a0 = st[arch.arg_reg(0)];
      if (x.flow.kind == FlowKind::ret) g.rets.push_back({where, st[arch.ret_reg()]});
      if (x.flow.kind == FlowKind::call || x.flow.kind == FlowKind::jump || x.flow.kind == FlowKind::cond) {
        if (!x.flow.direct) {
          if (x.flow.kind != FlowKind::call) g.indirect_jump = true;
          continue;
        }
        if (!x.flow.ext.empty()) {
          const std::string& e = x.flow.ext;
          // Out-of-line reference drops (kref_put_mutex and friends).
          if (x.flow.kind == FlowKind::call && (e.starts_with("refcount_dec") || e.starts_with("kref_put") ||
                                                e.starts_with("atomic_dec_and") || e.starts_with("_atomic_dec_and")))
            g.sites.push_back({where, a0, std::nullopt, true});
          const bool defined_global = std::any_of(code.functions.begin(), code.functions.end(),
                                                  [&](const CodeSymbol& s) { return s.name == e; });
          g.edges.push_back({defined_global ? group_name(e) : e, !defined_global, true,
                             x.flow.kind != FlowKind::call, a0, where});
          continue;
        }
        if (in_group(x.flow) && x.flow.kind != FlowKind::call) continue;  // internal branch
        const CodeSymbol* t = symbol_at(x.flow.tsec, x.flow.taddr);
        if (!t) {
          g.edges.push_back({fmt::format("section {}+{:#x}", x.flow.tsec, x.flow.taddr), true, false,
                             x.flow.kind != FlowKind::call, a0, where});
          continue;
        }
        g.edges.push_back({group_name(t->name), false, t->addr == x.flow.taddr, x.flow.kind != FlowKind::call, a0,
                           where});
      }
    }
  }
};

std::string offset_text(int64_t v) { return fmt::format("{:#x}", v); }

PutCoverage partial(PutCoverage r, std::string why) {
  r.complete = false;
  r.reason = std::move(why);
  return r;
}

}  // namespace

PutCoverage analyse_put_coverage(const ModuleCode& code, const PutAnalysisOptions& o) {
  PutCoverage r;
  // The instruction set is the module file's own (ELF e_machine), never the host's.
  std::unique_ptr<ArchOps> ops;
  if (code.arch == CodeArch::x86_64) ops = std::make_unique<X86>();
  else if (code.arch == CodeArch::aarch64) ops = make_aarch64_ops();
  else return partial(r, "the module's architecture is not supported by the code analysis (x86-64, AArch64)");
  const ArchOps& arch = *ops;
  CsHandle cs(arch);
  if (!cs.ok) return partial(r, "cannot open the capstone disassembler");
  Analyzer an{code, arch, cs.h, {}, {}};
  an.build();

  auto find = [&](std::string_view n) -> const Group* {
    auto it = an.groups.find(std::string(n));
    return it == an.groups.end() ? nullptr : &it->second;
  };
  const Group* exported = find(kPut);
  if (!exported) return partial(r, "the module has no drm_gpuvm_bo_put function");

  // 1. The vm_bo refcount offset: where drm_gpuvm_bo_put (or the clone it hands its
  //    argument to) decrements memory at a fixed offset of its first argument.
  std::set<int64_t> learned;
  auto arg0_decrements = [&](const Group& g) {
    for (const Site& s : g.sites)
      if (!s.helper && s.delta && *s.delta < 0 && s.addr.kind == Val::sym && s.addr.id == kArgId) learned.insert(s.addr.c);
  };
  arg0_decrements(*exported);
  if (learned.empty())
    for (const Edge& e : exported->edges)
      if (!e.external && e.entry && is_clone_of(e.target, kPut) && e.arg0 == Val::Sym(kArgId))
        if (const Group* c = find(e.target)) arg0_decrements(*c);
  if (o.kref_offset) {
    r.kref_offset = *o.kref_offset;
    if (!learned.empty() && !learned.count(*o.kref_offset))
      return partial(r, fmt::format("drm_gpuvm_bo_put decrements its argument at offset {} but BTF puts "
                                    "drm_gpuvm_bo.kref at {}: the code is not understood",
                                    offset_text(*learned.begin()), offset_text(*o.kref_offset)));
    r.details.push_back(fmt::format("vm_bo refcount at offset {} (module BTF){}", offset_text(r.kref_offset),
                                    learned.empty() ? "" : ", matching drm_gpuvm_bo_put's code"));
  } else {
    if (learned.size() != 1)
      return partial(r, learned.empty() ? "no decrement of its argument's refcount found in drm_gpuvm_bo_put "
                                          "or a clone it enters: the code is not understood"
                                        : "drm_gpuvm_bo_put decrements several offsets of its argument");
    r.kref_offset = *learned.begin();
    r.details.push_back(fmt::format("vm_bo refcount at offset {} (learned from drm_gpuvm_bo_put's code)",
                                    offset_text(r.kref_offset)));
  }

  // 2. Every possible vm_bo put in the module: an atomic decrement (or unknown
  //    update) of memory at the refcount offset, or at an address the analysis
  //    could not follow.
  struct Holder {
    const Group* g;
    std::vector<const Site*> sites;
  };
  std::vector<Holder> holders;
  size_t total_insns = 0;
  for (const auto& [name, g] : an.groups) {
    total_insns += g.ninsns;
    Holder hd{&g, {}};
    // In drm_gpuvm_bo_put and its clones a decrement through an argument at any
    // offset counts too: a clone may take a pointer into the vm_bo (scalarised args).
    const bool put_fn = name == kPut || is_clone_of(name, kPut);
    for (const Site& s : g.sites) {
      bool at_kref = s.addr.kind != Val::top && s.addr.c == r.kref_offset;
      bool through_arg = s.addr.kind == Val::sym && s.addr.id >= kArgId && s.addr.id < kArgId + 8;
      if (at_kref || s.addr.kind == Val::top || (put_fn && through_arg)) hd.sites.push_back(&s);
    }
    if (!hd.sites.empty()) holders.push_back(std::move(hd));
  }
  auto site_text = [&](const Site& s) {
    if (s.undecoded) return fmt::format("undecodable instruction (possibly an atomic update) at {}", s.where);
    std::string what = s.helper ? "out-of-line refcount drop" : s.delta ? "decrement" : "atomic update";
    std::string of = s.addr.kind == Val::top ? "an address the analysis cannot follow"
                     : s.addr.kind == Val::sym && s.addr.id >= kArgId && s.addr.id < kArgId + 8
                         ? fmt::format("offset {} of argument {}", offset_text(s.addr.c), s.addr.id - kArgId + 1)
                         : "a vm_bo refcount";
    return fmt::format("{} of {} at {}", what, of, s.where);
  };

  // 3. The put of drm_gpuvm_bo_put: exactly one of it and its clones holds it.
  std::vector<const Holder*> put_holders;
  for (const Holder& hd : holders)
    if (hd.g->name == kPut || is_clone_of(hd.g->name, kPut)) put_holders.push_back(&hd);
  if (put_holders.empty()) return partial(r, "no vm_bo refcount decrement in drm_gpuvm_bo_put or its clones");
  if (put_holders.size() > 1) {
    std::vector<std::string> n;
    for (const Holder* hd : put_holders) n.push_back(hd->g->name);
    return partial(r, fmt::format("the put is split over {}: one probe cannot see every put", fmt::join(n, ", ")));
  }
  const Holder& ph = *put_holders.front();
  const Group& pg = *ph.g;
  r.put_symbol = pg.name;
  std::optional<int> arg;
  for (const Site* s : ph.sites) {
    if (s->addr.kind != Val::sym || s->addr.id < kArgId || s->addr.id >= kArgId + 8 || s->addr.c != r.kref_offset)
      return partial(r, fmt::format("{}: {}, not a vm_bo refcount at offset {} of an argument (a pointer into "
                                    "the vm_bo or scalarised arguments, as .isra clones take?): its calling "
                                    "convention is unknown",
                                    pg.name, site_text(*s), offset_text(r.kref_offset)));
    int i = static_cast<int>(s->addr.id - kArgId);
    if (arg && *arg != i) return partial(r, fmt::format("{} decrements the refcount of two different arguments", pg.name));
    arg = i;
  }
  r.vm_bo_arg = *arg;
  r.vm_bo_reg = arch.reg_name(arch.arg_reg(*arg), 64);
  if (*arg != 0)
    return partial(r, fmt::format("{} takes the vm_bo as argument {} ({}); the put probe reads the first argument",
                                  pg.name, *arg + 1, r.vm_bo_reg));
  if (pg.indirect_jump) return partial(r, pg.name + " contains an indirect jump: its exits cannot be followed");
  if (pg.truncated) return partial(r, pg.name + " could not be disassembled completely");
  bool saw0 = false, saw1 = false;
  for (const Ret& rt : pg.rets) {
    const uint64_t m = rt.v.small();
    if (!m || (m & ~3ull))
      return partial(r, fmt::format("{} returns a value that is not a constant 0/1 at {}: the destroyed flag "
                                    "is not proven", pg.name, rt.where));
    saw0 |= (m & 1) != 0;
    saw1 |= (m & 2) != 0;
  }
  for (const Edge& e : pg.edges)
    if (e.tail)
      return partial(r, fmt::format("{} leaves by a tail jump to {} at {}: its return value is not its own",
                                    pg.name, e.target, e.where));
  if (!saw0 || !saw1)
    return partial(r, fmt::format("{} never returns {}: the destroyed flag is not proven", pg.name, saw1 ? "0" : "1"));
  r.returns_destroyed = true;
  r.ret_reg = arch.reg_name(arch.ret_reg(), 32);
  {
    std::vector<std::string> w;
    for (const Site* s : ph.sites) w.push_back(s->where);
    r.details.push_back(fmt::format("final put in {}: refcount decrement of argument 1 ({}) at {}; returns a "
                                    "constant 0/1 in {} at all {} returns",
                                    pg.name, r.vm_bo_reg, fmt::join(w, ", "), r.ret_reg, pg.rets.size()));
  }

  // 4. Who enters it, and that nobody enters a put holder in its middle.
  std::set<std::string> roles(inline_put_roles().begin(), inline_put_roles().end());
  std::set<std::string> holder_names;
  for (const Holder& hd : holders) holder_names.insert(hd.g->name);
  for (const auto& [name, g] : an.groups) {
    for (const Edge& e : g.edges) {
      if (e.external || !holder_names.count(e.target) || e.target == name) continue;
      if (!e.entry)
        return partial(r, fmt::format("{} jumps into the middle of {} at {}: a probe at its entry misses that path",
                                      name, e.target, e.where));
      if (e.target == pg.name) {
        std::string t = fmt::format("{} ({})", name, e.tail ? "tail jump" : "call");
        if (std::find(r.entered_by.begin(), r.entered_by.end(), t) == r.entered_by.end()) r.entered_by.push_back(t);
      }
    }
  }
  if (!r.entered_by.empty())
    r.details.push_back(fmt::format("{} is entered directly by {}", pg.name, fmt::join(r.entered_by, ", ")));

  // drm_gpuva.vm_bo's offset, for an inlined put in drm_gpuva_unlink: from BTF, checked
  // against drm_gpuva_link's code (it stores its vm_bo argument there: va->vm_bo =
  // drm_gpuvm_bo_get(vm_bo)), or learned from that store alone.
  std::string va_off_src, va_off_why;
  auto va_vm_bo_offset = [&]() -> std::optional<int64_t> {
    std::set<int64_t> seen;
    if (const Group* l = find(kLink))
      for (const auto& [mv, w] : l->stores)
        if (mv.val == Val::Sym(kArgId + 1) && mv.addr.kind == Val::sym && mv.addr.id == kArgId) seen.insert(mv.addr.c);
    if (o.va_vm_bo_offset) {
      if (!seen.empty() && !seen.count(*o.va_vm_bo_offset)) {
        va_off_why = fmt::format("drm_gpuva_link stores its vm_bo at offset {} of the VA but BTF puts "
                                 "drm_gpuva.vm_bo at {}: the code is not understood",
                                 offset_text(*seen.begin()), offset_text(*o.va_vm_bo_offset));
        return std::nullopt;
      }
      va_off_src = seen.empty() ? "module BTF" : "module BTF, matching drm_gpuva_link's store";
      return *o.va_vm_bo_offset;
    }
    if (seen.size() != 1) {
      va_off_why = seen.empty() ? "no BTF offset of drm_gpuva.vm_bo, and no store of drm_gpuva_link's vm_bo "
                                  "argument into its VA to learn it from"
                                : "drm_gpuva_link stores its vm_bo argument at several offsets of the VA";
      return std::nullopt;
    }
    va_off_src = "learned from drm_gpuva_link's store of its vm_bo argument";
    return *seen.begin();
  };

  // 5. Every other holder must be a probed function whose put the model accounts for.
  for (const Holder& hd : holders) {
    if (hd.g == &pg) continue;
    const std::string& n = hd.g->name;
    if (!roles.count(n)) {
      std::string kind = is_clone_of(n, kPut) ? "a clone of drm_gpuvm_bo_put"
                         : [&] {
                             for (const std::string& role : roles)
                               if (is_clone_of(n, role)) return "a compiler clone of " + role + ", not probed";
                             return std::string("not probed as a put");
                           }();
      return partial(r, fmt::format("vm_bo put inlined into {} ({}): {}", n, kind, site_text(*hd.sites.front())));
    }
    for (const Site* s : hd.sites)
      if (s->addr.kind == Val::top)
        return partial(r, fmt::format("{}: {}", n, site_text(*s)));
    if (n == "drm_gpuvm_bo_obtain_prealloc" || n == "drm_gpuvm_bo_put_deferred")
      for (const Site* s : hd.sites)
        if (!(s->addr.kind == Val::sym && s->addr.id == kArgId))
          return partial(r, fmt::format("{}: {}; the model expects it to put its argument", n, site_text(*s)));
    std::vector<std::string> w;
    for (const Site* s : hd.sites) w.push_back(s->where);
    if (n == kUnlink) {
      // drm_gpuva_unlink reads va->vm_bo, clears it and puts that vm_bo: the model applies
      // the put at unlink's exit from the refcount read at its entry, so every decrement
      // here must be exactly that one (by 1, of the refcount of the pointer loaded from
      // argument 1 + offsetof(struct drm_gpuva, vm_bo)).
      const std::optional<int64_t> off = va_vm_bo_offset();
      if (!off) return partial(r, fmt::format("vm_bo put inlined into {}: {}", n, va_off_why));
      r.va_vm_bo_offset = *off;
      std::set<std::string> from;
      for (const Site* s : hd.sites) {
        auto ld = s->addr.kind == Val::sym ? hd.g->loads.find(s->addr.id) : hd.g->loads.end();
        const bool ok = !s->helper && s->delta == -1 && s->addr.kind == Val::sym && s->addr.c == r.kref_offset &&
                        ld != hd.g->loads.end() && ld->second.first == Val::Sym(kArgId, *off);
        if (!ok)
          return partial(r, fmt::format("{}: {}, not proven to be the put of va->vm_bo (a decrement by 1 at offset "
                                        "{} of the pointer loaded from argument 1 + {}): the model cannot apply it",
                                        n, site_text(*s), offset_text(r.kref_offset), offset_text(*off)));
        from.insert(ld->second.second);
      }
      r.inline_puts.push_back(n);
      r.details.push_back(fmt::format("inlined put in {} at {}: drops the reference of va->vm_bo (refcount at {} of "
                                      "the pointer loaded from argument 1 + {} at {}; drm_gpuva.vm_bo at {}, {}); "
                                      "probed at entry and exit, the trace header names it and the model applies "
                                      "it at the exit",
                                      n, fmt::join(w, ", "), offset_text(r.kref_offset), offset_text(*off),
                                      fmt::join(from, ", "), offset_text(*off), va_off_src));
      continue;
    }
    r.inline_puts.push_back(n);
    r.details.push_back(fmt::format("inlined put in {} at {}: probed at entry and exit, the model applies it", n,
                                    fmt::join(w, ", ")));
  }
  r.details.push_back(fmt::format("no other vm_bo refcount decrement in the module ({} functions, {} instructions)",
                                  an.groups.size(), total_insns));
  r.complete = true;
  r.reason = fmt::format("every final vm_bo put is in {} {}{}{}", pg.name, r.convention(),
                         r.entered_by.empty() ? "" : fmt::format(", entered by {}", fmt::join(r.entered_by, ", ")),
                         r.inline_puts.empty() ? "" : fmt::format("; inlined puts in probed {}", fmt::join(r.inline_puts, ", ")));
  return r;
}

PutCoverage analyse_module(const std::string& modroot, const std::string& release, const std::string& module,
                           const std::string& loaded_build_id, const PutAnalysisOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  PutCoverage r;
  auto done = [&](PutCoverage x) {
    x.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return x;
  };
  const std::string path = find_module_file(modroot, release, module);
  if (path.empty())
    return done(partial(r, fmt::format("no {}.ko file under {}/{} to analyse (install the kernel's modules package)",
                                       module, modroot, release)));
  try {
    ModuleCode code = load_module_code(read_module_file(path));
    if (!loaded_build_id.empty() && code.build_id != loaded_build_id)
      return done(partial(r, fmt::format("{} is not the loaded module (build-id {} on disk, {} loaded): the "
                                         "module was updated or loaded from elsewhere",
                                         path, code.build_id.empty() ? "none" : code.build_id, loaded_build_id)));
    r = analyse_put_coverage(code, o);
  } catch (const ModuleFileError& e) {
    r = partial(r, fmt::format("cannot analyse {}: {}", path, e.what()));
  }
  r.module_file = path;
  return done(std::move(r));
}

}  // namespace gvt::bpf
