// dvs compare: synthetic run directories (same data, one cell shifted 2x, bad input) and an
// end-to-end pair of `dvs run --quick --no-remote` runs (no performance asserted), plus the
// result files' schema additions (schema_version, median_ci95, runs.csv).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/testkit/test_shell.hpp"
#include "core/testkit/test_temp_dir.hpp"
#include "workloads/measure/histogram.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using dvs::stats::Histogram;

using dvs::testing::Ran;
using dvs::testing::run_shell;

std::string dvs() { return DVS_CLI_PATH; }

using dvs::testing::TempDir;

// A synthetic run directory: cells "syn/c<i>" with lognormal RTTs around 10 us; `scale[i]`
// multiplies cell i's samples.
void write_run(const fs::path& dir, uint64_t seed, const std::vector<double>& scale) {
  fs::create_directories(dir);
  std::ofstream runs(dir / "runs.jsonl"), hist(dir / "histograms.jsonl"), meta(dir / "meta.json");
  meta << json{{"schema_version", 1}, {"run_id", dir.filename().string()},
               {"git", {{"sha", "0123456789abcdef"}, {"dirty", false}}}}
              .dump()
       << "\n";
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(std::log(10000.0), 0.3);
  for (size_t i = 0; i < scale.size(); ++i) {
    auto h = std::make_unique<Histogram>();
    for (int k = 0; k < 20000; ++k) h->record(uint64_t(d(rng) * scale[i]));
    const std::string cell = "syn/c" + std::to_string(i);
    const auto s = h->summary();
    runs << json{{"schema_version", 1}, {"run_id", dir.filename().string()}, {"cell", cell},
                 {"kind", "pingpong"}, {"status", "ok"},
                 {"latency", {{"what", "rtt"}, {"n", s.n}, {"p50", s.p50}, {"p99", s.p99}}}}
                .dump()
         << "\n";
    json b = json::array();
    for (size_t k = 0; k < Histogram::kBuckets; ++k)
      if (h->bucket_count(k)) b.push_back({Histogram::bucket_low(k), h->bucket_count(k)});
    hist << json{{"cell", cell}, {"sub_bits", Histogram::kSubBits}, {"buckets", b}}.dump() << "\n";
  }
  // A cell skipped in this run: listed as not compared, never an error.
  runs << json{{"cell", "syn/skipped"}, {"status", "skipped"}, {"error", "not here"}}.dump() << "\n";
}

// --fail-on never: the verdicts are what these tests look at, not the exit status.
json compare_json(const fs::path& a, const fs::path& b, const std::string& extra = "") {
  const Ran r = run_shell(dvs() + " compare --json --fail-on never " + extra + " " + a.string() + " " + b.string());
  EXPECT_EQ(r.status, 0) << r.out;
  return json::parse(r.out);
}

std::map<std::string, std::string> verdicts(const json& j) {
  std::map<std::string, std::string> m;
  for (const auto& c : j.at("cells")) m[c.at("cell")] = c.at("verdict");
  return m;
}

TEST(DvsCompare, SameDataIsNoChangeEverywhere) {
  TempDir t("dvs-compare-same");
  write_run(t.path() / "a", 1, {1, 1, 1, 1});
  const Ran r = run_shell(dvs() + " compare " + (t.path() / "a").string() + " " +
                          (t.path() / "a").string() + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("syn/c3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 cells compared: 0 faster, 0 slower, 4 no change"), std::string::npos)
      << r.out;
  const json j = compare_json(t.path() / "a", t.path() / "a");
  ASSERT_EQ(j.at("cells").size(), 4u);
  for (const auto& c : j.at("cells")) {
    EXPECT_EQ(c.at("verdict"), "no change") << c;
    EXPECT_DOUBLE_EQ(c.at("p_value").get<double>(), 1.0) << c;
    EXPECT_DOUBLE_EQ(c.at("ratio").get<double>(), 1.0) << c;
    EXPECT_EQ(c.at("test"), "samples");
  }
  ASSERT_EQ(j.at("not_compared").size(), 1u);
  EXPECT_EQ(j.at("not_compared")[0].at("cell"), "syn/skipped");
}

