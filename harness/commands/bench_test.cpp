// `dvs bench` and `dvs run --repeat` end to end, as real processes (not performance tests):
// quick.toml --quick and its result files; invalid scenarios (one line, exit 2, nothing
// written); the shipped scenarios' --dry-run; repetitions that `dvs compare` tests as such;
// Ctrl-C on a running bench, sent to the process alone and to its whole process group (as a
// terminal does): the loop in progress completes, the rows so far are written, no child is left.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/testkit/test_temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kDvs = DVS_CLI_PATH;
std::string scenario(const std::string& name) { return std::string(DVS_SCENARIOS_DIR) + "/" + name; }

using dvs::testing::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void sleep_ms(int ms) {
  const timespec ts{ms / 1000, long(ms % 1000) * 1'000'000};
  nanosleep(&ts, nullptr);
}

// fork + exec argv with stdout/stderr to files; own_group: the child leads a new process group.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err,
            bool own_group = false) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  if (own_group) setpgid(0, 0);
  const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(o, STDOUT_FILENO);
  dup2(e, STDERR_FILENO);
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  execv(a[0], a.data());
  _exit(127);
}

struct Ran {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
};

Ran run(const std::vector<std::string>& argv, const TempDir& tmp) {
  const pid_t pid = spawn(argv, tmp / "stdout", tmp / "stderr");
  int st = 0;
  waitpid(pid, &st, 0);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(tmp / "stdout"), slurp(tmp / "stderr")};
}

std::vector<std::string> dvs(std::vector<std::string> args) {
  args.insert(args.begin(), kDvs);
  if (const char* d = std::getenv("DVSD_BIN"); d != nullptr && *d != '\0') {
    args.push_back("--dvsd");
    args.push_back(d);
  }
  return args;
}

// Complete lines of a JSONL file, parsed.
std::vector<json> jsonl(const fs::path& p) {
  std::vector<json> rows;
  std::istringstream in(slurp(p));
  std::string line;
  while (std::getline(in, line))
    if (!in.eof()) rows.push_back(json::parse(line));  // the last piece may be a line being written
  return rows;
}

size_t complete_lines(const fs::path& p) {
  const std::string s = slurp(p);
  return size_t(std::count(s.begin(), s.end(), '\n'));
}

// The one run directory under `out`.
fs::path run_dir(const fs::path& out) {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(out)) dirs.push_back(e.path());
  EXPECT_EQ(dirs.size(), 1u) << out;
  return dirs.empty() ? fs::path() : dirs[0];
}

// Processes whose parent is this one (orphans land here: we are a child subreaper).
std::vector<int> children_of_me() {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = slurp(e.path() / "stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == getpid() && state != 'Z') out.push_back(std::stoi(name));
  }
  return out;
}

json compare_json(const fs::path& a, const fs::path& b, const TempDir& tmp) {
  const Ran r = run({kDvs, "compare", a.string(), b.string(), "--json"}, tmp);
  EXPECT_EQ(r.status, 0) << r.err;
  return r.status == 0 ? json::parse(r.out) : json();
}

