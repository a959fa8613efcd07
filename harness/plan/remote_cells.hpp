// The remote section of `dvs run`: two dvsd nodes on this machine linked over tcp on loopback
// (node 1 --listen tcp://127.0.0.1:0, node 0 --peer 1=<its URI>), the dvs loops across them
// (workloads/remote) and the raw TCP baselines they are compared with, measured in the same run
// with the same placement of the two measuring processes.
//
// Rows: raw TCP ping-pong (64 B, TCP_NODELAY); remote sendrec, send/receive, notify (RTT, ratio
// to TCP ping-pong p50); raw TCP stream of 1 MiB blocks; remote vcopy 1 MiB pull and push (MB/s,
// ratio to TCP stream MB/s); 1 and 8 concurrent sendrec pairs with dvsd --batch 64 and
// --batch 1 (aggregate msgs/s both directions, ratio 8 pairs / 1 pair at the same batch). The
// message loops and the pairs again on the direct remote path (dvsd --remote-path direct:
// docs/REMOTE_PATHS.md), in the same run. The remote criteria are checked on those ratios
// (remote_criteria).
#ifndef DVS_HARNESS_CLI_REMOTE_CELLS_HPP
#define DVS_HARNESS_CLI_REMOTE_CELLS_HPP

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/cluster/cluster.hpp"
#include "harness/commands/run_options.hpp"
#include "harness/plan/cells.hpp"
#include "harness/results/report.hpp"
#include "harness/run/node_pair.hpp"
#include "harness/run/private_dvsd.hpp"
#include "workloads/measure/placement.hpp"
#include "workloads/remote/remote.hpp"

namespace dvs::cli {

inline constexpr const char* kRemoteSection = "remote";

// The two dvsd nodes of the section (a NodePair over tcp), started on first use and restarted
// when another --batch is asked for. Loopback mode: plain processes, node 1 listening on
// tcp://127.0.0.1. Netns mode: each node's dvsd in its own network namespace, joined by veth
// pairs to a bridge (real separate network stacks); the raw TCP baselines then run between the
// same two namespaces (their sockets are made inside them: baselines/tcp_pair.hpp).
class RemoteNodes {
 public:
  // bin "" : every ensure() fails with skip_reason.
  RemoteNodes(std::string bin, std::string run_dir, std::string skip_reason)
      : bin_(bin), skip_(skip_reason), pair_(std::move(bin), std::move(run_dir), std::move(skip_reason)) {}

  // Node 1 (listening) and node 0 (dialing it) with dvsd --batch `batch` and --remote-path
  // `path` running and their link up: "" or why not.
  std::string ensure(int batch, const std::string& path = "proxy") {
    opt_.batch = batch;
    opt_.remote_path = path;
    return pair_.ensure(opt_);
  }
  // Options for nodes started from now on.
  void set_poll_us(int us) { opt_.poll_us = us; }  // dvsd --poll-us (0: the proxies block)
  // dvsd --cpus of each node (-1: unpinned). A node emulated on this machine gets the CPU its
  // measuring process runs on, as a real node has its own CPUs.
  void set_node_cpus(int node0_cpu, int node1_cpu) {
    opt_.cpu0 = node0_cpu;
    opt_.cpu1 = node1_cpu;
  }
  void set_copy_chunk(uint32_t bytes) { opt_.copy_chunk = bytes; }  // dvsd --copy-chunk (0: default)
  void set_netns(bool on) { opt_.netns = on; }
  bool netns() const { return opt_.netns; }
  bool pinned() const { return opt_.cpu0 >= 0 || opt_.cpu1 >= 0; }
  void stop() { pair_.stop(); }
  std::string socket(int node) const { return pair_.socket(node); }
  // cfg with the client on node 0 and the server on node 1 of the running pair: their sockets and,
  // in netns mode, their namespaces.
  workloads::remote::RemoteConfig config(workloads::remote::RemoteConfig cfg) const {
    cfg.client_socket = socket(0);
    cfg.server_socket = socket(1);
    cfg.client_netns = netns_name(0);
    cfg.server_netns = netns_name(1);
    return cfg;
  }
  // Where the raw TCP baselines run (see NodePair); netns names exist only after ensure().
  std::string address(int node) const { return pair_.address(node); }
  std::string netns_name(int node) const { return pair_.netns_name(node); }
  nlohmann::json describe() const;
  // "unpinned" or which CPU each node's dvsd is pinned to.
  std::string dvsd_threads() const;
  // "tcp://127.0.0.1 (loopback)" or "tcp between network namespaces (veth + bridge)".
  std::string network() const;

 private:
  std::string bin_, skip_;
  NodePair pair_;
  NodePairOptions opt_;
};

// "" if `dvs run` can put its remote nodes in network namespaces here, else why not.
std::string remote_netns_unavailable();

// The section's cells (filtered by o.only like the others). Skipped with skip_reason if the
// nodes cannot run.
std::vector<Cell> plan_remote_cells(const RunOptions& o, const measure::CpuPair& cpus,
                                    const std::shared_ptr<RemoteNodes>& nodes);

// The remote benchmark criteria evaluated on this run's results: [{criterion, bound, value, met}]
// (value null when a row is missing or failed).
// endpoint_wait: the remote section's endpoint wait strategy; when the endpoints poll ("spin",
// "spin-then-block") the direct path's round trip is held to 2x the raw TCP ping-pong whose ends
// poll too, else to 1.15x the blocking one.
nlohmann::json remote_criteria(const std::vector<CellResult>& results, const std::string& endpoint_wait);

// The section of the table (nothing if no remote cells ran or were planned).
void print_remote_section(std::FILE* out, const RunContext& ctx, const RunOptions& o,
                          const std::vector<CellResult>& results);

}  // namespace dvs::cli

#endif
