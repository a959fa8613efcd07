// A running dvs cluster on this machine: `up` starts one dvsd per node of a cluster file, either
// as plain processes on loopback ("process" mode) or each in its own network namespace joined by
// veth pairs to a bridge in a hub namespace ("netns" mode: real separate network stacks, a private
// /24 that exists only inside those namespaces). Everything it makes is recorded in a state file
// (<state dir>/cluster.json) *before* it is made, so `down` removes it even after a partial `up`
// or a crash. Every step is bounded in time.
//
// Netns layout for cluster NAME, run id R (unique per `up`, so parallel runs never collide):
//   NAME-R-hub     bridge br0; one port v<ID> per node
//   NAME-R-n<ID>   lo + eth0 (the other end of v<ID>), address from the cluster subnet;
//                  dvsd runs here (setns in the forked child), listening on tcp://ADDR:PORT
// Process mode: a node listens once per transport its links to lower-id nodes use (a [[link.between]]
// may override the default, the higher node's `transport`); lower nodes dial the matching URI.
// Client processes need not enter a namespace: they reach their node's dvsd through its UNIX
// socket path (<state dir>/n<ID>.sock), which is shared across network namespaces.
#ifndef DVS_HARNESS_CLUSTER_CLUSTER_HPP
#define DVS_HARNESS_CLUSTER_CLUSTER_HPP

#include <sys/types.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "harness/cluster/cluster_file.hpp"

namespace dvs::cluster {

struct Veth {
  std::string ns, name;       // hub side (bridge port)
  std::string peer_ns, peer;  // node side
};

struct NodeState {
  int id = -1;
  pid_t pid = -1;
  long long starttime = -1;  // guards against pid reuse
  std::string socket, log;
  std::string listen;        // first URI it listens on ("" if it dials only)
  std::vector<std::string> listens;  // every URI it listens on, one per transport of its lower links
  std::string netns;         // netns mode: its namespace
  std::string iface;         // netns mode: its veth end ("eth0")
  std::string address;       // netns mode: its address
  std::vector<int> peers;
  std::vector<std::string> argv;  // dvsd command line (start_node reuses it)
  long long log_offset = 0;       // where the current dvsd's output starts in `log`
};

struct ClusterState {
  std::string cluster, source, run_id, mode, state_dir, dvsd, hub, subnet;
  int heartbeat_ms = 0, dead_ms = 0;
  bool complete = false;
  bool made_state_dir = false;
  std::string made_key_file;  // the cluster key `up` generated in the state dir ("" if none): down removes it
  long long created_unix = 0;
  std::vector<std::string> namespaces;  // in creation order
  std::vector<Veth> veths;
  std::vector<NodeState> nodes;         // ascending id
};

struct UpOptions {
  bool netns = false;
  std::string state_dir;   // "" = default_state_dir()
  std::string dvsd;        // "" = find_dvsd's search
  int timeout_ms = 20000;  // bound of the whole `up`
  // The dvsd processes get SIGKILL when the thread that started them exits, and the Cluster
  // object's destructor runs down() (tests). Otherwise they are detached (setsid) and outlive
  // the `dvs` command.
  bool owned = false;
  // If set and it becomes non-zero (a signal handler's flag), `up` stops, cleans up and fails.
  const volatile std::sig_atomic_t* interrupted = nullptr;
};

struct LinkStatus {
  int peer = -1;
  bool up = false;
};
struct NodeStatus {
  int id = -1;
  bool alive = false;
  std::vector<LinkStatus> links;
};

// $DVS_CLUSTER_STATE, else /tmp/dvs-cluster.
std::string default_state_dir();
// The dvsd binary, as an absolute path: explicit_path if given, else $DVSD_BIN if set, else dvsd
// beside this executable (build/bin, <prefix>/bin). "" if the one looked at is not executable;
// *tried (if not null) lists the paths looked at. The one finder of every command's --dvsd.
std::string find_dvsd_binary(const std::string& explicit_path, std::string* tried = nullptr);
// "" if this process can create network namespaces and veth pairs, else why not (one line).
std::string netns_unavailable_reason();
// The URI node `id` of spec listens on for links over `transport` (its HarnessTraits::listen_uri):
// at the node's host and port, or in netns mode (netns_address not "") at that address and
// spec.netns_port(id). `run` names this start of the cluster ("<cluster>-<run id>"); a transport
// whose listeners have names gets "<run>-n<id>". "" if transport is not registered.
std::string cluster_listen_uri(const ClusterSpec& spec, int id, const std::string& transport,
                               const std::string& netns_address, const std::string& run);

class Cluster {
 public:
  // Starts the cluster; "" and *out set, or one line saying what failed (everything made so far
  // is removed again).
  static std::string up(const ClusterSpec& spec, const UpOptions& opt, std::unique_ptr<Cluster>* out);
  // The cluster recorded in state_dir (for down/status from another process).
  static std::string load(const std::string& state_dir, std::unique_ptr<Cluster>* out);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Stops every dvsd (SIGTERM, grace_ms, then SIGKILL), deletes veths and namespaces, removes the
  // files it made. Idempotent; "" or one line listing what could not be removed.
  std::string down(int grace_ms = 5000);

  const ClusterState& state() const { return st_; }
  const NodeState* node(int id) const;
  std::string socket(int id) const;

  std::vector<NodeStatus> status();
  // Every link of every running node is up (from dvsd's log lines). *down names the first that is not.
  bool links_up(std::string* down = nullptr);
  // Polls links_up until timeout; "" or which link is not up.
  std::string wait_links(int timeout_ms);

  // Failure injection (tests): signal a node's dvsd and reap it (bounded) if sig is fatal.
  std::string kill_node(int id, int sig = SIGKILL);
  // (Re)starts a node whose dvsd is not running, with its recorded command line; waits ready.
  std::string start_node(int id, int timeout_ms = 10000);
  // netns mode: set the node's veth end (eth0, inside its namespace) down or up.
  std::string set_link(int id, bool up);
  // The last lines of a node's dvsd log (diagnostics).
  std::string log_tail(int id, int lines = 20) const;

 private:
  Cluster() = default;
  std::string save() const;
  std::string make_netns(const ClusterSpec& spec, long long deadline);
  std::string launch(NodeState& n, long long deadline);
  std::string link_status(const NodeState& n, std::vector<LinkStatus>* out) const;

  ClusterState st_;
  bool owned_ = false;
  bool down_done_ = false;
  const volatile std::sig_atomic_t* interrupted_ = nullptr;
};

}  // namespace dvs::cluster

#endif
