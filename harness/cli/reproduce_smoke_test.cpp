// End-to-end smoke test of `dvs reproduce m3ipc --quick`: it runs, prints every table with the
// published figures, and writes reproduce.md, meta.json (with the tables) and runs.jsonl.
// Not a performance test: only presence, shape and positivity are checked.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

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
  std::ifstream rf(dirs[0] / "runs.jsonl");
  std::string line;
  size_t rows = 0, ok = 0;
  while (std::getline(rf, line)) {
    const auto j = nlohmann::json::parse(line);
    ++rows;
    if (j["status"] == "ok") {
      ++ok;
      EXPECT_TRUE(j.contains("msgs_per_s") || j.contains("mb_per_s")) << line;
    }
  }
  EXPECT_GT(rows, 60u);
  EXPECT_EQ(ok, rows);
  fs::remove_all(tmp);
}

}  // namespace
