// --fail-on-criteria end to end: dvs run and dvs web bench with the flag exit 0 when every
// criterion they print is met or could not be judged (here: none could), print their criteria as
// they do without it, and record them in meta.json. Which criteria count as missed, and that a
// missed one makes the status 1: dvs_criteria_test (harness/results). Not a performance test.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/testkit/test_shell.hpp"
#include "core/testkit/test_temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dvs::testing::Ran;
using dvs::testing::run_shell;
using dvs::testing::TempDir;

std::string dvsd_flag() {
  const char* d = std::getenv("DVSD_BIN");
  return d != nullptr && *d != '\0' ? std::string(" --dvsd ") + d : std::string();
}

// meta.json of the one run directory under out.
nlohmann::json only_meta(const fs::path& out) {
  for (const auto& e : fs::directory_iterator(out)) return nlohmann::json::parse(std::ifstream(e.path() / "meta.json"));
  return nullptr;
}

// `dvs ARGS --fail-on-criteria`, its run directory under dir/out.
Ran run_failing_on_criteria(const TempDir& dir, const std::string& args) {
  return run_shell(std::string(DVS_CLI_PATH) + " " + args + " --fail-on-criteria --out " + (dir / "out").string() +
                   dvsd_flag() + " 2>&1");
}

TEST(FailOnCriteria, DvsRunWithOnlyUnjudgedRemoteCriteriaExitsZero) {
  TempDir dir("dvs-criteria-run");
  // One remote row that no criterion reads: the remote criteria are printed, none judged.
  const Ran r = run_failing_on_criteria(dir, "run --quick --remote-only --only remote/dvs/notify_receive/");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("remote criteria"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not measured"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("MISSED"), std::string::npos) << r.out;
  const nlohmann::json meta = only_meta(dir / "out");
  ASSERT_TRUE(meta["remote"]["criteria"].is_array()) << meta.dump(2);
  ASSERT_FALSE(meta["remote"]["criteria"].empty());
  for (const auto& c : meta["remote"]["criteria"]) EXPECT_TRUE(c["met"].is_null()) << c.dump();
}

TEST(FailOnCriteria, DvsWebBenchOnOneNodeHasNoCriterionAndExitsZero) {
  if (run_shell("command -v curl >/dev/null").status != 0) GTEST_SKIP() << "curl not installed (install-deps.sh)";
  TempDir dir("dvs-criteria-web");
  // --large on one node (layout B): no raw TCP stream to compare with, so no criterion.
  const Ran r = run_failing_on_criteria(dir, "web bench --large --large-bytes 2000000 --layout B --repetitions 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("one node: no raw TCP comparison"), std::string::npos) << r.out;
  const nlohmann::json meta = only_meta(dir / "out");
  ASSERT_EQ(meta["summary"].size(), 1u) << meta.dump(2);
  EXPECT_FALSE(meta["summary"][0].contains("criterion")) << meta["summary"].dump();
}

TEST(FailOnCriteria, HelpStatesTheExitStatus) {
  for (const char* sub : {" run --help", " web bench --help"}) {
    const Ran r = run_shell(std::string(DVS_CLI_PATH) + sub + " 2>&1");
    EXPECT_NE(r.out.find("--fail-on-criteria"), std::string::npos) << sub << "\n" << r.out;
    EXPECT_NE(r.out.find("Exit status 1 when a criterion printed in this run is MISSED"), std::string::npos) << r.out;
  }
}

}  // namespace
