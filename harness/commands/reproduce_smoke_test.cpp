// End-to-end smoke test of `dvs reproduce m3ipc --quick`: it runs, prints every table with the
// published figures, and writes reproduce.md, meta.json (with the tables) and runs.jsonl; section (e)
// has every remote loop on the proxy and the direct path over tcp and shm.
// Not a performance test: only presence, shape and positivity are checked.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

const char* const kTransports[] = {"tcp", "shm"};
const char* const kLoops[] = {"sendrec_reply", "send_receive", "notify_receive"};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The cells of one Markdown table row, trimmed ("| a | b |" -> {"a", "b"}).
std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  size_t at = row.find('|');
  while (at != std::string::npos) {
    const size_t next = row.find('|', at + 1);
    if (next == std::string::npos) break;
    std::string c = row.substr(at + 1, next - at - 1);
    c.erase(0, c.find_first_not_of(' '));
    c.erase(c.find_last_not_of(' ') + 1);
    out.push_back(c);
    at = next;
  }
  return out;
}

// Section (e) has every remote loop on both remote paths per transport, and (f) only the proxy
// path: `remote_path` of each row by cell id (the ids of harness/scenarios/m3ipc.toml, as dvs bench
// names them).
void expect_remote_paths(const std::map<std::string, std::string>& path_of) {
  for (const char* t : kTransports) {
    for (const char* l : kLoops) {
      const std::string proxy = std::string(t) + "/dvs/" + l + "/block/cross-node",
                        direct = std::string(t) + "/dvs-direct/" + l + "/block/cross-node";
      ASSERT_TRUE(path_of.contains(proxy)) << proxy;
      EXPECT_EQ(path_of.at(proxy), "proxy") << proxy;
      ASSERT_TRUE(path_of.contains(direct)) << direct;
      EXPECT_EQ(path_of.at(direct), "direct") << direct;
    }
    const std::string copy = std::string(t) + "/dvs/vcopy/65536/block/cross-node";
    ASSERT_TRUE(path_of.contains(copy)) << copy;
    EXPECT_EQ(path_of.at(copy), "proxy") << copy;
  }
}

// The remote_msg table of reproduce.md: the proxy rows compared with the published figures, the
// direct rows beside them with no published figure but ours normalised to the run's raw transport.
void expect_remote_msg_table(const std::string& md) {
  const auto start = md.find("### (e) Remote message rate");
  ASSERT_NE(start, std::string::npos) << md;
  const std::string e = md.substr(start, md.find("### (f)", start) - start);
  EXPECT_NE(e.find("| **dvs sendrec <-> receive/reply over tcp** (vs M3-IPC over TCP proxy) |"), std::string::npos) << e;
  for (const char* t : kTransports)
    for (const char* l : {"sendrec <-> receive/reply", "send/receive <-> receive/send",
                          "notify/receive <-> receive/notify"}) {
      const std::string label = std::string("| dvs ") + l + " over " + t + ", direct path (no published counterpart";
      const auto at = e.find(label);
      ASSERT_NE(at, std::string::npos) << label << "\n" << e;
      // row | published | ours | published / base | ours / base | ours-norm / published-norm
      const auto c = cells(e.substr(at, e.find('\n', at) - at));
      ASSERT_EQ(c.size(), 6u) << e.substr(at);
      EXPECT_EQ(c[1], "–") << c[0];
      EXPECT_NE(c[2], "–") << c[0];
      EXPECT_EQ(c[3], "–") << c[0];
      EXPECT_NE(c[4], "–") << c[0];
      EXPECT_EQ(c[5], "–") << c[0];
    }
}

TEST(DvsReproduceSmoke, QuickEndToEnd) {
  const fs::path tmp = fs::temp_directory_path() / ("dvs-repro-smoke-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const char* d = std::getenv("DVSD_BIN");
  const std::string cmd = std::string(DVS_CLI_PATH) + " reproduce m3ipc --quick --out " + tmp.string() +
                          (d != nullptr && *d != '\0' ? std::string(" --dvsd ") + d : std::string()) +
                          " 2>&1";
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int st = pclose(f);
  ASSERT_TRUE(WIFEXITED(st)) << out;
  ASSERT_EQ(WEXITSTATUS(st), 0) << cmd << "\n" << out;
  for (const char* want : {"(a) Local message rate", "(b) Concurrent local sendrec pairs",
                           "(c) Local block copy", "(e) Remote message rate", "(f) Remote block copy",
                           "ours-norm / published-norm", "742 k"})
    EXPECT_NE(out.find(want), std::string::npos) << want << "\n" << out;

  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(tmp)) dirs.push_back(e.path());
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_TRUE(fs::exists(dirs[0] / "reproduce.md"));
  std::ifstream mf(dirs[0] / "meta.json");
  ASSERT_TRUE(mf);
  const auto meta = nlohmann::json::parse(mf);
  ASSERT_TRUE(meta.contains("tables"));
  EXPECT_EQ(meta["tables"].size(), 7u);
  expect_remote_msg_table(slurp(dirs[0] / "reproduce.md"));
  std::ifstream rf(dirs[0] / "runs.jsonl");
  std::string line;
  size_t rows = 0, ok = 0;
  std::map<std::string, std::string> path_of;  // cell -> remote_path, rows of (e) and (f)
  while (std::getline(rf, line)) {
    const auto j = nlohmann::json::parse(line);
    ++rows;
    if (j.contains("remote_path")) path_of[j["cell"].get<std::string>()] = j["remote_path"].get<std::string>();
    if (j["status"] == "ok") {
      ++ok;
      EXPECT_TRUE(j.contains("msgs_per_s") || j.contains("mb_per_s")) << line;
    }
  }
  EXPECT_GT(rows, 60u);
  EXPECT_EQ(ok, rows);
  expect_remote_paths(path_of);
  fs::remove_all(tmp);
}

}  // namespace
