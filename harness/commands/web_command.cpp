// `dvs web serve` and `dvs web bench` (see web_command.hpp, docs/WEB.md).
#include "harness/commands/web_command.hpp"
#include "harness/plan/option_scenario.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "harness/cluster/cluster.hpp"
#include "harness/cluster/transports.hpp"
#include "harness/results/machine_info.hpp"
#include "harness/results/ratio.hpp"
#include "harness/results/report.hpp"
#include "workloads/baselines/baseline.hpp"
#include "workloads/measure/clock.hpp"
#include "workloads/pingpong/pingpong.hpp"
#include "harness/commands/common_options.hpp"
#include "harness/commands/metrics_option.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif

namespace dvs::web {

namespace wl = workloads::web;
using nlohmann::json;

std::string WebNodes::up(const std::string& transport, wl::WebConfig* cfg, bool netns) {
  const wl::Layout& l = cfg->layout;
  const bool two = l.front_node == 1 || l.fs_node == 1 || l.disk_node == 1;
  const uint64_t copylen = std::max<uint64_t>(cfg->chunk, uint64_t{1} << 20);
  std::string err;
  if (!two) {
    if (!local_.start(bin_, 0, dir_ + "/dvsd.log", {"--dc", fmt::format("0,copylen={}", copylen)}, &err))
      return "dvsd did not start: " + err;
    cfg->sockets[0] = local_.socket_path();
    cfg->sockets[1].clear();
    return "";
  }
  if (!cluster::is_cluster_transport(transport))
    return fmt::format("transport must be {}, not '{}'", cluster::node_transport_choices(), transport);
  cli::NodePairOptions po;
  po.transport = transport;
  po.copylen = copylen;
  po.netns = netns;
  if (err = pair_.ensure(po); !err.empty()) return err;
  cfg->sockets[0] = pair_.socket(0);
  cfg->sockets[1] = pair_.socket(1);
  return "";
}

std::string WebNodes::describe() const {
  if (!pair_.running()) return fmt::format("{} --node 0 (one node)", bin_);
  return pair_.lines().empty() ? "" : pair_.lines().back();
}

namespace {

struct Options {
  std::string root, layout = "B", transport = "tcp", host = "127.0.0.1", dvsd_path, dir, wait = "block";
  int fs_node = -2, disk_node = -2, port = 8080, workers = 8, fs_servers = 2, disk_servers = 2;
  size_t chunk = size_t{1} << 20, fs_cache = size_t{8} << 20;
  int request_timeout_ms = 5000, idle_timeout_ms = 5000, send_timeout_ms = 5000, fs_cache_ttl_ms = 1000;
  double duration_s = 0;
  bool netns = false;
};

std::atomic<int> g_signal{0};

// Bad input to `dvs web CMD`, thrown before anything starts: make_web_command's run prints
// "dvs web CMD: error: MSG" and returns 2.
struct UsageError {
  const char* cmd;
  std::string msg;
};

[[noreturn]] void usage_error(const char* cmd, const std::string& e) { throw UsageError{cmd, e}; }

std::string command_line() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()), line;
  for (char ch : all) line += ch == '\0' ? ' ' : ch;
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// "block" -> DVS_WAIT_BLOCK; -1 if unknown.
int wait_of(const std::string& w) {
  const auto mode = workloads::parse_wait(w);
  return mode ? int(*mode) : -1;
}

// "--wait must be one of spin, spin-then-block, block, not 'x'" (the options' validator catches
// it first; scenario values are checked by the same validator).
std::string bad_wait(const std::string& option, const std::string& w) {
  return fmt::format("{} must be one of {}, not '{}'", option, fmt::join(workloads::kWaitNames, ", "), w);
}

wl::WebConfig config_of_layout(const char* cmd, const std::string& layout) {
  wl::WebConfig cfg;
  if (layout.size() != 1 || !wl::layout_of(layout[0], &cfg.layout))
    usage_error(cmd, fmt::format("--layout must be one of A B C D E F, not '{}'", layout));
  cfg.sockets[0] = cfg.sockets[1] = "-";  // filled once the nodes are up
  return cfg;
}

// dvsd, the nodes of cfg's layout, the web server's processes. "" or why not.
std::string bring_up(const std::string& dvsd_path, const std::string& dir, const std::string& transport, bool netns,
                     std::unique_ptr<WebNodes>* nodes, wl::WebConfig* cfg, wl::WebServer* server) {
  std::string tried, err;
  const std::string bin = cli::find_dvsd(dvsd_path, &tried);
  if (bin.empty()) return fmt::format("no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)", tried);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  *nodes = std::make_unique<WebNodes>(bin, dir);
  if (err = (*nodes)->up(transport, cfg, netns); !err.empty()) return err;
  if (!server->start(*cfg, &err)) return err;
  return "";
}
void on_signal(int s) { g_signal.store(s); }

int serve(const Options& o, wl::WebConfig cfg) {
  const std::string dir = o.dir.empty() ? fmt::format("/tmp/dvs-web-{}", getpid()) : o.dir;
  std::unique_ptr<WebNodes> nodes;
  wl::WebServer server;
  if (auto e = bring_up(o.dvsd_path, dir, o.transport, o.netns, &nodes, &cfg, &server); !e.empty()) {
    fmt::print(stderr, "dvs web serve: error: {}\n", e);
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  fmt::print("dvs web: serving {} on http://{}:{}/ (layout {}: {}; logs in {})\n", cfg.root, cfg.host, server.port(),
             o.layout, wl::describe(cfg.layout), dir);
  std::fflush(stdout);
  const uint64_t end = o.duration_s > 0 ? measure::now_ns() + uint64_t(o.duration_s * 1e9) : UINT64_MAX;
  int rc = 0;
  while (g_signal.load() == 0 && measure::now_ns() < end) {
    if (auto e = server.check(); !e.empty()) {
      fmt::print(stderr, "dvs web: error: {}\n", e);
      rc = 1;
      break;
    }
    const timespec ts{0, 100'000'000};
    nanosleep(&ts, nullptr);
  }
  server.stop();
  fmt::print("dvs web: stopped\n");
  return rc;
}

// ---- dvs web bench ----

struct BenchOptions {
  std::string scenario, name = "web", description, root, path, layouts, transport = "tcp", dvsd_path, dir, out_dir,
      wait = "block", server_wait = "block", argv_line;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;
  int connections = 16, threads = 2, repetitions = 3, fs_servers = 2, disk_servers = 2, fs_cache_ttl_ms = 1000,
      workers = 8;
  size_t file_bytes = 1024, chunk = size_t{1} << 20, fs_cache = size_t{8} << 20;
  uint64_t large_bytes = 100u << 20;
  double duration_s = 5;
  bool large = false, no_netns = false;
};

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

bool port_accepts(int port, int timeout_ms) {
  const uint64_t end = measure::now_ns() + uint64_t(timeout_ms) * 1'000'000u;
  while (measure::now_ns() < end) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (ok) return true;
    const timespec ts{0, 20'000'000};
    nanosleep(&ts, nullptr);
  }
  return false;
}

// wrk's "123.45us" / "1.20ms" / "2.00s" in ns; -1 if not a duration.
int64_t wrk_ns(const std::string& v) {
  double x = 0;
  char unit[8] = {0};
  if (std::sscanf(v.c_str(), "%lf%7s", &x, unit) != 2) return -1;
  const std::string u = unit;
  const double mult = u == "ns" ? 1 : u == "us" ? 1e3 : u == "ms" ? 1e6 : u == "s" ? 1e9 : u == "m" ? 60e9 : -1;
  return mult < 0 ? -1 : int64_t(std::llround(x * mult));
}

struct WrkResult {
  double rps = -1, mib_s = -1;
  int64_t p50_ns = -1, p90_ns = -1, p99_ns = -1;
  uint64_t requests = 0, non_2xx = 0, socket_errors = 0;
  std::string text;
  // wrk's whole latency record (1 us resolution, with wrk's own correction for coordinated
  // omission, so its count may exceed `requests`), when the run had the export script.
  std::unique_ptr<measure::LoopResult> latency;
};

// A wrk script whose done() writes every latency value wrk recorded and its count ("us count"
// lines, ascending) to $DVS_WRK_LATENCY_OUT. latency(i) is wrk's i-th recorded value (#latency
// of them); the loop also stops if the values stop ascending (a wrk that reads past the end).
constexpr const char* kWrkLatencyScript = R"(done = function(summary, latency, requests)
  local f = assert(io.open(os.getenv("DVS_WRK_LATENCY_OUT"), "w"))
  local last = -1
  for i = 1, #latency do
    local v, c = latency(i)
    if v <= last then break end
    last = v
    f:write(string.format("%d %d\n", v, c))
  end
  f:close()
end
)";