TEST(DvsBench, QuickScenarioEndToEnd) {
  TempDir tmp("dvs-bench-quick");
  const Ran r = run(dvs({"bench", scenario("quick.toml"), "--quick", "--out", (tmp / "out").string()}), tmp);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("dvs bench \"quick\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vs baseline"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("rep 2/2"), std::string::npos) << "progress lines: " << r.err;
  const fs::path dir = run_dir(tmp / "out");

  const json meta = json::parse(slurp(dir / "meta.json"));
  EXPECT_EQ(meta.at("schema_version"), 2);
  EXPECT_TRUE(meta.contains("schema_minor"));
  EXPECT_EQ(meta.at("run_id"), dir.filename().string());
  EXPECT_EQ(meta.at("scenario").at("name"), "quick");
  EXPECT_EQ(meta.at("interrupted"), false);
  EXPECT_EQ(meta.at("finished"), true);
  EXPECT_EQ(meta.at("loops_run"), meta.at("loops_planned"));
  EXPECT_TRUE(meta.contains("cpu_model") && meta.contains("git"));
  EXPECT_TRUE(fs::exists(dir / "scenario.toml"));

  const auto rows = jsonl(dir / "runs.jsonl");
  ASSERT_EQ(rows.size(), meta.at("loops_run").get<size_t>());
  std::map<std::string, std::vector<int>> reps;  // cell -> reps in file order
  std::map<std::pair<std::string, int>, const json*> by_cell_rep;
  std::set<std::string> transports;
  std::set<uint64_t> vcopy_sizes;
  int last_rep = 1, ok = 0;
  for (const auto& row : rows) {
    const std::string cell = row.at("cell");
    ASSERT_EQ(row.at("status"), "ok") << row.dump();
    ++ok;
    const int rep = row.at("rep");
    EXPECT_EQ(row.at("repetitions"), 2) << cell;
    EXPECT_GE(rep, last_rep) << "interleaved by repetition: " << cell;
    last_rep = rep;
    reps[cell].push_back(rep);
    by_cell_rep[{cell, rep}] = &row;
    EXPECT_EQ(row.at("scenario"), "quick");
    EXPECT_GT(row.at("latency").at("n").get<uint64_t>(), 0u) << cell;
    if (row.at("mechanism") != "dvs") continue;
    transports.insert(row.at("transport").get<std::string>());
    if (row.at("transport") == "shm") {
      // Across nodes over shm no raw mechanism crosses the same link: no baseline, no ratio, why.
      EXPECT_FALSE(row.contains("baseline")) << cell;
      EXPECT_FALSE(row.contains("ratio_to_baseline")) << cell;
      EXPECT_NE(row.value("ratio_note", ""), "") << cell;
    } else {
      // Every other dvs row: a baseline measured earlier in the same repetition, and a ratio to it.
      ASSERT_TRUE(row.contains("baseline")) << cell;
      EXPECT_TRUE(by_cell_rep.count({row.at("baseline").get<std::string>(), rep})) << cell;
      EXPECT_GT(row.value("ratio_to_baseline", 0.0), 0) << cell;
      EXPECT_EQ(row.at("ratio_basis"), row.at("kind") == "copy" ? "mb_per_s" : "p50") << cell;
    }
    if (row.at("primitive") == "vcopy") {
      EXPECT_EQ(row.at("payload_verified"), true);
      EXPECT_EQ(row.at("bytes_per_op"), row.at("size_bytes"));
      if (row.at("transport") == "local") vcopy_sizes.insert(row.at("size_bytes").get<uint64_t>());
    }
  }
  for (const auto& [cell, v] : reps) EXPECT_EQ(v, (std::vector<int>{1, 2})) << cell;
  EXPECT_EQ(transports, (std::set<std::string>{"local", "tcp", "shm"}));
  EXPECT_EQ(vcopy_sizes, (std::set<uint64_t>{4095, 4096, 4097}));

  const std::string csv = slurp(dir / "runs.csv");
  EXPECT_EQ(size_t(std::count(csv.begin(), csv.end(), '\n')), rows.size() + 1);
  EXPECT_NE(csv.substr(0, csv.find('\n')).find(",rep,repetitions,matrix,primitive"), std::string::npos);
  const auto hists = jsonl(dir / "histograms.jsonl");
  EXPECT_EQ(hists.size(), size_t(ok));
  for (const auto& h : hists) EXPECT_TRUE(h.contains("rep") && !h.at("buckets").empty());

  // dvs compare reads it: one row per repetition under one cell id (2 < 5: the sample test).
  const json cmp = compare_json(dir, dir, tmp);
  ASSERT_FALSE(cmp.at("cells").empty());
  for (const auto& c : cmp.at("cells")) {
    EXPECT_EQ(c.at("repetitions_a"), 2) << c.dump();
    EXPECT_EQ(c.at("verdict"), "no change") << c.dump();
  }
}

