// SPDX-License-Identifier: GPL-2.0-only
// gvt::Checker: the RecordSink face of the model.
#include "decode/model/checker.h"

#include <algorithm>

#include "decode/header_filter.h"
#include "decode/model/handlers.h"
#include "decode/model/model.h"
#include "decode/model/rules/rules.h"

namespace gvt {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "error";
}

bool FindingFilter::selects(const Finding& f) const {
  if (!rules.empty() && std::find(rules.begin(), rules.end(), f.rule) == rules.end()) return false;
  // A finding whose VM is unknown is not shown as being about the asked one.
  if (vm && f.vm != *vm) return false;
  if (!tids.empty()) {
    int32_t tid = f.tid != 0 ? f.tid : f.created.set ? f.created.tid : 0;
    if (std::find(tids.begin(), tids.end(), tid) == tids.end()) return false;
  }
  return true;
}

struct Checker::Impl {
  Impl(CheckerOptions o, FindingSink& s, TransitionObserver* obs) : m(o, s, obs) {}
  model::Model m;
  bool finished = false;
};

Checker::Checker(CheckerOptions opts, FindingSink& findings, TransitionObserver* observer)
    : impl_(std::make_unique<Impl>(opts, findings, observer)) {}

Checker::~Checker() = default;

void Checker::on_header(const Header& h) {
  model::Model& m = impl_->m;
  m.feat_deferred = unknown_if_absent(h.feat_deferred);
  m.feat_gpuva_mutex = unknown_if_absent(h.feat_gpuva_mutex);
  m.feat_immediate = unknown_if_absent(h.feat_immediate_mode);
  m.feat_self_locks = unknown_if_absent(h.feat_prealloc_self_locks);
  if (m.feat_self_locks == Tri::unknown) {
    // The self-locking obtain_prealloc came after the gpuva mutex (6.18) and after
    // deferred cleanup (6.19): a kernel lacking either cannot have it.
    if (m.feat_gpuva_mutex == Tri::no || m.feat_deferred == Tri::no)
      m.feat_self_locks = Tri::no;
  }
  m.put_complete_hdr = h.coverage_put == "complete";
  m.unlink_puts = std::find(h.coverage_put_inlined_in.begin(), h.coverage_put_inlined_in.end(),
                            fn_name(Fn::va_unlink)) != h.coverage_put_inlined_in.end();
  m.locks_complete = h.coverage_locks == "complete";
  if (m.opts.recorded_filter && !m.opts.filter.active()) {
    if (std::optional<HeaderFilter> f = header_filter(h)) {
      m.opts.filter.tids = f->tids;
      m.opts.filter.vm = f->vm;
      m.summary.filtered = true;
      m.summary.recorded_filter = header_filter_text(*f);
    }
  }
}

void Checker::on_event(const Event& e) {
  if (impl_->m.stats) impl_->m.stats->event(e);
  model::apply_event(impl_->m, e);
}

void Checker::on_lost(const Lost& l) { model::apply_lost(impl_->m, l); }

void Checker::on_stack(const StackRec& s) { impl_->m.stacks[s.id] = s; }

void Checker::on_footer(const Footer&) { impl_->m.summary.footer = true; }

void Checker::on_opaque(const Opaque& o) {
  if (o.unknown_fn)
    impl_->m.summary.unknown_fn++;
  else
    impl_->m.summary.unknown_records++;
}

void Checker::on_skipped(uint64_t, std::string_view) {
  impl_->m.summary.skipped_lines++;
  impl_->m.incomplete = true;
}

void Checker::finish() {
  if (impl_->finished) return;
  impl_->finished = true;
  model::rules::at_end(impl_->m);
  if (impl_->m.stats) impl_->m.stats->finish(impl_->m.table, impl_->m.last_ts);
}

const TraceStats* Checker::stats() const {
  return impl_->m.stats ? &impl_->m.stats->stats() : nullptr;
}

const Summary& Checker::summary() const { return impl_->m.summary; }

const StackRec* Checker::stack(uint64_t id) const {
  auto it = impl_->m.stacks.find(id);
  return it == impl_->m.stacks.end() ? nullptr : &it->second;
}

}  // namespace gvt
