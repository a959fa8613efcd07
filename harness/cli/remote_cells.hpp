// The remote section of `dvs run`: two dvsd nodes on this machine linked over tcp on loopback
// (node 1 --listen tcp://127.0.0.1:0, node 0 --peer 1=<its URI>), the dvs loops across them
// (workloads/remote) and the raw TCP baselines they are compared with, measured in the same run
// with the same placement of the two measuring processes.
//
// Rows: raw TCP ping-pong (64 B, TCP_NODELAY); remote sendrec, send/receive, notify (RTT, ratio
// to TCP ping-pong p50); raw TCP stream of 1 MiB blocks; remote vcopy 1 MiB pull and push (MB/s,
// ratio to TCP stream MB/s); 1 and 8 concurrent sendrec pairs with dvsd --batch 64 and
// --batch 1 (aggregate msgs/s both directions, ratio 8 pairs / 1 pair at the same batch).
// Issue 3's criteria are checked on those ratios (remote_criteria).
#ifndef DVS_HARNESS_CLI_REMOTE_CELLS_HPP
#define DVS_HARNESS_CLI_REMOTE_CELLS_HPP

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cells.hpp"
#include "cli/dvsd_process.hpp"
#include "cli/report.hpp"
#include "cli/run_options.hpp"
#include "measure/placement.hpp"

namespace dvs::cli {

inline constexpr const char* kRemoteSection = "remote";

// The two dvsd nodes, started on first use and restarted when another --batch is asked for.
class RemoteNodes {
 public:
  // bin "" : every ensure() fails with skip_reason.
  RemoteNodes(std::string bin, std::string run_dir, std::string skip_reason);
  ~RemoteNodes() { stop(); }
  RemoteNodes(const RemoteNodes&) = delete;
  RemoteNodes& operator=(const RemoteNodes&) = delete;

  // Node 1 (listening) and node 0 (dialing it) with dvsd --batch `batch` running: "" or why not.
  std::string ensure(int batch);
  // dvsd --poll-us for nodes started from now on (0: the proxies block).
  void set_poll_us(int us) { poll_us_ = us; }
  void stop();
  const std::string& socket(int node) const { return node == 0 ? n0_.socket_path() : n1_.socket_path(); }
  const std::string& node1_uri() const { return uri_; }
  // "dvsd <bin>: node 0 --peer 1=tcp://127.0.0.1:PORT, node 1 --listen ..., heartbeat 500 ms"
  nlohmann::json describe() const;

 private:
  std::string bin_, run_dir_, skip_;
  DvsdProcess n0_, n1_;
  int batch_ = 0;
  int poll_us_ = 0;
  std::string uri_;
  std::vector<std::string> started_;  // one line per pair started, for meta.json
};

// The section's cells (filtered by o.only like the others). Skipped with skip_reason if the
// nodes cannot run.
std::vector<Cell> plan_remote_cells(const RunOptions& o, const measure::CpuPair& cpus,
                                    const std::shared_ptr<RemoteNodes>& nodes);

// Issue 3's benchmark criteria evaluated on this run's results: [{criterion, bound, value, met}]
// (value null when a row is missing or failed).
nlohmann::json remote_criteria(const std::vector<CellResult>& results);

// The section of the table (nothing if no remote cells ran or were planned).
void print_remote_section(std::FILE* out, const RunContext& ctx,
                          const std::vector<CellResult>& results);

}  // namespace dvs::cli

#endif
