// SPDX-License-Identifier: GPL-2.0-only
// Reference rules (rule_catalog.cpp): double-put, refcount-saturated, destroy-while-mapped.
// The model never reconstructs refcounts (drm_gpuvm_bo_get is invisible): it trusts
// snapshots and observed destructions only.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

namespace {

std::string death_text(const Model& m, uint32_t gen, const Destroyed& d) {
  if (!d.observed) return fmt::format("generation {} ended unobserved", gen);
  return fmt::format("generation {} was destroyed at ts {} by tid {} ({}){}", gen, d.ts, d.tid,
                     m.comm(d.comm), d.line ? fmt::format(", line {}", d.line) : std::string());
}

}  // namespace

bool double_put(Model& m, const On& o, Frame& f, const Frame* parent) {
  const Event& e = o.e;
  bool rc_known = e.has(S_REFCOUNT);
  int64_t rc = e.sget(S_REFCOUNT);
  Slot* s = o.s;
  if (s && s->dead()) {
    const Destroyed& d = *s->dead();
    // The stale VA was already reported as use-after-free at the unlink around us.
    if (parent && parent->reported_uaf && parent->vm_bo == o.addr) {
      f.reported_double_put = true;
      return true;
    }
    if (rc_known && rc > 0) {
      m.unknown(id::double_put, Severity::error, e, o.subj(),
                fmt::format("put on an address whose latest generation is destroyed ({}), but the snapshot "
                            "shows refcount {}: it was re-created by a create that was not observed",
                            death_text(m, s->gen, d), rc));
      return false;  // the caller adopts the live object
    }
    f.reported_double_put = true;
    if (rc_known && rc < 0) return true;  // refcount-saturated says it
    if (rc_known && rc == 0) {
      m.violation(id::double_put, Severity::error, e, o.subj(),
                  fmt::format("{} on vm_bo {} with no reference left (snapshot refcount 0); {}",
                              fn_name(e.fn), hex(o.addr), death_text(m, s->gen, d)));
      return true;
    }
    Ans c = m.tombstone_certain(d);
    if (c.v == Tri::yes)
      m.violation(id::double_put, Severity::error, e, o.subj(),
                  fmt::format("{} on vm_bo {} after its last reference was dropped: {}",
                              fn_name(e.fn), hex(o.addr), death_text(m, s->gen, d)));
    else
      m.unknown(id::double_put, Severity::error, e, o.subj(), c.why);
    return true;
  }
  if (s && std::holds_alternative<Zombie>(s->st)) {
    f.reported_double_put = true;
    const Attrs& a = std::get<Zombie>(s->st).a;
    if (rc_known && rc < 0) return true;
    if ((rc_known && rc == 0) || !m.uncertain(a))
      m.violation(id::double_put, Severity::error, e, o.subj(),
                  fmt::format("{} on vm_bo {} gen {}, a ZOMBIE whose last reference was already dropped "
                              "(put_deferred/unlink_defer) and which waits for deferred cleanup",
                              fn_name(e.fn), hex(o.addr), s->gen));
    else
      m.unknown(id::double_put, Severity::error, e, o.subj(),
                "events were lost since the vm_bo became a zombie (it may have been re-created)");
    return true;
  }
  if (!rc_known && s && s->attrs() && m.uncertain(*s->attrs())) {
    // Maybe already a zombie or freed; only a snapshot could tell.
    m.unknown(id::double_put, Severity::error, e, o.subj(),
              "the vm_bo's state is uncertain (lost events, or a zombie transition that could not be "
              "decided) and this put carries no refcount snapshot");
    return false;
  }
  if (rc_known && rc == 0) {
    f.reported_double_put = true;
    m.violation(id::double_put, Severity::error, e, o.subj(),
                fmt::format("{} on vm_bo {} whose refcount is already 0 at entry", fn_name(e.fn), hex(o.addr)));
    return true;
  }
  return false;
}

