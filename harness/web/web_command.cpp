// `dvs web serve` (see web_command.hpp, docs/WEB.md).
#include "web/web_command.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "measure/clock.hpp"

namespace dvs::web {

namespace wl = workloads::web;

std::string WebNodes::up(const std::string& transport, wl::WebConfig* cfg) {
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
  if (transport != "tcp" && transport != "shm") return fmt::format("transport must be tcp or shm, not '{}'", transport);
  cli::NodePairOptions po;
  po.transport = transport;
  po.copylen = copylen;
  if (err = pair_.ensure(po); !err.empty()) return err;
  cfg->sockets[0] = pair_.socket(0);
  cfg->sockets[1] = pair_.socket(1);
  return "";
}

namespace {

struct Options {
  std::string root, layout = "B", transport = "tcp", host = "127.0.0.1", dvsd_path, dir;
  int fs_node = -2, disk_node = -2, port = 8080, workers = 16;
  size_t chunk = size_t{1} << 20;
  int request_timeout_ms = 5000, idle_timeout_ms = 5000;
  double duration_s = 0;
};

std::atomic<int> g_signal{0};

[[noreturn]] void usage_exit(const char* cmd, const std::string& e) {
  fmt::print(stderr, "dvs web {}: error: {}\n", cmd, e);
  std::fflush(stderr);
  std::exit(2);
}

[[noreturn]] void finish(int rc) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::exit(rc);
}

wl::WebConfig config_of_layout(const char* cmd, const std::string& layout) {
  wl::WebConfig cfg;
  if (layout.size() != 1 || !wl::layout_of(layout[0], &cfg.layout))
    usage_exit(cmd, fmt::format("--layout must be one of A B C D E F, not '{}'", layout));
  cfg.sockets[0] = cfg.sockets[1] = "-";  // filled once the nodes are up
  return cfg;
}

// dvsd, the nodes of cfg's layout, the web server's processes. "" or why not.
std::string bring_up(const std::string& dvsd_path, const std::string& dir, const std::string& transport,
                     std::unique_ptr<WebNodes>* nodes, wl::WebConfig* cfg, wl::WebServer* server) {
  std::string tried, err;
  const std::string bin = cli::find_dvsd(dvsd_path, &tried);
  if (bin.empty()) return fmt::format("no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)", tried);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  *nodes = std::make_unique<WebNodes>(bin, dir);
  if (err = (*nodes)->up(transport, cfg); !err.empty()) return err;
  if (!server->start(*cfg, &err)) return err;
  return "";
}
void on_signal(int s) { g_signal.store(s); }

int serve(const Options& o, wl::WebConfig cfg) {
  const std::string dir = o.dir.empty() ? fmt::format("/tmp/dvs-web-{}", getpid()) : o.dir;
  std::unique_ptr<WebNodes> nodes;
  wl::WebServer server;
  if (auto e = bring_up(o.dvsd_path, dir, o.transport, &nodes, &cfg, &server); !e.empty()) {
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

struct BenchOptions {
  std::string root, layout = "B", transport = "tcp", dvsd_path, dir, path;
  int connections = 16, threads = 2;
  size_t file_bytes = 1024;
  double duration_s = 5;
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

struct WrkResult {
  double rps = -1, mb_s = -1;
  std::string p50, p99, text;
};

// One bounded wrk run against url.
WrkResult run_wrk(const BenchOptions& o, const std::string& url) {
  WrkResult r;
  const std::string cmd = fmt::format("timeout {} wrk -t{} -c{} -d{}s --latency '{}' 2>&1", int(o.duration_s) + 20,
                                      o.threads, o.connections, o.duration_s, url);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char line[512];
  while (fgets(line, sizeof line, p) != nullptr) {
    const std::string l = line;
    r.text += l;
    double v = 0;
    char unit[16] = {0};
    if (std::sscanf(line, "Requests/sec: %lf", &v) == 1) r.rps = v;
    if (std::sscanf(line, "Transfer/sec: %lf%15s", &v, unit) == 2)
      r.mb_s = v * (unit[0] == 'G' ? 1024 : unit[0] == 'K' ? 1.0 / 1024 : unit[0] == 'M' ? 1 : 1.0 / 1048576);
    if (std::sscanf(line, " 50%% %15s", unit) == 1) r.p50 = unit;
    if (std::sscanf(line, " 99%% %15s", unit) == 1) r.p99 = unit;
  }
  pclose(p);
  return r;
}

int bench(const BenchOptions& o, wl::WebConfig cfg) {
  if (std::system("command -v wrk >/dev/null && command -v nginx >/dev/null") != 0) {
    fmt::print(stderr, "dvs web bench: error: wrk and nginx are needed (harness/scripts/install-deps.sh)\n");
    return 1;
  }
  const std::string dir = o.dir.empty() ? fmt::format("/tmp/dvs-web-bench-{}", getpid()) : o.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir + "/nginx", ec);
  std::string path = o.path;
  if (cfg.root.empty()) {  // a generated file of --file-bytes
    cfg.root = dir + "/root";
    std::filesystem::create_directories(cfg.root, ec);
    std::ofstream(cfg.root + "/file.bin", std::ios::binary) << std::string(o.file_bytes, 'd');
    path = "/file.bin";
  }
  std::unique_ptr<WebNodes> nodes;
  wl::WebServer server;
  if (auto e = bring_up(o.dvsd_path, dir, o.transport, &nodes, &cfg, &server); !e.empty()) {
    fmt::print(stderr, "dvs web bench: error: {}\n", e);
    return 1;
  }
  // nginx from Debian serving the same root on the same machine.
  const int nport = free_port();
  const std::string conf = dir + "/nginx/nginx.conf";
  std::ofstream(conf) << fmt::format(
      "daemon off; master_process on; worker_processes 2; user root; pid {0}/nginx/nginx.pid;\n"
      "error_log {0}/nginx/error.log;\nevents {{ worker_connections 1024; }}\n"
      "http {{ access_log off; sendfile on; keepalive_requests 1000000; client_body_temp_path {0}/nginx;\n"
      "  proxy_temp_path {0}/nginx; fastcgi_temp_path {0}/nginx; uwsgi_temp_path {0}/nginx; scgi_temp_path {0}/nginx;\n"
      "  server {{ listen 127.0.0.1:{1}; root {2}; }} }}\n",
      dir, nport, cfg.root);
  std::fflush(nullptr);
  const pid_t ng = fork();
  if (ng == 0) {
    execlp("nginx", "nginx", "-c", conf.c_str(), "-p", (dir + "/nginx").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto stop_nginx = [&] {
    if (ng <= 0) return;
    kill(ng, SIGTERM);
    for (int i = 0; i < 100 && waitpid(ng, nullptr, WNOHANG) == 0; ++i) {
      const timespec ts{0, 20'000'000};
      nanosleep(&ts, nullptr);
    }
    kill(ng, SIGKILL);
    waitpid(ng, nullptr, 0);
  };
  if (ng < 0 || !port_accepts(nport, 5000)) {
    stop_nginx();
    fmt::print(stderr, "dvs web bench: error: nginx did not start (see {}/nginx/error.log)\n", dir);
    return 1;
  }
  fmt::print("dvs web bench: {} under wrk -t{} -c{} -d{}s; layout {} ({}); nginx {} on the same root\n", path,
             o.threads, o.connections, o.duration_s, o.layout, wl::describe(cfg.layout), nport);
  std::fflush(stdout);
  const WrkResult d = run_wrk(o, fmt::format("http://127.0.0.1:{}{}", server.port(), path));
  const std::string alive = server.check();
  const WrkResult n = run_wrk(o, fmt::format("http://127.0.0.1:{}{}", nport, path));
  stop_nginx();
  server.stop();
  if (d.rps < 0 || n.rps < 0 || !alive.empty()) {
    fmt::print(stderr, "dvs web bench: error: a run failed{}\n--- dvs web ---\n{}--- nginx ---\n{}",
               alive.empty() ? "" : ": " + alive, d.text, n.text);
    return 1;
  }
  fmt::print("  {:<8} {:>12} {:>10} {:>10} {:>10}\n", "server", "requests/s", "MiB/s", "p50", "p99");
  fmt::print("  {:<8} {:>12.0f} {:>10.2f} {:>10} {:>10}\n", "dvs web", d.rps, d.mb_s, d.p50, d.p99);
  fmt::print("  {:<8} {:>12.0f} {:>10.2f} {:>10} {:>10}\n", "nginx", n.rps, n.mb_s, n.p50, n.p99);
  fmt::print("ratio dvs/nginx: {:.3f} (requests/s)\n", d.rps / n.rps);
  return 0;
}

}  // namespace

void add_web_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* web = app.add_subcommand("web", "Web-server workload: HTTP/1.1 front end -> file server -> disk server "
                                        "over DVS endpoints, configurations A-F (docs/WEB.md)");
  web->require_subcommand(1);
  auto* cmd = web->add_subcommand("serve", "Serve a directory over HTTP with its files read through DVS endpoints "
                                           "until SIGINT/SIGTERM or --duration");
  cmd->add_option("--root", o->root, "Directory served (required)")->required();
  cmd->add_option("--layout", o->layout, "A (direct), B (via file server), C (+ disk server) on node 0; D (disk on "
                                         "node 1), E (file server on node 1), F (file + disk server on node 1) "
                                         "(default B)");
  cmd->add_option("--fs-node", o->fs_node, "Override the layout: file server on node 0 or 1, -1 none");
  cmd->add_option("--disk-node", o->disk_node, "Override the layout: disk server on node 0 or 1, -1 none");
  cmd->add_option("--transport", o->transport, "Link between the nodes when the layout spans two: tcp or shm (default tcp)");
  cmd->add_option("--host", o->host, "IPv4 address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", o->port, "TCP port, 0: any free one (default 8080)");
  cmd->add_option("--workers", o->workers, "Connections served at once, one thread and endpoint each (default 16)");
  cmd->add_option("--chunk", o->chunk, "Bytes per vcopy (default 1048576)");
  cmd->add_option("--request-timeout-ms", o->request_timeout_ms, "A request must arrive within this (default 5000)");
  cmd->add_option("--idle-timeout-ms", o->idle_timeout_ms, "Keep-alive connections idle this long close (default 5000)");
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds (default 0: until SIGINT/SIGTERM)");
  cmd->add_option("--dir", o->dir, "Directory for dvsd logs and sockets (default /tmp/dvs-web-<pid>)");
  cmd->add_option("--dvsd", o->dvsd_path, "dvsd binary (default: $DVSD_BIN, else <build>/core/dvsd beside this binary)");
  cmd->callback([o] {
    wl::WebConfig cfg = config_of_layout("serve", o->layout);
    cfg.root = o->root;
    if (o->fs_node != -2) cfg.layout.fs_node = o->fs_node;
    if (o->disk_node != -2) cfg.layout.disk_node = o->disk_node;
    cfg.host = o->host;
    cfg.port = o->port;
    cfg.workers = o->workers;
    cfg.chunk = o->chunk;
    cfg.request_timeout_ms = o->request_timeout_ms;
    cfg.idle_timeout_ms = o->idle_timeout_ms;
    if (auto e = wl::validate(cfg); !e.empty()) usage_exit("serve", e);
    if (!(o->duration_s >= 0)) usage_exit("serve", "--duration must be >= 0");
    finish(serve(*o, cfg));
  });

  auto b = std::make_shared<BenchOptions>();
  auto* bc = web->add_subcommand("bench", "wrk against dvs web and against Debian's nginx serving the same files on "
                                          "this machine, in the same run; prints the requests/s ratio");
  bc->add_option("--root", b->root, "Directory served (default: a generated one with file.bin of --file-bytes)");
  bc->add_option("--path", b->path, "URL path requested with --root (required with it)");
  bc->add_option("--file-bytes", b->file_bytes, "Size of the generated file (default 1024)");
  bc->add_option("--layout", b->layout, "A..F as for serve (default B)");
  bc->add_option("--transport", b->transport, "Link between the nodes for D..F: tcp or shm (default tcp)");
  bc->add_option("--connections", b->connections, "wrk -c, also the front end's workers (default 16)");
  bc->add_option("--threads", b->threads, "wrk -t (default 2)");
  bc->add_option("--duration", b->duration_s, "wrk -d seconds, each server (default 5)");
  bc->add_option("--dir", b->dir, "Directory for logs, sockets, nginx (default /tmp/dvs-web-bench-<pid>)");
  bc->add_option("--dvsd", b->dvsd_path, "dvsd binary (default: $DVSD_BIN, else <build>/core/dvsd beside this binary)");
  bc->callback([b] {
    auto usage = [](const std::string& e) { usage_exit("bench", e); };
    wl::WebConfig cfg = config_of_layout("bench", b->layout);
    if (!b->root.empty() && (b->path.empty() || b->path[0] != '/')) usage("--root needs --path /FILE");
    if (b->file_bytes > (size_t{1} << 30)) usage("--file-bytes must be at most 1 GiB");
    if (b->connections < 1 || b->connections > 128) usage("--connections must be 1..128");
    if (b->threads < 1 || b->threads > b->connections) usage("--threads must be 1..connections");
    if (!(b->duration_s >= 1 && b->duration_s <= 600)) usage("--duration must be 1..600 s");
    cfg.root = b->root.empty() ? "/" : b->root;  // checked here, generated later
    cfg.workers = b->connections;
    cfg.port = 0;
    if (auto e = wl::validate(cfg); !e.empty()) usage(e);
    cfg.root = b->root;
    finish(bench(*b, cfg));
  });
}

}  // namespace dvs::web
