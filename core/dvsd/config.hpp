// Node configuration for dvsd: node id, control socket, the DCs hosted here.
// Sources: command-line DC specs ("id[,name=N][,procs=N][,tasks=N][,sysprocs=N][,copylen=B][,nodes=0+1]")
// and TOML files ([node] id/socket, [[dc]] id/name/nr_procs/nr_tasks/nr_sysprocs/max_copylen/nodes).
// Every parse function returns "" on success or a one-line message naming the bad input.
#pragma once

#include <string>
#include <vector>

#include "core/ipc/shm_table.hpp"

namespace dvs::core {

struct NodeConfig {
  int node_id = 0;
  std::string socket_path = "/run/dvs/dvsd.sock";
  std::vector<DcGeometry> dcs;
};

std::string parse_dc_spec(const std::string& spec, int node_id, DcGeometry* out);
std::string load_config_file(const std::string& path, NodeConfig* cfg);
// Checks the whole configuration (ids unique, each DC sane).
std::string validate_config(const NodeConfig& cfg);

}  // namespace dvs::core
