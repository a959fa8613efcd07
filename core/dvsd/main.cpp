// dvsd — the dvs node daemon. Usage:
//   dvsd --node N --socket PATH [--config FILE.toml] [--dc SPEC]...
// SPEC = id[,name=NAME][,procs=N][,tasks=N][,sysprocs=N][,copylen=BYTES]. Without --dc and
// without DCs in the config, DC 0 with the original's defaults (221 procs, 35 tasks, 64 sysprocs).
// Prints "dvsd: node N ready on PATH" once it accepts clients; SIGTERM/SIGINT end it (exit 0).
// Bad input: one line on stderr naming the problem, exit 2.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/dvsd/server.hpp"
#include "core/shm_table.hpp"

namespace {
dvs::dvsd::Server* g_server = nullptr;
void on_signal(int) {
  if (g_server) g_server->stop();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dvsd: the dvs node daemon (control plane of the M3-IPC re-creation)"};
  int node = 0;
  std::string socket_path;
  std::string config_file;
  std::vector<std::string> dc_specs;
  bool node_set = false;
  app.add_option("--node", node, "node id 0..31")->check(CLI::Range(0, 31))->each([&](const std::string&) { node_set = true; });
  app.add_option("--socket", socket_path, "control socket path (default /run/dvs/dvsd.sock)");
  app.add_option("--config", config_file, "node configuration file (TOML)")->check(CLI::ExistingFile);
  app.add_option("--dc", dc_specs, "DC to host: id[,name=N][,procs=N][,tasks=N][,sysprocs=N][,copylen=B]");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "dvsd: %s\n", e.what());
    return 2;
  }

  dvs::core::NodeConfig cfg;
  if (!config_file.empty()) {
    if (auto err = dvs::core::load_config_file(config_file, &cfg); !err.empty()) {
      std::fprintf(stderr, "dvsd: %s\n", err.c_str());
      return 2;
    }
  }
  if (node_set || config_file.empty()) cfg.node_id = node;
  if (!socket_path.empty()) cfg.socket_path = socket_path;
  for (const auto& spec : dc_specs) {
    dvs::core::DcGeometry g;
    if (auto err = dvs::core::parse_dc_spec(spec, cfg.node_id, &g); !err.empty()) {
      std::fprintf(stderr, "dvsd: %s\n", err.c_str());
      return 2;
    }
    cfg.dcs.push_back(g);
  }
  if (cfg.dcs.empty()) {
    dvs::core::DcGeometry g;
    dvs::core::parse_dc_spec("0", cfg.node_id, &g);
    cfg.dcs.push_back(g);
  }
  for (auto& g : cfg.dcs) {
    g.node_id = cfg.node_id;
    g.nodes |= 1u << cfg.node_id;
  }

  // dvsd must never stall on a slot lock whose bytes a client corrupted: short lock bound.
  dvs::core::set_lock_bound_ns(100'000'000);
  dvs::dvsd::Server server(cfg);
  if (auto err = server.start(); !err.empty()) {
    std::fprintf(stderr, "dvsd: %s\n", err.c_str());
    return 2;
  }
  g_server = &server;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::printf("dvsd: node %d ready on %s\n", cfg.node_id, cfg.socket_path.c_str());
  std::fflush(stdout);
  int rc = server.run();
  g_server = nullptr;
  return rc;
}
