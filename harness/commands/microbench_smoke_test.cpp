// End-to-end smoke test of `dvs microbench --quick`: every built microbenchmark binary runs, its
// Google Benchmark JSON is kept in the run directory beside meta.json, and each JSON holds
// benchmarks with positive times (copies with a byte rate). A binary that fails makes the
// command exit 1. Not a performance test.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

int run_shell(const std::string& cmd, std::string* out) {
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
  const int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string fresh_dir() {
  const std::string d = "/tmp/dvs-microbench-test-" + std::to_string(getpid());
  fs::remove_all(d);
  return d;
}

TEST(MicrobenchCommand, QuickRunKeepsEveryBinarysJson) {
  const std::string out_dir = fresh_dir();
  std::string out;
  ASSERT_EQ(0, run_shell(std::string(DVS_CLI_PATH) + " microbench --quick --out " + out_dir + " 2>&1", &out)) << out;
  ASSERT_EQ(1, std::distance(fs::directory_iterator(out_dir), fs::directory_iterator{})) << out;
  const fs::path run = fs::directory_iterator(out_dir)->path();
  std::ifstream mf(run / "meta.json");
  auto meta = nlohmann::json::parse(mf, nullptr, false);
  ASSERT_FALSE(meta.is_discarded());
  EXPECT_EQ("microbench", meta["kind"]);
  ASSERT_EQ(4u, meta["binaries"].size()) << meta.dump(2);
  bool saw_copy_rate = false;
  for (const auto& b : meta["binaries"]) {
    ASSERT_TRUE(b["ok"].get<bool>()) << b.dump();
    std::ifstream jf(run / b["json"].get<std::string>());
    auto j = nlohmann::json::parse(jf, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << b.dump();
    ASSERT_TRUE(j.contains("context") && j.contains("benchmarks")) << b.dump();
    ASSERT_FALSE(j["benchmarks"].empty()) << b.dump();
    for (const auto& x : j["benchmarks"]) {
      EXPECT_GT(x["real_time"].get<double>(), 0.0) << x.dump();
      if (x["name"].get<std::string>().rfind("BM_ProcessVmReadv", 0) == 0)
        saw_copy_rate = saw_copy_rate || x.value("bytes_per_second", 0.0) > 0;
    }
  }
  EXPECT_TRUE(saw_copy_rate) << "no process_vm_readv rate in the copy benchmark's JSON";
  EXPECT_NE(std::string::npos, out.find("BM_Memcpy")) << out;
  fs::remove_all(out_dir);
}

TEST(MicrobenchCommand, AFailingBinaryFailsTheRun) {
  const std::string out_dir = fresh_dir();
  std::string out;
  EXPECT_EQ(1, run_shell(std::string(DVS_CLI_PATH) + " microbench --quick --bin /bin/false --out " + out_dir + " 2>&1", &out))
      << out;
  EXPECT_NE(std::string::npos, out.find("false failed")) << out;
  fs::remove_all(out_dir);
}

}  // namespace