// The latency file of kWrkLatencyScript as a histogram (ns); null if missing or empty.
std::unique_ptr<measure::LoopResult> read_wrk_latency(const std::string& file) {
  std::ifstream f(file);
  auto r = std::make_unique<measure::LoopResult>();
  unsigned long long us = 0, count = 0;
  std::string line;
  while (std::getline(f, line))
    if (std::sscanf(line.c_str(), "%llu %llu", &us, &count) == 2 && count > 0) r->samples.record_n(us * 1000, count);
  if (r->samples.count() == 0) return nullptr;
  r->iterations = r->samples.count();
  return r;
}

// One bounded wrk run against url; with latency_dir, wrk's latency record too.
WrkResult run_wrk(const BenchOptions& o, const std::string& url, const std::string& latency_dir = "") {
  WrkResult r;
  std::string script, out;
  if (!latency_dir.empty()) {
    script = latency_dir + "/wrk-latency.lua";
    out = latency_dir + "/wrk-latency.txt";
    std::ofstream(script, std::ios::trunc) << kWrkLatencyScript;
    std::filesystem::remove(out);
  }
  const std::string cmd =
      fmt::format("{}timeout {} wrk -t{} -c{} -d{}s --latency {}'{}' 2>&1", out.empty() ? "" : "DVS_WRK_LATENCY_OUT='" + out + "' ",
                  int(o.duration_s) + 20, o.threads, o.connections, o.duration_s,
                  script.empty() ? "" : "-s '" + script + "' ", url);
  std::fflush(nullptr);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char line[512];
  while (fgets(line, sizeof line, p) != nullptr) {
    r.text += line;
    double v = 0;
    unsigned long long a = 0, b = 0, c = 0, d = 0;
    char unit[16] = {0};
    if (std::sscanf(line, "Requests/sec: %lf", &v) == 1) r.rps = v;
    if (std::sscanf(line, "Transfer/sec: %lf%15s", &v, unit) == 2)
      r.mib_s = v * (unit[0] == 'G' ? 1024 : unit[0] == 'K' ? 1.0 / 1024 : unit[0] == 'M' ? 1 : 1.0 / 1048576);
    if (std::sscanf(line, " 50%% %15s", unit) == 1) r.p50_ns = wrk_ns(unit);
    if (std::sscanf(line, " 90%% %15s", unit) == 1) r.p90_ns = wrk_ns(unit);
    if (std::sscanf(line, " 99%% %15s", unit) == 1) r.p99_ns = wrk_ns(unit);
    if (std::sscanf(line, " %llu requests in", &a) == 1) r.requests = a;
    if (std::sscanf(line, " Non-2xx or 3xx responses: %llu", &a) == 1) r.non_2xx = a;
    if (std::sscanf(line, " Socket errors: connect %llu, read %llu, write %llu, timeout %llu", &a, &b, &c, &d) == 4)
      r.socket_errors = a + b + c + d;
  }
  pclose(p);
  if (!out.empty()) r.latency = read_wrk_latency(out);
  return r;
}

struct CurlResult {
  bool ok = false;
  double seconds = 0;
  uint64_t bytes = 0;
  std::string error;
};

