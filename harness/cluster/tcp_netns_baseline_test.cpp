// The raw TCP baselines between two network namespaces (make_tcp_pair with client_netns /
// server_netns): two namespaces joined by a veth pair, a ping-pong and a stream across them, and
// the errors for a missing namespace and an address that is not the server namespace's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include <nlohmann/json.hpp>

#include "harness/cluster/cluster.hpp"
#include "harness/cluster/exec.hpp"
#include "workloads/baselines/baseline.hpp"
#include "workloads/baselines/tcp_pair.hpp"

namespace dvs::cluster {
namespace {

class TcpBetweenNamespaces : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = netns_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    const std::string tag = std::to_string(getpid());
    a_ = "dvs-tcpns-a-" + tag;
    b_ = "dvs-tcpns-b-" + tag;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"netns", "add", a_},
             {"netns", "add", b_},
             {"-n", a_, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b_},
             {"-n", a_, "addr", "add", "10.214.0.1/24", "dev", "eth0"},
             {"-n", b_, "addr", "add", "10.214.0.2/24", "dev", "eth0"},
             {"-n", a_, "link", "set", "eth0", "up"},
             {"-n", b_, "link", "set", "eth0", "up"},
             {"-n", a_, "link", "set", "lo", "up"},
             {"-n", b_, "link", "set", "lo", "up"}})
      ASSERT_EQ(ip(args), "");
  }
  void TearDown() override {
    if (!a_.empty()) (void)ip({"netns", "del", a_});
    if (!b_.empty()) (void)ip({"netns", "del", b_});
  }
  baselines::BaselineConfig config(uint64_t iterations) const {
    baselines::BaselineConfig c;
    c.loop.iterations = iterations;
    c.loop.warmup = 5;
    c.cpus = measure::choose_cpus(measure::Placement::Cross);
    c.timeout_ms = 30000;
    c.tcp_host = "10.214.0.2";
    c.tcp_client_netns = a_;
    c.tcp_server_netns = b_;
    return c;
  }
  // Bytes received on eth0 of namespace ns (ip -j -s link).
  static uint64_t rx_bytes(const std::string& ns) {
    auto out = run_command({ip_binary(), "-n", ns, "-j", "-s", "link", "show", "eth0"}, 5000);
    EXPECT_TRUE(out.ok()) << out.reason();
    auto j = nlohmann::json::parse(out.output, nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.empty()) return 0;
    return j[0]["stats64"]["rx"]["bytes"].get<uint64_t>();
  }
  std::string a_, b_;
};

TEST_F(TcpBetweenNamespaces, PingPongAndStreamCrossTheVethPair) {
  auto pp = baselines::tcp_pingpong(config(200));
  ASSERT_TRUE(pp.ok) << pp.error;
  EXPECT_EQ(pp.result->iterations, 200u);
  const uint64_t before = rx_bytes(a_);
  auto c = config(20);
  c.block_bytes = 1 << 20;
  auto st = baselines::tcp_stream(c);
  ASSERT_TRUE(st.ok) << st.error;
  // The stream (20 timed blocks of 1 MiB from the server's end to the timing client's) really
  // crossed the veth pair: the client namespace's eth0 received at least that many bytes.
  EXPECT_GE(rx_bytes(a_) - before, uint64_t{20} << 20);
}

TEST_F(TcpBetweenNamespaces, ServerAddressMustBelongToTheServerNamespace) {
  int c = -1, s = -1;
  std::string err;
  // 10.214.0.2 is b's address; a listener created in a cannot bind it.
  EXPECT_LT(baselines::make_tcp_pair("10.214.0.2", &c, &s, &err, b_, a_), 0);
  EXPECT_NE(err.find("bind"), std::string::npos) << err;
}

TEST_F(TcpBetweenNamespaces, MissingNamespaceIsAClearError) {
  int c = -1, s = -1;
  std::string err;
  EXPECT_LT(baselines::make_tcp_pair("10.214.0.2", &c, &s, &err, "dvs-no-such-ns", b_), 0);
  EXPECT_NE(err.find("dvs-no-such-ns"), std::string::npos) << err;
  // The calling thread is back in its own namespace: loopback pairs still work.
  ASSERT_EQ(baselines::make_tcp_pair("127.0.0.1", &c, &s, &err), 0) << err;
  close(c);
  close(s);
}

}  // namespace
}  // namespace dvs::cluster
