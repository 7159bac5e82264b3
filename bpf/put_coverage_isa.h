// SPDX-License-Identifier: GPL-2.0-only
// What the put-coverage analysis (put_coverage.cpp) needs from an instruction set, and
// the abstract values its flow walker computes: shared by the x86-64 decoder (in
// put_coverage.cpp) and the AArch64 one (put_coverage_aarch64.cpp). Internal to bpf/.
#pragma once

#include <capstone/capstone.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/module_code.h"

namespace gvt::bpf::putcov {

// ---- abstract values ---------------------------------------------------------------
// A register holds an unknown value (top), "base value #id + c" or a constant c. Ids:
// 1..8 = argument i-1 at entry, 100+r = register r at entry, others fresh per
// defining instruction or join.
// A join of small constants (0..63) keeps the set (kind cset, c = bit mask): shared
// epilogues merge the paths returning 0 and 1.
struct Val {
  enum Kind : uint8_t { top, sym, cnst, cset } kind = top;
  uint32_t id = 0;
  int64_t c = 0;
  bool operator==(const Val&) const = default;
  static Val Sym(uint32_t id, int64_t c = 0) { return {sym, id, c}; }
  static Val Const(int64_t c) { return {cnst, 0, c}; }
  Val plus(int64_t d) const { return kind == top || kind == cset ? Val{} : Val{kind, id, c + d}; }
  // The small constants this value may be (bit mask), 0 when not such a value.
  uint64_t small() const {
    if (kind == cnst) return c >= 0 && c < 64 ? 1ull << c : 0;
    return kind == cset ? static_cast<uint64_t>(c) : 0;
  }
};
constexpr uint32_t kArgId = 1;       // argument i: kArgId + i
constexpr uint32_t kEntryId = 100;   // register r at entry: kEntryId + r
constexpr uint32_t kFreshId = 1u << 20;
constexpr uint32_t kPhiId = 1u << 28;

constexpr int kMaxRegs = 32;
using State = std::array<Val, kMaxRegs>;

// ---- architecture ------------------------------------------------------------------
// What the analysis needs from an instruction set (x86-64 and AArch64 implement it).
enum class FlowKind : uint8_t { seq, call, jump, cond, ret, stop };

struct Flow {
  FlowKind kind = FlowKind::seq;
  bool direct = false;        // target known
  size_t tsec = 0;            // target section (0 = external)
  uint64_t taddr = 0;
  std::string ext;            // external target name
};

struct Atomic {
  bool is = false;
  Val addr;                          // address of the memory operand
  std::optional<int64_t> delta;      // nullopt = unknown (e.g. cmpxchg)
};

// A plain 64-bit register load or store at [base register + constant], without
// writeback: how a pointer field is read (the loaded value is the instruction's fresh
// value in the walker) or written (`val`).
struct MemMove {
  Val addr;
  Val val;  // stores only
};

class ArchOps {
 public:
  virtual ~ArchOps() = default;
  virtual cs_arch arch() const = 0;
  virtual cs_mode mode() const = 0;
  // Capstone register id -> GPR index (-1: not a GPR) and bits of that name, from the
  // table each instruction set fills in its constructor.
  int canon(unsigned reg) const {
    auto it = regs_.find(reg);
    return it == regs_.end() ? -1 : it->second.first;
  }
  int width(unsigned reg) const {
    auto it = regs_.find(reg);
    return it == regs_.end() ? 0 : it->second.second;
  }
  virtual int arg_reg(int i) const = 0;
  virtual int ret_reg() const = 0;
  virtual std::string reg_name(int canon, int bits) const = 0;
  virtual const std::vector<int>& caller_saved() const = 0;
  virtual Flow flow(csh h, const cs_insn& in, size_t sec, const CodeSection& s) const = 0;
  virtual void transfer(csh h, const cs_insn& in, State& st, uint32_t fresh) const = 0;
  virtual Atomic atomic(const cs_insn& in, const State& st) const = 0;
  // A 64-bit load `reg <- [base + disp]` / store `[base + disp] <- reg|0` (nullopt for
  // anything else: other widths, indexed or writeback forms, pairs).
  virtual std::optional<MemMove> load(const cs_insn&, const State&) const { return std::nullopt; }
  virtual std::optional<MemMove> store(const cs_insn&, const State&) const { return std::nullopt; }
  // Calls that preserve every register (ftrace's entry hook).
  virtual bool preserves_all(std::string_view ext) const = 0;
  // Disassemble with capstone's SKIPDATA (undecodable words become 4-byte data the
  // decoder looks at itself) instead of stopping at the first one.
  virtual bool skipdata() const { return false; }
  // False for an instruction this decoder does not understand: the walker then
  // assumes it may write any register and update any memory.
  virtual bool decoded(const cs_insn&) const { return true; }
  // What a conditional branch `br` (preceded by `prev`, if adjacent) proves on the
  // path taken / not taken, e.g. `cmp w19, #1; b.eq` -> w19 == 1 at the target.
  virtual void refine(const cs_insn* /*prev*/, const cs_insn& /*br*/, bool /*taken*/, State& /*st*/) const {}

 protected:
  std::map<unsigned, std::pair<int, int>> regs_;  // capstone id -> {GPR index, bits}
};

std::unique_ptr<ArchOps> make_aarch64_ops();

// Relocation inside [addr, end) of section `s`, if any.
inline const std::pair<const uint64_t, CodeReloc>* reloc_in(const CodeSection& s, uint64_t addr, uint64_t end) {
  auto it = s.relocs.lower_bound(addr);
  if (it != s.relocs.end() && it->first < end) return &*it;
  return nullptr;
}

}  // namespace gvt::bpf::putcov
