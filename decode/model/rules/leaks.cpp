// SPDX-License-Identifier: GPL-2.0-only
// End-of-trace rules (rule_catalog.cpp), info level, reported only with --info: vm-bo-leak (idle
// ALLOCATED vm_bos, or REGISTERED ones with no VA) and deferred-never-cleaned (zombies
// left at the end). Frames still open at the end settle pending recursion checks.
#include <algorithm>

#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

void at_end(Model& m) {
  for (auto it = m.tasks.begin(); it != m.tasks.end(); ++it)
    for (const Frame& f : it.value().stack) pending_at_end(m, f, it->first);
  if (!m.opts.report_info) return;
  struct Item { uint64_t addr; uint32_t gen; };
  std::vector<Item> items;
  m.table.for_each([&](uint64_t addr, Slot& s) {
    if (s.alive() && s.gen) items.push_back({addr, s.gen});
  });
  // Deterministic output order.
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.addr < b.addr; });
  for (const Item& it : items) {
    Slot* s = m.table.find(it.addr);
    const Attrs* a = s->attrs();
    Subject sj{it.addr, it.gen, a->vm, a->obj};
    LifeState st = s->life();
    bool certain = !m.uncertain(*a);
    if (st == LifeState::zombie) {
      if (certain)
        m.info(id::deferred_never_cleaned, nullptr, sj,
               fmt::format("zombie vm_bo {} gen {} still waits for drm_gpuvm_bo_deferred_cleanup at trace end",
                           hex(it.addr), it.gen));
      continue;
    }
    bool idle = m.opts.idle_ns == 0 || a->last_ts + m.opts.idle_ns <= m.last_ts;
    if (!idle) continue;
    if (st == LifeState::allocated) {
      if (a->origin == Origin::observed && certain)
        m.info(id::vm_bo_leak, nullptr, sj,
               fmt::format("vm_bo {} gen {} was created but never registered nor released (ALLOCATED at trace "
                           "end): an error path forgot a put?",
                           hex(it.addr), it.gen));
      else
        m.report(FindingKind::unknown, id::vm_bo_leak, Severity::info, nullptr, sj,
                 "an ALLOCATED vm_bo whose creation was not observed (or events were lost)");
    } else if (st == LifeState::registered) {
      if (!certain || !a->n_va_exact) continue;  // mapped-ness unknown: no claim
      if (a->n_va == 0)
        m.info(id::vm_bo_leak, nullptr, sj,
               fmt::format("vm_bo {} gen {} is registered with no VA and idle at trace end", hex(it.addr), it.gen));
    }
  }
}

}  // namespace gvt::model::rules
