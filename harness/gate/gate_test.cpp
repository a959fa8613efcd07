// `dvs gate` end to end (each test records its own baseline in a temporary directory; the
// committed results/baselines/gate-<vendor>.json are not used here):
//   - the same build, gated against itself ten times, passes ten times and counts exactly the same;
//   - a cell made ~10 % slower (--inject CELL=0.1: the test build's "injected delay") is flagged,
//     exit 1, and only that cell; a 1 % slowdown is under the 3 % threshold and passes;
//   - a baseline of another compiler/build type is skipped with "gate skipped: baseline from";
//   - no valgrind: one line, exit 2.
// Skipped in sanitizer builds (valgrind cannot run them) and where valgrind is not installed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/testkit/test_shell.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using dvs::testing::Ran;
using dvs::testing::run_shell;

json read_json(const fs::path& p) {
  std::ifstream f(p);
  return json::parse(f, nullptr, false);
}

// The table line of a cell, "" if none.
std::string line_of(const std::string& out, const std::string& cell) {
  std::stringstream ss(out);
  for (std::string line; std::getline(ss, line);)
    if (line.rfind(cell + " ", 0) == 0) return line;
  return "";
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

class Gate : public ::testing::Test {
 protected:
  fs::path tmp;
  std::string dvs = DVS_CLI_PATH;

  void SetUp() override {
#ifdef DVS_SANITIZED
    GTEST_SKIP() << "sanitizer build: valgrind cannot run it";
#endif
    if (run_shell("valgrind --version >/dev/null 2>&1").status != 0) GTEST_SKIP() << "valgrind not installed";
    tmp = fs::temp_directory_path() /
          ("dvs-gate-test-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(tmp);
    fs::create_directories(tmp);
  }
  void TearDown() override {
    if (!tmp.empty()) fs::remove_all(tmp);
  }
  std::string baseline() const { return (tmp / "gate.json").string(); }
  Ran gate(const std::string& args) { return run_shell(dvs + " gate --baseline " + baseline() + " " + args + " 2>&1"); }
  json record() {
    const Ran r = gate("--update");
    EXPECT_EQ(r.status, 0) << r.out;
    json b = read_json(baseline());
    EXPECT_TRUE(b.is_object() && b.contains("cells")) << r.out;
    return b;
  }
};

TEST_F(Gate, SameBuildPassesTenTimesOutOfTenWithIdenticalCounts) {
  const json base = record();
  ASSERT_GE(base["cells"].size(), 7u);
  for (int i = 0; i < 10; ++i) {
    const std::string out = (tmp / ("run" + std::to_string(i) + ".json")).string();
    const Ran r = gate("--out " + out);
    ASSERT_EQ(r.status, 0) << "run " << i << ":\n" << r.out;
    EXPECT_NE(r.out.find("dvs gate: passed"), std::string::npos) << r.out;
    const json now = read_json(out);
    ASSERT_TRUE(now.is_object()) << r.out;
    for (const auto& [name, cell] : base["cells"].items()) {
      ASSERT_TRUE(now["cells"].contains(name)) << name;
      // Not "within noise": the same instruction count, to the instruction.
      EXPECT_EQ(now["cells"][name]["ir_total"], cell["ir_total"]) << "run " << i << ", cell " << name;
      EXPECT_TRUE(ends_with(line_of(r.out, name), " ok")) << line_of(r.out, name);
    }
  }
}

TEST_F(Gate, CellThatReallyGotSlowerIsFlaggedOthersPass) {
  const json base = record();
  const Ran r = gate("--inject wire_codec=0.1");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(ends_with(line_of(r.out, "wire_codec"), " SLOWER")) << r.out;
  EXPECT_NE(r.out.find("FAILED"), std::string::npos) << r.out;
  for (const auto& [name, cell] : base["cells"].items()) {
    if (name != "wire_codec") {
      EXPECT_TRUE(ends_with(line_of(r.out, name), " ok")) << r.out;
    }
  }
}

TEST_F(Gate, InjectionIntoAnotherCellIsFlaggedThere) {
  record();
  const Ran r = gate("--inject notify_receive=0.1 --cells notify_receive,receive_nowait");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(ends_with(line_of(r.out, "notify_receive"), " SLOWER")) << r.out;
  EXPECT_TRUE(ends_with(line_of(r.out, "receive_nowait"), " ok")) << r.out;
}

TEST_F(Gate, SlowdownBelowThresholdPasses) {
  record();
  const Ran r = gate("--inject receive_nowait=0.01 --cells receive_nowait");  // ~ +2 %, threshold 3 %
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(ends_with(line_of(r.out, "receive_nowait"), " ok")) << r.out;
  // ... and the same change fails a 1 % threshold.
  const Ran strict = gate("--inject receive_nowait=0.01 --cells receive_nowait --threshold 1");
  EXPECT_EQ(strict.status, 1) << strict.out;
}

TEST_F(Gate, BaselineOfAnotherBuildIsSkippedNotFailed) {
  json b = {{"format", "dvs-gate-1"},
            {"build",
             {{"compiler", "Clang 99.0.0"}, {"build_type", "Debug"}, {"cxx_flags", "-g"}, {"sanitize", ""},
              {"glibc", "2.36"}, {"valgrind", "valgrind-3.19.0"}, {"cpu_features", ""}}},
            {"cells", {{"wire_codec", {{"ir_per_iter", 1.0}, {"iterations", 10}, {"ir_total", 15}}}}}};
  std::ofstream(baseline()) << b.dump(2);
  const Ran r = gate("");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("gate skipped: baseline from Clang 99.0.0 Debug", 0), 0u) << r.out;
}

TEST_F(Gate, NoValgrindIsOneLineAndExitTwo) {
  const Ran r = gate("--valgrind /nonexistent/valgrind");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("valgrind not found"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
}

}  // namespace

// A directory holds one baseline per CPU vendor: --update writes this vendor's file, a directory
// without it skips the gate (exit 0) and says how to record one.
TEST_F(Gate, ADirectoryHoldsOneBaselinePerCpuVendor) {
  const fs::path dir = tmp / "baselines";
  fs::create_directories(dir);
  const auto in_dir = [&](const std::string& args) {
    return run_shell(dvs + " gate --baseline " + dir.string() + " " + args + " 2>&1");
  };
  const Ran none = in_dir("--cells wire_codec");
  EXPECT_EQ(none.status, 0) << none.out;
  EXPECT_EQ(none.out.rfind("gate skipped: no baseline for ", 0), 0u) << none.out;
  const Ran rec = in_dir("--update --cells wire_codec");
  ASSERT_EQ(rec.status, 0) << rec.out;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().filename().string());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind("gate-", 0), 0u) << files[0];
  const json b = read_json(dir / files[0]);
  ASSERT_TRUE(b.is_object());
  EXPECT_EQ(files[0], "gate-" + b["build"]["cpu_vendor"].get<std::string>() + ".json");
  const Ran again = in_dir("--cells wire_codec");
  EXPECT_EQ(again.status, 0) << again.out;
  EXPECT_NE(again.out.find("dvs gate: passed"), std::string::npos) << again.out;
}
