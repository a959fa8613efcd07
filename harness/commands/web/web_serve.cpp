// `dvs web serve`: see web_serve.hpp.
#include "harness/commands/web/web_serve.hpp"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "harness/commands/web/web_nodes.hpp"
#include "workloads/measure/clock.hpp"

namespace dvs::web {

namespace wl = workloads::web;

namespace {

std::atomic<int> g_signal{0};
void on_signal(int s) { g_signal.store(s); }

}  // namespace

int serve(const ServeOptions& o, wl::WebConfig cfg) {
  const std::string dir = o.dir.empty() ? fmt::format("/tmp/dvs-web-{}", getpid()) : o.dir;
  std::unique_ptr<WebNodes> nodes;
  wl::WebServer server;
  if (auto e = bring_up(o.dvsd_path, dir, o.server.transport, o.netns, &nodes, &cfg, &server); !e.empty()) {
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

}  // namespace dvs::web
