// Two dvsd nodes linked over tipc:// across a real two-node TIPC cluster: node 1 in network
// namespace ns1, node 0 in ns0, joined by a veth pair with a TIPC bearer on each end. Only a lab
// VM made with `dvs lab run --tipc` has that (the ctest entry lab_tipc_remote runs this binary
// there); anywhere else every test skips with the reason.
//
// dvsd's own dead-link timer is set long (30 s) so that every failure detected here within the
// bounds below is the transport's doing: a killed dvsd (the TIPC connection is aborted) and a
// lost TIPC link (the kernel's link supervision aborts every connection to the lost node).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "cluster/exec.hpp"
#include "core/testing/dvsd_process.hpp"

namespace {

using namespace dvs::testing;  // DvsdProcess, run_in_child, Pipe, CHILD_CHECK helpers

constexpr int kServer = 5;      // a system slot: endpoint 5 on every node
constexpr int kRounds = 300;    // sendrec round trips per test
constexpr double kDetectMs = 10000;

// Forks dvsd from inside /run/netns/NAME: the calling thread enters it for the start only.
::testing::AssertionResult start_in(const std::string& ns, DvsdProcess* d) {
  const int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int there = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (home < 0 || there < 0 || setns(there, CLONE_NEWNET) != 0)
    return ::testing::AssertionFailure() << "cannot enter network namespace " << ns << ": " << strerror(errno);
  auto started = d->start();
  const bool back = setns(home, CLONE_NEWNET) == 0;
  close(there);
  close(home);
  if (!back) return ::testing::AssertionFailure() << "cannot return to this thread's network namespace";
  return started;
}

struct TipcNodes : ::testing::Test {
  std::unique_ptr<DvsdProcess> n0, n1;
  void SetUp() override {
    if (!getenv("DVS_LAB_TIPC"))
      GTEST_SKIP() << "needs the two-namespace TIPC cluster of a lab VM: "
                      "dvs lab run --tipc -- " << ::testing::internal::GetArgvs()[0];
    const std::vector<std::string> timing = {"--heartbeat-ms", "200", "--dead-ms", "30000"};
    DvsdOptions o1;
    o1.node = 1;
    o1.extra_args = {"--listen", "tipc://18900:0", "--peer", "0"};  // instance 0: dvsd reports the one picked
    o1.extra_args.insert(o1.extra_args.end(), timing.begin(), timing.end());
    n1 = std::make_unique<DvsdProcess>(o1);
    ASSERT_TRUE(start_in("ns1", n1.get()));
    ASSERT_EQ(n1->listen_uri().rfind("tipc://18900:", 0), 0u) << n1->listen_uri();
    DvsdOptions o0;
    o0.node = 0;
    o0.extra_args = {"--peer", "1=" + n1->listen_uri() + "?wait_ms=5000"};
    o0.extra_args.insert(o0.extra_args.end(), timing.begin(), timing.end());
    n0 = std::make_unique<DvsdProcess>(o0);
    ASSERT_TRUE(start_in("ns0", n0.get()));
  }
};

// A client on node 0: bound, server rmtbound, then send notifies until the link carries them.
int client_ready(const std::string& sock) {
  int me = dvs::testing::open_and_bind(sock, 0, DVS_ANY);
  if (me < 0) return me;
  if (int rc = dvs_rmtbind(0, kServer, 1); rc != 0) return rc;
  for (int i = 0; i < 500; ++i) {
    int rc = dvs_notify(kServer);
    if (rc != EDVSNOTCONN) return rc;
    usleep(20'000);
  }
  return EDVSNOTCONN;
}

// The server on node 1: takes the probe, then answers `answers` requests (m_type + 1), then
// takes one more request and never answers it (reports it on `took`).
int serve(const std::string& sock, int answers, Pipe* took) {
  CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(sock, 0, kServer));
  dvs_message_t m{};
  CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 15000));  // the client's probe notify
  for (int i = 0; i < answers; ++i) {
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK(dvs::testing::payload_ok(m, i));
    m.m_type += 1;
    CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 10000));
  }
  if (!took) return 0;
  CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 15000));
  took->send(1);
  pause();
  return 0;
}

