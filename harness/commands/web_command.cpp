// `dvs web serve` and `dvs web bench`: the command's subcommands and dispatch (web_command.hpp).
#include "harness/commands/web_command.hpp"

#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "harness/commands/web/web_bench.hpp"
#include "harness/commands/web/web_options.hpp"
#include "harness/commands/web/web_serve.hpp"

namespace dvs::web {

namespace {

// The parsed command: `web serve` (serve_options) or `web bench` (bench_options).
struct WebCommand {
  ServeOptions serve_options;
  BenchOptions bench_options;
  CLI::App* bench = nullptr;
};

void add_web_options(CLI::App* web, WebCommand* state) {
  web->require_subcommand(1);
  add_serve_options(web->add_subcommand("serve", "Serve a directory over HTTP with its files read through DVS "
                                                 "endpoints until SIGINT/SIGTERM or --duration"),
                    &state->serve_options);
  state->bench = web->add_subcommand("bench", "Small files: wrk against dvs web and Debian's nginx on the same files, "
                                              "alternately, in the same run (requests/s ratio). --large: one large "
                                              "file across two nodes by curl against the raw TCP stream between the "
                                              "nodes' namespaces (MB/s ratio). results/runs/<run-id>/");
  add_bench_options(state->bench, &state->bench_options);
}

int run_web(WebCommand* state) {
  if (state->bench->parsed()) {
    check_bench_options(state->bench, &state->bench_options);
    return run_web_bench(state->bench_options);
  }
  return serve(state->serve_options, serve_config(state->serve_options));
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
      return run_web(state.get());
    } catch (const UsageError& e) {
      std::fflush(stdout);
      fmt::print(stderr, "dvs web {}: error: {}\n", e.cmd, e.msg);
      return 2;
    }
  };
  return c;
}

}  // namespace dvs::web
