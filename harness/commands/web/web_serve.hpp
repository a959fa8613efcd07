// `dvs web serve`: the web server on its nodes until SIGINT/SIGTERM or its duration (docs/WEB.md).
#ifndef DVS_HARNESS_COMMANDS_WEB_WEB_SERVE_HPP
#define DVS_HARNESS_COMMANDS_WEB_WEB_SERVE_HPP

#include "harness/commands/web/web_options.hpp"

namespace dvs::web {

// Blocks while it serves; installs SIGINT/SIGTERM handlers that stop it. 0, or 1 when the nodes
// or the server did not start or the server failed (one line on stderr).
int serve(const ServeOptions& o, workloads::web::WebConfig cfg);

}  // namespace dvs::web

#endif