TEST_F(TipcNodes, SendrecAcrossTheCluster) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  auto server = run_in_child("server@1", [&] { return serve(s1, kRounds, nullptr); });
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK_EQ(0, client_ready(s0) < 0 ? client_ready(s0) : 0);
    for (int i = 0; i < kRounds; ++i) {
      dvs_message_t m = dvs::testing::make_msg(100 + i, i);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kServer, &m, 10000));
      CHILD_CHECK_EQ(101 + i, m.m_type);
      CHILD_CHECK_EQ(kServer, m.m_source);
    }
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(Millis(60000)));
  EXPECT_TRUE(server.wait_ok(Millis(60000)));
}

// The caller blocked on a sendrec the server took; then `cut` runs. The caller must fail with
// EDVSNOTCONN within kDetectMs, i.e. through the transport, not dvsd's 30 s timer.
void blocked_caller_fails_when(TipcNodes& t, const std::function<void()>& cut) {
  const std::string s0 = t.n0->socket_path(), s1 = t.n1->socket_path();
  Pipe took;
  auto server = run_in_child("server@1", [&] { return serve(s1, 0, &took); });
  auto client = run_in_child("client@0", [&] {
    int me = client_ready(s0);
    CHILD_CHECK(me >= 0);
    dvs_message_t m = dvs::testing::make_msg(1);
    auto t0 = std::chrono::steady_clock::now();
    CHILD_CHECK_EQ(EDVSNOTCONN, dvs_sendrec_T(kServer, &m, 60000));
    CHILD_CHECK(dvs::testing::ms_since(t0) < kDetectMs);
    return 0;
  });
  ASSERT_TRUE(took.recv(Millis(30000)).has_value());
  cut();
  EXPECT_TRUE(client.wait_ok(Millis(30000)));
  server.kill9();
}

TEST_F(TipcNodes, KilledNodeFailsABlockedCaller) {
  blocked_caller_fails_when(*this, [&] { n1->kill9(); });
}

// The veth end of node 1 goes down: no process dies, nothing is closed. Node 0's end loses its
// carrier, TIPC resets the link on that bearer and aborts the connections to node 1.
TEST_F(TipcNodes, LostCarrierFailsABlockedCaller) {
  blocked_caller_fails_when(*this, [&] {
    std::string err = dvs::cluster::ip({"-n", "ns1", "link", "set", "veth1", "down"});
    ASSERT_TRUE(err.empty()) << err;
  });
  std::string err = dvs::cluster::ip({"-n", "ns1", "link", "set", "veth1", "up"});
  EXPECT_TRUE(err.empty()) << err;
}

// `tc netem loss 100%` on both veth ends: the devices stay up, the nodes simply stop hearing each
// other. Only TIPC's link supervision (tolerance 1.5 s by default) can tell that node 1 is gone.
TEST_F(TipcNodes, SilentPeerNodeFailsABlockedCaller) {
  auto tc = [](const std::string& ns, const std::string& dev, const std::string& op) {
    std::vector<std::string> argv = {"ip", "netns", "exec", ns, "tc", "qdisc", op, "dev", dev, "root"};
    if (op == "add") argv.insert(argv.end(), {"netem", "loss", "100%"});
    return dvs::cluster::run_command(argv, 5000);
  };
  auto mod = dvs::cluster::run_command({"modprobe", "sch_netem"}, 10000);
  ASSERT_TRUE(mod.ok()) << "modprobe sch_netem: " << mod.reason();
  auto t0 = std::chrono::steady_clock::now();
  blocked_caller_fails_when(*this, [&] {
    t0 = std::chrono::steady_clock::now();
    for (const auto& [ns, dev] : {std::pair{"ns0", "veth0"}, std::pair{"ns1", "veth1"}}) {
      auto r = tc(ns, dev, "add");
      ASSERT_TRUE(r.ok()) << "tc netem on " << dev << ": " << r.reason();
    }
  });
  std::printf("silent peer node detected after %.0f ms\n", ms_since(t0));
  for (const auto& [ns, dev] : {std::pair{"ns0", "veth0"}, std::pair{"ns1", "veth1"}}) EXPECT_TRUE(tc(ns, dev, "del").ok());
}

}  // namespace