TEST(DvsBench, InvalidScenarioIsOneLineExit2AndWritesNothing) {
  TempDir tmp("dvs-bench-bad");
  std::ofstream(tmp / "bad.toml") << "[scenario]\nname = \"bad\"\n\n[[matrix]]\nprimitives = [\"sendrec\"]\n"
                                     "waits = [\"block\"]\nwiats = [\"spin\"]\n";
  const Ran r = run(dvs({"bench", (tmp / "bad.toml").string(), "--out", (tmp / "out").string()}), tmp);
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_EQ(r.err, "dvs bench: error: " + (tmp / "bad.toml").string() +
                       ":7: [[matrix]] #1: unknown key 'wiats' (known here: name, transports, primitives, "
                       "waits, placements, sizes, perturb, extra_baselines, remote_paths, link_security, pairs, dvsd_batch, repetitions, warmup, spin_ns, "
                       "cell_budget_s, samples, block_samples, copy_samples, remote_samples, "
                       "remote_copy_samples, remote_pair_samples, duration_s, cross_node_pinning)\n");
  EXPECT_FALSE(fs::exists(tmp / "out")) << "nothing written for a bad scenario";

  std::ofstream(tmp / "syntax.toml") << "[scenario]\nname = \"bad\"\n[[matrix]]\nwaits = [\"block\"\n";
  const Ran s = run(dvs({"bench", (tmp / "syntax.toml").string(), "--dry-run"}), tmp);
  EXPECT_EQ(s.status, 2);
  EXPECT_NE(s.err.find("syntax.toml:4: not valid TOML"), std::string::npos) << s.err;

  const Ran m = run(dvs({"bench", (tmp / "missing.toml").string()}), tmp);
  EXPECT_EQ(m.status, 2);
  EXPECT_NE(m.err.find("cannot open"), std::string::npos) << m.err;
  const Ran u = run({kDvs, "bench"}, tmp);
  EXPECT_EQ(u.status, 2) << "SCENARIO is required";
}

TEST(DvsBench, ShippedScenariosDryRun) {
  TempDir tmp("dvs-bench-dry");
  for (const char* f : {"default.toml", "local-sweep.toml", "remote.toml", "quick.toml", "rdma.toml", "tipc.toml", "m3ipc.toml"}) {
    const Ran r = run(dvs({"bench", scenario(f), "--dry-run", "--out", (tmp / "out").string()}), tmp);
    EXPECT_EQ(r.status, 0) << f << "\n" << r.err;
    EXPECT_NE(r.out.find(" cells ("), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/dvs/sendrec_reply/"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(fs::exists(tmp / "out")) << "--dry-run writes nothing";
}

// Five repetitions: dvs compare tests the per-repetition medians (bench and dvs run --repeat).
TEST(DvsBench, RepetitionsFeedCompare) {
  TempDir tmp("dvs-bench-reps");
  std::ofstream(tmp / "five.toml") << "[scenario]\nname = \"five\"\n[defaults]\nrepetitions = 5\n"
                                      "block_samples = 50\n[[matrix]]\nprimitives = [\"sendrec\"]\n"
                                      "waits = [\"block\"]\n";
  const Ran b = run(dvs({"bench", (tmp / "five.toml").string(), "--out", (tmp / "bench").string()}), tmp);
  ASSERT_EQ(b.status, 0) << b.out << b.err;
  const Ran r = run(dvs({"run", "--quick", "--no-remote", "--wait", "block", "--only",
                         "baseline/pipe/block,dvs/sendrec_reply/block", "--block-iterations", "50",
                         "--repeat", "5", "--out", (tmp / "run").string()}),
                    tmp);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("median repetition"), std::string::npos) << r.out;
  for (const fs::path& dir : {run_dir(tmp / "bench"), run_dir(tmp / "run")}) {
    const auto rows = jsonl(dir / "runs.jsonl");
    ASSERT_EQ(rows.size(), 10u) << dir;
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].at("rep"), int(i / 2) + 1) << "rep-major order: " << rows[i].dump();
      EXPECT_EQ(rows[i].at("repetitions"), 5);
    }
    const json cmp = compare_json(dir, dir, tmp);
    ASSERT_EQ(cmp.at("cells").size(), 2u) << cmp.dump();
    for (const auto& c : cmp.at("cells")) {
      EXPECT_EQ(c.at("test"), "repetitions") << c.dump();
      EXPECT_EQ(c.at("repetitions_a"), 5);
    }
  }
  EXPECT_EQ(json::parse(slurp(run_dir(tmp / "run") / "meta.json")).at("repetitions"), 5);
}

