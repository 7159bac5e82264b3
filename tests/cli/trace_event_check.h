// SPDX-License-Identifier: GPL-2.0-only
// Structural check of a `convert --to perfetto` file against the Trace Event Format's
// rules (shared by the CLI tests on the spec traces and the VM tests on a recorded
// guest trace): one valid JSON document with a traceEvents array; every event has ph,
// pid and tid (and ts unless metadata); on each (pid, tid) track "B"/"E" balance
// without going below zero and "B"/"E"/"X"/"i" timestamps never decrease; every flow
// end has its start; and every finding of `lint --info -f json` is there (same rule at
// the same time, as often).
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

namespace gvt::test {

// (rule, ts) of every finding the export must contain.
using FindingKeys = std::multiset<std::pair<std::string, uint64_t>>;

// Reads the findings of a `lint --info -f json` output.
inline FindingKeys findings_of_lint_json(const std::string& out) {
  FindingKeys keys;
  simdjson::dom::parser parser;
  size_t i = 0;
  while (i < out.size()) {
    size_t j = out.find('\n', i);
    if (j == std::string::npos) j = out.size();
    std::string line = out.substr(i, j - i);
    i = j + 1;
    if (line.empty()) continue;
    simdjson::dom::element o;
    if (parser.parse(line).get(o)) continue;
    std::string_view rule;
    uint64_t ts = 0;
    if (o["rule"].get(rule) || o["ts"].get(ts)) continue;
    keys.emplace(std::string(rule), ts);
  }
  return keys;
}

// "" when the file keeps the rules, else what is wrong.
inline std::string check_trace_events(const std::string& json, const FindingKeys& want,
                                      size_t* events_out = nullptr) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json).get(doc)) return std::string("not valid JSON: ") + simdjson::error_message(err);
  simdjson::dom::array evs;
  if (doc["traceEvents"].get(evs)) return "no traceEvents array";
  struct TrackState {
    int depth = 0;
    double last = -1;
  };
  std::map<std::pair<int64_t, int64_t>, TrackState> tracks;
  std::set<uint64_t> flow_starts, flow_ends;
  FindingKeys got;
  size_t n = 0;
  for (simdjson::dom::element e : evs) {
    ++n;
    std::string_view ph;
    int64_t pid = 0, tid = 0;
    if (e["ph"].get(ph) || e["pid"].get(pid) || e["tid"].get(tid))
      return "event " + std::to_string(n) + " lacks ph, pid or tid";
    if (ph == "M") continue;
    double ts = 0;
    if (e["ts"].get(ts)) return "event " + std::to_string(n) + " (" + std::string(ph) + ") lacks a numeric ts";
    if (ph == "s" || ph == "f") {
      uint64_t id = 0;
      if (e["id"].get(id)) return "flow event without id";
      (ph == "s" ? flow_starts : flow_ends).insert(id);
      continue;
    }
    TrackState& t = tracks[{pid, tid}];
    if (ts < t.last)
      return "timestamps go backwards on track pid " + std::to_string(pid) + " tid " + std::to_string(tid) +
             " at event " + std::to_string(n);
    t.last = ts;
    if (ph == "B") {
      ++t.depth;
    } else if (ph == "E") {
      if (--t.depth < 0) return "'E' without 'B' on track pid " + std::to_string(pid) + " tid " + std::to_string(tid);
    } else if (ph == "X") {
      double dur = -1;
      if (e["dur"].get(dur) || dur < 0) return "'X' without a non-negative dur";
      std::string_view cat;
      if (!e["cat"].get(cat) && cat == "finding") {
        std::string_view rule;
        uint64_t ts_ns = 0;
        if (e["args"]["rule"].get(rule) || e["args"]["ts_ns"].get(ts_ns)) return "finding without args.rule/ts_ns";
        std::string_view msg;
        if (e["args"]["message"].get(msg)) return "finding without args.message";
        got.emplace(std::string(rule), ts_ns);
      }
    } else if (ph != "i") {
      return "unexpected phase '" + std::string(ph) + "'";
    }
  }
  for (const auto& [k, t] : tracks)
    if (t.depth != 0)
      return "unbalanced 'B'/'E' on track pid " + std::to_string(k.first) + " tid " + std::to_string(k.second);
  for (uint64_t id : flow_ends)
    if (!flow_starts.count(id)) return "flow end " + std::to_string(id) + " without a start";
  if (got != want) {
    std::string m = "findings differ from lint's: export has " + std::to_string(got.size()) + ", lint " +
                    std::to_string(want.size());
    for (const auto& k : want)
      if (!got.count(k)) m += "; missing " + k.first + " at " + std::to_string(k.second);
    return m;
  }
  if (events_out) *events_out = n;
  return "";
}

}  // namespace gvt::test
