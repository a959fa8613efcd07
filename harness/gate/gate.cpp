#include "harness/gate/gate.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "workloads/measure/nonparametric.hpp"

namespace dvs::gate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "dvs-gate-1";
constexpr int kCellTimeoutMs = 300'000;

// ---------- processes ----------

struct Proc {
  pid_t pid = -1;
  std::string log;  // stdout + stderr
};

// Starts argv with stdin /dev/null, stdout+stderr to log, and a fixed small environment (PATH,
// LC_ALL=C, VALGRIND_LIB if set): nothing of the caller's shell reaches the measured process.
Proc spawn(const std::vector<std::string>& argv, const std::string& log) {
  Proc p;
  p.log = log;
  std::vector<char*> av;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C"};
  if (const char* vl = std::getenv("VALGRIND_LIB")) env.push_back(std::string("VALGRIND_LIB=") + vl);
  std::vector<char*> ev;
  for (auto& e : env) ev.push_back(e.data());
  ev.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawnp(&pid, av[0], &fa, nullptr, av.data(), ev.data()) == 0) p.pid = pid;
  posix_spawn_file_actions_destroy(&fa);
  return p;
}

// Exit code, or -1 (killed, timed out, not started).
int wait_for(const Proc& p, int timeout_ms) {
  if (p.pid < 0) return -1;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int st = 0;
    pid_t r = waitpid(p.pid, &st, WNOHANG);
    if (r == p.pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() > end) {
      kill(p.pid, SIGKILL);
      waitpid(p.pid, &st, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  const size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// Runs argv to completion; its output (stdout + stderr) in *out. Exit code or -1.
int run_capture(const std::vector<std::string>& argv, const std::string& dir, std::string* out) {
  static int seq = 0;
  const std::string log = fmt::format("{}/cmd{}.log", dir, seq++);
  const int rc = wait_for(spawn(argv, log), 30'000);
  *out = slurp(log);
  return rc;
}

std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(ss, d, ':');) {
    if (d.empty()) continue;
    const std::string p = d + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// ---------- what the counts depend on ----------

// CPU features glibc's ifuncs (memcpy, strlen, ...) and the wire codec's CRC32C dispatch on.
std::string cpu_features() {
  static const char* kWanted[] = {"sse4_2", "avx", "avx2", "bmi2", "erms", "fsrm", "avx512f", "avx512vl"};
  std::ifstream f("/proc/cpuinfo");
  std::set<std::string> have;
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::stringstream ss(line.substr(line.find(':') + 1));
    for (std::string w; ss >> w;) have.insert(w);
    break;
  }
  std::string s;
  for (const char* w : kWanted)
    if (have.count(w)) s += (s.empty() ? "" : " ") + std::string(w);
  return s;
}

// The CPU vendor (vendor_id: GenuineIntel, AuthenticAMD): glibc picks its string and memory
// routines by vendor preferences as well as by features, and the vDSO clock differs with the
// hypervisor's clock source, so counts of one build differ by a few per cent between vendors
// (measured: 2 to 3 %, as much as the threshold).
std::string cpu_vendor() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("vendor_id", 0) == 0) {
      std::string v = line.substr(line.find(':') + 1);
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      return v;
    }
  return "unknown";
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) {
      std::string v = line.substr(line.find(':') + 1);
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      return v;
    }
  return "unknown";
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string git_describe() {
  std::string out;
  char tmpl[] = "/tmp/dvs-gate-git-XXXXXX";
  if (!mkdtemp(tmpl)) return "nogit";
  const std::string dir = tmpl;
  std::string sha = "nogit";
  if (run_capture({"git", "-C", DVS_GATE_SOURCE_DIR, "rev-parse", "--short=10", "HEAD"}, dir, &out) == 0)
    sha = last_line(out);
  if (sha != "nogit" &&
      run_capture({"git", "-C", DVS_GATE_SOURCE_DIR, "status", "--porcelain", "--untracked-files=no"}, dir,
                  &out) == 0 &&
      !out.empty())
    sha += "-dirty";
  fs::remove_all(dir);
  return sha;
}

std::string describe_build(const json& b) {
  std::string s;
  for (const auto& k : comparable_keys()) {
    std::string v = b.contains(k) && b[k].is_string() ? b[k].get<std::string>() : "?";
    if (k == "sanitize" && v.empty()) continue;
    if (k == "cxx_flags" || k == "cpu_features") v = "'" + v + "'";
    if (k == "sanitize") v = "sanitize=" + v;
    if (k == "glibc") v = "glibc " + v;
    if (k == "cpu_features") v = "cpu " + v;
    if (k == "cpu_vendor") v = "vendor " + v;
    s += (s.empty() ? "" : " ") + v;
  }
  return s;
}

std::string self_dir() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

struct CellDef {
  std::string name;
  unsigned long long iterations = 0;
};

struct Measured {
  std::vector<long long> totals;  // one per repeat
  double ir_per_iter = 0;         // median total / iterations - loop cost
  double spread_pct = 0;
  unsigned long long iterations = 0;
};

std::string fmt_ir(double v) { return fmt::format("{:.1f}", v); }

}  // namespace

