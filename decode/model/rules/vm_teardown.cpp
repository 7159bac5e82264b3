// SPDX-License-Identifier: GPL-2.0-only
// VM teardown (rule_catalog.cpp): vm-bo-leak-at-vm-destroy (a) at drm_gpuvm_put, (b) at
// drm_gpuvm_free, and deferred-never-cleaned (zombies of a VM meeting (a)).
// (a) and deferred-never-cleaned need the VM observed since drm_gpuvm_init, complete
// put coverage and no lost events (evidence in rule_catalog.cpp); (b) in its tracked form needs observed
// destructions. The list form of (b) needs VM list snapshots that the trace format does
// not carry, so only the tracked form is checked.
#include <fmt/format.h>

#include "decode/model/rule_ids.h"
#include "decode/model/rules/rules.h"

namespace gvt::model::rules {

void vm_put_entry(Model& m, const Event& e, uint64_t vmaddr) {
  if (!vmaddr) return;
  VmState& v = m.vm(vmaddr);
  if (v.put_pending || v.put_unknown) m.pending_vm_puts--;
  v.put_pending = v.put_unknown = false;
  v.put_unknown_why = nullptr;
  if (!e.has(S_VM_KREF)) {
    v.put_unknown = true;
    v.put_unknown_why = "the VM's kref was not in the drm_gpuvm_put entry snapshot";
  } else {
    int64_t left = e.sget(S_VM_KREF) - 1;
    if (left <= 0) return;  // frees the VM (or underflows): not this rule
    v.put_kref = e.sget(S_VM_KREF);
    if (m.vm_uncertain(v)) {
      v.put_unknown = true;
      v.put_unknown_why = m.vm_uncertain_why(v);
    } else if (!m.put_complete()) {
      v.put_unknown = true;
      v.put_unknown_why = "put coverage of this trace is not complete";
    } else if (left == v.live_gens + v.inserted_vas) {
      v.put_pending = true;
    }
  }
  if (!v.put_pending && !v.put_unknown) return;
  v.put_tid = e.tid;
  v.put_line = e.line;
  v.put_ts = e.ts;
  m.pending_vm_puts++;
}

void vm_put_exit(Model& m, const Event& e, uint64_t vmaddr) {
  VmState* v = m.vm_if(vmaddr);
  if (!v || (!v->put_pending && !v->put_unknown) || v->put_tid != e.tid) return;
  bool pending = v->put_pending;
  const char* why = v->put_unknown_why;
  v->put_pending = v->put_unknown = false;
  m.pending_vm_puts--;
  Subject sj{0, 0, vmaddr, 0};
  // Zombies of this VM still waiting (pruned of the ones already gone).
  std::vector<std::pair<uint64_t, uint32_t>> zombies;
  for (auto [addr, gen] : v->zombies) {
    Slot* s = m.table.find(addr);
    if (s && s->gen == gen && std::holds_alternative<Zombie>(s->st)) zombies.emplace_back(addr, gen);
  }
  v->zombies = zombies;
  if (!pending) {
    m.unknown(id::vm_bo_leak_at_vm_destroy, Severity::warning, e, sj, why);
    if (!zombies.empty())
      m.unknown(id::deferred_never_cleaned, Severity::warning, e, sj, why);
    return;
  }
  int64_t left = v->put_kref - 1;
  m.violation(id::vm_bo_leak_at_vm_destroy, Severity::warning, e, sj,
              fmt::format("drm_gpuvm_put left VM {} alive only through GPUVM-internal references: kref {} at "
                          "entry, {} left = {} live vm_bo(s) ({} zombie) + {} inserted VA(s); they pin the VM, "
                          "their GEMs and memory",
                          hex(vmaddr), v->put_kref, left, v->live_gens, zombies.size(), v->inserted_vas));
  for (auto [addr, gen] : zombies) {
    Slot* s = m.table.find(addr);
    Subject zj{addr, gen, vmaddr, s->attrs()->obj};
    m.violation(id::deferred_never_cleaned, Severity::warning, e, zj,
                fmt::format("zombie vm_bo {} gen {} of VM {} will never be reclaimed: the VM is being torn down "
                            "without drm_gpuvm_bo_deferred_cleanup (it pins GEM {})",
                            hex(addr), gen, hex(vmaddr), hex(s->attrs()->obj)));
  }
}

void vm_free(Model& m, const Event& e, uint64_t vmaddr) {
  VmState* v = m.vm_if(vmaddr);
  if (!v || v->live_gens <= 0) return;
  uint32_t vgen = v->gen;
  struct Live { uint64_t addr; uint32_t gen; LifeState st; bool certain; };
  std::vector<Live> live;
  m.table.for_each([&](uint64_t addr, Slot& s) {
    const Attrs* a = s.attrs();
    if (!a || a->vm != vmaddr || a->vm_gen != vgen) return;
    bool certain = !m.uncertain(*a) && a->origin == Origin::observed && m.put_complete();
    live.push_back({addr, s.gen, s.life(), certain});
  });
  if (live.empty()) return;
  const Live* first = nullptr;
  size_t n_certain = 0;
  for (const Live& l : live)
    if (l.certain) {
      if (!first) first = &l;
      n_certain++;
    }
  if (!first) {
    Subject sj{live[0].addr, live[0].gen, vmaddr, 0};
    m.unknown(id::vm_bo_leak_at_vm_destroy, Severity::error, e, sj,
              fmt::format("{} vm_bo(s) of this VM may still be live, but their history is not certain "
                          "(adopted, lost events or partial put coverage)",
                          live.size()));
    return;
  }
  std::string list;
  size_t shown = 0;
  for (const Live& l : live) {
    if (!l.certain) continue;
    if (shown++ == 4) {
      list += ", ...";
      break;
    }
    if (!list.empty()) list += ", ";
    list += fmt::format("{} gen {} ({})", hex(l.addr), l.gen, life_state_name(l.st));
  }
  Subject sj{first->addr, first->gen, vmaddr, 0};
  if (Slot* s = m.table.find(first->addr); s && s->attrs()) sj.obj = s->attrs()->obj;
  m.violation(id::vm_bo_leak_at_vm_destroy, Severity::error, e, sj,
              fmt::format("drm_gpuvm_free of VM {} while {} vm_bo(s) of it are still live: {}; they keep "
                          "pointing at the freed VM",
                          hex(vmaddr), n_certain, list));
}

}  // namespace gvt::model::rules
