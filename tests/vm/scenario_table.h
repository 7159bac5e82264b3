// SPDX-License-Identifier: GPL-2.0-only
// Reading tests/vm/exerciser/scenarios.tsv (what each exerciser scenario must make
// the tracer report) and a findings stream (`live/lint -f json`) into comparable counts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gvt::vmtest {

// "rule:kind:severity" -> how many findings; kinds violation|unknown|info.
using FindingCounts = std::map<std::string, int>;

struct Scenario {
  std::string name;
  FindingCounts expected;
  // gtest prints parameters; keep it short and readable.
  friend std::ostream& operator<<(std::ostream& os, const Scenario& s) { return os << s.name; }
};

// Header `scenario<TAB><series><TAB><series>...[<TAB>why]` names one findings column
// per guest kernel series (e.g. 6.12, 7.2); each row then gives, per kernel,
// `rule:kind:severity:count ...` ('-' = no finding) or `n/a` (the scenario does not
// run on that kernel; the why column says why). Without kernel columns the one
// findings column holds for every kernel. '#' comments and blank lines are skipped;
// the midflight-setup/-finish halves are driven through the `midflight` row.
// Returns the scenarios that run on `series`. On error returns what was parsed so far
// and sets `err` (file and line named).
std::vector<Scenario> load_scenario_table(const std::filesystem::path& p, const std::string& series,
                                          std::string& err);

struct FindingEntry {
  std::string key;     // rule:kind:severity
  uint64_t ts = 0;     // CLOCK_MONOTONIC ns of the triggering event
  bool has_ts = false;
  std::string line;    // the JSON line, for messages
};

struct FindingsStream {
  std::vector<FindingEntry> entries;
  FindingCounts counts;  // over all entries
  bool has_summary = false;
  uint64_t lost = 0;   // the summary's "lost"
  std::string error;   // unreadable file or a line that is not a JSON object
};
FindingsStream read_findings(const std::filesystem::path& p);

// A scenario's time window in a batch session: [begin, end] ns.
struct Window {
  uint64_t begin = 0, end = 0;
  bool contains(uint64_t ts) const { return ts >= begin && ts <= end; }
};
// Reads "BEGIN END" from a window file; false if missing or malformed.
bool read_window(const std::filesystem::path& p, Window& w);
// Counts of the entries whose ts lies in w (entries without ts never do).
FindingCounts counts_in(const FindingsStream& s, const Window& w);

}  // namespace gvt::vmtest
