// SPDX-License-Identifier: GPL-2.0-only
#include "cli/format.h"

#include <iterator>

#include <fmt/format.h>

#include "decode/json_text.h"
#include "decode/model/rule_catalog.h"
#include "decode/safe_text.h"

namespace gvt::cli {

namespace {

void append_kv_str(std::string& out, std::string_view key, std::string_view val) {
  out += ",\"";
  out += key;
  out += "\":";
  json::append_string(out, val);
}

void append_kv_num(std::string& out, std::string_view key, uint64_t val) {
  fmt::format_to(std::back_inserter(out), ",\"{}\":{}", key, val);
}

}  // namespace

std::string frame_text(const Frame& f) {
  std::string s = f.sym.empty() ? hex(f.addr) : f.sym;
  if (!f.module.empty()) s += fmt::format(" [{}]", f.module);
  return s;
}

std::string_view finding_type(const Finding& f) {
  switch (f.kind) {
    case FindingKind::violation: return "violation";
    case FindingKind::unknown: return "unknown";
    case FindingKind::info: return "info";
  }
  return "violation";
}

namespace {

void append_stack_json(std::string& o, std::string_view key, uint64_t id, const StackLookup& stacks) {
  const StackRec* st = stacks ? stacks(id) : nullptr;
  if (!st) {
    fmt::format_to(std::back_inserter(o), ",\"{}_id\":{}", key, id);
    return;
  }
  fmt::format_to(std::back_inserter(o), ",\"{}\":[", key);
  for (size_t i = 0; i < st->frames.size(); ++i) {
    if (i) o += ',';
    json::append_string(o, frame_text(st->frames[i]));
  }
  o += ']';
}

void append_who_json(std::string& o, std::string_view key, const FindingWho& w,
                     const StackLookup& stacks) {
  if (!w.set) return;
  fmt::format_to(std::back_inserter(o), ",\"{}\":{{\"ts\":{},\"tid\":{}", key, w.ts, w.tid);
  append_kv_str(o, "comm", w.comm);
  if (!w.fn.empty()) append_kv_str(o, "fn", w.fn);
  if (w.line) append_kv_num(o, "line", w.line);
  if (w.adopted) o += ",\"adopted\":true";
  if (w.has_stack) append_stack_json(o, "stack", w.stack, stacks);
  o += '}';
}

// Optional evidence keys of a finding (trace-format.md allows extra keys).
void append_evidence_json(std::string& o, const Finding& f, const StackLookup& stacks) {
  append_who_json(o, "created", f.created, stacks);
  append_who_json(o, "destroyed", f.destroyed, stacks);
  append_who_json(o, "last_ref", f.last_ref, stacks);
  if (!f.has_locks) return;
  o += ",\"held_locks\":[";
  for (size_t i = 0; i < f.locks.size(); ++i) {
    const FindingLock& l = f.locks[i];
    if (i) o += ',';
    o += "{\"lock\":";
    json::append_string(o, l.name);
    append_kv_str(o, "addr", hex(l.addr));
    o += ",\"holders\":[";
    for (size_t k = 0; k < l.holders.size(); ++k) {
      const auto& h = l.holders[k];
      if (k) o += ',';
      fmt::format_to(std::back_inserter(o), "{{\"tid\":{}", h.tid);
      append_kv_str(o, "comm", h.comm);
      if (h.since_ts) append_kv_num(o, "since", h.since_ts);
      if (h.line) append_kv_num(o, "line", h.line);
      o += '}';
    }
    o += "]}";
  }
  o += ']';
}

std::string who_text(std::string_view what, const FindingWho& w) {
  std::string s = fmt::format("{} by task {} ({}) at ts={}", what, w.tid, w.comm, w.ts);
  if (!w.fn.empty()) s += fmt::format(" in {}", w.fn);
  if (w.line) s += fmt::format(", line {}", w.line);
  return s;
}

void append_who_text(std::string& o, std::string_view what, const FindingWho& w,
                     const StackLookup& stacks, std::string_view indent) {
  if (!w.set) return;
  o += fmt::format("{}  {}{}\n", indent, who_text(what, w), w.has_stack ? ":" : "");
  if (!w.has_stack) return;
  if (const StackRec* st = stacks ? stacks(w.stack) : nullptr) {
    for (const Frame& fr : st->frames) o += fmt::format("{}    {}\n", indent, frame_text(fr));
  } else {
    o += fmt::format("{}    (stack {} not in the trace)\n", indent, w.stack);
  }
}

// KASAN-style history and lockdep-style held locks, after the finding's own stack.
void append_evidence_text(std::string& o, const Finding& f, const StackLookup& stacks,
                          std::string_view indent) {
  append_who_text(o, f.created.adopted ? "first seen (created before the trace)" : "created",
                  f.created, stacks, indent);
  append_who_text(o, "destroyed", f.destroyed, stacks, indent);
  append_who_text(o, "last reference change", f.last_ref, stacks, indent);
  if (!f.has_locks) return;
  if (f.locks.empty()) {
    o += fmt::format("{}  held locks: none that the trace knows of\n", indent);
    return;
  }
  o += fmt::format("{}  held locks (as far as the trace knows):\n", indent);
  for (const FindingLock& l : f.locks) {
    std::string who;
    for (const auto& h : l.holders) {
      if (!who.empty()) who += "; ";
      who += fmt::format("task {} ({})", h.tid, h.comm);
      if (h.since_ts) who += fmt::format(" since ts={}", h.since_ts);
      if (h.line) who += fmt::format(", line {}", h.line);
    }
    if (l.name == "held")
      o += fmt::format("{}    {} held by {}\n", indent, hex(l.addr), who);
    else
      o += fmt::format("{}    {} {}: {}\n", indent, l.name, hex(l.addr),
                       who.empty() ? "not held by any task the trace knows of" : "held by " + who);
  }
}

}  // namespace

std::string finding_json(const Finding& f, const StackLookup& stacks) {
  const StackRec* stack = (f.has_stack && stacks) ? stacks(f.stack) : nullptr;
  std::string o = "{\"type\":";
  json::append_string(o, finding_type(f));
  append_kv_str(o, "rule", f.rule);
  append_kv_str(o, "severity", severity_name(f.severity));
  append_kv_num(o, "ts", f.ts);
  // Fields that are 0/empty mean "not about that" (finding.h): leave them out rather
  // than write a NULL address that a consumer could take for a real one.
  if (!f.fn.empty()) {
    fmt::format_to(std::back_inserter(o), ",\"tid\":{}", f.tid);
    append_kv_str(o, "comm", f.comm);
    append_kv_str(o, "fn", f.fn);
  } else if (f.tid != 0) {
    fmt::format_to(std::back_inserter(o), ",\"tid\":{}", f.tid);
    if (!f.comm.empty()) append_kv_str(o, "comm", f.comm);
  }
  if (f.vm_bo) {
    append_kv_str(o, "vm_bo", hex(f.vm_bo));
    append_kv_num(o, "gen", f.gen);
  }
  if (f.vm) append_kv_str(o, "vm", hex(f.vm));
  if (f.obj) append_kv_str(o, "obj", hex(f.obj));
  if (f.line) append_kv_num(o, "line", f.line);
  if (f.kind == FindingKind::unknown) {
    append_kv_str(o, "reason", f.reason.empty() ? f.message : f.reason);
  } else {
    append_kv_str(o, "message", f.message);
  }
  if (f.incomplete_trace) o += ",\"incomplete_trace\":true";
  if (f.has_stack) {
    if (stack) {
      o += ",\"stack\":[";
      for (size_t i = 0; i < stack->frames.size(); ++i) {
        if (i) o += ',';
        json::append_string(o, frame_text(stack->frames[i]));
      }
      o += ']';
    } else {
      // The stack record was never seen (lost or cut): keep the id so nothing is
      // silently dropped.
      append_kv_num(o, "stack_id", f.stack);
    }
  }
  append_evidence_json(o, f, stacks);
  o += '}';
  return o;
}

std::string finding_text(const Finding& f, const StackLookup& stacks, const Style& st,
                         std::string_view indent) {
  const StackRec* stack = (f.has_stack && stacks) ? stacks(f.stack) : nullptr;
  std::string_view label, color;
  std::string_view text = f.message;
  switch (f.kind) {
    case FindingKind::violation:
      label = severity_name(f.severity);
      color = f.severity == Severity::error ? st.red() : st.yellow();
      break;
    case FindingKind::unknown:
      label = "unknown";
      color = st.cyan();
      if (!f.reason.empty()) text = f.reason;
      break;
    case FindingKind::info:
      label = "info";
      color = st.blue();
      break;
  }
  // Text output: every string that came from the trace goes through safe_text().
  std::string o = fmt::format("{}{}{}{}: {}{}{}: {}", indent, color, label, st.reset(),
                              st.bold(), safe_text(f.rule), st.reset(), safe_text(text));
  if (f.incomplete_trace) o += " (trace incomplete: lines were skipped)";
  o += '\n';

  std::string at;
  auto add = [&at](std::string s) {
    if (!at.empty()) at += ' ';
    at += std::move(s);
  };
  add(fmt::format("ts={}", f.ts));
  if (f.tid != 0 || !f.fn.empty()) add(fmt::format("tid={}", f.tid));
  if (!f.comm.empty()) add(fmt::format("comm={}", safe_text(f.comm)));
  if (!f.fn.empty()) add(fmt::format("fn={}", safe_text(f.fn)));
  if (f.vm_bo) add(fmt::format("vm_bo={}#{}", hex(f.vm_bo), f.gen));
  if (f.vm) add(fmt::format("vm={}", hex(f.vm)));
  if (f.obj) add(fmt::format("obj={}", hex(f.obj)));
  if (f.line) add(fmt::format("line {}", f.line));
  o += fmt::format("{}  {}at {}{}\n", indent, st.dim(), at, st.reset());

  if (f.has_stack) {
    if (stack) {
      for (const Frame& fr : stack->frames) o += fmt::format("{}    {}\n", indent, safe_text(frame_text(fr)));
    } else {
      o += fmt::format("{}    (stack {} not in the trace)\n", indent, f.stack);
    }
  }
  append_evidence_text(o, f, stacks, indent);
  // Every finding says where its rule is explained (the catalogue is in the binary).
  o += fmt::format("{}  {}see: {} {}{}\n", indent, st.dim(), model::kExplainCommand, f.rule,
                   st.reset());
  return o;
}

std::string summary_json(const Summary& s, bool info, std::string_view file, std::string_view stats) {
  std::string o = "{\"type\":\"summary\"";
  if (!file.empty()) append_kv_str(o, "file", file);
  append_kv_num(o, "events", s.events);
  append_kv_num(o, "vm_bos", s.vm_bos);
  append_kv_num(o, "violations", s.violations);
  append_kv_num(o, "errors", s.errors);
  append_kv_num(o, "warnings", s.warnings);
  append_kv_num(o, "unknown", s.unknown);
  append_kv_num(o, "lost", s.lost);
  append_kv_num(o, "skipped_lines", s.skipped_lines);
  o += s.footer ? ",\"footer\":true" : ",\"footer\":false";
  if (s.damaged) append_kv_num(o, "damaged", s.damaged);
  if (info) append_kv_num(o, "infos", s.infos);
  // Optional diagnostics: present only when they say something.
  if (s.unknown_records) append_kv_num(o, "unknown_records", s.unknown_records);
  if (s.unknown_fn) append_kv_num(o, "unknown_fn", s.unknown_fn);
  if (s.unmatched_exits) append_kv_num(o, "unmatched_exits", s.unmatched_exits);
  // With a filter the counts above are of the selected findings; say how many were not.
  if (s.filtered) append_kv_num(o, "hidden", s.hidden);
  if (!stats.empty()) {
    o += ",\"stats\":";
    o += stats;
  }
  o += '}';
  return o;
}

namespace {
std::string plural(uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}
}  // namespace

std::string summary_text(const Summary& s, bool info, const Style& st, std::string_view file) {
  std::string o = fmt::format("{}summary{}", st.bold(), st.reset());
  if (!file.empty()) o += fmt::format(" ({})", safe_text(file));
  o += fmt::format(": {}, {}, {} ({}, {}), {}", plural(s.events, "event", "events"),
                   plural(s.vm_bos, "vm_bo", "vm_bos"),
                   plural(s.violations, "violation", "violations"),
                   plural(s.errors, "error", "errors"), plural(s.warnings, "warning", "warnings"),
                   plural(s.unknown, "unknown", "unknown"));
  if (info) o += fmt::format(", {}", plural(s.infos, "info", "infos"));
  o += fmt::format(", {} lost", plural(s.lost, "event", "events"));
  if (s.skipped_lines) o += fmt::format(", {} skipped", plural(s.skipped_lines, "line", "lines"));
  if (s.unknown_records) o += fmt::format(", {} of unknown type", plural(s.unknown_records, "record", "records"));
  if (s.unknown_fn) o += fmt::format(", {} naming unknown functions", plural(s.unknown_fn, "event", "events"));
  if (s.unmatched_exits) o += fmt::format(", {}", plural(s.unmatched_exits, "unmatched exit", "unmatched exits"));
  if (s.damaged) o += fmt::format(", {} skipped (--salvage)", plural(s.damaged, "damaged region", "damaged regions"));
  o += s.footer ? "" : ", no footer";
  if (s.filtered) o += fmt::format(", {} hidden by the filters", plural(s.hidden, "finding", "findings"));
  o += '\n';
  return o;
}

}  // namespace gvt::cli
