// Process death, unbind, and dvsd's clean-up after them.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/poll_until.hpp"
#include "core/testkit/test_message.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

using Lifecycle = DvsdTest;

constexpr int kSrv = 10;
constexpr int64_t kNoResult = 1;  // never a dvs return code of a failed call

bool is_died(int64_t rc) { return rc == EDVSDSTDIED || rc == EDVSSRCDIED; }

// Bind slot p_nr, retrying while the previous owner is still being cleaned up (bounded).
int bind_when_free(int dc, int p_nr, Millis timeout = Millis(5000)) {
  int r = EDVSSLOTUSED;
  poll_until(
      [&] {
        r = dvs_bind(dc, p_nr);
        return r != EDVSSLOTUSED;
      },
      timeout);
  return r;
}

// A fresh pair does a round trip: dvsd still serves.
::testing::AssertionResult still_serving(const std::string& sock, int srv, int cli) {
  Pipe ready;
  auto s = run_in_child("probe-server", [&, sock, srv] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_OK(bind_when_free(0, srv));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
    return 0;
  });
  if (!ready.recv()) return ::testing::AssertionFailure() << "probe server did not bind";
  auto c = run_in_child("probe-client", [&, sock, srv, cli] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_OK(bind_when_free(0, cli));
    dvs_message_t m = make_msg(42);
    CHILD_CHECK_EQ(0, dvs_sendrec_T(srv, &m, 5000));
    CHILD_CHECK_EQ(42, m.m_type);
    return 0;
  });
  auto rc = c.wait_ok();
  auto rs = s.wait_ok();
  if (!rc) return rc;
  return rs;
}

TEST_F(Lifecycle, ServerKilledBeforeReceivingTheRequest) {
  const std::string sock = sock_;
  Pipe ready, queued, result;
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    queued.send(1);
    for (;;) pause();  // killed here
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    dvs_message_t m = make_msg(1);
    int r = dvs_sendrec(kSrv, &m);
    result.send(r);
    return 0;
  });
  ASSERT_TRUE(queued.recv());
  EXPECT_FALSE(result.readable());
  server.signal(SIGKILL);
  auto t0 = Clock::now();
  auto r = result.recv(milliseconds(5000));
  ASSERT_TRUE(r.has_value()) << "client still blocked 5 s after its server was killed";
  EXPECT_TRUE(is_died(*r)) << "sendrec returned " << rc_str(*r) << " after " << ms_since(t0) << " ms";
  EXPECT_LT(*r, 0);
  EXPECT_TRUE(client.wait_ok());
  EXPECT_TRUE(still_serving(sock, kSrv, 41));
}

TEST_F(Lifecycle, ServerKilledAfterReceivingTheRequest) {
  const std::string sock = sock_;
  Pipe ready, got, result;
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(0, wait_receiving(0, 40));  // the client waits for our reply
    got.send(1);
    for (;;) pause();
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    dvs_message_t m = make_msg(1);
    int r = dvs_sendrec(kSrv, &m);
    result.send(r);
    return 0;
  });
  ASSERT_TRUE(got.recv());
  EXPECT_FALSE(result.readable());
  server.signal(SIGKILL);
  auto t0 = Clock::now();
  auto r = result.recv(milliseconds(5000));
  ASSERT_TRUE(r.has_value()) << "client still blocked 5 s after its server was killed";
  EXPECT_TRUE(is_died(*r)) << "sendrec returned " << rc_str(*r) << " after " << ms_since(t0) << " ms";
  EXPECT_TRUE(client.wait_ok());
  EXPECT_TRUE(still_serving(sock, kSrv, 41));
}