// The exit status tells CI whether a significant regression (or, with --fail-on change, any
// change) was found: 1 then, else 0.
TEST(DvsCompare, ExitStatusFollowsFailOn) {
  TempDir t("dvs-compare-exit");
  write_run(t.path() / "a", 1, {1, 1, 1});
  write_run(t.path() / "slower", 2, {1, 2, 1});   // cell 1: a significant 2x regression
  write_run(t.path() / "faster", 3, {1, 1, 0.5}); // cell 2: significantly faster, nothing slower
  write_run(t.path() / "same", 4, {1, 1, 1});     // other draws, no change
  auto status = [&](const std::string& b, const std::string& flags) {
    const Ran r = run_shell(dvs() + " compare " + flags + " " + (t.path() / "a").string() + " " +
                            (t.path() / b).string() + " 2>&1");
    return std::pair{r.status, r.out};
  };
  auto [st, out] = status("slower", "");
  EXPECT_EQ(st, 1) << out;
  EXPECT_NE(out.find("exit status 1 (--fail-on regression"), std::string::npos) << out;
  EXPECT_EQ(status("slower", "--json").first, 1);
  EXPECT_EQ(status("slower", "--fail-on never").first, 0);
  EXPECT_EQ(status("slower", "--fail-on change").first, 1);
  EXPECT_EQ(status("same", "").first, 0);
  EXPECT_EQ(status("same", "--fail-on change").first, 0);
  EXPECT_EQ(status("faster", "").first, 0);
  EXPECT_EQ(status("faster", "--fail-on change").first, 1);
  EXPECT_EQ(status("slower", "--fail-on sometimes").first, 2);  // not a choice: bad input
}

TEST(DvsCompare, ShiftedCellIsSlowerOthersUnchanged) {
  TempDir t("dvs-compare-shift");
  // B: different draws from the same distributions, except cell 2 (2x slower) and cell 3 (2x
  // faster).
  write_run(t.path() / "a", 1, {1, 1, 1, 1});
  write_run(t.path() / "b", 2, {1, 1, 2, 0.5});
  const json j = compare_json(t.path() / "a", t.path() / "b");
  auto v = verdicts(j);
  EXPECT_EQ(v["syn/c0"], "no change");
  EXPECT_EQ(v["syn/c1"], "no change");
  EXPECT_EQ(v["syn/c2"], "slower");
  EXPECT_EQ(v["syn/c3"], "faster");
  for (const auto& c : j.at("cells"))
    if (c.at("cell") == "syn/c2") {
      EXPECT_NEAR(c.at("ratio").get<double>(), 2.0, 0.05);
      EXPECT_LT(c.at("p_value").get<double>(), 1e-10);
      EXPECT_LE(c.at("median_ci95_b").at("lo").get<double>(), c.at("p50_b").get<double>());
    }
  // A threshold above 100 % turns the 2x shift into "no change".
  v = verdicts(compare_json(t.path() / "a", t.path() / "b", "--threshold 150%"));
  EXPECT_EQ(v["syn/c2"], "no change");
  // The table says the same.
  const Ran r = run_shell(dvs() + " compare " + (t.path() / "a").string() + " " +
                          (t.path() / "b").string());
  ASSERT_EQ(r.status, 1) << "a cell is slower: a regression";
  EXPECT_NE(r.out.find("1 faster, 1 slower, 2 no change"), std::string::npos) << r.out;
}

// Repetitions: >= 5 rows per cell on each side are tested on their medians.
TEST(DvsCompare, RepetitionsAreTestedOnTheirMedians) {
  TempDir t("dvs-compare-reps");
  for (const char* side : {"a", "b"}) {
    fs::create_directories(t.path() / side);
    std::ofstream runs(t.path() / side / "runs.jsonl");
    for (int k = 0; k < 6; ++k) {
      const double p50 = (side[0] == 'a' ? 1000 : 1300) + 10 * k;
      runs << json{{"cell", "rep/x"}, {"status", "ok"},
                   {"latency", {{"what", "rtt"}, {"n", 100}, {"p50", p50}}}}
                  .dump()
           << "\n";
    }
  }
  const json j = compare_json(t.path() / "a", t.path() / "b");
  ASSERT_EQ(j.at("cells").size(), 1u);
  const auto& c = j.at("cells")[0];
  EXPECT_EQ(c.at("test"), "repetitions");
  EXPECT_TRUE(c.at("exact").get<bool>());
  EXPECT_NEAR(c.at("p_value").get<double>(), 2.0 / 924, 1e-12);  // 2 / C(12, 6)
  EXPECT_EQ(c.at("verdict"), "slower");
}