// One curl download of url to /dev/null: its size and time.
CurlResult run_curl(const std::string& url, uint64_t want_bytes) {
  CurlResult r;
  const std::string cmd =
      fmt::format("curl -s --max-time 300 -o /dev/null -w '%{{http_code}} %{{size_download}} %{{time_total}}' '{}' 2>&1", url);
  std::fflush(nullptr);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    r.error = "popen curl failed";
    return r;
  }
  char line[512] = {0};
  std::string out;
  while (fgets(line, sizeof line, p) != nullptr) out += line;
  const int st = pclose(p);
  int code = 0;
  unsigned long long size = 0;
  double t = 0;
  if (std::sscanf(out.c_str(), "%d %llu %lf", &code, &size, &t) != 3 || code != 200 || size != want_bytes ||
      WEXITSTATUS(st) != 0) {
    r.error = fmt::format("curl: '{}' (exit {}; want 200 and {} bytes)", out, WEXITSTATUS(st), want_bytes);
    return r;
  }
  r.ok = true;
  r.bytes = size;
  r.seconds = t;
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

std::string Nginx::start(const std::string& dir, const std::string& root) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/nginx", ec);
  port_ = free_port();
  const std::string conf = dir + "/nginx/nginx.conf";
  std::ofstream(conf) << fmt::format(
      "daemon off; master_process on; worker_processes 2; user root; pid {0}/nginx/nginx.pid;\n"
      "error_log {0}/nginx/error.log;\nevents {{ worker_connections 1024; }}\n"
      "http {{ access_log off; sendfile on; keepalive_requests 1000000; client_body_temp_path {0}/nginx;\n"
      "  proxy_temp_path {0}/nginx; fastcgi_temp_path {0}/nginx; uwsgi_temp_path {0}/nginx; scgi_temp_path {0}/nginx;\n"
      "  server {{ listen 127.0.0.1:{1}; root {2}; }} }}\n",
      dir, port_, root);
  std::fflush(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    execlp("nginx", "nginx", "-c", conf.c_str(), "-p", (dir + "/nginx").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0 || !port_accepts(port_, 5000)) {
    stop();
    return fmt::format("nginx did not start (see {}/nginx/error.log)", dir);
  }
  return "";
}

