// Two dvsd nodes on this machine linked by one transport: node 1 listens (tcp://127.0.0.1:0, or
// shm://<unique name>), node 0 dials it; used by `dvs reproduce` and `dvs bench` for their
// cross-node cells. Started on first use, restarted when another transport is asked for; logs
// <run_dir>/dvsd-<transport>-node<K>.log. (`dvs run`'s remote section has its own tcp-only pair
// with --batch control: cli/remote_cells.hpp, RemoteNodes.)
#ifndef DVS_HARNESS_CLI_NODE_PAIR_HPP
#define DVS_HARNESS_CLI_NODE_PAIR_HPP

#include <string>
#include <vector>

#include "cli/dvsd_process.hpp"

namespace dvs::cli {

class NodePair {
 public:
  // bin "" : every ensure() fails with "no dvsd binary".
  NodePair(std::string bin, std::string run_dir) : bin_(std::move(bin)), dir_(std::move(run_dir)) {}
  NodePair(const NodePair&) = delete;
  NodePair& operator=(const NodePair&) = delete;
  ~NodePair() { stop(); }

  // Both nodes up and linked over `transport` ("tcp" or "shm"): "" or why not.
  std::string ensure(const std::string& transport);
  // More dvsd arguments for both nodes from the next start on (e.g. --dc 0,copylen=N).
  void set_extra_args(std::vector<std::string> args) { extra_ = std::move(args); }
  void stop();
  const std::string& socket(int node) const { return node == 0 ? n0_.socket_path() : n1_.socket_path(); }
  // One line per pair started (command lines), for meta.json.
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::string bin_, dir_, cur_;
  int seq_ = 0;
  DvsdProcess n0_, n1_;
  std::vector<std::string> extra_;
  std::vector<std::string> lines_;
};

}  // namespace dvs::cli

#endif
