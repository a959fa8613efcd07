// `dvs web serve` and `dvs web bench`: the web-server workload (workloads/web) on a private dvsd,
// or two dvsd nodes linked by tcp or shm when the layout spans both (docs/WEB.md). Bad input: one
// line on stderr, exit 2. The pieces: harness/commands/web/ (options, nodes, serve, bench, rows,
// printing); wrk, curl and nginx as child processes: workloads/web.
#ifndef DVS_HARNESS_WEB_WEB_COMMAND_HPP
#define DVS_HARNESS_WEB_WEB_COMMAND_HPP

#include "harness/commands/command.hpp"
#include "harness/commands/web/web_nodes.hpp"
#include "workloads/web/nginx.hpp"

namespace dvs::web {

// nginx from Debian: the bench's and the tests' reference server.
using workloads::web::Nginx;

// `dvs web` with its `serve` and `bench` subcommands; its run runs the one parsed and returns its
// status (0 ok, 1 failed, 2 bad input: one line "dvs web CMD: error: ..." on stderr).
cli::Command make_web_command();

}  // namespace dvs::web

#endif
