// Published figures (published.hpp): the shipped m3ipc file parses and every cell it names is
// planned by m3ipc.toml; bad files are one error with the file, line and key; the comparison
// divides each side by its own base and prints "–" where a value is missing. No processes.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "harness/plan/bench_plan.hpp"
#include "harness/plan/scenario.hpp"
#include "harness/results/published.hpp"

namespace {

using dvs::cli::PublishedFigures;

std::string scenario_path(const std::string& name) { return std::string(DVS_SCENARIOS_DIR) + "/" + name; }

std::set<std::string> planned_ids(const std::string& scenario) {
  dvs::bench::Scenario s;
  EXPECT_EQ(dvs::bench::parse_scenario_file(scenario_path(scenario), &s), "");
  dvs::bench::Plan p;
  EXPECT_EQ(dvs::bench::plan_scenario(s, nullptr, "run", &p), "");
  std::set<std::string> ids;
  for (const auto& it : p.items) ids.insert(it.cell.id);
  return ids;
}

TEST(Published, ShippedM3ipcFiguresNameCellsOfItsScenario) {
  PublishedFigures p;
  ASSERT_EQ(dvs::cli::parse_published_file(scenario_path("m3ipc-published.toml"), &p), "");
  ASSERT_EQ(p.tables.size(), 7u);
  EXPECT_EQ(p.conventions.at("message_bytes"), 36);
  const std::set<std::string> ids = planned_ids("m3ipc.toml");
  EXPECT_EQ(dvs::cli::check_published_cells(p, ids), "");
  size_t compared = 0;
  for (const auto& t : p.tables)
    for (const auto& r : t.rows) compared += !r.cell.empty() && r.published.has_value();
  EXPECT_GT(compared, 50u);
  // A scenario without those cells: the first figure without its cell is named.
  const std::string err = dvs::cli::check_published_cells(p, {"baseline/pipe/block/cross-core"});
  EXPECT_NE(err.find("m3ipc-published.toml:"), std::string::npos) << err;
  EXPECT_NE(err.find("is not a cell of the scenario"), std::string::npos) << err;
}

const char* const kSmall = R"(
[published]
system = "S"
source = "paper"
[published.conventions]
message_bytes = 36

[[comparison]]
key = "t"
title = "T"
source = "table 1"
unit = "msg/s"
published_column = "4 cores"
ours = "64 B"
base = "pipe"
base_cell = "b"
base_published = 100

[[comparison.row]]
label = "dvs"
cell = "d"
published = 50
note = "vs X"
headline = true

[[comparison.row]]
label = "own base"
cell = "d"
published = 50
base_cell = "d"
base_published = 25

[[comparison.row]]
label = "published only"
published = 10
)";

TEST(Published, ComparisonDividesEachSideByItsOwnBase) {
  PublishedFigures p;
  ASSERT_EQ(dvs::cli::parse_published_text(kSmall, "p.toml", &p), "");
  const auto cs = dvs::cli::compare_published(p, {{"b", {200.0, "cross-core: cpus 0,1"}}, {"d", {300.0, "cross-core: cpus 0,1"}}});
  ASSERT_EQ(cs.size(), 1u);
  const auto& rows = cs[0].rows;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_DOUBLE_EQ(*rows[0].published_norm(), 0.5);
  EXPECT_DOUBLE_EQ(*rows[0].ours_norm(), 1.5);
  EXPECT_DOUBLE_EQ(*rows[0].ratio(), 3.0);
  EXPECT_DOUBLE_EQ(*rows[1].published_norm(), 2.0);  // the row's own bases
  EXPECT_DOUBLE_EQ(*rows[1].ours_norm(), 1.0);
  EXPECT_FALSE(rows[2].ours.has_value());
  EXPECT_FALSE(rows[2].ratio().has_value());
  EXPECT_EQ(cs[0].ours, "cross-core: cpus 0,1; 64 B");
  const std::string md = dvs::cli::comparison_markdown(cs[0]);
  EXPECT_NE(md.find("| **dvs** (vs X) | 50 | 300 | 0.50 | 1.50 | 3.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| published only | 10 | – | 0.10 | – | – |"), std::string::npos) << md;
  const auto j = dvs::cli::comparison_json(cs[0]);
  EXPECT_EQ(j.at("table"), "t");
  EXPECT_EQ(j.at("rows").at(0).at("ratio"), 3.0);
  EXPECT_TRUE(j.at("rows").at(2).at("ours").is_null());
  // A cell that did not run: no value on our side, the published side stays.
  const auto none = dvs::cli::compare_published(p, {});
  EXPECT_FALSE(none[0].rows[0].ours_norm().has_value());
  EXPECT_DOUBLE_EQ(*none[0].rows[0].published_norm(), 0.5);
}

TEST(Published, BadFilesNameTheLineAndTheKey) {
  const std::string text = kSmall;
  struct Case {
    std::string text;
    std::string want;
  };
  auto replace = [&](const std::string& a, const std::string& b) {
    std::string s = text;
    s.replace(s.find(a), a.size(), b);
    return s;
  };
  const Case cases[] = {
      {replace("published = 50\nnote", "published = \"50\"\nnote"), "p.toml:22: [[comparison]] \"t\" row 1: 'published' must be a number"},
      {replace("headline = true", "headlin = true"), "p.toml:24: [[comparison]] \"t\" row 1: unknown key 'headlin'"},
      {replace("label = \"published only\"\n", ""), "p.toml:33: [[comparison]] \"t\" row 3: 'label' is missing"},
      {replace("unit = \"msg/s\"\n", ""), "p.toml:8: [[comparison]] #1: 'unit' is missing"},
      {replace("[published]\nsystem = \"S\"\nsource = \"paper\"\n", ""), "p.toml:2: [published]: 'system' is missing"},
      {text + "[[comparison]]\nkey = \"t\"\ntitle = \"U\"\nsource = \"s\"\nunit = \"u\"\n[[comparison.row]]\nlabel = \"x\"\n",
       "p.toml:36: [[comparison]] key \"t\" is taken by the one at line 8"},
      {text + "[[comparison]]\nkey = \"u\"\ntitle = \"U\"\nsource = \"s\"\nunit = \"u\"\n", "has no [[comparison.row]]"},
      {text + "x = [", "not valid TOML"},
      {"[published]\nsystem = \"S\"\nsource = \"p\"\n", "has no [[comparison]] table"},
  };
  for (const auto& c : cases) {
    PublishedFigures p;
    const std::string err = dvs::cli::parse_published_text(c.text, "p.toml", &p);
    EXPECT_NE(err.find(c.want), std::string::npos) << "want '" << c.want << "' in: " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  }
  PublishedFigures p;
  EXPECT_NE(dvs::cli::parse_published_file("/nonexistent/p.toml", &p).find("cannot open"), std::string::npos);
}

}  // namespace
