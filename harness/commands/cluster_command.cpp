// `dvs cluster ...`: thin CLI over harness/cluster (cluster_file.hpp, cluster.hpp).
#include "harness/commands/cluster_command.hpp"

#include "core/dvsd/proxy/cluster_key.hpp"

#include <csignal>
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "harness/cluster/cluster.hpp"
#include "harness/cluster/cluster_file.hpp"
#include "harness/cluster/exec.hpp"
#include "harness/commands/common_options.hpp"

namespace dvs::cli {

namespace {

using dvs::cluster::Cluster;
using dvs::cluster::ClusterSpec;

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

int load_spec(const ClusterOptions& o, ClusterSpec* spec) {
  std::string err = o.file.empty()
                        ? dvs::cluster::parse_cluster_text(dvs::cluster::default_cluster_text(),
                                                           dvs::cluster::kDefaultClusterSource, spec)
                        : dvs::cluster::parse_cluster_file(o.file, spec);
  if (!err.empty()) {
    fmt::print(stderr, "dvs: {}\n", err);
    return 2;
  }
  return 0;
}

std::string state_dir_of(const ClusterOptions& o) {
  return o.state_dir.empty() ? dvs::cluster::default_state_dir() : o.state_dir;
}

int cmd_up(const ClusterOptions& o) {
  ClusterSpec spec;
  if (int rc = load_spec(o, &spec); rc != 0) return rc;
  if (!o.remote_path.empty()) {
    spec.link.remote_path = o.remote_path;
    for (auto& l : spec.links) l.remote_path.clear();
  }
  dvs::cluster::UpOptions uo;
  uo.netns = o.netns;
  uo.state_dir = o.state_dir;
  uo.dvsd = o.dvsd;
  uo.timeout_ms = static_cast<int>(o.timeout_s * 1000);
  // Ctrl-C or SIGTERM during `up`: stop, remove what was made, fail with one line.
  uo.interrupted = &g_interrupted;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const long long t0 = dvs::cluster::now_ms();
  std::unique_ptr<Cluster> c;
  if (auto err = Cluster::up(spec, uo, &c); !err.empty()) {
    fmt::print(stderr, "dvs: cluster up failed: {}\n", err);
    return 1;
  }
  const auto& st = c->state();
  for (const auto& n : st.nodes) {
    std::string where = n.netns.empty() ? "" : fmt::format(", netns {} ({})", n.netns, n.address);
    fmt::print("node {}: dvsd pid {}, socket {}{}{}\n", n.id, n.pid, n.socket,
               n.listens.empty() ? "" : fmt::format(", listens on {}", fmt::join(n.listens, " and ")), where);
  }
  size_t links = 0;
  for (const auto& n : st.nodes) links += n.peers.size();
  fmt::print("cluster {} up ({} mode, {} nodes, {} links) in {:.2f} s; state in {}\n", st.cluster, st.mode,
             st.nodes.size(), links / 2, double(dvs::cluster::now_ms() - t0) / 1000.0, st.state_dir);
  fmt::print("stop it with: dvs cluster down --state {}\n", st.state_dir);
  return 0;
}

int cmd_down(const ClusterOptions& o) {
  const std::string dir = state_dir_of(o);
  std::unique_ptr<Cluster> c;
  if (auto err = Cluster::load(dir, &c); !err.empty()) {
    fmt::print("dvs: {}: nothing to stop\n", err);
    return 0;
  }
  const std::string name = c->state().cluster;
  if (auto err = c->down(); !err.empty()) {
    fmt::print(stderr, "dvs: cluster down: {}\n", err);
    return 1;
  }
  fmt::print("cluster {} down; everything it made is removed\n", name);
  return 0;
}

int cmd_status(const ClusterOptions& o) {
  const std::string dir = state_dir_of(o);
  std::unique_ptr<Cluster> c;
  if (auto err = Cluster::load(dir, &c); !err.empty()) {
    fmt::print(stderr, "dvs: {}\n", err);
    return 1;
  }
  const auto& st = c->state();
  auto status = c->status();
  bool all_ok = st.complete;
  nlohmann::json j;
  j["cluster"] = st.cluster;
  j["mode"] = st.mode;
  j["state_dir"] = st.state_dir;
  j["complete"] = st.complete;
  j["nodes"] = nlohmann::json::array();
  if (!o.json) fmt::print("cluster {} ({} mode{}), state in {}\n", st.cluster, st.mode, st.complete ? "" : ", INCOMPLETE up", st.state_dir);
  for (const auto& s : status) {
    const auto* n = c->node(s.id);
    std::string links;
    nlohmann::json jl = nlohmann::json::array();
    for (const auto& l : s.links) {
      links += fmt::format(" {}:{}", l.peer, l.up ? "up" : "down");
      jl.push_back({{"peer", l.peer}, {"up", l.up}});
      all_ok = all_ok && l.up;
    }
    all_ok = all_ok && s.alive;
    j["nodes"].push_back({{"id", s.id}, {"alive", s.alive}, {"pid", n->pid}, {"socket", n->socket},
                          {"listen", n->listen}, {"listens", n->listens}, {"netns", n->netns}, {"links", jl}});
    if (!o.json)
      fmt::print("node {}: {} (pid {}), socket {}{}, links:{}\n", s.id, s.alive ? "running" : "NOT RUNNING", n->pid,
                 n->socket, n->netns.empty() ? "" : ", netns " + n->netns, links.empty() ? " none" : links);
  }
  j["healthy"] = all_ok;
  if (o.json) fmt::print("{}\n", j.dump(2));
  return all_ok ? 0 : 1;
}

int cmd_check(const ClusterOptions& o) {
  ClusterSpec spec;
  if (int rc = load_spec(o, &spec); rc != 0) return rc;
  fmt::print("{}: cluster {} with {} nodes and {} DCs is valid\n", spec.source, spec.name, spec.nodes.size(),
             spec.dcs.size());
  return 0;
}

void add_cluster_options(CLI::App* cl, ClusterOptions* o) {
  cl->require_subcommand(1);
  auto* up = cl->add_subcommand("up", "Start one dvsd per node of a cluster file (default: the embedded two-node "
                                      "cluster), as processes or, with --netns, each in its own network namespace");
  up->add_option("file", o->file, "cluster file (TOML); omitted: the embedded two-node cluster");
  up->add_flag("--netns", o->netns, "each node in its own network namespace, joined by veth pairs (needs root)");
  add_dvsd_option(up, &o->dvsd);
  up->add_option("--remote-path", o->remote_path,
                 "remote path of every link, overriding the file's [link] and [[link.between]] remote_path: proxy "
                 "(through dvsd, the original's model) or direct (docs/REMOTE_PATHS.md)")
      ->check(CLI::IsMember({"proxy", "direct"}));
  up->add_option("--timeout", o->timeout_s, "seconds the whole start may take (default 20)")->check(CLI::Range(0.1, 600.0));
  auto* down = cl->add_subcommand("down", "Stop the cluster's dvsd processes and delete every namespace, veth and "
                                          "file it made (also after a partial up)");
  auto* status = cl->add_subcommand("status", "Show the nodes, their dvsd processes and links (exit 1 unless healthy)");
  status->add_flag("--json", o->json, "machine-readable output");
  for (auto* s : {up, down, status})
    s->add_option("--state", o->state_dir, "state directory (default: $DVS_CLUSTER_STATE, else /tmp/dvs-cluster)");
  auto* check = cl->add_subcommand("check", "Validate a cluster file (default: the embedded one)");
  check->add_option("file", o->file, "cluster file (TOML)");
  cl->add_subcommand("default", "Print the embedded default cluster file");
  auto* keygen = cl->add_subcommand("keygen", "Write a fresh cluster key (mode 0600) for dvsd --cluster-key; never "
                                              "overwrites a file (docs/SECURITY.md)");
  keygen->add_option("file", o->file, "where to write it")->required();
}

int run_cluster_command(CLI::App* cl, const ClusterOptions& o) {
  if (cl->got_subcommand("up")) return cmd_up(o);
  if (cl->got_subcommand("down")) return cmd_down(o);
  if (cl->got_subcommand("status")) return cmd_status(o);
  if (cl->got_subcommand("check")) return cmd_check(o);
  if (cl->got_subcommand("keygen")) {
    if (auto e = dvs::linkauth::generate_cluster_key(o.file); !e.empty()) {
      fmt::print(stderr, "dvs cluster keygen: {}\n", e);
      return 1;
    }
    fmt::print("cluster key written to {} (give every node's dvsd --cluster-key {})\n", o.file, o.file);
    return 0;
  }
  if (cl->got_subcommand("default")) {
    fmt::print("{}", dvs::cluster::default_cluster_text());
    return 0;
  }
  return 2;
}

}  // namespace

Command make_cluster_command() {
  auto o = std::make_shared<ClusterOptions>();
  auto cluster = std::make_shared<CLI::App*>(nullptr);
  Command c;
  c.name = "cluster";
  c.help = "Start, inspect and stop a dvs cluster on this machine (docs/CLUSTERS.md)";
  c.add_options = [o, cluster](CLI::App* cl) {
    *cluster = cl;
    add_cluster_options(cl, o.get());
  };
  c.run = [o, cluster] { return run_cluster_command(*cluster, *o); };
  return c;
}

}  // namespace dvs::cli
