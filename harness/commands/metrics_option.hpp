// `--metrics-port PORT` of the long-running workload commands (`dvs rpc`, `dvs web serve`;
// docs/METRICS.md). Those commands run their endpoints on private dvsd nodes they start
// themselves; the option exports DVS_METRICS_PORT=PORT, which makes every dvsd this process
// starts record IPC metrics and serve them on 127.0.0.1:PORT+NODE (node 0 on PORT, node 1 on
// PORT+1, ...).
#pragma once

#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

namespace dvs::metrics {

inline void add_workload_metrics_option(CLI::App* cmd) {
  cmd->add_option_function<int>(
         "--metrics-port",
         [](const int& port) {
           if (port > 0) setenv("DVS_METRICS_PORT", std::to_string(port).c_str(), 1);
         },
         "Serve Prometheus metrics of the dvsd node(s) this command starts on 127.0.0.1:PORT+NODE "
         "and record IPC metrics there (default 0: off; docs/METRICS.md)")
      ->check(CLI::Range(0, 65535));
}

}  // namespace dvs::metrics
