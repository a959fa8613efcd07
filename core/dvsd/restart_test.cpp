// When a node's dvsd dies (kill -9) every call blocked on its tables, and every later call, fails
// with EDVSDVSINIT within a bound; a process that then closes, re-opens and binds again works on
// the restarted dvsd's new table without being restarted itself. Real dvsd, real processes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"
#include "core/testkit/sendrec_load.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

constexpr int kSrv = 10;
constexpr int kIdle = 12;  // bound, never receives: a sendrec to it blocks in SENDING

TEST(DvsdDeath, BlockedAndLaterCallsFailWithinTheBound) {
  DvsdProcess d;
  ASSERT_TRUE(d.start());
  const std::string sock = d.socket_path();
  Pipe blocked;
  // A receive blocked with each wait strategy, and a sendrec blocked sending: all fail.
  auto blocked_call = [&](int p_nr, dvs_wait_mode_t mode, bool sendrec) {
    return run_in_child("blocked p_nr " + std::to_string(p_nr), [&, p_nr, mode, sendrec, sock] {
      CHILD_CHECK_OK(open_and_bind(sock, 0, p_nr));
      CHILD_CHECK_EQ(0, dvs_set_wait(mode, 20000));
      blocked.send(1);
      dvs_message_t m = make_msg(1, 1);
      const int rc = sendrec ? dvs_sendrec(kIdle, &m) : dvs_receive(DVS_ANY, &m);  // no timeout
      CHILD_CHECK_EQ(EDVSDVSINIT, rc);
      // Every later call on the dead table fails at once.
      CHILD_CHECK_EQ(EDVSDVSINIT, dvs_notify(kSrv));
      CHILD_CHECK_EQ(EDVSDVSINIT, dvs_receive_T(DVS_ANY, &m, DVS_TIMEOUT_NOWAIT));
      CHILD_CHECK_EQ(EDVSDVSINIT, dvs_send_T(kSrv, &m, 1000));
      return 0;
    });
  };
  Pipe idle_ready;
  auto idle = run_in_child("idle", [&, sock] {
    CHILD_CHECK_EQ(kIdle, open_and_bind(sock, 0, kIdle));
    idle_ready.send(1);
    pause();
    return 0;
  });
  ASSERT_TRUE(idle_ready.recv());
  auto a = blocked_call(kSrv, DVS_WAIT_BLOCK, false);
  auto b = blocked_call(11, DVS_WAIT_SPIN, false);
  auto c = blocked_call(40, DVS_WAIT_SPIN_THEN_BLOCK, true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(blocked.recv());
  auto check = run_in_child("check", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    CHILD_CHECK_EQ(0, wait_receiving(0, 11));
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kIdle));
    return 0;
  });
  ASSERT_TRUE(check.wait_ok());
  d.kill9();
  const auto t0 = Clock::now();
  EXPECT_TRUE(a.wait_ok(milliseconds(5000)));
  EXPECT_TRUE(b.wait_ok(milliseconds(5000)));
  EXPECT_TRUE(c.wait_ok(milliseconds(5000)));
  EXPECT_LT(ms_since(t0), 2000) << "blocked calls must fail within the dvsd life check (0.2 s) plus slack";
  idle.kill9();
}

// A server and clients under sendrec load; dvsd is killed and restarted on the same socket, twice.
// Every call either succeeds with the reply to exactly its request or fails within its bound;
// both sides re-open and bind again and are served by the new dvsd.
TEST(DvsdDeath, ProcessesServeAgainAfterDvsdRestartsUnderLoad) {
  DvsdProcess d;
  ASSERT_TRUE(d.start());
  SendrecLoad* load = shared_sendrec_load();
  ASSERT_NE(load, nullptr);
  constexpr int kClients = 3;
  SendrecLoadConfig cfg;
  cfg.server_socket = cfg.client_socket = d.socket_path();
  cfg.server_p_nr = kSrv;
  auto server = run_in_child("server", [&] { return serve_sendrec_load(load, cfg, kClients); });
  std::vector<ForkedChild> clients;
  for (int k = 0; k < kClients; ++k)
    clients.push_back(run_in_child("client " + std::to_string(k), [&, k] { return call_sendrec_load(load, cfg, k); }));
  ASSERT_TRUE(every_client_served(load, kClients, 50, milliseconds(20000)));
  for (int round = 0; round < 2; ++round) {
    d.kill9();
    std::this_thread::sleep_for(milliseconds(300));
    ASSERT_TRUE(d.start()) << "round " << round;
    EXPECT_TRUE(every_client_served(load, kClients, 50, milliseconds(20000)))
        << "round " << round << ": a client is not served after the restart";
  }
  load->stop.store(1);
  for (auto& c : clients) EXPECT_TRUE(c.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(server.wait_ok(milliseconds(20000)));
  EXPECT_EQ(load->wrong_reply.load(), 0);
  EXPECT_EQ(load->duplicates.load(), 0);
  EXPECT_EQ(load->late_error.load(), 0) << "longest failing call " << load->max_error_ms.load() << " ms";
  EXPECT_GE(load->server_reopens.load(), 2);
  EXPECT_GE(load->client_reopens.load(), kClients);
  if (::testing::Test::HasFailure()) std::printf("---- dvsd stderr ----\n%s----\n", d.stderr_output().c_str());
  std::printf("sendrec ok %ld, failed %ld (longest %ld ms), clients' EDVSDVSINIT %ld, re-opens %ld, server's %ld\n",
              load->ok.load(), load->errors.load(), load->max_error_ms.load(), load->dvsd_gone.load(),
              load->client_reopens.load(), load->server_reopens.load());
}

}  // namespace
