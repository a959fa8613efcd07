// Helpers shared by the cluster tests: a cluster that is always taken down (RAII, also when a
// test fails), cluster files built in memory, and the client-side probes the remote tests use.
#ifndef DVS_HARNESS_CLUSTER_CLUSTER_TEST_UTIL_HPP
#define DVS_HARNESS_CLUSTER_CLUSTER_TEST_UTIL_HPP

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/testkit/caller_state.hpp"
#include "dvs/dvs.h"
#include "harness/cluster/cluster.hpp"
#include "harness/cluster/cluster_file.hpp"
#include "harness/cluster/exec.hpp"

namespace dvs::cluster::testutil {

// A TOML cluster of `nodes` nodes, DC 0 spanning all, tcp links with the given timing and remote
// path (docs/REMOTE_PATHS.md).
inline std::string cluster_toml(const std::string& name, int nodes, int heartbeat_ms, int dead_ms,
                                const std::string& transport = "tcp", const std::string& remote_path = "proxy") {
  std::string t = "[cluster]\nname = \"" + name + "\"\nsubnet = \"10.219.0.0/24\"\n\n[link]\nheartbeat_ms = " +
                  std::to_string(heartbeat_ms) + "\ndead_ms = " + std::to_string(dead_ms) + "\nremote_path = \"" +
                  remote_path + "\"\n";
  std::string all;
  for (int i = 0; i < nodes; ++i) {
    t += "\n[[node]]\nid = " + std::to_string(i) + "\ntransport = \"" + transport + "\"\n";
    all += (i ? ", " : "") + std::to_string(i);
  }
  t += "\n[[dc]]\nid = 0\nname = \"test\"\nnodes = [" + all + "]\n";
  return t;
}

inline ClusterSpec parse_or_die(const std::string& text) {
  ClusterSpec s;
  std::string err = parse_cluster_text(text, "<test>", &s);
  if (!err.empty()) ADD_FAILURE() << err;
  return s;
}

// A running cluster owned by the test: down() (dvsds stopped, namespaces and veths deleted) in
// the destructor, whatever happened. Use as: ClusterGuard g; ASSERT_TRUE(g.up(spec, netns));
struct ClusterGuard {
  std::unique_ptr<Cluster> c;
  std::string dir;
  ClusterGuard() {
    char tmpl[] = "/tmp/dvs-ct-XXXXXX";
    if (mkdtemp(tmpl)) dir = tmpl;
  }
  ~ClusterGuard() {
    if (c) {
      std::string err = c->down(2000);
      EXPECT_EQ("", err) << "cluster down left something behind";
    }
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  ::testing::AssertionResult up(const ClusterSpec& spec, bool netns, int timeout_ms = 15000) {
    UpOptions o;
    o.netns = netns;
    o.state_dir = dir;
    o.owned = true;
    o.timeout_ms = timeout_ms;
    std::string err = Cluster::up(spec, o, &c);
    if (!err.empty()) return ::testing::AssertionFailure() << "cluster up: " << err;
    return ::testing::AssertionSuccess();
  }
  Cluster& operator*() { return *c; }
  Cluster* operator->() { return c.get(); }
  std::string logs() const {
    std::string s;
    if (c)
      for (const auto& n : c->state().nodes) s += "--- node " + std::to_string(n.id) + " log:\n" + c->log_tail(n.id, 30);
    return s;
  }
};

// Monotonic time in ns, comparable across processes (CLOCK_MONOTONIC is system-wide).
inline int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// In a client child: open the node's socket, bind any user slot of dc, declare server_ep remote
// on server_node. Returns the client's endpoint or a negative code.
inline int connect_client(const std::string& sock, int dc, int server_ep, int server_node) {
  int ep = dvs::testing::open_and_bind(sock, dc, DVS_ANY);
  if (ep < 0) return ep;
  if (int rc = dvs_rmtbind(dc, server_ep, server_node); rc != 0) return rc;
  return ep;
}

// Probes dst with notify until the link carries it (EDVSNOTCONN while the link is down/coming
// up). True once a notify went through.
inline bool wait_link(int dst, int timeout_ms = 10000) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    int rc = dvs_notify(dst);
    if (rc == 0) return true;
    if (rc != EDVSNOTCONN) return false;
    usleep(10'000);
  }
  return false;
}

}  // namespace dvs::cluster::testutil

#endif
