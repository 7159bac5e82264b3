// SPDX-License-Identifier: GPL-2.0-only
// The rules catalogue: for every rule ID the model can emit, what the kernel requires
// and why, what a finding means, how drivers usually fix it, and which kernel functions
// are involved. It is the in-repository reference every rule mention in the code points
// to, and the one source of `gpuvm-trace rules`, `gpuvm-trace explain`, the man page and
// the README's rules table.
#pragma once

#include <span>
#include <string_view>

namespace gvt::model {

struct RuleInfo {
  std::string_view id;         // stable rule ID (rule_ids.h)
  std::string_view severity;   // as reported; several when the rule distinguishes cases
  std::string_view title;      // one line
  std::string_view requires_;  // what the kernel requires, and why
  std::string_view means;      // what a violation tells about the driver
  std::string_view fix;        // the usual fix in a driver
  std::string_view functions;  // kernel functions involved, comma separated
  std::string_view evidence;   // what the tool needs to be certain; when it answers unknown
};

// Every rule, in the order of the catalogue (locking, modes, references, lists, leaks).
std::span<const RuleInfo> rule_catalog();

// nullptr when `id` is not a rule ID.
const RuleInfo* find_rule(std::string_view id);

// How a reader gets a rule's explanation, for finding texts: "gpuvm-trace explain ID".
inline constexpr std::string_view kExplainCommand = "gpuvm-trace explain";

}  // namespace gvt::model