const std::vector<std::string>& comparable_keys() {
  static const std::vector<std::string> k = {"compiler", "build_type",   "cxx_flags", "sanitize",
                                             "glibc",    "valgrind",     "cpu_features", "cpu_vendor"};
  return k;
}

std::string incomparable_reason(const json& base, const json& now) {
  if (!base.is_object()) return "an unknown build";
  std::string diff;
  for (const auto& k : comparable_keys()) {
    const json a = base.contains(k) ? base[k] : json();
    const json b = now.contains(k) ? now[k] : json();
    if (a != b) diff += fmt::format("{}{} {} here", diff.empty() ? "" : ", ", k, b.dump());
  }
  return diff.empty() ? "" : describe_build(base) + " (" + diff + ")";
}

Verdict judge(double base_ir, bool has_base, double now_ir, double spread_pct, double threshold_pct) {
  Verdict v;
  if (spread_pct >= threshold_pct / 2) {
    v.word = "NOISY";
    v.fails = true;
  }
  if (!has_base) {
    if (!v.fails) v.word = "new";
    return v;
  }
  v.change_pct = base_ir > 0 ? (now_ir / base_ir - 1) * 100 : (now_ir > 0 ? 100.0 : 0.0);
  if (v.fails) return v;
  if (v.change_pct > threshold_pct) {
    v.word = "SLOWER";
    v.fails = true;
  } else if (v.change_pct < -threshold_pct) {
    v.word = "faster";
  } else {
    v.word = "ok";
  }
  return v;
}

long long callgrind_total(const std::string& text) {
  long long summary = -1, totals = -1;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("summary:", 0) == 0) summary = std::strtoll(line.c_str() + 8, nullptr, 10);
    if (line.rfind("totals:", 0) == 0) totals = std::strtoll(line.c_str() + 7, nullptr, 10);
  }
  return summary >= 0 ? summary : totals;
}

