// NodePair: see node_pair.hpp.
#include "harness/run/node_pair.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/cluster/transports.hpp"

namespace dvs::cli {

namespace {
constexpr const char* kHost = "127.0.0.1";
constexpr size_t kMaxStateDir = 90;  // + "/n0.sock" must fit a UNIX socket path
}  // namespace

NodePair::NodePair(std::string bin, std::string run_dir, std::string skip_reason)
    : bin_(std::move(bin)), dir_(std::move(run_dir)), skip_(std::move(skip_reason)) {
  if (skip_.empty() && bin_.empty()) skip_ = "no dvsd binary";
}

std::string NodePair::ensure(const NodePairOptions& o) {
  if (!skip_.empty()) return skip_;
  if (cluster_ && o == cur_) return "";
  stop();
  const transport::HarnessTraits* traits = cluster::node_transport_traits(o.transport);
  if (traits == nullptr) return "node pair: unknown transport '" + o.transport + "'";
  if (o.netns && !traits->crosses_network_namespaces)
    return "node pair: " + o.transport + " links do not cross network namespaces";
  // The embedded default cluster (harness/clusters/two-node.toml, what `dvs cluster up` starts
  // without a file), with this pair's options applied on top of it.
  cluster::ClusterSpec spec;
  if (auto err = cluster::parse_cluster_text(cluster::default_cluster_text(), cluster::kDefaultClusterSource, &spec);
      !err.empty())
    return "node pair: the embedded cluster file: " + err;
  if (spec.nodes.size() != 2 || spec.dcs.empty())
    return "node pair: the embedded cluster file does not have two nodes and a DC";
  spec.name = "dvspair";
  spec.source = std::string(cluster::kDefaultClusterSource) + " as dvs run/bench/reproduce's node pair";
  for (cluster::NodeSpec& n : spec.nodes) {
    n.host = kHost;
    n.transport = o.transport;
    const int cpu = n.id == 0 ? o.cpu0 : o.cpu1;
    if (cpu >= 0) n.cpus = std::to_string(cpu);
  }
  spec.dcs.resize(1);
  cluster::DcSpec& dc = spec.dcs[0];
  if (o.copylen > 0) dc.max_copylen = static_cast<int64_t>(o.copylen);
  spec.link.batch = o.batch;
  spec.link.poll_us = o.poll_us;
  spec.link.remote_path = o.remote_path;
  spec.link.auth = o.security != "open";
  spec.link.seal = o.security == "sealed";
  spec.link.copy_chunk = static_cast<int>(o.copy_chunk);
  cluster::UpOptions up;
  up.netns = o.netns;
  up.dvsd = bin_;
  up.owned = true;
  up.state_dir = fmt::format("{}/pair-{}", dir_, ++seq_);
  if (up.state_dir.size() > kMaxStateDir) up.state_dir = fmt::format("/tmp/dvs-pair-{}-{}", getpid(), seq_);
  if (auto err = cluster::Cluster::up(spec, up, &cluster_); !err.empty()) {
    cluster_.reset();
    return "the two dvsd nodes did not start: " + err;
  }
  if (auto err = cluster_->wait_links(10'000); !err.empty()) {
    stop();
    return "the two dvsd nodes did not link: " + err;
  }
  cur_ = o;
  std::string line = fmt::format("{} link{}:", o.transport, o.netns ? " between network namespaces" : "");
  for (const auto& n : cluster_->state().nodes)
    line += fmt::format(" node {}{}: {};", n.id, n.netns.empty() ? "" : " (netns " + n.netns + ", " + n.address + ")",
                        fmt::join(n.argv, " "));
  lines_.push_back(line + " logs in " + up.state_dir);
  return "";
}

void NodePair::stop() {
  if (cluster_) (void)cluster_->down(2000);
  cluster_.reset();
}

std::string NodePair::socket(int node) const { return cluster_ ? cluster_->socket(node) : std::string(); }

std::string NodePair::address(int node) const {
  if (!cur_.netns) return kHost;
  const cluster::NodeState* n = cluster_ ? cluster_->node(node) : nullptr;
  return n ? n->address : std::string();
}

std::string NodePair::netns_name(int node) const {
  const cluster::NodeState* n = cluster_ ? cluster_->node(node) : nullptr;
  return n ? n->netns : std::string();
}

}  // namespace dvs::cli
