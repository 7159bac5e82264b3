// SPDX-License-Identifier: GPL-2.0-only
#include "decode/model/stats.h"

#include <algorithm>

namespace gvt::model {

namespace {
// Heap order: longer lifetimes sink, so the top is the first to give way. Ties break
// on address and generation so that the result does not depend on hash order.
bool longer(const TraceStats::Lifetime& a, const TraceStats::Lifetime& b) {
  if (a.duration() != b.duration()) return a.duration() > b.duration();
  if (a.vm_bo != b.vm_bo) return a.vm_bo < b.vm_bo;
  return a.gen < b.gen;
}
}  // namespace

void StatsCollector::finding(const Finding& f) {
  TraceStats::RuleCounts& c = rules_[f.rule];
  if (f.kind == FindingKind::unknown) c.unknown++;
  else if (f.kind == FindingKind::info) c.infos++;
  else if (f.severity == Severity::error) c.errors++;
  else if (f.severity == Severity::warning) c.warnings++;
  else c.infos++;
}

void StatsCollector::consider(const TraceStats::Lifetime& l) {
  if (top_ == 0) return;
  if (heap_.size() < top_) {
    heap_.push_back(l);
    std::push_heap(heap_.begin(), heap_.end(), longer);
    return;
  }
  if (!longer(l, heap_.front())) return;
  std::pop_heap(heap_.begin(), heap_.end(), longer);
  heap_.back() = l;
  std::push_heap(heap_.begin(), heap_.end(), longer);
}

void StatsCollector::ended(uint64_t addr, uint32_t gen, const Attrs& a, const Destroyed& d) {
  TraceStats::VmCounts& v = vms_[a.vm];
  v.vm = a.vm;
  v.vm_bos++;
  // An end that was not observed (the address came back without a destroy in the
  // trace) has no time: it cannot rank.
  if (!d.observed || !a.created.known()) return;
  TraceStats::Lifetime l;
  l.vm_bo = addr;
  l.gen = gen;
  l.vm = a.vm;
  l.obj = a.obj;
  l.created_ts = a.created.ts;
  l.created_tid = a.created.tid;
  l.adopted = a.created.adopted;
  l.end_ts = d.ts;
  l.end_tid = d.tid;
  consider(l);
}

void StatsCollector::finish(LifecycleTable& table, uint64_t last_ts) {
  table.for_each([&](uint64_t addr, Slot& s) {
    const Attrs* a = s.attrs();
    if (!a) return;
    TraceStats::VmCounts& v = vms_[a->vm];
    v.vm = a->vm;
    v.vm_bos++;
    v.live_at_end++;
    if (!a->created.known()) return;
    TraceStats::Lifetime l;
    l.vm_bo = addr;
    l.gen = s.gen;
    l.vm = a->vm;
    l.obj = a->obj;
    l.created_ts = a->created.ts;
    l.created_tid = a->created.tid;
    l.adopted = a->created.adopted;
    l.end_ts = std::max(last_ts, a->created.ts);
    l.open = true;
    consider(l);
  });
  out_.rules.assign(rules_.begin(), rules_.end());
  out_.vms.clear();
  out_.vms.reserve(vms_.size());
  for (const auto& [vm, c] : vms_) out_.vms.push_back(c);
  std::sort(out_.vms.begin(), out_.vms.end(), [](const auto& x, const auto& y) {
    return x.vm_bos != y.vm_bos ? x.vm_bos > y.vm_bos : x.vm < y.vm;
  });
  out_.longest = heap_;
  std::sort(out_.longest.begin(), out_.longest.end(), longer);
}

}  // namespace gvt::model