void expect_bad_input(const std::string& args, const std::string& what) {
  const Ran r = run_shell(dvs() + " compare " + args + " 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 2) << args << ": " << r.out;
  EXPECT_NE(r.out.find(what), std::string::npos) << r.out;
  std::string s = r.out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  EXPECT_EQ(s.find('\n'), std::string::npos) << "one line: " << r.out;
}

TEST(DvsCompare, BadInputIsOneLineAndExit2) {
  TempDir t("dvs-compare-bad");
  write_run(t.path() / "a", 1, {1, 1});
  fs::create_directories(t.path() / "empty");
  fs::create_directories(t.path() / "other");
  std::ofstream(t.path() / "other" / "runs.jsonl")
      << json{{"cell", "something/else"}, {"status", "ok"},
              {"latency", {{"what", "rtt"}, {"n", 1}, {"p50", 5}}}}
             .dump()
      << "\n";
  const std::string a = (t.path() / "a").string();
  expect_bad_input(a + " " + (t.path() / "missing").string(), "no such directory");
  expect_bad_input(a + " " + (t.path() / "empty").string(), "no runs.jsonl");
  expect_bad_input(a + " " + (t.path() / "other").string(), "no common cells");
  expect_bad_input(a, "error");  // B missing
  expect_bad_input(a + " " + a + " --threshold banana", "threshold");
}

// Two real quick runs (no remote section) and compare on them: exit 0 and a table with rows.
// Performance is not asserted.
TEST(DvsCompare, TwoQuickRunsEndToEnd) {
  TempDir t("dvs-compare-e2e");
  const char* d = std::getenv("DVSD_BIN");
  const std::string dvsd = d != nullptr && *d != '\0' ? std::string(" --dvsd ") + d : "";
  for (const char* side : {"a", "b"}) {
    const std::string cmd = dvs() + " run --quick --no-remote --cell-budget 5 --out " +
                            (t.path() / side).string() + dvsd + " 2>&1";
    const Ran r = run_shell(cmd);
    ASSERT_EQ(r.status, 0) << cmd << "\n" << r.out;
  }
  auto run_dir = [&](const char* side) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(t.path() / side)) dirs.push_back(e.path());
    EXPECT_EQ(dirs.size(), 1u);
    return dirs.empty() ? fs::path() : dirs[0];
  };
  const fs::path a = run_dir("a"), b = run_dir("b");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());

  // Result files: schema_version everywhere, median CI in ok rows, runs.csv beside runs.jsonl.
  std::ifstream mf(a / "meta.json");
  EXPECT_EQ(json::parse(mf).at("schema_version"), 2);
  std::ifstream rf(a / "runs.jsonl");
  std::string line;
  size_t rows = 0;
  while (std::getline(rf, line)) {
    ++rows;
    const json j = json::parse(line);
    EXPECT_EQ(j.at("schema_version"), 2) << line;
    if (j.at("status") != "ok") continue;
    const auto& lat = j.at("latency");
    EXPECT_TRUE(lat.contains("p99_99")) << line;
    const auto& ci = lat.at("median_ci95");
    EXPECT_LE(ci.at("lo").get<uint64_t>(), lat.at("p50").get<uint64_t>()) << line;
    EXPECT_GE(ci.at("hi").get<uint64_t>(), lat.at("p50").get<uint64_t>()) << line;
  }
  std::ifstream cf(a / "runs.csv");
  ASSERT_TRUE(cf) << "runs.csv";
  std::getline(cf, line);
  EXPECT_EQ(line.rfind("schema_version,run_id,cell,", 0), 0u) << line;
  EXPECT_NE(line.find("p99_99_ns"), std::string::npos);
  EXPECT_NE(line.find("median_ci95_lo_ns"), std::string::npos);
  size_t csv_rows = 0;
  while (std::getline(cf, line)) ++csv_rows;
  EXPECT_EQ(csv_rows, rows);

  // Two quick runs may differ by noise: --fail-on never keeps the verdicts out of the status.
  const Ran r = run_shell(dvs() + " compare --fail-on never " + a.string() + " " + b.string() + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("cells compared"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dvs/sendrec"), std::string::npos) << r.out;
  const Ran rj = run_shell(dvs() + " compare --fail-on never --json " + a.string() + " " + b.string());
  ASSERT_EQ(rj.status, 0) << rj.out;
  const json j = json::parse(rj.out);
  EXPECT_GE(j.at("cells").size(), 6u);
  for (const auto& c : j.at("cells")) {
    const std::string v = c.at("verdict");
    EXPECT_TRUE(v == "faster" || v == "slower" || v == "no change") << c;
  }
}

}  // namespace