void Nginx::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i) {
    const timespec ts{0, 20'000'000};
    nanosleep(&ts, nullptr);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

namespace {

// A scenario file: [web] keys are dvs web bench's long options (cli/option_scenario.hpp).
std::string apply_scenario(CLI::App* cmd, BenchOptions& o) {
  return cli::apply_option_scenario(cmd, o.scenario, "web", "dvs web bench", &o.name, &o.description);
}

json options_json(const BenchOptions& o, const std::string& layouts) {
  return {{"scenario", o.scenario}, {"layouts", layouts}, {"transport", o.transport},
          {"large", o.large}, {"file_bytes", o.large ? o.large_bytes : o.file_bytes},
          {"path", o.path}, {"root", o.root}, {"connections", o.connections}, {"threads", o.threads}, {"workers", o.workers},
          {"duration_s", o.duration_s}, {"repetitions", o.repetitions}, {"fs_servers", o.fs_servers},
          {"disk_servers", o.disk_servers}, {"fs_cache_bytes", o.fs_cache}, {"fs_cache_ttl_ms", o.fs_cache_ttl_ms},
          {"wait", o.wait}, {"server_wait", o.server_wait}, {"spin_ns", o.spin_ns}, {"chunk", o.chunk},
          {"netns", o.large && !o.no_netns},
          {"argv", o.argv_line}};
}

// The common part of every web row, through the harness's writer (cli::row_json). kind "web".
json base_row(const cli::RunContext& ctx, const std::string& id, bool dvs, const std::string& label,
              const std::string& wait, const std::string& baseline, int rep, int reps, bool ok, const std::string& error) {
  cli::Cell cell;
  cell.id = id;
  cell.dvs = dvs;
  cell.label = label;
  cell.wait = wait;
  cell.section = "web";
  cli::CellResult cr;
  cr.cell = &cell;
  cr.ok = ok;
  cr.error = error;
  json j = cli::row_json(ctx, cr);
  j["kind"] = "web";
  j["section"] = "web";
  j["placement"] = "unpinned";
  j["placement_detail"] = "unpinned: the HTTP client, the servers and dvsd share the machine's CPUs";
  j["warmup"] = 0;
  j["iterations_planned"] = nullptr;
  j["rep"] = rep;
  j["repetitions"] = reps;
  if (!baseline.empty()) j["baseline"] = baseline;
  return j;
}

struct Bench {
  BenchOptions o;
  std::string dir, bin, path, root;
  cli::RunContext ctx;
  cli::RunOptions run_opts;
  cli::ResultsWriter writer;
  json meta;
  json nodes_started = json::array();
  bool write_failed = false, any_failed = false;
  int rows = 0;

  void append(const json& row, const json* hist = nullptr) {
    std::string err;
    if (!writer.append(row, hist, &err)) write_failed = true;
    ++rows;
  }

  wl::WebConfig config(char layout) const {
    wl::WebConfig cfg;
    wl::layout_of(layout, &cfg.layout);
    cfg.root = root;
    cfg.port = 0;
    cfg.workers = o.workers;
    cfg.chunk = o.chunk;
    cfg.fs_servers = o.fs_servers;
    cfg.disk_servers = o.disk_servers;
    cfg.fs_cache_bytes = o.fs_cache;
    cfg.fs_cache_ttl_ms = o.fs_cache_ttl_ms;
    cfg.front_wait = wait_of(o.wait);
    cfg.server_wait = wait_of(o.server_wait);
    cfg.spin_ns = o.spin_ns;
    return cfg;
  }

  json web_fields(char layout, const wl::WebConfig& cfg) const {
    const bool ipc = cfg.layout.fs_node >= 0;
    return {{"layout", std::string(1, layout)}, {"layout_description", wl::describe(cfg.layout)},
            {"fs_servers", ipc ? cfg.fs_servers : 0}, {"disk_servers", cfg.layout.disk_node >= 0 ? cfg.disk_servers : 0},
            {"front_workers", cfg.workers}, {"front_wait", o.wait}, {"server_wait", o.server_wait},
            {"spin_ns", o.spin_ns}, {"chunk", cfg.chunk},
            {"fs_cache_bytes", cfg.layout.disk_node >= 0 ? cfg.fs_cache_bytes : 0},
            {"fs_cache_ttl_ms", cfg.fs_cache_ttl_ms}};
  }

  // The histograms.jsonl line of a wrk run with its latency record; null without one.
  json histogram_of(const std::string& id, const WrkResult& w, int rep) const {
    if (!w.latency) return nullptr;
    cli::Cell cell;
    cell.id = id;
    cli::CellResult cr;
    cr.cell = &cell;
    cr.loop = std::make_unique<measure::LoopResult>(*w.latency);
    json h = cli::histogram_json(ctx, cr);
    h["rep"] = rep;
    return h;
  }

  // Small files under wrk: dvs web and nginx, alternately, repetitions times per layout.
  int small(const std::string& layouts) {
    Nginx ng;
    if (auto e = ng.start(dir, root); !e.empty()) {
      fmt::print(stderr, "dvs web bench: error: {}\n", e);
      return 1;
    }
    fmt::print("dvs web bench {}: {} ({} B) under wrk -t{} -c{} -d{}s, {} repetitions; nginx (2 workers, sendfile) on "
               "the same root in the same run\n",
               ctx.run_id, path, o.file_bytes, o.threads, o.connections, o.duration_s, o.repetitions);
    fmt::print("  {:<6} {:>4} {:>12} {:>12} {:>7} {:>10} {:>10} {:>9}\n", "layout", "rep", "dvs req/s", "nginx req/s",
               "dvs/nginx", "dvs p99", "nginx p99", "disk/req");
    std::fflush(stdout);
    json summary = json::array();
    const std::string what = fmt::format("get{}B/c{}", o.file_bytes, o.connections);
    for (char l : layouts) {
      wl::WebConfig cfg = config(l);
      std::unique_ptr<WebNodes> nodes;
      wl::WebServer server;
      const std::string ldir = fmt::format("{}/layout-{}", dir, l);
      std::string err = bring_up(bin, ldir, o.transport, false, &nodes, &cfg, &server);
      if (err.empty()) nodes_started.push_back(nodes->describe());
      std::vector<double> d_rps, n_rps, ratio, disk_per;
      const std::string d_id = fmt::format("web/dvs/{}/{}", l, what), n_id = fmt::format("web/nginx/{}/paired-{}", what, l);
      for (int rep = 1; rep <= o.repetitions; ++rep) {
        WrkResult d, n;
        wl::WebServer::Counts c0, c1;
        if (err.empty()) {
          c0 = server.counts();
          d = run_wrk(o, fmt::format("http://127.0.0.1:{}{}", server.port(), path), dir);
          c1 = server.counts();
          if (auto alive = server.check(); !alive.empty()) err = alive;
          else if (d.rps < 0) err = "wrk against dvs web failed: " + d.text;
          else if (d.non_2xx > 0) err = fmt::format("{} answers were not 2xx", d.non_2xx);
        }
        n = run_wrk(o, fmt::format("http://127.0.0.1:{}{}", ng.port(), path), dir);
        const std::string nerr = n.rps < 0 ? "wrk against nginx failed: " + n.text : "";
        auto fill = [&](json& j, const WrkResult& w) {
          j["transport"] = cfg.layout.fs_node == 1 || cfg.layout.disk_node == 1 ? o.transport : "local";
          j["stop"] = "duration";
          j["duration_s"] = o.duration_s;
          j["bytes_per_op"] = o.file_bytes;
          j["requests_per_s"] = w.rps;
          j["mb_per_s"] = w.mib_s * 1048576 / 1e6;
          j["latency"] = {{"what", "http_request"},
                          {"description", "wrk's request latency (send to the whole answer), its own percentiles"},
                          {"unit", "ns"}, {"n", w.requests}, {"p50", w.p50_ns}, {"p90", w.p90_ns}, {"p99", w.p99_ns}};
          if (w.latency) {  // wrk's whole record: the histograms.jsonl line, and the tail wrk does not print
            const auto& h = w.latency->samples;
            j["latency"]["recorded"] = h.count();
            j["latency"]["p99_9"] = h.percentile(99.9);
            j["latency"]["p99_99"] = h.percentile(99.99);
            j["latency"]["max"] = h.max();
            j["latency"]["histogram"] =
                "histograms.jsonl: wrk's recorded latencies (1 us resolution, with wrk's correction for "
                "coordinated omission: 'recorded' may exceed n)";
          }
          j["wrk"] = {{"threads", o.threads}, {"connections", o.connections}, {"requests", w.requests},
                      {"non_2xx", w.non_2xx}, {"socket_errors", w.socket_errors}};
        };
        json nj = base_row(ctx, n_id, false, fmt::format("nginx, {} B files (paired with layout {})", o.file_bytes, l),
                           "n/a", "", rep, o.repetitions, nerr.empty(), nerr);
        nj["mechanism"] = "nginx";
        if (nerr.empty()) fill(nj, n);
        json dj = base_row(ctx, d_id, true, fmt::format("dvs web layout {} ({}), {} B files", l, wl::describe(cfg.layout),
                                                         o.file_bytes),
                           o.wait, n_id, rep, o.repetitions, err.empty(), err);
        dj["web"] = web_fields(l, cfg);
        // Requests the servers took during wrk's run (wrk's own requests may include a few that
        // were cut at its end); with the file server's cache, disk requests are only its fills.
        const uint64_t fs_n = c1.fs_requests - c0.fs_requests, disk_n = c1.disk_requests - c0.disk_requests;
        const double disk_per_req = d.requests > 0 ? double(disk_n) / double(d.requests) : 0;
        dj["web"]["fs_requests"] = fs_n;
        dj["web"]["disk_requests"] = disk_n;
        dj["web"]["disk_requests_per_http_request"] = disk_per_req;
        if (err.empty()) {
          fill(dj, d);
          if (nerr.empty()) {
            if (auto q = cli::slowdown_ratio(cli::RatioBasis::RequestsPerS, d.rps, n.rps)) {
              dj["ratio_to_baseline"] = *q;  // nginx req/s / dvs req/s: > 1 = dvs slower (ratio.hpp)
              dj["ratio_basis"] = cli::ratio_basis_name(cli::RatioBasis::RequestsPerS);
            }
            d_rps.push_back(d.rps);
            n_rps.push_back(n.rps);
            ratio.push_back(d.rps / n.rps);
            disk_per.push_back(disk_per_req);
          }
        }
        const json nh = histogram_of(n_id, n, rep), dh = histogram_of(d_id, d, rep);
        append(nj, nerr.empty() && !nh.is_null() ? &nh : nullptr);
        append(dj, err.empty() && !dh.is_null() ? &dh : nullptr);
        if (!err.empty() || !nerr.empty()) {
          any_failed = true;
          fmt::print("  {:<6} {:>4} FAILED: {}\n", l, rep, !err.empty() ? err : nerr);
          if (!err.empty()) break;
        } else {
          fmt::print("  {:<6} {:>4} {:>12.0f} {:>12.0f} {:>7.3f} {:>10} {:>10} {:>9.3f}\n", l, rep, d.rps, n.rps,
                     d.rps / n.rps, cli::format_ns(double(d.p99_ns)), cli::format_ns(double(n.p99_ns)), disk_per_req);
        }
        std::fflush(stdout);
      }
      server.stop();
      nodes.reset();
      if (!ratio.empty()) {
        fmt::print("  {:<6} median of {}: dvs {:.0f} req/s, nginx {:.0f} req/s, dvs/nginx {:.3f} (median of the "
                   "per-repetition ratios)\n",
                   l, ratio.size(), median(d_rps), median(n_rps), median(ratio));
        summary.push_back({{"layout", std::string(1, l)}, {"repetitions", ratio.size()}, {"dvs_rps_median", median(d_rps)},
                           {"nginx_rps_median", median(n_rps)}, {"ratio_median", median(ratio)},
                           {"fs_cache_bytes", cfg.layout.disk_node >= 0 ? cfg.fs_cache_bytes : 0},
                           {"disk_requests_per_http_request_median", median(disk_per)},
                           {"criterion", "dvs >= 0.5 x nginx requests/s"}, {"met", median(ratio) >= 0.5}});
      }
    }
    meta["summary"] = summary;
    return 0;
  }

  // Large files across two nodes: one curl download per repetition, and the raw TCP stream between
  // the nodes' namespaces (workloads/baselines tcp_stream, 1 MiB blocks, as many bytes) right after.
  int large(const std::string& layouts) {
    const bool want_ns = !o.no_netns;
    const std::string ns_why = want_ns ? cluster::netns_unavailable_reason() : "";
    const bool netns = want_ns && ns_why.empty();
    const std::string network = netns ? "tcp between two network namespaces (veth pairs to a bridge)"
                                      : fmt::format("tcp over loopback{}", ns_why.empty() ? "" : " (no namespaces: " + ns_why + ")");
    meta["network"] = network;
    fmt::print("dvs web bench {}: {} ({} B) by curl, {} repetitions; nodes: {}; the raw TCP stream between the same "
               "nodes in the same run\n",
               ctx.run_id, path, o.large_bytes, o.repetitions, network);
    fmt::print("  {:<6} {:>4} {:>12} {:>12} {:>7}\n", "layout", "rep", "dvs MB/s", "raw TCP MB/s", "dvs/TCP");
    std::fflush(stdout);
    json summary = json::array();
    const size_t block = size_t{1} << 20;
    for (char l : layouts) {
      wl::WebConfig cfg = config(l);
      std::unique_ptr<WebNodes> nodes;
      wl::WebServer server;
      const std::string ldir = fmt::format("{}/layout-{}", dir, l);
      const transport::HarnessTraits* tt = cluster::node_transport_traits(o.transport);
      std::string err = bring_up(bin, ldir, o.transport, netns && tt && tt->crosses_network_namespaces, &nodes, &cfg, &server);
      if (err.empty()) nodes_started.push_back(nodes->describe());
      const bool two = err.empty() && nodes->two_nodes();
      std::vector<double> d_mb, t_mb, ratio;
      const std::string d_id = fmt::format("web/dvs/{}/large{}B/{}", l, o.large_bytes, two ? o.transport : "local");
      const std::string t_id = fmt::format("web/baseline/tcp_stream/{}B/paired-{}", block, l);
      for (int rep = 1; rep <= o.repetitions; ++rep) {
        CurlResult c;
        if (err.empty()) {
          c = run_curl(fmt::format("http://127.0.0.1:{}{}", server.port(), path), o.large_bytes);
          if (auto alive = server.check(); !alive.empty()) err = alive;
          else if (!c.ok) err = c.error;
        }
        const double dmb = c.ok ? double(c.bytes) / c.seconds / 1e6 : 0;
        // The raw TCP stream: from node 1's namespace (where the file server is) to node 0's.
        double tmb = -1;
        std::string terr;
        if (two) {
          baselines::BaselineConfig b;
          b.loop.warmup = 4;
          b.loop.iterations = std::max<uint64_t>(1, o.large_bytes / block);
          b.block_bytes = block;
          b.timeout_ms = 120'000;
          if (netns) {
            b.tcp_host = nodes->pair().address(1);
            b.tcp_client_netns = nodes->pair().netns_name(0);
            b.tcp_server_netns = nodes->pair().netns_name(1);
          }
          auto out = baselines::tcp_stream(b);
          cli::Cell cell;
          cell.id = t_id;
          cell.kind = cli::CellKind::Copy;
          cell.label = fmt::format("raw TCP stream, {} B blocks, node 1 -> node 0", block);
          cell.wait = "block";
          cell.section = "web";
          cli::CellResult cr;
          cr.cell = &cell;
          cr.ok = out.ok;
          cr.error = out.error;
          if (out.ok && out.result->elapsed_ns > 0) {
            tmb = double(out.result->iterations) * double(block) / double(out.result->elapsed_ns) * 1e3;
            cr.per_s = tmb;
            cr.summary = out.result->samples.summary();
            cr.loop = std::move(out.result);
          } else {
            terr = out.error.empty() ? "no time measured" : out.error;
            cr.ok = false;
            cr.error = terr;
          }
          json tj = cli::row_json(ctx, cr);
          tj["section"] = "web";
          tj["transport"] = "tcp";
          tj["network"] = network;
          tj["placement"] = "unpinned";
          tj["placement_detail"] = "unpinned; the reader's socket in node 0's namespace, the writer's in node 1's";
          tj["rep"] = rep;
          tj["repetitions"] = o.repetitions;
          tj["nodes"] = {{"client", nullptr}, {"server", nullptr}, {"count", 0}};
          tj["note"] = "raw sockets between the two nodes' network namespaces, no dvsd (workloads/baselines tcp_stream)";
          json th = cli::histogram_json(ctx, cr);
          th["rep"] = rep;
          append(tj, cr.ok ? &th : nullptr);
        }
        json dj = base_row(ctx, d_id, true,
                           fmt::format("dvs web layout {} ({}), one {} B download", l, wl::describe(cfg.layout), o.large_bytes),
                           o.wait, two ? t_id : "", rep, o.repetitions, err.empty(), err);
        dj["web"] = web_fields(l, cfg);
        dj["transport"] = two ? o.transport : "local";
        dj["network"] = two ? network : "one node";
        if (two) dj["nodes"] = {{"client", 0}, {"server", 1}, {"count", 2}};
        if (err.empty()) {
          dj["stop"] = "samples";
          dj["bytes_per_op"] = o.large_bytes;
          dj["elapsed_ns"] = uint64_t(c.seconds * 1e9);
          dj["mb_per_s"] = dmb;
          dj["latency"] = {{"what", "download"}, {"description", "curl's time_total of one download"}, {"unit", "ns"},
                           {"n", 1}, {"p50", uint64_t(c.seconds * 1e9)}};
          if (tmb > 0) {
            dj["ratio_to_baseline"] = *cli::slowdown_ratio(cli::RatioBasis::MbPerS, dmb, tmb);  // tmb > 0
            dj["ratio_basis"] = cli::ratio_basis_name(cli::RatioBasis::MbPerS);
            d_mb.push_back(dmb);
            t_mb.push_back(tmb);
            ratio.push_back(dmb / tmb);
          } else if (!two) {
            d_mb.push_back(dmb);
          }
        }
        append(dj);
        if (!err.empty() || !terr.empty()) {
          any_failed = true;
          fmt::print("  {:<6} {:>4} FAILED: {}\n", l, rep, !err.empty() ? err : terr);
          if (!err.empty()) break;
        } else {
          fmt::print("  {:<6} {:>4} {:>12.1f} {:>12} {:>7}\n", l, rep, dmb, two ? fmt::format("{:.1f}", tmb) : "-",
                     two ? fmt::format("{:.3f}", dmb / tmb) : "-");
        }
        std::fflush(stdout);
      }
      server.stop();
      nodes.reset();
      if (!d_mb.empty()) {
        json s = {{"layout", std::string(1, l)}, {"repetitions", d_mb.size()}, {"dvs_mb_per_s_median", median(d_mb)}};
        if (!ratio.empty()) {
          s["raw_tcp_mb_per_s_median"] = median(t_mb);
          s["ratio_median"] = median(ratio);
          s["criterion"] = "dvs >= 0.5 x raw TCP stream MB/s between the same namespaces";
          s["met"] = median(ratio) >= 0.5;
          fmt::print("  {:<6} median of {}: dvs {:.1f} MB/s, raw TCP {:.1f} MB/s, dvs/TCP {:.3f}\n", l, ratio.size(),
                     median(d_mb), median(t_mb), median(ratio));
        } else {
          fmt::print("  {:<6} median of {}: dvs {:.1f} MB/s (one node: no raw TCP comparison)\n", l, d_mb.size(),
                     median(d_mb));
        }
        summary.push_back(s);
      }
    }
    meta["summary"] = summary;
    return 0;
  }

  int run() {
    const bool have = std::system(o.large ? "command -v curl >/dev/null" : "command -v wrk >/dev/null && command -v nginx >/dev/null") == 0;
    if (!have) {
      fmt::print(stderr, "dvs web bench: error: {} needed (harness/scripts/install-deps.sh)\n",
                 o.large ? "curl is" : "wrk and nginx are");
      return 1;
    }
    std::string tried, err;
    bin = cli::find_dvsd(o.dvsd_path, &tried);
    if (bin.empty()) {
      fmt::print(stderr, "dvs web bench: error: no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)\n", tried);
      return 1;
    }
    const std::string layouts = !o.layouts.empty() ? o.layouts : o.large ? "DEF" : "B";
    const std::string source_dir = DVS_SOURCE_DIR;
    const std::string out_dir = o.out_dir.empty() ? source_dir + "/results/runs" : o.out_dir;
    run_opts.spin_ns = DVS_DEFAULT_SPIN_NS;
    ctx.options = &run_opts;
    if (!cli::make_run_dir(out_dir, fmt::format("{}-{}-{}", cli::utc_stamp(), cli::short_git_sha(source_dir), o.name),
                           &ctx.run_id, &ctx.run_dir, &err)) {
      fmt::print(stderr, "dvs web bench: error: {}\n", err);
      return 1;
    }
    if (!o.scenario.empty()) {
      std::error_code ec;
      std::filesystem::copy_file(o.scenario, ctx.run_dir + "/scenario.toml", ec);
    }
    // Work files (the served root, dvsd sockets and logs, nginx) live outside the run directory.
    dir = o.dir.empty() ? fmt::format("/tmp/dvs-web-bench-{}", getpid()) : o.dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    path = o.path;
    root = o.root;
    if (root.empty()) {  // a generated file
      root = dir + "/root";
      std::filesystem::create_directories(root, ec);
      const uint64_t n = o.large ? o.large_bytes : o.file_bytes;
      std::ofstream f(root + "/file.bin", std::ios::binary);
      std::string block(std::min<uint64_t>(n, uint64_t{1} << 20), '\0');
      std::mt19937 rng(1);
      for (auto& ch : block) ch = char(rng());
      for (uint64_t left = n; left > 0;) {
        const uint64_t k = std::min<uint64_t>(left, block.size());
        f.write(block.data(), std::streamsize(k));
        left -= k;
      }
      path = "/file.bin";
    }
    meta = cli::collect_machine_info(source_dir);
    meta["run_id"] = ctx.run_id;
    meta["command"] = "dvs web bench";
    meta["loadavg_start"] = cli::loadavg();
    meta["options"] = options_json(o, layouts);
    meta["scenario"] = {{"file", o.scenario}, {"name", o.name}, {"description", o.description}};
    meta["conventions"] = cli::run_conventions();
    meta["placement"] = {{"kind", "unpinned"}, {"client_cpu", -1}, {"server_cpu", -1},
                         {"note", "wrk/curl, nginx, the web server's processes and dvsd all unpinned"}};
    meta["repetitions"] = o.repetitions;
    meta["interrupted"] = false;
    meta["finished"] = false;
    if (!writer.open(ctx.run_dir, &err) || !writer.write_meta(meta, &err)) {
      fmt::print(stderr, "dvs web bench: error: {}\n", err);
      return 1;
    }
    const int rc = o.large ? large(layouts) : small(layouts);
    cli::finish_machine_info(meta);
    meta["dvsd"] = {{"binary", bin}, {"nodes", nodes_started}};
    meta["loops_planned"] = int(layouts.size()) * o.repetitions * 2;
    meta["loops_run"] = rows;
    meta["finished"] = true;
    if (!writer.write_meta(meta, &err) || !writer.close(&err)) write_failed = true;
    fmt::print("results: {}/ (meta.json, runs.jsonl, runs.csv)\n", ctx.run_dir);
    std::fflush(stdout);
    if (write_failed) {
      fmt::print(stderr, "dvs web bench: error: cannot write the results in {}\n", ctx.run_dir);
      return 1;
    }
    if (o.dir.empty()) std::filesystem::remove_all(dir, ec);
    return rc != 0 || any_failed ? 1 : 0;
  }
};

// The parsed command: `web serve` (o) or `web bench` (b, read from the bench App).
struct WebCommand {
  Options o;
  BenchOptions b;
  CLI::App* serve = nullptr;
  CLI::App* bench = nullptr;
};

int run_serve(Options* o) {
  wl::WebConfig cfg = config_of_layout("serve", o->layout);
  cfg.root = o->root;
  if (o->fs_node != -2) cfg.layout.fs_node = o->fs_node;
  if (o->disk_node != -2) cfg.layout.disk_node = o->disk_node;
  cfg.host = o->host;
  cfg.port = o->port;
  cfg.workers = o->workers;
  cfg.chunk = o->chunk;
  cfg.fs_servers = o->fs_servers;
  cfg.disk_servers = o->disk_servers;
  cfg.fs_cache_bytes = o->fs_cache;
  cfg.fs_cache_ttl_ms = o->fs_cache_ttl_ms;
  cfg.front_wait = wait_of(o->wait);
  cfg.request_timeout_ms = o->request_timeout_ms;
  cfg.idle_timeout_ms = o->idle_timeout_ms;
  cfg.send_timeout_ms = o->send_timeout_ms;
  if (cfg.front_wait < 0) usage_error("serve", bad_wait("--wait", o->wait));
  if (auto e = wl::validate(cfg); !e.empty()) usage_error("serve", e);
  if (!(o->duration_s >= 0)) usage_error("serve", "--duration must be >= 0");
  return serve(*o, cfg);
}

int run_web_bench(CLI::App* bc, BenchOptions* b) {
  auto usage = [](const std::string& e) { usage_error("bench", e); };
  b->argv_line = command_line();
  if (!b->scenario.empty())
    if (auto e = apply_scenario(bc, *b); !e.empty()) usage(e);
  std::string ls;
  for (char ch : b->layouts) {
    if (ch == ',' || ch == ' ') continue;
    wl::Layout l;
    if (!wl::layout_of(ch, &l)) usage(fmt::format("--layout takes letters A..F (e.g. BC), not '{}'", b->layouts));
    ls += char(std::toupper(static_cast<unsigned char>(ch)));
  }
  b->layouts = ls;
  if (!b->root.empty() && (b->path.empty() || b->path[0] != '/')) usage("--root needs --path /FILE");
  if (b->file_bytes > (size_t{1} << 30)) usage("--file-bytes must be at most 1 GiB");
  if (b->large_bytes < 1 || b->large_bytes > (uint64_t{8} << 30)) usage("--large-bytes must be 1 B..8 GiB");
  if (b->connections < 1 || b->connections > 128) usage("--connections must be 1..128");
  if (b->threads < 1 || b->threads > b->connections) usage("--threads must be 1..connections");
  if (!(b->duration_s >= 1 && b->duration_s <= 600)) usage("--duration must be 1..600 s");
  if (b->repetitions < 1 || b->repetitions > 100) usage("--repetitions must be 1..100");
  if (wait_of(b->wait) < 0) usage(bad_wait("--wait", b->wait));
  if (wait_of(b->server_wait) < 0) usage(bad_wait("--server-wait", b->server_wait));
  for (char ch : b->name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
      usage("--name: use A-Z a-z 0-9 - _ . only, not '" + b->name + "'");
  wl::WebConfig cfg;
  wl::layout_of('C', &cfg.layout);
  cfg.sockets[0] = cfg.sockets[1] = "-";
  cfg.root = "/";  // checked here, generated later
  cfg.workers = b->workers;
  cfg.chunk = b->chunk;
  cfg.fs_servers = b->fs_servers;
  cfg.disk_servers = b->disk_servers;
  cfg.fs_cache_bytes = b->fs_cache;
  cfg.fs_cache_ttl_ms = b->fs_cache_ttl_ms;
  cfg.port = 0;
  if (auto e = wl::validate(cfg); !e.empty()) usage(e);
  Bench bench;
  bench.o = *b;
  return bench.run();
}

void add_web_options(CLI::App* web, WebCommand* state) {
  Options* o = &state->o;
  BenchOptions* b = &state->b;
  web->require_subcommand(1);
  auto* cmd = web->add_subcommand("serve", "Serve a directory over HTTP with its files read through DVS endpoints "
                                           "until SIGINT/SIGTERM or --duration");
  cmd->add_option("--root", o->root, "Directory served (required)")->required();
  cmd->add_option("--layout", o->layout, "A (direct), B (via file server), C (+ disk server) on node 0; D (disk on "
                                         "node 1), E (file server on node 1), F (file + disk server on node 1) "
                                         "(default B)");
  cmd->add_option("--fs-node", o->fs_node, "Override the layout: file server on node 0 or 1, -1 none");
  cmd->add_option("--disk-node", o->disk_node, "Override the layout: disk server on node 0 or 1, -1 none");
  cmd->add_option("--fs-servers", o->fs_servers, "File server processes (endpoints) in the pool (default 2)");
  cmd->add_option("--disk-servers", o->disk_servers, "Disk server processes (endpoints) in the pool (default 2)");
  cmd->add_option("--fs-cache", o->fs_cache, 
                  "File server cache (with disk servers): bytes of small files (<= 64 KiB each) kept; "
                  "0: off, every read reaches a disk server (default 8388608)");
  cmd->add_option("--fs-cache-ttl-ms", o->fs_cache_ttl_ms, "A cached file is used at most this long after it was fetched (default 1000)");
  cli::add_wait_option(cmd, &o->wait, "the front end's endpoints");
  cmd->add_option("--transport", o->transport, "Link between the nodes when the layout spans two: a transport of `dvs transports` (default tcp)");
  cmd->add_flag("--netns", o->netns, "Two-node layouts: each node's dvsd in its own network namespace (tcp; root)");
  cmd->add_option("--host", o->host, "IPv4 address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", o->port, "TCP port, 0: any free one (default 8080)");
  cmd->add_option("--workers", o->workers, "Worker threads, an endpoint each: requests served at once; connections "
                                           "waiting for their client hold none (default 8)");
  cmd->add_option("--chunk", o->chunk, "Bytes per vcopy (default 1048576)");
  cmd->add_option("--request-timeout-ms", o->request_timeout_ms, "A request must arrive within this (default 5000)");
  cmd->add_option("--idle-timeout-ms", o->idle_timeout_ms, "Keep-alive connections idle this long close (default 5000)");
  cmd->add_option("--send-timeout-ms", o->send_timeout_ms,
                  "A connection whose client takes none of its answer this long closes (default 5000)");
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds (default 0: until SIGINT/SIGTERM)");
  cmd->add_option("--dir", o->dir, "Directory for dvsd logs and sockets (default /tmp/dvs-web-<pid>)");
  cli::add_dvsd_option(cmd, &o->dvsd_path);

  state->serve = cmd;
  metrics::add_workload_metrics_option(cmd);

  auto* bc = web->add_subcommand("bench", "Small files: wrk against dvs web and Debian's nginx on the same files, "
                                          "alternately, in the same run (requests/s ratio). --large: one large "
                                          "file across two nodes by curl against the raw TCP stream between the "
                                          "nodes' namespaces (MB/s ratio). results/runs/<run-id>/");
  bc->add_option("--scenario", b->scenario, "TOML file whose [web] keys are these options "
                                            "(harness/scenarios/web-*.toml); the command line wins")
      ->check(CLI::ExistingFile);
  bc->add_option("--root", b->root, "Directory served (default: a generated one with file.bin)");
  bc->add_option("--path", b->path, "URL path requested with --root (required with it)");
  bc->add_option("--file-bytes", b->file_bytes, "Size of the generated small file (default 1024)");
  bc->add_option("--layout,--layouts", b->layouts, "Layouts measured in turn, e.g. B or BC or A,B,C (default B; "
                                                   "with --large DEF)");
  bc->add_option("--fs-servers", b->fs_servers, "File server processes in the pool (default 2)");
  bc->add_option("--disk-servers", b->disk_servers, "Disk server processes in the pool (default 2)");
  bc->add_option("--fs-cache", b->fs_cache, 
                  "File server cache (with disk servers): bytes of small files (<= 64 KiB each) kept; "
                  "0: off, every read reaches a disk server (default 8388608)");
  bc->add_option("--fs-cache-ttl-ms", b->fs_cache_ttl_ms, "A cached file is used at most this long after it was fetched (default 1000)");
  cli::add_wait_option(bc, &b->wait, "the front end's endpoints");
  cli::add_wait_option(bc, &b->server_wait, "the file and disk servers' endpoints", "--server-wait");
  cli::add_spin_ns_option(bc, &b->spin_ns);
  bc->add_option("--transport", b->transport, "Link between the nodes for D..F: a transport of `dvs transports` (default tcp)");
  bc->add_option("--connections", b->connections, "wrk -c (default 16)");
  bc->add_option("--workers", b->workers, "Front end worker threads (endpoints): requests served at once (default 8)");
  bc->add_option("--threads", b->threads, "wrk -t (default 2)");
  bc->add_option("--duration", b->duration_s, "wrk -d seconds, each server and repetition (default 5)");
  bc->add_option("--repetitions", b->repetitions, "Runs of each layout (and of its nginx / raw TCP pair) (default 3)");
  bc->add_option("--chunk", b->chunk, "Bytes per vcopy (default 1048576)");
  bc->add_flag("--large", b->large, "One large file (--large-bytes) by curl per repetition against the raw TCP "
                                    "stream between the two nodes (default layouts DEF, namespaces)");
  bc->add_option("--large-bytes", b->large_bytes, "Size of the large file (default 104857600)");
  bc->add_flag("--no-netns", b->no_netns, "--large: nodes on loopback instead of separate network namespaces");
  bc->add_option("--name", b->name, "Run id suffix (default web; a scenario's [scenario] name)");
  cli::add_out_option(bc, &b->out_dir, "results/runs");
  bc->add_option("--dir", b->dir, "Work directory: served root, sockets, logs, nginx (default /tmp/dvs-web-bench-<pid>, "
                                  "removed at the end)");
  cli::add_dvsd_option(bc, &b->dvsd_path);
  state->bench = bc;
}

}  // namespace

cli::Command make_web_command() {
  auto state = std::make_shared<WebCommand>();
  cli::Command c;
  c.name = "web";
  c.help = "Web-server workload: HTTP/1.1 front end -> file server -> disk server over DVS endpoints, "
           "configurations A-F (docs/WEB.md)";
  c.add_options = [state](CLI::App* web) { add_web_options(web, state.get()); };
  c.run = [state] {
    try {
      if (state->bench->parsed()) return run_web_bench(state->bench, &state->b);
      return run_serve(&state->o);
    } catch (const UsageError& e) {
      std::fflush(stdout);
      fmt::print(stderr, "dvs web {}: error: {}\n", e.cmd, e.msg);
      return 2;
    }
  };
  return c;
}

}  // namespace dvs::web
