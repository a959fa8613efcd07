// dvs_metrics_bench: what IPC metrics recording costs the local sendrec message rate
// (docs/METRICS.md, "Overhead"). Same-run A/B, interleaved: one dvsd, one client/server pair
// pinned like `dvs run` (cross: CPUs 0 and 1; same: both on CPU 0; none: unpinned) with one wait
// strategy, running 2 x reps chunks of round trips; between chunks the client switches recording
// off/on in ABBA order by writing the DC table header's metrics word (what dvsd --metrics-record
// writes at start), so both conditions run in the same processes, on the same CPUs, interleaved
// in time. Prints per-repetition rates, the medians and the median of the per-repetition on/off
// ratios; --json FILE writes them. Exit 0 (it measures, it does not judge).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/ipc/shm_table.hpp"
#include "core/ipc/slot_stats.hpp"
#include "core/libdvs/libdvs_internal.h"
#include "dvs/dvs.h"
#include "workloads/measure/nonparametric.hpp"

namespace {

constexpr int kServer = 5;

struct Options {
  std::string dvsd;
  long iterations = 50000;
  int reps = 21;
  std::string wait = "spin";
  std::string placement = "cross";
  unsigned sample = 64;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;
  std::string json_out;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Dvsd {
  pid_t pid = -1;
  std::string sock;
  bool start(const std::string& bin, const std::string& socket, const std::vector<std::string>& extra) {
    sock = socket;
    int p[2];
    if (pipe(p) != 0) return false;
    pid = fork();
    if (pid == 0) {
      dup2(p[1], 1);
      close(p[0]);
      std::vector<std::string> a = {bin, "--node", "0", "--socket", socket};
      a.insert(a.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& s : a) argv.push_back(s.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(p[1]);
    std::string out;
    char buf[256];
    ssize_t n;
    while (out.find(" ready on ") == std::string::npos && (n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, n);
    close(p[0]);
    return out.find(" ready on ") != std::string::npos;
  }
  ~Dvsd() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    unlink(sock.c_str());
  }
};

void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof s, &s);
}

dvs_wait_mode_t wait_mode(const std::string& w) {
  if (w == "spin") return DVS_WAIT_SPIN;
  if (w == "block") return DVS_WAIT_BLOCK;
  return DVS_WAIT_SPIN_THEN_BLOCK;
}

// One client/server pair on the dvsd at sock, running the whole schedule: 2 * reps chunks of
// `iterations` round trips, recording switched off/on between chunks by the client (it writes the
// table header's metrics word, as dvsd --metrics-record would; ABBA order so drift cancels).
// Returns per chunk the round trips per second, off chunks in *off, on chunks in *on (empty on failure).
bool run_schedule(const Options& o, const std::string& sock, std::vector<double>* off, std::vector<double>* on) {
  const int cpu_s = o.placement == "none" ? -1 : 0;
  const int cpu_c = o.placement == "cross" ? 1 : (o.placement == "same" ? 0 : -1);
  const long warm = std::min(o.iterations, 20000L);
  int ready[2], res[2];
  if (pipe(ready) != 0 || pipe(res) != 0) return false;
  pid_t server = fork();
  if (server == 0) {
    pin(cpu_s);
    if (dvs_open(sock.c_str()) != 0 || dvs_bind(0, kServer) != kServer) _exit(2);
    dvs_set_wait(wait_mode(o.wait), o.spin_ns);
    char c = 1;
    if (write(ready[1], &c, 1) != 1) _exit(2);
    dvs_message_t m{};
    for (;;) {
      if (dvs_receive_T(DVS_ANY, &m, 30000) != 0) _exit(3);
      const bool last = m.m_type == -1;
      if (dvs_reply_T(m.m_source, &m, 10000) != 0) _exit(3);
      if (last) _exit(0);
    }
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return false;
  pid_t client = fork();
  if (client == 0) {
    pin(cpu_c);
    if (dvs_open(sock.c_str()) != 0 || dvs_bind(0, DVS_ANY) < 0) _exit(2);
    dvs_set_wait(wait_mode(o.wait), o.spin_ns);
    dvs::core::DcTable t;
    if (t.map_fd(dup(dvs_internal_table_fd(0))) != 0) _exit(2);
    const uint32_t on_word = dvs::metrics::metrics_word(true, __builtin_ctz(o.sample));
    dvs_message_t m{};
    for (long i = 0; i < warm; ++i)
      if (dvs_sendrec_T(kServer, &m, 10000) != 0) _exit(3);
    for (int k = 0; k < 2 * o.reps; ++k) {
      const bool rec = (k % 4 == 1 || k % 4 == 2);  // off on on off | off on on off ...
      t.header().metrics.store(rec ? on_word : 0, std::memory_order_release);
      const int64_t t0 = now_ns();
      for (long i = 0; i < o.iterations; ++i) {
        m.m_type = static_cast<int>(i & 0xff);
        if (dvs_sendrec_T(kServer, &m, 10000) != 0) _exit(3);
      }
      const int64_t dt = now_ns() - t0;
      if (write(res[1], &dt, sizeof dt) != sizeof dt) _exit(2);
    }
    t.header().metrics.store(0, std::memory_order_release);
    m.m_type = -1;
    if (dvs_sendrec_T(kServer, &m, 10000) != 0) _exit(3);
    _exit(0);
  }
  close(res[1]);
  for (int k = 0; k < 2 * o.reps; ++k) {
    int64_t dt = -1;
    if (read(res[0], &dt, sizeof dt) != sizeof dt || dt <= 0) break;
    const double rate = static_cast<double>(o.iterations) / (static_cast<double>(dt) * 1e-9);
    ((k % 4 == 1 || k % 4 == 2) ? on : off)->push_back(rate);
  }
  int st1 = 0, st2 = 0;
  waitpid(client, &st1, 0);
  waitpid(server, &st2, 0);
  for (int fd : {ready[0], ready[1], res[0]}) close(fd);
  return WIFEXITED(st1) && WEXITSTATUS(st1) == 0 && WIFEXITED(st2) && WEXITSTATUS(st2) == 0 &&
         static_cast<int>(off->size()) == o.reps && static_cast<int>(on->size()) == o.reps;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dvs_metrics_bench: local sendrec message rate with IPC metrics off vs on (same-run A/B)"};
  Options o;
  app.add_option("--dvsd", o.dvsd, "dvsd binary (default: $DVSD_BIN, else ../dvsd beside this binary)");
  app.add_option("--iterations", o.iterations, "round trips per chunk (default 50000)")->check(CLI::Range(1L, 1L << 40));
  app.add_option("--reps", o.reps, "repetitions, each one chunk off and one on (default 21)")->check(CLI::Range(1, 1000));
  app.add_option("--wait", o.wait, "wait strategy of both endpoints (default spin)")
      ->check(CLI::IsMember({"spin", "spin-then-block", "block"}));
  app.add_option("--spin-ns", o.spin_ns, "spin budget of spin-then-block, ns (default " + std::to_string(DVS_DEFAULT_SPIN_NS) + ")");
  app.add_option("--placement", o.placement, "cross (CPUs 0 and 1, default), same (CPU 0) or none")
      ->check(CLI::IsMember({"cross", "same", "none"}));
  app.add_option("--sample", o.sample, "dvsd --metrics-sample of the metrics-on node (default 64)");
  app.add_option("--json", o.json_out, "also write the figures to this JSON file");
  CLI11_PARSE(app, argc, argv);
  if (o.dvsd.empty()) {
    const char* env = getenv("DVSD_BIN");
    if (env && *env) {
      o.dvsd = env;
    } else {
      char self[4096];
      ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
      std::string s = n > 0 ? std::string(self, static_cast<size_t>(n)) : "";
      o.dvsd = s.substr(0, s.rfind('/')) + "/../dvsd";
    }
  }
  const std::string base = "/tmp/dvs-metrics-bench-" + std::to_string(getpid());
  Dvsd d;
  if (!d.start(o.dvsd, base + ".sock", {})) {
    std::fprintf(stderr, "dvs_metrics_bench: cannot start dvsd %s\n", o.dvsd.c_str());
    return 2;
  }
  std::printf("local sendrec, wait %s, placement %s, %d reps x (one chunk off + one on, ABBA order) of %ld "
              "round trips, one client/server pair, latency sampled 1 in %u when on\n",
              o.wait.c_str(), o.placement.c_str(), o.reps, o.iterations, o.sample);
  std::vector<double> offs, ons, ratios;
  if (!run_schedule(o, d.sock, &offs, &ons)) {
    std::fprintf(stderr, "dvs_metrics_bench: the client/server pair failed\n");
    return 1;
  }
  std::printf("%4s %16s %16s %8s\n", "rep", "off msg/s", "on msg/s", "on/off");
  for (int r = 0; r < o.reps; ++r) {
    // message rate counts both directions of a round trip (as M3-IPC's figures do)
    offs[r] *= 2;
    ons[r] *= 2;
    ratios.push_back(ons[r] / offs[r]);
    std::printf("%4d %16.0f %16.0f %8.3f\n", r + 1, offs[r], ons[r], ratios.back());
  }
  const double mo = dvs::stats::median(offs), mn = dvs::stats::median(ons), mr = dvs::stats::median(ratios);
  std::printf("median %13.0f %16.0f %8.3f   (ratio of medians %.3f; cost %.1f %%)\n", mo, mn, mr, mn / mo,
              (1 - mr) * 100);
  if (!o.json_out.empty()) {
    nlohmann::json j = {{"wait", o.wait},           {"placement", o.placement}, {"iterations", o.iterations},
                        {"reps", o.reps},           {"sample", o.sample},       {"off_msgs_per_s", offs},
                        {"on_msgs_per_s", ons},     {"ratios", ratios},         {"median_off", mo},
                        {"median_on", mn},          {"median_ratio", mr},       {"cost_pct", (1 - mr) * 100}};
    std::ofstream(o.json_out) << j.dump(2) << "\n";
  }
  return 0;
}