TEST_F(Lifecycle, ReceiverKilledWhileWaitingForADeadSource) {
  // A process blocked in receive(src) gets an error when src dies.
  const std::string sock = sock_;
  Pipe ready, result;
  auto src = run_in_child("src", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    ready.send(1);
    for (;;) pause();
  });
  ASSERT_TRUE(ready.recv());
  auto rcv = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(2);
    dvs_message_t m{};
    result.send(dvs_receive_T(11, &m, 20000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto watcher = run_in_child("watcher", [&, sock] {
    CHILD_CHECK_EQ(12, open_and_bind(sock, 0, 12));
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    return 0;
  });
  ASSERT_TRUE(watcher.wait_ok());
  src.signal(SIGKILL);
  auto r = result.recv(milliseconds(5000));
  ASSERT_TRUE(r.has_value()) << "receive(dead src) still blocked 5 s after src was killed";
  EXPECT_TRUE(is_died(*r)) << rc_str(*r);
  EXPECT_TRUE(rcv.wait_ok());
}

TEST_F(Lifecycle, QueuedSendersGetDstDiedWhenTheTargetExits) {
  const std::string sock = sock_;
  Pipe ready, results;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    CHILD_CHECK_EQ(0, wait_sending(0, 41, kSrv));
    CHILD_CHECK_EQ(0, wait_sending(0, 42, kSrv));
    return 0;  // exits without unbinding
  });
  ASSERT_TRUE(ready.recv());
  std::vector<ForkedChild> senders;
  for (int k = 0; k < 3; ++k) {
    senders.push_back(run_in_child("sender" + std::to_string(k), [&, sock, k] {
      CHILD_CHECK_OK(open_and_bind(sock, 0, 40 + k));
      dvs_message_t m = make_msg(1);
      int r = k == 2 ? dvs_sendrec(kSrv, &m) : dvs_send(kSrv, &m);
      results.send(r);
      return 0;
    }));
  }
  ASSERT_TRUE(target.wait_ok());
  for (int k = 0; k < 3; ++k) {
    auto r = results.recv(milliseconds(5000));
    ASSERT_TRUE(r.has_value()) << "a sender is still blocked 5 s after its target exited";
    EXPECT_RC(EDVSDSTDIED, *r);
  }
  for (auto& s : senders) EXPECT_TRUE(s.wait_ok());
  // The slot is free again, and dvsd serves on.
  EXPECT_TRUE(still_serving(sock, kSrv, 43));
}

TEST_F(Lifecycle, UnbindFailsQueuedSendersAndBlockedPeers) {
  const std::string sock = sock_;
  Pipe ready, results;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    CHILD_CHECK_EQ(0, dvs_unbind(0, kSrv));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_self());
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_send_T(40, &m, 100));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto sender = run_in_child("sender", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    dvs_message_t m = make_msg(1);
    results.send(dvs_send_T(kSrv, &m, 20000));
    return 0;
  });
  auto r = results.recv(milliseconds(5000));
  ASSERT_TRUE(r.has_value());
  EXPECT_RC(EDVSDSTDIED, *r);
  EXPECT_TRUE(target.wait_ok());
  EXPECT_TRUE(sender.wait_ok());
}

TEST_F(Lifecycle, KilledSenderLeavesTheQueue) {
  const std::string sock = sock_;
  Pipe ready, killed;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    CHILD_CHECK_EQ(0, wait_sending(0, 41, kSrv));
    ready.send(2);
    CHILD_CHECK(killed.recv().has_value());
    // 40 died while queued: wait until dvsd has freed its slot, then only 41 is there.
    CHILD_CHECK_EQ(0, wait_procinfo(0, 40, [](const dvs_procinfo_t& pi) {
                     return (pi.p_rts_flags & DVS_SLOT_FREE) != 0;
                   }));
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(41, DVS_ENDPOINT_P(m.m_source));
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 100));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto s40 = run_in_child("s40", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    dvs_message_t m = make_msg(40);
    dvs_send(kSrv, &m);
    return 0;
  });
  auto s41 = run_in_child("s41", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 41));
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    dvs_message_t m = make_msg(41);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 10000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  s40.kill9();
  killed.send(1);
  EXPECT_TRUE(target.wait_ok());
  EXPECT_TRUE(s41.wait_ok());
}

TEST_F(Lifecycle, DeadUserSlotIsRebindableWithANewGeneration) {
  const std::string sock = sock_;
  Pipe eps;
  auto first = run_in_child("first", [&, sock] {
    int ep = open_and_bind(sock, 0, 50);
    CHILD_CHECK_OK(ep);
    eps.send(ep);
    for (;;) pause();
  });
  auto ep1 = eps.recv();
  ASSERT_TRUE(ep1);
  first.kill9();
  auto second = run_in_child("second", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    int ep2 = bind_when_free(0, 50);
    CHILD_CHECK_OK(ep2);
    CHILD_CHECK_EQ(50, DVS_ENDPOINT_P(ep2));
    CHILD_CHECK(ep2 != *ep1);
    dvs_message_t m = make_msg(1);
    // The dead process's endpoint is stale.
    CHILD_CHECK_EQ(EDVSENDPOINT, dvs_send_T(static_cast<int>(*ep1), &m, 100));
    return 0;
  });
  EXPECT_TRUE(second.wait_ok());
  EXPECT_TRUE(still_serving(sock, kSrv, 41));
}

