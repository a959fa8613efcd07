// A transport the harness has never heard of: "tcpx", a thin wrapper of tcp under another scheme,
// registered by this test binary with its HarnessTraits and nothing else. The cluster file parser,
// the cluster's listen-URI planning, the bench scenario parser and the planner (a cross-node cell
// over it, planned with the raw baseline its traits name) accept it without any list of schemes
// being touched. In-process: the `dvs` and `dvsd` binaries know only the built-in transports
// (DVS_TRANSPORTS), so no real cluster runs over tcpx here; the figures' side is
// python/tests/test_figures_transports.py.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "harness/cluster/cluster.hpp"
#include "harness/cluster/cluster_file.hpp"
#include "harness/plan/bench_plan.hpp"
#include "harness/plan/scenario.hpp"
#include "transports/registry.hpp"
#include "transports/tcp/tcp_transport.hpp"

namespace {

namespace tr = dvs::transport;

constexpr const char* kScheme = "tcpx";

// "tcpx://rest" <-> "tcp://rest".
std::string to_tcp(const std::string& uri) { return "tcp" + uri.substr(std::strlen(kScheme)); }

// tcp under the scheme "tcpx": every call is tcp's with the URI's scheme swapped.
class TcpxTransport : public tr::Transport {
 public:
  std::string_view scheme() const override { return kScheme; }
  tr::Capabilities capabilities() const override { return tcp_->capabilities(); }
  tr::Availability probe() const override { return tcp_->probe(); }
  std::unique_ptr<tr::Listener> listen(const std::string& uri, int* err) override { return tcp_->listen(to_tcp(uri), err); }
  std::unique_ptr<tr::Link> dial(const std::string& uri, int timeout_ms, int* err) override {
    return tcp_->dial(to_tcp(uri), timeout_ms, err);
  }

 private:
  std::unique_ptr<tr::Transport> tcp_ = tr::tcp::make_tcp_transport();
};

void register_tcpx() {
  tr::HarnessTraits h;
  h.listen_uri = [](const tr::ListenPlace& at) { return "tcpx://" + at.host + ":" + std::to_string(at.port); };
  h.crosses_network_namespaces = true;
  h.pingpong_baseline = "tcp";
  h.stream_baseline = "tcp_stream";
  h.network = "tcp over loopback";  // tcp's: its raw TCP baselines cross the same network
  h.label = "TCP, test scheme";
  tr::register_transport(std::make_unique<TcpxTransport>(), std::move(h));
}

const char* const kCluster = R"([cluster]
name = "x"
[[node]]
id = 0
transport = "tcpx"
[[node]]
id = 1
transport = "tcpx"
port = 7301
[[dc]]
id = 0
nodes = [0, 1]
)";

const char* const kScenario = R"([scenario]
name = "x"
[[matrix]]
transports = ["local", "tcpx"]
primitives = ["sendrec_reply", "vcopy"]
waits = ["block"]
sizes = [4096]
)";

// Before registration the harness refuses the scheme (the code this test guards: harness lists
// of schemes refused anything but tcp, shm, rdma and tipc); after it, it plans with it.
TEST(RegisteredTransport, UnknownUntilRegisteredThenUsedEverywhere) {
  tr::register_builtin_transports();
  dvs::cluster::ClusterSpec spec;
  EXPECT_NE(dvs::cluster::parse_cluster_text(kCluster, "c.toml", &spec).find("'tcpx' is not supported"), std::string::npos);
  dvs::bench::Scenario s;
  EXPECT_NE(dvs::bench::parse_scenario_text(kScenario, "s.toml", &s), "");

  register_tcpx();

  // The cluster file parser and where each node listens.
  ASSERT_EQ(dvs::cluster::parse_cluster_text(kCluster, "c.toml", &spec), "");
  EXPECT_EQ(spec.link_transport(0, 1), kScheme);
  EXPECT_EQ(dvs::cluster::cluster_listen_uri(spec, 1, kScheme, "", "x-r1"), "tcpx://127.0.0.1:7301");
  EXPECT_EQ(dvs::cluster::cluster_listen_uri(spec, 1, kScheme, "10.0.0.11", "x-r1"),
            "tcpx://10.0.0.11:" + std::to_string(spec.netns_port(1)));
  EXPECT_EQ(dvs::cluster::cluster_listen_uri(spec, 1, "shm", "", "x-r1"), "shm://x-r1-n1");

  // The scenario parser and the planner: cross-node cells over tcpx, each with the raw baseline
  // its traits name, on the network they say (the ratio rule compares only cells on one network).
  ASSERT_EQ(dvs::bench::parse_scenario_text(kScenario, "s.toml", &s), "");
  dvs::bench::Plan p;
  ASSERT_EQ(dvs::bench::plan_scenario(s, nullptr, "run", &p), "");
  auto item = [&](const std::string& id) -> const dvs::bench::RunItem* {
    for (const auto& it : p.items)
      if (it.cell.id == id) return &it;
    return nullptr;
  };
  const auto* msg = item("tcpx/dvs/sendrec_reply/block/cross-node");
  const auto* copy = item("tcpx/dvs/vcopy/4096/block/cross-node");
  ASSERT_NE(msg, nullptr);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(msg->cell.skip_reason, "");
  EXPECT_EQ(msg->cell.network, "tcp over loopback");
  EXPECT_EQ(msg->cell.baseline, "baseline/tcp/block/cross-core");
  EXPECT_EQ(copy->cell.baseline, "baseline/tcp_stream/4096/block/cross-core");
  EXPECT_EQ(msg->cell.no_ratio_reason, "");
  const auto* base = item("baseline/tcp/block/cross-core");
  ASSERT_NE(base, nullptr);
  EXPECT_EQ(base->cell.network, msg->cell.network);
  EXPECT_NE(item("local/dvs/sendrec_reply/block/cross-core"), nullptr);
}

// The wrapper is a real transport: a frame goes both ways over a tcpx link.
TEST(RegisteredTransport, TcpxCarriesFrames) {
  register_tcpx();
  tr::Transport* t = tr::find_transport(kScheme);
  ASSERT_NE(t, nullptr);
  int err = 0;
  auto l = t->listen("tcpx://127.0.0.1:0", &err);
  ASSERT_NE(l, nullptr) << err;
  const std::string uri = l->uri();  // tcp://127.0.0.1:PORT (tcp's listener)
  auto client = t->dial("tcpx" + uri.substr(3), 3000, &err);
  ASSERT_NE(client, nullptr) << err;
  auto server = l->accept(3000, &err);
  ASSERT_NE(server, nullptr) << err;
  char hello[] = "hello";
  const iovec v{hello, 5};
  ASSERT_EQ(client->send({&v, 1}), 0);
  std::span<const std::byte> got;
  ASSERT_EQ(server->recv(&got, 3000), 5);
  EXPECT_EQ(std::memcmp(got.data(), hello, 5), 0);
}

}  // namespace
