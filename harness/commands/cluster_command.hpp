// `dvs cluster up|down|status|check|default`: see docs/CLUSTERS.md.
#ifndef DVS_HARNESS_CLI_CLUSTER_COMMAND_HPP
#define DVS_HARNESS_CLI_CLUSTER_COMMAND_HPP

#include <string>

#include "harness/commands/command.hpp"

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

// `dvs cluster`; its run runs whichever of its subcommands was parsed and returns 0 ok, 1 failed,
// 2 bad input (one line on stderr).
Command make_cluster_command();

}  // namespace dvs::cli

#endif
