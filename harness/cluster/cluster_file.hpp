// Cluster files (TOML): the nodes of a dvs cluster, how they are reached, the transport of each
// link (the higher node's, or a [[link.between]] override), the DCs and which nodes they span, and the
// link options. The schema is in
// docs/CLUSTERS.md. Every parse function returns "" on success or one line
// "FILE:LINE: problem" naming the file, the line and what is wrong.
#ifndef DVS_HARNESS_CLUSTER_CLUSTER_FILE_HPP
#define DVS_HARNESS_CLUSTER_CLUSTER_FILE_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dvs::cluster {

struct NodeSpec {
  int id = -1;
  std::string transport = "tcp";  // of its links to lower-id nodes: a registered scheme (cluster/transports.hpp)
  std::string host = "127.0.0.1";  // process mode: address to listen on
  int port = 0;                    // 0: process mode picks a free port at start; netns mode uses 7000
  std::string address;             // netns mode: IPv4 address inside the cluster's subnet
  std::string cpus;                // dvsd --cpus: CPUs this node's dvsd is pinned to ("" = any)
  int metrics_port = 0;            // dvsd --metrics-port (docs/METRICS.md); 0 = no metrics
  int line = 0;                    // where [[node]] starts in the file
};

struct DcSpec {
  int id = -1;
  std::string name;  // "" = dvsd's default ("dc<ID>")
  std::vector<int> nodes;
  std::optional<int64_t> nr_procs, nr_tasks, nr_sysprocs, max_copylen;
  int line = 0;
};

// A [[link.between]] table: the transport of the link between nodes a < b, overriding the default (node
// b's `transport`).
struct LinkSpec {
  int a = -1, b = -1;
  std::string transport;    // a registered scheme (cluster/transports.hpp)
  std::string remote_path;  // "proxy" | "direct" for this link; "" = [link]'s remote_path
  int line = 0;             // where [[link.between]] starts in the file
};

struct LinkOptions {
  int heartbeat_ms = 500;  // HELLO on a link idle this long
  int dead_ms = 3000;      // a link silent this long is dead
  int batch = 0;           // commands per frame; 0 = dvsd's default
  bool lz4 = false;
  int poll_us = 0;          // dvsd --poll-us; 0 = the proxies block
  int copy_chunk = 0;       // dvsd --copy-chunk (vcopy bytes per frame); 0 = dvsd's default
  // How the nodes' processes reach other nodes: "proxy" (through dvsd's dispatcher and node
  // links) or "direct" (each process on its own link; every node then listens): dvsd --remote-path.
  std::string remote_path = "proxy";
  // Link security (docs/SECURITY.md). auth: every link opens with the cluster key's challenge-
  // response (dvsd --cluster-key); false runs dvsd --no-auth. key_file: the key (relative paths
  // from the cluster file's directory); "" = cluster.key in the state directory. Either way
  // `dvs cluster up` generates the file (mode 0600) when it does not exist. seal: every frame
  // encrypted and authenticated too (dvsd --seal).
  bool auth = true;
  std::string key_file;
  bool seal = false;
};

struct ClusterSpec {
  std::string name;
  std::string source;                   // the file it came from (or "<embedded two-node.toml>")
  std::string subnet = "10.213.0.0/24";  // netns mode only; never routed outside the namespaces
  std::vector<NodeSpec> nodes;          // sorted by id
  std::vector<DcSpec> dcs;              // sorted by id
  LinkOptions link;
  std::vector<LinkSpec> links;          // [[link.between]] overrides, sorted by (a, b)

  const NodeSpec* node(int id) const;
  // Nodes that share at least one DC with `id` (ascending).
  std::vector<int> peers_of(int id) const;
  // The transport of the link between peers a and b: its [[link.between]] override, else the higher
  // node's `transport`.
  std::string link_transport(int a, int b) const;
  // The [[link.between]] override of link a-b, or null.
  const LinkSpec* link_override(int a, int b) const;
  // The remote path of the link between a and b ([[link.between]] remote_path, else [link]'s).
  std::string link_remote_path(int a, int b) const;
  // Whether any link of node id takes the direct path (the node then listens for every peer).
  bool any_direct(int id) const;
  // The transports node `id` listens on: those of its links to lower-id peers (to every peer on the
  // direct remote path, whose processes dial it), its own `transport` first (the one dvsd prints
  // first), then "tcp", "shm". Empty if it has no such peer.
  std::vector<std::string> listen_transports(int id) const;
  // DCs hosted on node `id`.
  std::vector<const DcSpec*> dcs_of(int id) const;
  // dvsd's --dc SPEC for a DC.
  static std::string dc_arg(const DcSpec& dc);
  // Address of node `id` inside the netns subnet (its `address`, else subnet base + 10 + id).
  std::string netns_address(int id) const;
  // Port a node listens on in netns mode (its `port`, else kNetnsPort).
  int netns_port(int id) const;
  static constexpr int kNetnsPort = 7000;
};

// Whether a cluster file (and so a node pair) may name transport t: a registered transport
// (cluster/transports.hpp). In netns mode only those that cross network namespaces.
bool is_cluster_transport(const std::string& t);

std::string parse_cluster_file(const std::string& path, ClusterSpec* out);
std::string parse_cluster_text(std::string_view text, const std::string& source, ClusterSpec* out);

// The default cluster (harness/clusters/two-node.toml), embedded at build time.
std::string_view default_cluster_text();
inline constexpr const char* kDefaultClusterSource = "<embedded two-node.toml>";

}  // namespace dvs::cluster

#endif