int run_gate(const GateOptions& o) {
  // A directory holds one baseline per CPU vendor (gate-<vendor>.json).
  const std::string given = o.baseline.empty() ? std::string(DVS_GATE_SOURCE_DIR) + "/results/baselines" : o.baseline;
  const bool per_vendor = fs::is_directory(given) || fs::path(given).extension() != ".json";
  const std::string baseline = per_vendor ? (fs::path(given) / ("gate-" + cpu_vendor() + ".json")).string() : given;
  if (!(o.threshold_pct > 0) || o.repeat < 1 || o.jobs < 1) {
    fmt::print(stderr, "dvs gate: --threshold, --repeat and --jobs must be positive\n");
    return 2;
  }
  const std::string valgrind = find_in_path(o.valgrind.empty() ? "valgrind" : o.valgrind);
  if (valgrind.empty()) {
    fmt::print(stderr, "dvs gate: valgrind not found (apt-get install valgrind, or make deps)\n");
    return 2;
  }
  std::string work = o.work;
  if (work.empty()) {
    const char* env = std::getenv("DVS_GATE_WORK");
    work = env && *env ? env : self_dir() + "/dvs_gate_work";
  }
  if (access(work.c_str(), X_OK) != 0) {
    fmt::print(stderr, "dvs gate: no gate workload at {} (build target dvs_gate_work, or --work)\n", work);
    return 2;
  }

  char tmpl[] = "/tmp/dvs-gate-XXXXXX";
  if (!mkdtemp(tmpl)) {
    fmt::print(stderr, "dvs gate: mkdtemp: {}\n", std::strerror(errno));
    return 2;
  }
  const std::string dir = tmpl;
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};

  // What this build is.
  std::string out;
  json build;
  if (run_capture({work, "--build-info"}, dir, &out) != 0 || !(build = json::parse(out, nullptr, false)).is_object()) {
    fmt::print(stderr, "dvs gate: {} --build-info failed: {}\n", work, last_line(out));
    return 2;
  }
  if (run_capture({valgrind, "--version"}, dir, &out) != 0) {
    fmt::print(stderr, "dvs gate: {} --version failed: {}\n", valgrind, last_line(out));
    return 2;
  }
  build["valgrind"] = last_line(out);
  build["cpu_features"] = cpu_features();
  build["cpu_vendor"] = cpu_vendor();
  if (!build.value("sanitize", std::string()).empty()) {
    fmt::print("gate skipped: sanitizer build ({}); valgrind cannot run it\n", build.value("sanitize", ""));
    return o.update ? 2 : 0;
  }

  // The cells.
  if (run_capture({work, "--list"}, dir, &out) != 0) {
    fmt::print(stderr, "dvs gate: {} --list failed: {}\n", work, last_line(out));
    return 2;
  }
  std::vector<CellDef> all;
  {
    std::stringstream ss(out);
    for (std::string line; std::getline(ss, line);) {
      std::stringstream ls(line);
      CellDef c;
      if (ls >> c.name >> c.iterations) all.push_back(c);
    }
  }
  for (const auto& want : o.cells)
    if (std::none_of(all.begin(), all.end(), [&](const CellDef& c) { return c.name == want; })) {
      fmt::print(stderr, "dvs gate: no cell '{}' (dvs_gate_work --list)\n", want);
      return 2;
    }

  // The baseline.
  json base;
  if (!o.update) {
    std::ifstream f(baseline);
    if (!f && per_vendor) {
      fmt::print("gate skipped: no baseline for {} CPUs: {} does not exist (record it on such a machine with "
                 "dvs gate --update and commit it: harness/README.md, dvs gate)\n",
                 cpu_vendor(), baseline);
      return 0;
    }
    if (!f) {
      fmt::print(stderr, "dvs gate: no baseline at {} (record one with dvs gate --update)\n", baseline);
      return 2;
    }
    base = json::parse(f, nullptr, false);
    if (!base.is_object() || base.value("format", "") != kFormat || !base.contains("cells")) {
      fmt::print(stderr, "dvs gate: {} is not a {} baseline\n", baseline, kFormat);
      return 2;
    }
    if (std::string why = incomparable_reason(base.value("build", json()), build); !why.empty()) {
      fmt::print("gate skipped: baseline from {}: instruction counts compare only within one build "
                 "(refresh {}: harness/README.md, dvs gate)\n", why, baseline);
      return 0;
    }
  }

  std::vector<CellDef> run;  // "empty" first: the loop cost subtracted from the others
  for (const auto& c : all)
    if (c.name == "empty" || o.cells.empty() ||
        std::find(o.cells.begin(), o.cells.end(), c.name) != o.cells.end()) {
      CellDef d = c;
      if (!o.update && base["cells"].contains(c.name) && base["cells"][c.name].contains("iterations"))
        d.iterations = base["cells"][c.name]["iterations"].get<unsigned long long>();  // like for like
      run.push_back(d);
    }
  if (run.empty() || run.front().name != "empty") {
    fmt::print(stderr, "dvs gate: {} has no 'empty' cell\n", work);
    return 2;
  }

  // Every (cell, repeat) is one callgrind run; o.jobs at a time (counts do not care).
  struct Job {
    size_t cell;
    int rep;
    Proc proc;
    std::string cg_out;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < run.size(); ++i)
    for (int r = 0; r < o.repeat; ++r) jobs.push_back({i, r, {}, fmt::format("{}/{}.{}.cg", dir, run[i].name, r)});
  std::map<std::string, Measured> measured;
  for (auto& c : run) measured[c.name].iterations = c.iterations;
  size_t next = 0, done = 0;
  std::vector<Job*> running;
  bool failed = false;
  while (done < jobs.size() && !failed) {
    while (running.size() < size_t(o.jobs) && next < jobs.size()) {
      Job& j = jobs[next++];
      std::vector<std::string> argv = {valgrind, "--tool=callgrind", "--toggle-collect=dvs_gate_measured",
                                       "--callgrind-out-file=" + j.cg_out, work, "--cell", run[j.cell].name,
                                       "--iterations", std::to_string(run[j.cell].iterations)};
      if (!o.inject.empty()) {
        argv.push_back("--inject");
        argv.push_back(o.inject);
      }
      j.proc = spawn(argv, j.cg_out + ".log");
      if (j.proc.pid < 0) {
        fmt::print(stderr, "dvs gate: cannot start {}\n", valgrind);
        return 2;
      }
      running.push_back(&j);
    }
    Job* j = running.front();
    running.erase(running.begin());
    const int rc = wait_for(j->proc, kCellTimeoutMs);
    ++done;
    const long long total = callgrind_total(slurp(j->cg_out));
    if (rc != 0 || total < 0) {
      std::string log = slurp(j->proc.log);
      fmt::print(stderr, "dvs gate: cell {} failed under callgrind (exit {}): {}\n", run[j->cell].name, rc,
                 last_line(log));
      failed = true;
      break;
    }
    measured[run[j->cell].name].totals.push_back(total);
  }
  if (failed) {
    for (Job* j : running) {
      kill(j->proc.pid, SIGKILL);
      wait_for(j->proc, 10'000);
    }
    return 2;
  }

  // Per iteration, the empty loop subtracted.
  auto median = [](const std::vector<long long>& v) {
    return std::llround(stats::median(std::vector<double>(v.begin(), v.end())));
  };
  for (auto& [name, m] : measured) {
    const auto [mn, mx] = std::minmax_element(m.totals.begin(), m.totals.end());
    m.spread_pct = *mn > 0 ? double(*mx - *mn) / double(*mn) * 100 : 0;
  }
  const Measured& empty = measured["empty"];
  const double loop_ir = double(median(empty.totals)) / double(empty.iterations);
  for (auto& [name, m] : measured)
    m.ir_per_iter = name == "empty" ? loop_ir : double(median(m.totals)) / double(m.iterations) - loop_ir;

  json result = {{"format", kFormat},
                 {"what", "callgrind Ir per iteration of each dvs_gate_work cell, minus the empty loop's "
                          "(harness/README.md, dvs gate)"},
                 {"build", build},
                 {"machine", {{"cpu_model", cpu_model()}, {"kernel", [] {
                                utsname u{};
                                uname(&u);
                                return std::string(u.release);
                              }()}}},
                 {"recorded_utc", utc_now()},
                 {"git", git_describe()},
                 {"loop_ir_per_iter", std::round(loop_ir * 1000) / 1000},
                 {"cells", json::object()}};
  for (const auto& c : run) {
    if (c.name == "empty") continue;
    const Measured& m = measured[c.name];
    result["cells"][c.name] = {{"ir_per_iter", std::round(m.ir_per_iter * 1000) / 1000},
                               {"iterations", m.iterations},
                               {"ir_total", median(m.totals)}};
  }
  auto write_json = [](const std::string& path, const json& j) {
    std::error_code ec;
    if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path(), ec);
    std::ofstream f(path);
    f << j.dump(2) << "\n";
    return bool(f);
  };
  if (!o.out.empty() && !write_json(o.out, result)) {
    fmt::print(stderr, "dvs gate: cannot write {}\n", o.out);
    return 2;
  }

  // One table.
  const bool show_spread = o.repeat > 1;
  fmt::print("dvs gate: callgrind Ir/iteration (empty loop {:.1f} subtracted), threshold {:.1f}%{}\n", loop_ir,
             o.threshold_pct, o.inject.empty() ? "" : fmt::format(", injected {}", o.inject));
  fmt::print("{:<16} {:>14} {:>14} {:>9}{} {}\n", "cell", "baseline", "now", "change",
             show_spread ? fmt::format(" {:>9}", fmt::format("spread/{}", o.repeat)) : "", "verdict");
  int slower = 0;
  for (const auto& c : run) {
    if (c.name == "empty") continue;
    const Measured& m = measured[c.name];
    const std::string spread = show_spread ? fmt::format(" {:>8.3f}%", m.spread_pct) : "";
    if (o.update) {
      fmt::print("{:<16} {:>14} {:>14} {:>9}{} {}\n", c.name, "-", fmt_ir(m.ir_per_iter), "-", spread,
                 m.spread_pct >= o.threshold_pct / 2 ? "NOISY" : "recorded");
      continue;
    }
    const bool has = base["cells"].contains(c.name);
    const double b = has ? base["cells"][c.name].value("ir_per_iter", 0.0) : 0.0;
    const Verdict v = judge(b, has, m.ir_per_iter, m.spread_pct, o.threshold_pct);
    if (v.fails) ++slower;
    fmt::print("{:<16} {:>14} {:>14} {:>9}{} {}\n", c.name, has ? fmt_ir(b) : "-", fmt_ir(m.ir_per_iter),
               has ? fmt::format("{:+.2f}%", v.change_pct) : "-", spread, v.word);
  }
  if (!o.update && o.cells.empty())
    for (const auto& [name, _] : base["cells"].items())
      if (!measured.count(name)) fmt::print("{:<16} {:>14} {:>14} {:>9} {}\n", name, "", "-", "-", "gone");

  if (o.update) {
    for (const auto& [name, m] : measured)
      if (m.spread_pct >= o.threshold_pct / 2) {
        fmt::print(stderr, "dvs gate: cell {} is noisy ({:.3f}% spread): baseline not written\n", name,
                   m.spread_pct);
        return 1;
      }
    json merged = result;
    if (!o.cells.empty()) {  // a partial update keeps the other cells of a comparable baseline
      std::ifstream f(baseline);
      json old = f ? json::parse(f, nullptr, false) : json();
      if (old.is_object() && old.contains("cells") && incomparable_reason(old.value("build", json()), build).empty())
        for (const auto& [name, v] : old["cells"].items())
          if (!merged["cells"].contains(name)) merged["cells"][name] = v;
    }
    if (!write_json(baseline, merged)) {
      fmt::print(stderr, "dvs gate: cannot write {}\n", baseline);
      return 2;
    }
    fmt::print("dvs gate: baseline written to {} ({})\n", baseline, describe_build(build));
    return 0;
  }
  if (slower > 0) {
    fmt::print("dvs gate: FAILED: {} cell(s) slower than {:.1f}% (or noisy); if intended, refresh the "
               "baseline with dvs gate --update\n", slower, o.threshold_pct);
    return 1;
  }
  fmt::print("dvs gate: passed ({} cells)\n", run.size() - 1);
  return 0;
}

}  // namespace dvs::gate
