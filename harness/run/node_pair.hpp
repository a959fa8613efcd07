// Two dvsd nodes on this machine linked by one transport, as a two-node cluster
// (harness/cluster): node 1 listens (where its transport's HarnessTraits::listen_uri says, e.g.
// tcp://127.0.0.1:0), node 0 dials it, DC 0 spans both. Used by `dvs run`'s remote section,
// `dvs reproduce` and `dvs bench` for their cross-node cells. Started on first use and restarted whenever other options are asked
// for. Options: the link's transport and dvsd settings, each node's CPUs (an emulated node gets
// its own, as a real one has), and network namespaces (each node's dvsd in its own namespace
// joined by veth pairs to a bridge; transports that cross them only), in which case address()/netns_name() tell raw
// baselines where to run. Logs and sockets live in <run_dir>/pair-<K>/ (or /tmp when that path
// is too long for a UNIX socket).
#ifndef DVS_HARNESS_CLI_NODE_PAIR_HPP
#define DVS_HARNESS_CLI_NODE_PAIR_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/cluster/cluster.hpp"

namespace dvs::cli {

struct NodePairOptions {
  std::string transport = "tcp";  // a registered scheme (harness/cluster/transports.hpp)
  int batch = 0;                  // dvsd --batch (0: dvsd's default)
  int poll_us = 0;                // dvsd --poll-us (0: the proxies block)
  std::string remote_path = "proxy";  // dvsd --remote-path: "proxy" or "direct"
  std::string security = "authenticated";  // the link: "authenticated" (cluster key), "open" (--no-auth), "sealed" (--seal)
  int cpu0 = -1, cpu1 = -1;       // dvsd --cpus of node 0 / node 1 (-1: unpinned)
  uint32_t copy_chunk = 0;        // dvsd --copy-chunk (0: dvsd's default)
  uint64_t copylen = 0;           // DC 0's max_copylen (0: dvsd's default)
  bool netns = false;             // each node in its own network namespace (HarnessTraits::crosses_network_namespaces)
  bool operator==(const NodePairOptions&) const = default;
};

class NodePair {
 public:
  // bin "" or skip_reason set: every ensure() fails with that reason.
  NodePair(std::string bin, std::string run_dir, std::string skip_reason = "");
  NodePair(const NodePair&) = delete;
  NodePair& operator=(const NodePair&) = delete;
  ~NodePair() { stop(); }

  // Both nodes up with these options and their link up: "" or why not.
  std::string ensure(const NodePairOptions& o);
  // The defaults' options with this transport (bench, reproduce); batch > 0: dvsd --batch.
  std::string ensure(const std::string& transport, const std::string& remote_path = "proxy",
                     const std::string& security = "authenticated", int batch = 0) {
    NodePairOptions o = defaults_;
    o.transport = transport;
    o.remote_path = remote_path;
    o.security = security;
    if (batch > 0) o.batch = batch;
    return ensure(o);
  }
  void set_defaults(NodePairOptions o) { defaults_ = std::move(o); }
  void stop();
  bool running() const { return cluster_ != nullptr; }
  std::string socket(int node) const;
  // Node `node`'s address for raw sockets ("127.0.0.1" without namespaces) and its network
  // namespace ("" without).
  std::string address(int node) const;
  std::string netns_name(int node) const;
  // One line per pair started (the dvsd command lines), for meta.json.
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::string bin_, dir_, skip_;
  NodePairOptions defaults_, cur_;
  std::unique_ptr<cluster::Cluster> cluster_;
  int seq_ = 0;
  std::vector<std::string> lines_;
};

}  // namespace dvs::cli

#endif
