// The options of `dvs web serve` and `dvs web bench`: their declarations (each once), their
// checks and the web server configuration they make (docs/WEB.md).
#ifndef DVS_HARNESS_COMMANDS_WEB_WEB_OPTIONS_HPP
#define DVS_HARNESS_COMMANDS_WEB_WEB_OPTIONS_HPP

#include <cstddef>
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "dvs/dvs.h"
#include "workloads/web/web.hpp"

namespace dvs::web {

// Bad input to `dvs web CMD`, thrown before anything starts: make_web_command's run prints
// "dvs web CMD: error: MSG" and returns 2.
struct UsageError {
  const char* cmd;
  std::string msg;
};
[[noreturn]] void usage_error(const char* cmd, const std::string& msg);

// The web server's settings both subcommands take.
struct ServerOptions {
  std::string transport = "tcp";  // link between two nodes: a transport of `dvs transports`
  std::string wait = "block";     // the front end's endpoints
  int workers = 8, fs_servers = 2, disk_servers = 2, fs_cache_ttl_ms = 1000;
  size_t chunk = size_t{1} << 20, fs_cache = size_t{8} << 20;
};

struct ServeOptions {
  ServerOptions server;
  std::string root, layout = "B", host = "127.0.0.1", dvsd_path, dir;
  int fs_node = -2, disk_node = -2, port = 8080;  // -2: the layout's
  int request_timeout_ms = 5000, idle_timeout_ms = 5000, send_timeout_ms = 5000;
  double duration_s = 0;  // 0: until SIGINT/SIGTERM
  bool netns = false;
};

struct BenchOptions {
  ServerOptions server;
  std::string scenario, name = "web", description, root, path, layouts, dvsd_path, dir, out_dir,
      server_wait = "block", argv_line;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;
  int connections = 16, threads = 2, repetitions = 3;
  size_t file_bytes = 1024;
  uint64_t large_bytes = 100u << 20;
  double duration_s = 5;
  bool large = false, no_netns = false;
  bool fail_on_criteria = false;  // exit 1 when a layout's criterion is MISSED (--fail-on-criteria)
};

void add_serve_options(CLI::App* cmd, ServeOptions* o);
void add_bench_options(CLI::App* cmd, BenchOptions* o);

// "block" -> DVS_WAIT_BLOCK; -1 if not a wait strategy's name.
int wait_of(const std::string& name);

// serve's configuration from its options; throws UsageError("serve") if they are bad.
workloads::web::WebConfig serve_config(const ServeOptions& o);

// Checks bench's options (cmd: the parsed `web bench`) after applying its --scenario file, and
// makes b->layouts upper-case letters only; throws UsageError("bench") if they are bad.
void check_bench_options(CLI::App* cmd, BenchOptions* b);

// The web server's configuration of one bench layout: b's settings, root served, a free port.
workloads::web::WebConfig bench_config(const BenchOptions& b, char layout, const std::string& root);

}  // namespace dvs::web

#endif
