// SPDX-License-Identifier: GPL-2.0-only
#include "decode/redact.h"

#include <sys/random.h>

#include <cstring>
#include <regex>
#include <stdexcept>

#include <fmt/format.h>

namespace gvt {
namespace {

// Every wide field that holds a kernel address (event.h's Field list).
constexpr Field kAddrFields[] = {A_GPUVM, A_OBJ, A_VM_BO, A_VA, A_LOCK, A_CTX, A_R_OBJ, A_OPS, A_EXEC,
                                 S_VM, S_OBJ, S_VM_RESV, S_BO_RESV, S_OPS_VM_BO_ALLOC, S_OPS_VM_BO_FREE,
                                 S_VM_BO};

inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

// SipHash-2-4 of one 64-bit word: a keyed pseudo-random function, so hashed addresses
// cannot be inverted or compared across traces without the key (which is never written).
uint64_t siphash64(uint64_t m, const std::array<uint64_t, 2>& k) {
  uint64_t v0 = 0x736f6d6570736575ull ^ k[0], v1 = 0x646f72616e646f6dull ^ k[1];
  uint64_t v2 = 0x6c7967656e657261ull ^ k[0], v3 = 0x7465646279746573ull ^ k[1];
  auto round = [&] {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  };
  v3 ^= m; round(); round(); v0 ^= m;
  const uint64_t b = 8ull << 56;  // message length 8, no tail bytes
  v3 ^= b; round(); round(); v0 ^= b;
  v2 ^= 0xff;
  round(); round(); round(); round();
  return v0 ^ v1 ^ v2 ^ v3;
}

std::array<uint64_t, 2> random_key() {
  std::array<uint64_t, 2> k{};
  if (getrandom(k.data(), sizeof k, 0) != static_cast<ssize_t>(sizeof k))
    throw std::runtime_error("redaction: cannot get a random key (getrandom failed)");
  return k;
}

}  // namespace

Redactor::Redactor(RecordSink& next, RedactOptions opts) : Redactor(next, opts, random_key()) {}

Redactor::Redactor(RecordSink& next, RedactOptions opts, const std::array<uint64_t, 2>& key)
    : next_(next), opts_(opts), key_(key) {}

uint64_t Redactor::addr(uint64_t a) const {
  if (a == 0) return 0;
  uint64_t h = siphash64(a, key_);
  return h ? h : 1;  // never NULL: NULL means "none" in traces
}

std::string_view Redactor::comm(std::string_view c) {
  if (!opts_.hash_comm || c.empty()) return c;
  auto [it, fresh] = comms_.try_emplace(std::string(c));
  if (fresh) {
    uint64_t h = 0;
    for (unsigned char ch : c) h = siphash64(h ^ ch, key_);
    it->second = fmt::format("task-{:08x}", static_cast<uint32_t>(h));
  }
  return it->second;
}

void Redactor::on_header(const Header& h) {
  Header r = h;
  r.raw_json.clear();  // drops free keys (host name, command line) with the old flag
  r.redacted = true;
  next_.on_header(r);
}

void Redactor::on_event(const Event& e) {
  Event r = e;
  for (Field f : kAddrFields)
    if (r.has(f)) r.v[f] = addr(r.v[f]);
  if (r.has(RET) && r.ret_kind == RetKind::addr) r.v[RET] = addr(r.v[RET]);
  r.comm = comm(e.comm);
  next_.on_event(r);
}

void Redactor::on_lost(const Lost& l) { next_.on_lost(l); }

void Redactor::on_stack(const StackRec& s) {
  StackRec r = s;
  for (Frame& f : r.frames) f.addr = addr(f.addr);
  next_.on_stack(r);
}

void Redactor::on_footer(const Footer& f) { next_.on_footer(f); }

// Records this version does not understand are kept, with every address-looking string
// ("0x..." as trace-format.md writes addresses) hashed like the others.
void Redactor::on_opaque(const Opaque& o) {
  static const std::regex kAddr("\"0x([0-9a-fA-F]{1,16})\"");
  Opaque r = o;
  r.json.clear();
  auto begin = std::sregex_iterator(o.json.begin(), o.json.end(), kAddr);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    r.json.append(o.json, last, m.position() - last);
    uint64_t v = std::stoull(m[1].str(), nullptr, 16);
    r.json += fmt::format("\"0x{:x}\"", addr(v));
    last = m.position() + m.length();
  }
  r.json.append(o.json, last);
  if (opts_.hash_comm) {
    // A task name in an unknown record cannot be told apart reliably: drop the record.
    return;
  }
  next_.on_opaque(r);
}

void Redactor::on_skipped(uint64_t line, std::string_view why) { next_.on_skipped(line, why); }

}  // namespace gvt