TEST_F(Lifecycle, ManyKilledClientsDoNotLeakSlots) {
  const std::string sock = sock_;
  for (int round = 0; round < 5; ++round) {
    Pipe ready;
    std::vector<ForkedChild> kids;
    for (int k = 0; k < 4; ++k) {
      kids.push_back(run_in_child("victim", [&, sock, k] {
        CHILD_CHECK_OK(dvs_open(sock.c_str()));
        CHILD_CHECK_OK(bind_when_free(0, 60 + k));
        ready.send(1);
        dvs_message_t m{};
        dvs_receive(DVS_ANY, &m);
        return 0;
      }));
    }
    for (int k = 0; k < 4; ++k) ASSERT_TRUE(ready.recv()) << "round " << round;
    for (auto& k : kids) k.kill9();
  }
  EXPECT_TRUE(still_serving(sock, kSrv, 60));
}

TEST(LifecycleDvsd, ControlCallsFailBoundedlyWhenDvsdDies) {
  DvsdProcess d;
  ASSERT_TRUE(d.start());
  const std::string sock = d.socket_path();
  Pipe ready, killed, result;
  auto k = run_in_child("client", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    CHILD_CHECK(killed.recv().has_value());
    auto t0 = Clock::now();
    dvs_procinfo_t pi{};
    int r1 = dvs_getprocinfo(0, kSrv, &pi);
    int r2 = dvs_wait4bindep_T(0, 20, 5000);
    result.send(static_cast<int64_t>(ms_since(t0)));
    CHILD_CHECK(r1 < 0);
    CHILD_CHECK(r2 < 0);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  d.kill9();
  killed.send(1);
  auto ms = result.recv(milliseconds(12000));
  ASSERT_TRUE(ms.has_value()) << "control calls hang after dvsd died";
  EXPECT_LT(*ms, 6000);
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Lifecycle, ExitFreesTheProcessAndAllItsThreadBindings) {
  const std::string sock = sock_;
  Pipe bound;
  auto multi = run_in_child("multi", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    int t1 = 0, t2 = 0;
    std::thread a([&] {
      t1 = dvs_tbind(0, 20);
      bound.send(t1);
      for (;;) pause();  // the thread never unbinds
    });
    std::thread b([&] {
      t2 = dvs_tbind(0, 21);
      bound.send(t2);
      for (;;) pause();
    });
    a.detach();
    b.detach();
    for (;;) pause();  // killed with its threads still bound
    return 0;
  });
  auto t1 = bound.recv();
  auto t2 = bound.recv();
  ASSERT_TRUE(t1 && t2);
  EXPECT_EQ(20 + 21, *t1 + *t2);
  multi.kill9();
  auto k = run_in_child("rebinder", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(0, wait_procinfo(0, 20, [](const dvs_procinfo_t& pi) { return (pi.p_rts_flags & DVS_SLOT_FREE) != 0; }));
    CHILD_CHECK_EQ(0, wait_procinfo(0, 21, [](const dvs_procinfo_t& pi) { return (pi.p_rts_flags & DVS_SLOT_FREE) != 0; }));
    CHILD_CHECK_EQ(0, wait_procinfo(0, 40, [](const dvs_procinfo_t& pi) { return (pi.p_rts_flags & DVS_SLOT_FREE) != 0; }));
    CHILD_CHECK_EQ(20, dvs_bind(0, 20));
    int t21 = 0;
    std::thread t([&] { t21 = dvs_tbind(0, 21); });
    t.join();
    CHILD_CHECK_EQ(21, t21);
    int ep40 = DVS_NONE;
    std::thread u([&] { ep40 = dvs_tbind(0, 40); });
    u.join();
    CHILD_CHECK_OK(ep40);
    CHILD_CHECK_EQ(40, DVS_ENDPOINT_P(ep40));
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

}  // namespace
