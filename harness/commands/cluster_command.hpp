// `dvs cluster up|down|status|check|default`: see docs/CLUSTERS.md.
#ifndef DVS_HARNESS_CLI_CLUSTER_COMMAND_HPP
#define DVS_HARNESS_CLI_CLUSTER_COMMAND_HPP

#include <string>

namespace CLI {
class App;
}

namespace dvs::cli {

struct ClusterOptions {
  std::string file;       // "" = the embedded two-node cluster
  bool netns = false;
  std::string state_dir;  // "" = $DVS_CLUSTER_STATE, else /tmp/dvs-cluster
  std::string dvsd;
  double timeout_s = 20;
  std::string remote_path;  // "" = the cluster file's; "proxy" | "direct" for every link
  bool json = false;
};

// Adds the `cluster` subcommand to app; returns it. run_cluster_command runs whichever of its
// subcommands was parsed; exit status 0 ok, 1 failed, 2 bad input (one line on stderr).
CLI::App* add_cluster_command(CLI::App& app, ClusterOptions* o);
int run_cluster_command(CLI::App* cluster, const ClusterOptions& o);

}  // namespace dvs::cli

#endif
