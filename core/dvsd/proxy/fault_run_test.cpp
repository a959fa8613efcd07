// The fault run: a two-node cluster over tcp under sendrec load (clients on node 0, the server on
// node 1), on each remote path (docs/REMOTE_PATHS.md); each node's dvsd is killed with SIGKILL and
// restarted in turn. Every call either
// succeeds with the reply to exactly its own request, each request served at most once, or fails
// within its bound; the processes re-open, bind again and are served by the restarted node without
// being restarted themselves.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "core/testkit/metrics_testing.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/sendrec_load.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

constexpr int kServer = 5;  // a system slot: endpoint 5 on every node
constexpr int kClients = 3;

struct FaultRun : ::testing::TestWithParam<std::string> {};

TEST_P(FaultRun, KillingEachNodeUnderSendrecLoadLosesNoCallAndDuplicatesNone) {
  const int port = dvs::metrics::testing::free_port();
  const int port0 = dvs::metrics::testing::free_port();
  ASSERT_GT(port, 0);
  ASSERT_GT(port0, 0);
  const std::string uri = "tcp://127.0.0.1:" + std::to_string(port);
  DvsdOptions o1, o0;
  o1.node = 1;
  o1.extra_args = {"--listen", uri, "--peer", "0", "--heartbeat-ms", "100", "--dead-ms", "1000",
                   "--remote-path", GetParam()};
  o0.node = 0;
  o0.extra_args = {"--peer", "1=" + uri, "--heartbeat-ms", "100", "--dead-ms", "1000", "--remote-path", GetParam()};
  // On the direct path every node listens (the peers' processes dial it); node 0 at a fixed port
  // too, so that its restart comes back where the peer's processes dialed it.
  if (GetParam() == "direct") o0.extra_args.insert(o0.extra_args.end(), {"--listen", "tcp://127.0.0.1:" + std::to_string(port0)});
  DvsdProcess n1(o1), n0(o0);
  ASSERT_TRUE(n1.start());
  ASSERT_TRUE(n0.start());
  SendrecLoad* load = shared_sendrec_load();
  ASSERT_NE(load, nullptr);
  SendrecLoadConfig cfg;
  cfg.server_socket = n1.socket_path();
  cfg.client_socket = n0.socket_path();
  cfg.server_p_nr = kServer;
  cfg.server_node = 1;
  auto server = run_in_child("server@1", [&] { return serve_sendrec_load(load, cfg, kClients); });
  std::vector<ForkedChild> clients;
  for (int k = 0; k < kClients; ++k)
    clients.push_back(
        run_in_child("client@0 #" + std::to_string(k), [&, k] { return call_sendrec_load(load, cfg, k); }));

  ASSERT_TRUE(every_client_served(load, kClients, 200, milliseconds(30000))) << "no service before any fault";
  // The server's node, then the clients' node.
  for (DvsdProcess* node : {&n1, &n0}) {
    node->kill9();
    std::this_thread::sleep_for(milliseconds(300));
    ASSERT_TRUE(node->start());
    EXPECT_TRUE(every_client_served(load, kClients, 200, milliseconds(30000)))
        << "a client is not served after node restarts: " << (node == &n1 ? "node 1 (server's)" : "node 0 (clients')");
  }
  load->stop.store(1);
  for (auto& c : clients) EXPECT_TRUE(c.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(server.wait_ok(milliseconds(20000)));

  EXPECT_EQ(load->wrong_reply.load(), 0);
  EXPECT_EQ(load->duplicates.load(), 0);
  EXPECT_EQ(load->late_error.load(), 0) << "longest failing call " << load->max_error_ms.load() << " ms";
  EXPECT_GE(load->server_reopens.load(), 1);
  EXPECT_GE(load->client_reopens.load(), kClients);
  std::printf("fault run (%s path): %ld sendrec ok, %ld failed (longest failing call %ld ms, bound %ld + %.0f ms), "
              "client re-opens %ld, server re-opens %ld\n",
              GetParam().c_str(), load->ok.load(), load->errors.load(), load->max_error_ms.load(), cfg.call_ms, cfg.error_slack_ms,
              load->client_reopens.load(), load->server_reopens.load());
  if (::testing::Test::HasFailure())
    std::printf("---- node 0 ----\n%s---- node 1 ----\n%s----\n", n0.stderr_output().c_str(),
                n1.stderr_output().c_str());
}

INSTANTIATE_TEST_SUITE_P(RemotePaths, FaultRun, ::testing::Values("proxy", "direct"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
