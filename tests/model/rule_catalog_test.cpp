// SPDX-License-Identifier: GPL-2.0-only
// The rules catalogue explains every rule the model can emit: every ID of rule_ids.h,
// and every `id::NAME` the model's sources report with (so a rule added without an
// explanation fails here), each with every section written.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "decode/model/rule_catalog.h"
#include "decode/model/rule_ids.h"

namespace {

using gvt::model::find_rule;
using gvt::model::rule_catalog;

TEST(RuleCatalog, EveryRuleIdIsExplained) {
  for (std::string_view id : gvt::model::rules::id::all) {
    const auto* r = find_rule(id);
    ASSERT_NE(r, nullptr) << id;
    EXPECT_FALSE(r->severity.empty()) << id;
    EXPECT_FALSE(r->title.empty()) << id;
    EXPECT_FALSE(r->requires_.empty()) << id;
    EXPECT_FALSE(r->means.empty()) << id;
    EXPECT_FALSE(r->fix.empty()) << id;
    EXPECT_FALSE(r->functions.empty()) << id;
    EXPECT_FALSE(r->evidence.empty()) << id;
  }
  // And nothing in the catalogue that the model does not know.
  EXPECT_EQ(rule_catalog().size(), gvt::model::rules::id::all.size());
  std::set<std::string_view> ids;
  for (const auto& r : rule_catalog()) EXPECT_TRUE(ids.insert(r.id).second) << "twice: " << r.id;
}

TEST(RuleCatalog, EveryRuleTheModelReportsIsExplained) {
  // Findings name their rule through rules::id::NAME; collect every such use.
  const std::regex use(R"(\bid::([a-z_]+)\b)");
  std::set<std::string> used;
  for (const auto& ent : std::filesystem::recursive_directory_iterator(GVT_MODEL_SRC)) {
    if (!ent.is_regular_file() || ent.path().extension() != ".cpp") continue;
    if (ent.path().filename() == "rule_catalog.cpp") continue;
    std::ifstream in(ent.path());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    for (auto it = std::sregex_iterator(s.begin(), s.end(), use); it != std::sregex_iterator(); ++it)
      used.insert((*it)[1]);
  }
  ASSERT_GT(used.size(), 15u) << "the scan found too few rule uses: did the sources move?";
  for (std::string name : used) {
    if (name == "all") continue;
    for (char& c : name)
      if (c == '_') c = '-';
    EXPECT_NE(find_rule(name), nullptr) << "rule reported but not explained: " << name;
  }
}

TEST(RuleCatalog, UnknownIdIsNotFound) {
  EXPECT_EQ(find_rule("no-such-rule"), nullptr);
  EXPECT_EQ(find_rule(""), nullptr);
}

}  // namespace
