// SPDX-License-Identifier: GPL-2.0-only
// A tiny builder of event sequences for the model tests: events are fed straight into
// a Checker (no file), each with an increasing ts and line so findings can be located.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "decode/event.h"
#include "decode/model/checker.h"
#include "decode/model/finding.h"

namespace gvt::test {

inline constexpr uint64_t V = 0xffff888000100000;   // VM
inline constexpr uint64_t R = 0xffff888000100100;   // VM resv
inline constexpr uint64_t G = 0xffff888000200000;   // GEM (external)
inline constexpr uint64_t Gr = 0xffff888000200100;  // its resv
inline constexpr uint64_t P = 0xffff888000300000;   // private GEM (shares R)
inline constexpr uint64_t B = 0xffff888000400000;   // vm_bo
inline constexpr uint64_t B2 = 0xffff888000400060;  // another vm_bo
inline constexpr uint64_t VA = 0xffff888000500000;
inline constexpr uint64_t VA2 = 0xffff888000500080;
inline constexpr uint64_t CTX = 0xffff888000600000;
inline constexpr uint64_t GM = 0xffff888000200200;  // G's gpuva.lock mutex (KNEW)
// vm_flags: DRM_GPUVM_RESV_PROTECTED, DRM_GPUVM_IMMEDIATE_MODE, both.
inline constexpr uint32_t kProt = 1, kImm = 2, kImmProt = 3;

class Collect : public FindingSink {
 public:
  void on_finding(const Finding& f) override { all.push_back(f); }
  std::vector<Finding> all;

  size_t count(std::string_view rule, FindingKind kind) const {
    size_t n = 0;
    for (const auto& f : all)
      if (f.rule == rule && f.kind == kind) n++;
    return n;
  }
  size_t violations(std::string_view rule) const { return count(rule, FindingKind::violation); }
  size_t unknowns(std::string_view rule) const { return count(rule, FindingKind::unknown); }
  size_t total_violations() const {
    size_t n = 0;
    for (const auto& f : all) n += f.kind == FindingKind::violation;
    return n;
  }
  const Finding* first(std::string_view rule) const {
    for (const auto& f : all)
      if (f.rule == rule) return &f;
    return nullptr;
  }
  std::string dump() const;
};

// One event being built; send() delivers it.
class Feed;
class Ev {
 public:
  Ev(Feed& f, Fn fn, Phase ph, int32_t tid);
  Ev& a(Field k, uint64_t v) { e_.set(k, v); return *this; }
  Ev& s(Field k, int64_t v) { e_.set(k, static_cast<uint64_t>(v)); return *this; }
  Ev& b(Small k, bool v) { e_.set_tri(k, tri_of(v)); return *this; }
  Ev& t(Small k, Tri v) { e_.set_tri(k, v); return *this; }
  Ev& ret_addr(uint64_t p) { e_.ret_kind = RetKind::addr; e_.set(RET, p); return *this; }
  Ev& ret_bool(bool v) { e_.ret_kind = RetKind::boolean; e_.set(RET, v); return *this; }
  Ev& ret_int(int64_t v) { e_.ret_kind = RetKind::integer; e_.set(RET, static_cast<uint64_t>(v)); return *this; }
  // Full vm_bo snapshot as a recorder writes at entry.
  Ev& vmbo(uint64_t vm, uint64_t obj, uint64_t bo_resv, int refcount, bool on_gem,
           bool on_extobj = false, bool n_va = false, uint32_t flags = 0, uint64_t vm_resv = R);
  Ev& held(Tri vm_resv, Tri bo_resv, Tri gpuva);
  uint64_t send();  // returns the line number
  Event& raw() { return e_; }

 private:
  Feed& f_;
  Event e_;
};

class Feed {
 public:
  explicit Feed(Header h, CheckerOptions o = {}, TransitionObserver* obs = nullptr)
      : chk(o, sink, obs) {
    chk.on_header(h);
  }
  static Header k612();   // 6.12: no deferred, no gpuva mutex, no immediate mode
  static Header knew();   // newest: all features

  Ev entry(Fn fn, int32_t tid = 100) { return Ev(*this, fn, Phase::entry, tid); }
  Ev exit(Fn fn, int32_t tid = 100) { return Ev(*this, fn, Phase::exit, tid); }
  void lost(uint64_t n = 1) { chk.on_lost(Lost{n, ts, std::nullopt, ++line}); }
  void finish() { chk.finish(); }

  // ---- common K612 sequences (tid 100 unless given) ----
  void init(uint64_t vm = V, uint32_t flags = 0, uint64_t resv = R, int32_t tid = 100);
  void lock(uint64_t l, uint64_t ctx = 0, int64_t ret = 0, int32_t tid = 100);
  void unlock(uint64_t l, Tri held = Tri::yes, int32_t tid = 100);
  // obtain { create } returning `bo`, with the gpuva lock (BO resv) held as given.
  void obtain_new(uint64_t bo = B, uint64_t obj = G, uint64_t bo_resv = Gr, Tri held_gpuva = Tri::yes,
                  uint32_t flags = 0, int32_t tid = 100);
  void create(uint64_t bo, uint64_t vm = V, uint64_t obj = G, int32_t tid = 100);
  void link(uint64_t va, uint64_t bo, int refcount, bool on_gem = true, Tri held_gpuva = Tri::yes,
            uint64_t obj = G, uint64_t bo_resv = Gr, uint32_t flags = 0, int32_t tid = 100);
  // bo_put entry + exit (the .part.0 probe), nested in whatever is open.
  void put(uint64_t bo, int refcount, bool destroyed, bool n_va = false, Tri held_gpuva = Tri::yes,
           Tri held_vm_resv = Tri::yes, uint64_t obj = G, uint64_t bo_resv = Gr, uint32_t flags = 0,
           int32_t tid = 100);

  // drm_gpuvm_bo_deferred_cleanup on an immediate-mode VM (kImmProt) whose resv the
  // caller does not hold: the call takes it itself (ww_mutex_lock, unlock).
  void deferred_cleanup_self_locked(uint64_t vm = V, uint64_t resv = R, int32_t tid = 100);

  Collect sink;
  Checker chk;
  uint64_t ts = 1000000;
  uint64_t line = 1;  // the header is line 1
};

}  // namespace gvt::test