// Ctrl-C: to the process alone (kill PID) or to its process group (a terminal's ^C reaches the
// measuring children and dvsd too). Either way the loop in progress completes, the run stops,
// exits 130, and its files hold every loop measured.
void interrupt_test(bool whole_group) {
  TempDir tmp(whole_group ? "dvs-bench-int-group" : "dvs-bench-int");
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::ofstream(tmp / "long.toml")
      << "[scenario]\nname = \"long\"\n[defaults]\nrepetitions = 4\nduration_s = 0.3\n"
         "[[matrix]]\nprimitives = [\"sendrec\", \"notify\"]\nwaits = [\"block\", \"spin-then-block\"]\n";
  const fs::path out = tmp / "out";
  const pid_t pid = spawn(dvs({"bench", (tmp / "long.toml").string(), "--out", out.string()}),
                          tmp / "stdout", tmp / "stderr", whole_group);
  ASSERT_GT(pid, 0);
  // Wait for two rows and the third loop's progress line, then interrupt that loop (0.3 s long).
  fs::path runs;
  for (int i = 0; i < 3000; ++i) {  // up to 60 s: a loaded 2-vCPU machine starts slowly
    sleep_ms(20);
    if (runs.empty() && fs::exists(out) && !fs::is_empty(out)) runs = run_dir(out) / "runs.jsonl";
    if (!runs.empty() && complete_lines(runs) >= 2 && slurp(tmp / "stderr").find("[ 3/") != std::string::npos)
      break;
  }
  ASSERT_FALSE(runs.empty());
  ASSERT_GE(complete_lines(runs), 2u) << slurp(tmp / "stderr");
  sleep_ms(50);
  ASSERT_EQ(kill(whole_group ? -pid : pid, SIGINT), 0) << strerror(errno);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  const std::string err = slurp(tmp / "stderr");
  ASSERT_TRUE(WIFEXITED(st)) << "killed by signal " << WTERMSIG(st) << "\n" << err;
  EXPECT_EQ(WEXITSTATUS(st), 130) << err;
  EXPECT_NE(err.find("interrupt: stopping after the loop in progress"), std::string::npos) << err;
  EXPECT_NE(slurp(tmp / "stdout").find("INTERRUPTED"), std::string::npos);

  const fs::path dir = run_dir(out);
  const json meta = json::parse(slurp(dir / "meta.json"));
  EXPECT_EQ(meta.at("interrupted"), true);
  EXPECT_EQ(meta.at("finished"), true);
  const auto rows = jsonl(dir / "runs.jsonl");
  EXPECT_EQ(complete_lines(dir / "runs.jsonl"), rows.size()) << "no partial line";
  EXPECT_GE(rows.size(), 3u) << "the loop in progress at ^C completed and was written";
  EXPECT_LT(rows.size(), meta.at("loops_planned").get<size_t>());
  EXPECT_EQ(meta.at("loops_run").get<size_t>(), rows.size());
  for (const auto& row : rows) EXPECT_EQ(row.at("status"), "ok") << row.dump();
  EXPECT_EQ(jsonl(dir / "histograms.jsonl").size(), rows.size());

  // No process left behind: dvsd stopped, measuring children gone (orphans would be ours).
  std::vector<int> left;
  for (int i = 0; i < 50; ++i) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    left = children_of_me();
    if (left.empty()) break;
    sleep_ms(100);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " processes left, e.g. pid " << (left.empty() ? 0 : left[0]);
}

TEST(DvsBench, InterruptKeepsMeasuredRows) { interrupt_test(false); }
TEST(DvsBench, InterruptFromTerminalLetsTheLoopFinish) { interrupt_test(true); }

}  // namespace