void refcount_saturated(Model& m, const On& o) {
  const Event& e = o.e;
  if (!e.has(S_REFCOUNT) || e.sget(S_REFCOUNT) >= 0) return;
  Attrs* a = o.s ? o.s->attrs() : nullptr;
  if (a) {
    if (a->reported_saturated) return;
    a->reported_saturated = true;
  }
  m.violation(id::refcount_saturated, Severity::error, e, o.subj(),
              fmt::format("vm_bo {} refcount_t is saturated (snapshot refcount {}): an earlier over- or "
                          "under-flow; the kernel printed \"refcount_t: saturated\"/\"underflow\"",
                          hex(o.addr), e.sget(S_REFCOUNT)));
}

void destroy_while_mapped_prepare(Model& m, const On& o, Frame& f) {
  Tri snap = o.e.tri(S_N_VA_NONZERO);
  if (is_present(snap)) {
    f.n_va_nonzero = unknown_if_absent(snap);
    return;
  }
  const Attrs* a = o.attrs();
  if (!a || m.uncertain(*a)) f.n_va_nonzero = Tri::unknown;
  else if (a->n_va > 0) f.n_va_nonzero = Tri::yes;
  else f.n_va_nonzero = a->n_va_exact ? Tri::no : Tri::unknown;
}

void destroy_while_mapped(Model& m, const On& o, const Frame& f) {
  if (f.n_va_nonzero == Tri::no) return;
  if (f.n_va_nonzero == Tri::unknown) {
    m.unknown(id::destroy_while_mapped, Severity::error, o.e, o.subj(),
              "whether VAs were still linked is not known (no n_va_nonzero snapshot, links older than the trace)");
    return;
  }
  m.violation(id::destroy_while_mapped, Severity::error, o.e, o.subj(),
              fmt::format("{} dropped the last reference of vm_bo {} while VAs are still linked to it "
                          "(each linked VA owns a reference: someone put a reference it did not own); the "
                          "VAs now point to {} memory",
                          fn_name(o.e.fn), hex(o.addr),
                          o.e.fn == Fn::bo_put_deferred ? "zombie" : "freed"));
}

void destroy_while_mapped_at_unlink(Model& m, const On& o, const Frame& f) {
  const Attrs* a = o.attrs();
  if (!a) return;
  if (a->n_va == 0 && a->n_va_exact && !m.uncertain(*a)) return;
  if (a->n_va > 0 && !m.uncertain(*a)) {
    if (o.e.fn == Fn::va_unlink_defer)
      m.violation(id::destroy_while_mapped, Severity::error, o.e, o.subj(),
                  fmt::format("drm_gpuva_unlink_defer made vm_bo {} a zombie (refcount 1 at entry) while {} other "
                              "VA(s) are still linked to it: someone put a reference a VA owned",
                              hex(o.addr), a->n_va));
    else
      m.violation(id::destroy_while_mapped, Severity::error, o.e, o.subj(),
                  fmt::format("drm_gpuva_unlink (its inlined drm_gpuvm_bo_put) destroyed vm_bo {} (refcount 1 at "
                              "entry) while {} other VA(s) are still linked to it: someone put a reference a VA "
                              "owned; those VAs now point to freed memory",
                              hex(o.addr), a->n_va));
    return;
  }
  m.unknown(id::destroy_while_mapped, Severity::error, o.e, o.subj(),
            "whether other VAs are still linked is not known (links older than the trace or lost events)");
}

void inlined_put_undecided(Model& m, const On& o, const Frame& f, const char* why) {
  const std::string because = fmt::format("{}: whether its inlined put dropped the last reference is not known", why);
  if (f.put_locks_bad || f.put_locks_unknown) m.unknown(id::put_final_unlocked, Severity::error, o.e, o.subj(), because);
  if (f.gpuva_is_gem_mutex != Tri::no && !(f.bo_refcount_known && f.bo_refcount != 1))
    m.unknown(id::gem_freed_under_gpuva_lock, Severity::error, o.e, o.subj(), because);
  const Attrs* a = o.attrs();
  if (a && !(a->n_va == 0 && a->n_va_exact && !m.uncertain(*a)))
    m.unknown(id::destroy_while_mapped, Severity::error, o.e, o.subj(), because);
}

}  // namespace gvt::model::rules
