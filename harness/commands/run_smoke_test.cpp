// End-to-end smoke test of `dvs run --quick`: it runs, prints the table, writes a run directory
// with meta.json and one runs.jsonl row per cell with positive values. Not a performance test.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/testkit/test_shell.hpp"

namespace {

namespace fs = std::filesystem;

using dvs::testing::Ran;
using dvs::testing::run_shell;

std::string dvsd_flag() {
  const char* d = std::getenv("DVSD_BIN");
  return d != nullptr && *d != '\0' ? std::string(" --dvsd ") + d : std::string();
}

TEST(DvsCliSmoke, RunQuickEndToEnd) {
  const fs::path tmp = fs::temp_directory_path() / ("dvs-smoke-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const std::string cmd = std::string(DVS_CLI_PATH) + " run --quick --cell-budget 5 --out " +
                          tmp.string() + dvsd_flag() + " 2>&1";
  const Ran r = run_shell(cmd);
  ASSERT_EQ(r.status, 0) << cmd << "\n" << r.out;
  EXPECT_NE(r.out.find("primitive / mechanism"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p50 RTT"), std::string::npos);
  EXPECT_NE(r.out.find("msgs/s"), std::string::npos);

  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(tmp)) dirs.push_back(e.path());
  ASSERT_EQ(dirs.size(), 1u) << "one run directory";
  const fs::path run = dirs[0];

  std::ifstream mf(run / "meta.json");
  ASSERT_TRUE(mf) << "meta.json";
  const auto meta = nlohmann::json::parse(mf);
  EXPECT_EQ(meta.at("run_id"), run.filename().string());
  EXPECT_TRUE(meta.contains("cpu_model"));
  EXPECT_TRUE(meta.contains("kernel"));
  EXPECT_GT(meta.at("nproc_online").get<int>(), 0);
  EXPECT_TRUE(meta.at("git").contains("sha"));

  std::ifstream rf(run / "runs.jsonl");
  ASSERT_TRUE(rf) << "runs.jsonl";
  std::string line;
  int ok_rows = 0, dvs_ok = 0, remote_ok = 0, remote_dvs_ok = 0, peer_ok = 0;
  std::set<std::string> prims;
  while (std::getline(rf, line)) {
    const auto j = nlohmann::json::parse(line);
    const std::string status = j.at("status");
    ASSERT_NE(status, "failed") << line;
    if (status != "ok") continue;
    ++ok_rows;
    const auto& lat = j.at("latency");
    EXPECT_GT(lat.at("n").get<uint64_t>(), 0u) << line;
    EXPECT_GT(lat.at("p50").get<uint64_t>(), 0u) << line;
    EXPECT_GE(lat.at("p99").get<uint64_t>(), lat.at("p50").get<uint64_t>()) << line;
    EXPECT_GE(lat.at("max").get<uint64_t>(), lat.at("p99_9").get<uint64_t>()) << line;
    EXPECT_GT(lat.at("mean").get<double>(), 0.0) << line;
    if (j.at("kind") == "pingpong") {
      EXPECT_EQ(lat.at("what"), "rtt");
      EXPECT_GT(j.at("msgs_per_s").get<double>(), 0.0) << line;
    } else {
      EXPECT_GT(j.at("mb_per_s").get<double>(), 0.0) << line;
    }
    EXPECT_FALSE(j.at("wait").get<std::string>().empty());
    EXPECT_FALSE(j.at("placement").get<std::string>().empty());
    if (j.at("mechanism") == "peer") {  // NNG / ZeroMQ, named after the blocking dvs sendrec row
      ++peer_ok;
      EXPECT_EQ(j.at("wait"), "block") << line;
      EXPECT_NE(j.value("note", "").find("blocking"), std::string::npos) << line;
      EXPECT_NE(j.value("baseline", "").find("sendrec_reply/block"), std::string::npos) << line;
      EXPECT_GT(j.value("ratio_to_baseline", 0.0), 0.0) << line;
    }
    if (j.contains("section") && j.at("section") == "remote") {  // two dvsd nodes over tcp
      ++remote_ok;
      EXPECT_EQ(j.at("transport"), "tcp") << line;
      EXPECT_TRUE(j.contains("nodes")) << line;
      if (j.at("mechanism") == "dvs") {
        ++remote_dvs_ok;
        EXPECT_EQ(j.at("nodes").at("client"), 0) << line;
        EXPECT_EQ(j.at("nodes").at("server"), 1) << line;
      }
      continue;
    }
    if (j.at("mechanism") == "dvs") {
      ++dvs_ok;
      prims.insert(j.at("cell").get<std::string>().substr(4, j.at("cell").get<std::string>().rfind('/') - 4));
    }
  }
  EXPECT_GE(ok_rows, 6);
  EXPECT_EQ(prims.size(), 5u) << "every dvs primitive measured";
  EXPECT_GE(dvs_ok, 10);
  EXPECT_GE(remote_ok, 2) << "the remote section (raw TCP + dvs across two nodes) ran";
  EXPECT_GE(remote_dvs_ok, 1);
  EXPECT_EQ(peer_ok, 6) << "NNG and ZeroMQ over ipc:// and tcp:// locally, over tcp:// between the nodes";
  EXPECT_NE(r.out.find("remote (2 nodes of the embedded cluster"), std::string::npos) << r.out;
  ASSERT_TRUE(meta.contains("remote")) << "meta.json describes the two nodes";
  // Network namespaces when this machine allows them (root with iproute2), loopback otherwise.
  const bool netns = meta["remote"].value("netns", false);
  EXPECT_NE(r.out.find(netns ? "between two network namespaces" : "(loopback)"), std::string::npos) << r.out;
  fs::remove_all(tmp);
}

// --only that matches no cell is an error before anything runs: exit 2 and one line naming the
// id prefixes that exist (no run directory).
TEST(DvsCliSmoke, OnlyMatchingNothingIsExit2) {
  const fs::path tmp = fs::temp_directory_path() / ("dvs-only-nope-" + std::to_string(getpid()));
  const Ran r = run_shell(std::string(DVS_CLI_PATH) + " run --quick --only nope --out " + tmp.string() +
                          " 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 2) << r.out;
  std::string t = r.out;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  EXPECT_EQ(t.find('\n'), std::string::npos) << "one line: " << r.out;
  EXPECT_NE(t.find("\"nope\" matches no cell"), std::string::npos) << r.out;
  EXPECT_NE(t.find("dvs/sendrec_reply"), std::string::npos) << r.out;
  EXPECT_NE(t.find("remote/"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp) && !fs::is_empty(tmp)) << "no run directory for a run that cannot run";
  fs::remove_all(tmp);
}

TEST(DvsCliSmoke, BadFlagIsOneLineAndExit2) {
  const Ran r = run_shell(std::string(DVS_CLI_PATH) + " run --no-such-flag 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("error"), std::string::npos) << r.out;
  std::string t = r.out;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  EXPECT_EQ(t.find('\n'), std::string::npos) << "one line: " << r.out;

  const Ran r2 = run_shell(std::string(DVS_CLI_PATH) + " run --placement diagonal 2>&1 >/dev/null");
  EXPECT_EQ(r2.status, 2) << r2.out;
  const Ran r3 = run_shell(std::string(DVS_CLI_PATH) + " 2>&1 >/dev/null");
  EXPECT_EQ(r3.status, 2) << r3.out;
}

}  // namespace
