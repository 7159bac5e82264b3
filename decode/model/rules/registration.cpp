// SPDX-License-Identifier: GPL-2.0-only
// Registration rules (rule_catalog.cpp): prealloc-reused, link-unregistered, duplicate-vm-bo.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

void prealloc_reused(Model& m, const On& o) {
  const Event& e = o.e;
  const Attrs* a = o.attrs();
  bool certain = a && !m.uncertain(*a);
  std::string why_bad;
  bool err = false, warn = false;
  const char* unk = nullptr;
  auto add = [&](std::string_view s) {
    if (!why_bad.empty()) why_bad += ", ";
    why_bad += s;
  };
  LifeState st = o.s ? o.s->life() : LifeState::none;
  if (certain && st != LifeState::allocated) {
    err = true;
    add(fmt::format("its generation {} is {}, not a fresh pre-allocation", o.s->gen, life_state_name(st)));
  }
  struct L { Small f; const char* name; };
  static constexpr L lists[] = {{S_ON_GEM, "on the GEM's vm_bo list"},
                                {S_ON_EXTOBJ, "on the VM's extobj list"},
                                {S_ON_EVICT, "on the VM's evict list"},
                                {S_ON_DEFER, "on the VM's bo_defer list"}};
  bool lists_known = true;
  for (const L& l : lists) {
    Tri b = e.tri(l.f);
    if (is_yes(b)) {
      err = true;
      add(l.name);
    } else if (!is_present(b) && l.f != S_ON_DEFER) {
      lists_known = false;
    }
  }
  if (!lists_known) {
    if (certain) {
      if (a->extobj == Tri::yes) {
        err = true;
        add("on the VM's extobj list");
      }
    } else {
      unk = "list membership not in the snapshot and the vm_bo's history is not certain";
    }
  }
  if (e.has(S_REFCOUNT)) {
    int64_t rc = e.sget(S_REFCOUNT);
    if (rc < 1) {
      err = true;
      add(fmt::format("refcount {}", rc));
    } else if (rc > 1) {
      warn = true;
      add(fmt::format("refcount {} (someone else holds a reference: the found path frees only one)", rc));
    }
  } else if (!err) {
    unk = "refcount not in the snapshot";
  }
  if (err || warn) {
    m.violation(id::prealloc_reused, err ? Severity::error : Severity::warning, e, o.subj(),
                fmt::format("drm_gpuvm_bo_obtain_prealloc argument {} is not a fresh pre-allocation: {}",
                            hex(o.addr), why_bad));
    return;
  }
  if (unk) m.unknown(id::prealloc_reused, Severity::error, e, o.subj(), unk);
}

void link_unregistered(Model& m, const On& o) {
  Tri g = o.e.tri(S_ON_GEM);
  if (is_yes(g)) return;
  const Attrs* a = o.attrs();
  if (!is_present(g)) {
    if (a && !m.uncertain(*a)) {
      if (o.s->life() != LifeState::allocated) return;
    } else {
      m.unknown(id::link_unregistered, Severity::error, o.e, o.subj(),
                "on_gem not in the snapshot and the vm_bo's state is not certain");
      return;
    }
  }
  m.violation(id::link_unregistered, Severity::error, o.e, o.subj(),
              fmt::format("drm_gpuva_link to vm_bo {} which is not on its GEM's vm_bo list (ALLOCATED, "
                          "never obtained): uniqueness and eviction cannot reach this mapping",
                          hex(o.addr)));
}

void duplicate_vm_bo(Model& m, const On& o, const Frame& f, bool newly_registered) {
  const Event& e = o.e;
  bool self_locked = e.fn == Fn::bo_obtain_prealloc && m.feat_self_locks == Tri::yes;
  if (e.has(S_GEM_LIST_SAME_VM) && e.get(S_GEM_LIST_SAME_VM) > 1 && !self_locked) {
    if (f.held_gpuva == Tri::yes) {
      m.violation(id::duplicate_vm_bo, Severity::error, e, o.subj(),
                  fmt::format("the GEM's vm_bo list holds {} vm_bos of this VM (walk at {} exit, gpuva lock "
                              "held): there must be at most one",
                              e.get(S_GEM_LIST_SAME_VM), fn_name(e.fn)));
      return;
    }
    if (f.held_gpuva == Tri::unknown) {
      m.unknown(id::duplicate_vm_bo, Severity::error, e, o.subj(),
                "the GEM list walk found several vm_bos of this VM but whether current held the gpuva lock is not known");
      return;
    }
  }
  Attrs* a = o.s ? o.s->attrs() : nullptr;
  if (!a || !a->vm || !a->obj || o.s->life() != LifeState::registered) return;
  if (a->indexed && !newly_registered) return;  // the common path: no map work
  // One probe: inserts this vm_bo, or finds who holds the (VM, GEM) key.
  auto [it, added] = m.registered.try_emplace(std::make_pair(a->vm, a->obj), o.addr);
  if (added || it->second == o.addr) {
    a->indexed = true;
    return;
  }
  uint64_t other_addr = it->second;
  Slot* other = m.table.find(other_addr);
  Attrs* oa = other ? other->attrs() : nullptr;
  if (!oa || other->life() != LifeState::registered || oa->vm != a->vm || oa->obj != a->obj) {
    if (oa) oa->indexed = false;
    it.value() = o.addr;
    a->indexed = true;
    return;
  }
  if (!newly_registered) return;
  bool certain = m.put_complete() && !m.uncertain(*a) && !m.uncertain(*oa);
  if (certain)
    m.violation(id::duplicate_vm_bo, Severity::error, e, o.subj(),
                fmt::format("two live registered vm_bos for VM {} and GEM {}: {} gen {} (just registered by {}) "
                            "and {} gen {}",
                            hex(a->vm), hex(a->obj), hex(o.addr), o.s->gen, fn_name(e.fn), hex(other_addr),
                            other->gen));
  else
    m.unknown(id::duplicate_vm_bo, Severity::error, e, o.subj(),
              "two registered vm_bos for one (VM, GEM) in the model, but events were lost or put coverage is "
              "partial (the older one may be gone)");
}

}  // namespace gvt::model::rules
