// The options of `dvs web serve` and `dvs web bench`: see web_options.hpp.
#include "harness/commands/web/web_options.hpp"

#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/commands/common_options.hpp"
#include "harness/commands/metrics_option.hpp"
#include "harness/plan/option_scenario.hpp"
#include "harness/results/machine_info.hpp"
#include "workloads/pingpong/pingpong.hpp"

namespace dvs::web {

namespace wl = workloads::web;

void usage_error(const char* cmd, const std::string& msg) { throw UsageError{cmd, msg}; }

int wait_of(const std::string& name) {
  const auto mode = workloads::parse_wait(name);
  return mode ? int(*mode) : -1;
}

namespace {

// "--wait must be one of spin, spin-then-block, block, not 'x'" (the options' validator catches
// it first; scenario values are checked by the same validator).
std::string bad_wait(const std::string& option, const std::string& w) {
  return fmt::format("{} must be one of {}, not '{}'", option, fmt::join(workloads::kWaitNames, ", "), w);
}

void add_server_options(CLI::App* cmd, ServerOptions* s) {
  cmd->add_option("--fs-servers", s->fs_servers, "File server processes (endpoints) in the pool (default 2)");
  cmd->add_option("--disk-servers", s->disk_servers, "Disk server processes (endpoints) in the pool (default 2)");
  cmd->add_option("--fs-cache", s->fs_cache,
                  "File server cache (with disk servers): bytes of small files (<= 64 KiB each) kept; "
                  "0: off, every read reaches a disk server (default 8388608)");
  cmd->add_option("--fs-cache-ttl-ms", s->fs_cache_ttl_ms,
                  "A cached file is used at most this long after it was fetched (default 1000)");
  cli::add_wait_option(cmd, &s->wait, "the front end's endpoints");
  cmd->add_option("--transport", s->transport,
                  "Link between the nodes when the layout spans two (D..F): a transport of `dvs transports` (default tcp)");
  cmd->add_option("--workers", s->workers, "Front end worker threads, an endpoint each: requests served at once; "
                                           "connections waiting for their client hold none (default 8)");
  cmd->add_option("--chunk", s->chunk, "Bytes per vcopy (default 1048576)");
}

// cfg's server settings from s; the wait strategy checked.
void apply_server_options(const char* cmd, const ServerOptions& s, wl::WebConfig* cfg) {
  cfg->workers = s.workers;
  cfg->chunk = s.chunk;
  cfg->fs_servers = s.fs_servers;
  cfg->disk_servers = s.disk_servers;
  cfg->fs_cache_bytes = s.fs_cache;
  cfg->fs_cache_ttl_ms = s.fs_cache_ttl_ms;
  cfg->front_wait = wait_of(s.wait);
  if (cfg->front_wait < 0) usage_error(cmd, bad_wait("--wait", s.wait));
}

}  // namespace

void add_serve_options(CLI::App* cmd, ServeOptions* o) {
  cmd->add_option("--root", o->root, "Directory served (required)")->required();
  cmd->add_option("--layout", o->layout, "A (direct), B (via file server), C (+ disk server) on node 0; D (disk on "
                                         "node 1), E (file server on node 1), F (file + disk server on node 1) "
                                         "(default B)");
  cmd->add_option("--fs-node", o->fs_node, "Override the layout: file server on node 0 or 1, -1 none");
  cmd->add_option("--disk-node", o->disk_node, "Override the layout: disk server on node 0 or 1, -1 none");
  add_server_options(cmd, &o->server);
  cmd->add_flag("--netns", o->netns, "Two-node layouts: each node's dvsd in its own network namespace (tcp; root)");
  cmd->add_option("--host", o->host, "IPv4 address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", o->port, "TCP port, 0: any free one (default 8080)");
  cmd->add_option("--dir", o->dir, "Directory for dvsd logs and sockets (default /tmp/dvs-web-<pid>)");
  cli::add_dvsd_option(cmd, &o->dvsd_path);
  cmd->add_option("--request-timeout-ms", o->request_timeout_ms, "A request must arrive within this (default 5000)");
  cmd->add_option("--idle-timeout-ms", o->idle_timeout_ms, "Keep-alive connections idle this long close (default 5000)");
  cmd->add_option("--send-timeout-ms", o->send_timeout_ms,
                  "A connection whose client takes none of its answer this long closes (default 5000)");
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds (default 0: until SIGINT/SIGTERM)");
  metrics::add_workload_metrics_option(cmd);
}

void add_bench_options(CLI::App* bc, BenchOptions* b) {
  bc->add_option("--scenario", b->scenario, "TOML file whose [web] keys are these options "
                                            "(harness/scenarios/web-*.toml); the command line wins")
      ->check(CLI::ExistingFile);
  bc->add_option("--root", b->root, "Directory served (default: a generated one with file.bin)");
  bc->add_option("--path", b->path, "URL path requested with --root (required with it)");
  bc->add_option("--file-bytes", b->file_bytes, "Size of the generated small file (default 1024)");
  bc->add_option("--layout,--layouts", b->layouts, "Layouts measured in turn, e.g. B or BC or A,B,C (default B; "
                                                   "with --large DEF)");
  add_server_options(bc, &b->server);
  cli::add_wait_option(bc, &b->server_wait, "the file and disk servers' endpoints", "--server-wait");
  cli::add_spin_ns_option(bc, &b->spin_ns);
  bc->add_option("--connections", b->connections, "wrk -c (default 16)");
  bc->add_option("--threads", b->threads, "wrk -t (default 2)");
  bc->add_option("--duration", b->duration_s, "wrk -d seconds, each server and repetition (default 5)");
  bc->add_option("--repetitions", b->repetitions, "Runs of each layout (and of its nginx / raw TCP pair) (default 3)");
  bc->add_flag("--large", b->large, "One large file (--large-bytes) by curl per repetition against the raw TCP "
                                    "stream between the two nodes (default layouts DEF, namespaces)");
  bc->add_option("--large-bytes", b->large_bytes, "Size of the large file (default 104857600)");
  bc->add_flag("--no-netns", b->no_netns, "--large: nodes on loopback instead of separate network namespaces");
  bc->add_option("--name", b->name, "Run id suffix (default web; a scenario's [scenario] name)");
  cli::add_out_option(bc, &b->out_dir, "results/runs");
  cli::add_fail_on_criteria_option(bc, &b->fail_on_criteria);
  bc->add_option("--dir", b->dir, "Work directory: served root, sockets, logs, nginx (default /tmp/dvs-web-bench-<pid>, "
                                  "removed at the end)");
  cli::add_dvsd_option(bc, &b->dvsd_path);
}

wl::WebConfig serve_config(const ServeOptions& o) {
  wl::WebConfig cfg;
  if (o.layout.size() != 1 || !wl::layout_of(o.layout[0], &cfg.layout))
    usage_error("serve", fmt::format("--layout must be one of A B C D E F, not '{}'", o.layout));
  cfg.sockets[0] = cfg.sockets[1] = "-";  // filled once the nodes are up
  cfg.root = o.root;
  if (o.fs_node != -2) cfg.layout.fs_node = o.fs_node;
  if (o.disk_node != -2) cfg.layout.disk_node = o.disk_node;
  cfg.host = o.host;
  cfg.port = o.port;
  apply_server_options("serve", o.server, &cfg);
  cfg.request_timeout_ms = o.request_timeout_ms;
  cfg.idle_timeout_ms = o.idle_timeout_ms;
  cfg.send_timeout_ms = o.send_timeout_ms;
  if (auto e = wl::validate(cfg); !e.empty()) usage_error("serve", e);
  if (!(o.duration_s >= 0)) usage_error("serve", "--duration must be >= 0");
  return cfg;
}

void check_bench_options(CLI::App* bc, BenchOptions* b) {
  auto usage = [](const std::string& e) { usage_error("bench", e); };
  b->argv_line = cli::own_command_line();
  // A scenario file: [web] keys are dvs web bench's long options (option_scenario.hpp).
  if (!b->scenario.empty())
    if (auto e = cli::apply_option_scenario(bc, b->scenario, "web", "dvs web bench", &b->name, &b->description);
        !e.empty())
      usage(e);
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
  if (wait_of(b->server_wait) < 0) usage(bad_wait("--server-wait", b->server_wait));
  for (char ch : b->name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
      usage("--name: use A-Z a-z 0-9 - _ . only, not '" + b->name + "'");
  wl::WebConfig cfg = bench_config(*b, 'C', "/");  // the root is checked here, generated later
  if (auto e = wl::validate(cfg); !e.empty()) usage(e);
}

wl::WebConfig bench_config(const BenchOptions& b, char layout, const std::string& root) {
  wl::WebConfig cfg;
  wl::layout_of(layout, &cfg.layout);
  cfg.sockets[0] = cfg.sockets[1] = "-";  // filled once the nodes are up
  cfg.root = root;
  cfg.port = 0;
  apply_server_options("bench", b.server, &cfg);
  cfg.server_wait = wait_of(b.server_wait);
  cfg.spin_ns = b.spin_ns;
  return cfg;
}

}  // namespace dvs::web
