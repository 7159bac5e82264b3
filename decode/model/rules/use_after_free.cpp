// SPDX-License-Identifier: GPL-2.0-only
// use-after-free (rule_catalog.cpp): an operation on freed or zombie memory, or through a VA whose
// recorded vm_bo generation is gone. Needs the destruction observed and complete put
// coverage (evidence in rule_catalog.cpp); otherwise unknown.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

namespace {

std::string died(const Model& m, uint32_t gen, const Destroyed& d) {
  if (!d.observed) return fmt::format("generation {} ended unobserved", gen);
  return fmt::format("generation {} was destroyed at ts {} by tid {} ({}){}", gen, d.ts, d.tid,
                     m.comm(d.comm), d.line ? fmt::format(", line {}", d.line) : std::string());
}

}  // namespace

bool use_after_free(Model& m, const On& o) {
  if (!o.s) return false;
  const Event& e = o.e;
  if (const Destroyed* d = o.s->dead()) {
    Ans c = m.tombstone_certain(*d);
    if (c.v == Tri::yes)
      m.violation(id::use_after_free, Severity::error, e, o.subj(),
                  fmt::format("{} on vm_bo {} after it was freed: {}", fn_name(e.fn), hex(o.addr),
                              died(m, o.s->gen, *d)));
    else
      m.unknown(id::use_after_free, Severity::error, e, o.subj(), c.why);
    return true;
  }
  if (e.fn == Fn::va_link && std::holds_alternative<Zombie>(o.s->st)) {
    const Attrs& a = std::get<Zombie>(o.s->st).a;
    if (!m.uncertain(a))
      m.violation(id::use_after_free, Severity::error, e, o.subj(),
                  fmt::format("drm_gpuva_link on vm_bo {} gen {}, a ZOMBIE (its last reference is gone; it "
                              "waits for deferred cleanup to free it)",
                              hex(o.addr), o.s->gen));
    else
      m.unknown(id::use_after_free, Severity::error, e, o.subj(),
                "events were lost since the vm_bo became a zombie");
    return true;
  }
  return false;
}

bool use_after_free_unlink(Model& m, const On& o, const LinkRec* key, Frame& f) {
  const Event& e = o.e;
  if (key) {
    Slot* s = m.table.find(key->vm_bo);
    if (s && s->gen != key->gen) {
      Subject sj = o.subj();
      sj.gen = key->gen;
      f.reported_uaf = true;
      f.vm_bo = key->vm_bo;
      if (key->epoch == m.lost_epoch && m.put_complete())
        m.violation(id::use_after_free, Severity::error, e, sj,
                    fmt::format("{} through a VA linked to vm_bo {} gen {}, which no longer exists "
                                "(the address now holds generation {})",
                                fn_name(e.fn), hex(key->vm_bo), key->gen, s->gen));
      else
        m.unknown(id::use_after_free, Severity::error, e, sj,
                  key->epoch != m.lost_epoch ? "events were lost since the VA was linked"
                                             : "put coverage of this trace is not complete");
      return true;
    }
  }
  if (o.s && o.s->dead()) {
    f.reported_uaf = true;
    f.vm_bo = o.addr;
    Ans c = m.tombstone_certain(*o.s->dead());
    // A key from before a loss counts only if the kernel's own va->vm_bo agrees.
    if (c.v == Tri::yes && key && key->epoch != m.lost_epoch && arg(e, A_VM_BO) != key->vm_bo &&
        arg(e, S_VM_BO) != key->vm_bo)
      c = Ans::unknown("events were lost since the VA was linked (it may have been relinked since)");
    if (c.v == Tri::yes)
      m.violation(id::use_after_free, Severity::error, e, o.subj(),
                  fmt::format("{} of a VA whose vm_bo {} was already freed: {}", fn_name(e.fn),
                              hex(o.addr), died(m, o.s->gen, *o.s->dead())));
    else
      m.unknown(id::use_after_free, Severity::error, e, o.subj(), c.why);
    return true;
  }
  return false;
}

}  // namespace gvt::model::rules
