// Races between timeouts, deliveries and deaths, across real processes. Nothing may be lost,
// duplicated, or reported both as delivered and as timed out.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>
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

using Races = DvsdTest;

constexpr int kSrv = 10;
#ifdef DVS_SANITIZED
constexpr int kIters = 400;
#else
constexpr int kIters = 1500;
#endif
constexpr int kDone = -7;

void jitter(std::mt19937& rng) {
  const int us = static_cast<int>(rng() % 1500);
  const auto until = Clock::now() + std::chrono::microseconds(us);
  while (Clock::now() < until) {
  }
}

std::vector<int64_t> drain(Pipe& p) {
  std::vector<int64_t> v;
  while (auto x = p.recv(milliseconds(0))) v.push_back(*x);
  return v;
}

// Each send_T(1 ms) either completed (the receiver has exactly that message) or timed out
// (the receiver never sees it).
TEST_F(Races, SendTimeoutVersusReceiveTimeoutLosesNothing) {
  const std::string sock = sock_;
  Pipe ready, sent_ok, got, verdict;
  auto recv = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    std::mt19937 rng(1);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      CHILD_CHECK(Clock::now() < deadline);
      dvs_message_t m{};
      int r = dvs_receive_T(DVS_ANY, &m, 1);
      if (r == EDVSTIMEDOUT) continue;
      CHILD_CHECK_EQ(0, r);
      if (m.m_type == kDone) break;
      got.send(m.m_type);
      jitter(rng);
    }
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto send = run_in_child("sender", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    std::mt19937 rng(2);
    for (int i = 0; i < kIters; ++i) {
      dvs_message_t m = make_msg(i);
      int r = dvs_send_T(kSrv, &m, 1);
      if (r == 0) sent_ok.send(i);
      else CHILD_CHECK_EQ(EDVSTIMEDOUT, r);
      jitter(rng);
    }
    dvs_message_t m = make_msg(kDone);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 10000));
    return 0;
  });
  EXPECT_TRUE(send.wait_ok(milliseconds(40000)));
  EXPECT_TRUE(recv.wait_ok(milliseconds(40000)));
  auto ok = drain(sent_ok);
  auto g = drain(got);
  std::multiset<int64_t> oks(ok.begin(), ok.end()), gots(g.begin(), g.end());
  EXPECT_EQ(oks, gots) << ok.size() << " sends completed, " << g.size() << " messages received";
  // In order, too.
  EXPECT_EQ(ok, g);
  RecordProperty("completed_sends", static_cast<int>(ok.size()));
}

// Each sendrec_T(1 ms) either got its own reply (and the server's reply succeeded) or timed out
// (and the server's reply, if it came to that, failed).
TEST_F(Races, SendrecTimeoutVersusReplyIsConsistent) {
  const std::string sock = sock_;
  Pipe ready, client_ok, server_ok;
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    std::mt19937 rng(3);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      CHILD_CHECK(Clock::now() < deadline);
      dvs_message_t m{};
      int r = dvs_receive_T(DVS_ANY, &m, 1);
      if (r == EDVSTIMEDOUT) continue;
      CHILD_CHECK_EQ(0, r);
      if (m.m_type == kDone) break;
      const int client = m.m_source;
      const int i = m.m_type;
      jitter(rng);
      m = make_msg(i + 1000000, i);
      r = dvs_reply_T(client, &m, 0);
      if (r == 0) server_ok.send(i);
      else CHILD_CHECK_EQ(EDVSPROCSTS, r);  // the client gave up first
    }
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    std::mt19937 rng(4);
    for (int i = 0; i < kIters; ++i) {
      dvs_message_t m = make_msg(i);
      int r = dvs_sendrec_T(kSrv, &m, 1);
      if (r == 0) {
        CHILD_CHECK_EQ(kSrv, m.m_source);
        CHILD_CHECK_EQ(i + 1000000, m.m_type);  // its own reply, never a stale one
        CHILD_CHECK(payload_ok(m, i));
        client_ok.send(i);
      } else {
        CHILD_CHECK_EQ(EDVSTIMEDOUT, r);
      }
      jitter(rng);
    }
    dvs_message_t m = make_msg(kDone);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 10000));
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(milliseconds(40000)));
  EXPECT_TRUE(server.wait_ok(milliseconds(40000)));
  auto c = drain(client_ok);
  auto s = drain(server_ok);
  EXPECT_EQ(c, s) << c.size() << " sendrecs completed at the client, " << s.size()
                  << " replies succeeded at the server";
}

// Clients die at random moments while a server serves them; the server never hangs, sees only
// the expected errors, and dvsd keeps serving.
TEST_F(Races, ClientsKilledMidTrafficLeaveAWorkingSystem) {
  const std::string sock = sock_;
  constexpr int kClients = 5;
  Pipe ready, stop, served, started;
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    int n = 0;
    while (!stop.readable()) {
      dvs_message_t m{};
      int r = dvs_rcvrqst_T(&m, 20);
      if (r == EDVSTIMEDOUT) continue;
      CHILD_CHECK_EQ(0, r);
      r = dvs_reply_T(m.m_source, &m, 0);
      // A client killed between its request and our reply: its slot is gone or stale.
      if (r != 0 && r != EDVSDSTDIED && r != EDVSPROCSTS && r != EDVSENDPOINT && r != EDVSNOTBIND)
        CHILD_CHECK_EQ(0, r);
      ++n;
    }
    served.send(n);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  std::vector<ForkedChild> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(run_in_child("client" + std::to_string(c), [&, sock, c] {
      CHILD_CHECK_OK(open_and_bind(sock, 0, 40 + c));
      for (int i = 0;; ++i) {
        dvs_message_t m = make_msg(i);
        CHILD_CHECK_EQ(0, dvs_sendrec_T(kSrv, &m, 10000));
        if (i == 20) started.send(c);
      }
      return 0;
    }));
  }
  for (int c = 0; c < kClients; ++c) ASSERT_TRUE(started.recv()) << "client did not get going";
  std::mt19937 rng(5);
  for (auto& c : clients) {
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));  // random kill points
    c.kill9();
    EXPECT_EQ(SIGKILL, c.status()->term_signal) << c.name() << " " << c.status()->describe();
  }
  stop.send(1);
  EXPECT_TRUE(server.wait_ok(milliseconds(10000)));
  auto n = served.recv(milliseconds(0));
  ASSERT_TRUE(n.has_value());
  EXPECT_GT(*n, kClients * 20);
  // A fresh pair works, in the dead clients' slots.
  Pipe r2;
  auto s2 = run_in_child("server2", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    int rc = EDVSSLOTUSED;
    poll_until([&] { return (rc = dvs_bind(0, 11)) != EDVSSLOTUSED; });
    CHILD_CHECK_EQ(11, rc);
    r2.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 1000));
    return 0;
  });
  ASSERT_TRUE(r2.recv());
  auto c2 = run_in_child("client2", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    int rc = EDVSSLOTUSED;
    poll_until([&] { return (rc = dvs_bind(0, 40)) != EDVSSLOTUSED; });
    CHILD_CHECK_OK(rc);
    dvs_message_t m = make_msg(3);
    CHILD_CHECK_EQ(0, dvs_sendrec_T(11, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(c2.wait_ok());
  EXPECT_TRUE(s2.wait_ok());
}

// Notify racing with receive_T(1 ms) timeouts: every notify is eventually seen (coalesced
// notifies may merge, but the last one before the done message is never lost).
TEST_F(Races, NotifyIsNeverLostAcrossReceiveTimeouts) {
  const std::string sock = sock_;
  Pipe ready, rounds;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    std::mt19937 rng(6);
    int seen = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      CHILD_CHECK(Clock::now() < deadline);
      dvs_message_t m{};
      int r = dvs_receive_T(DVS_ANY, &m, 1);
      if (r == EDVSTIMEDOUT) continue;
      CHILD_CHECK_EQ(0, r);
      CHILD_CHECK_EQ(12, m.m_source);
      if (DVS_IS_NOTIFY(m.m_type)) {
        ++seen;
        // Acknowledge: the notifier waits for this before its next notify, so none coalesce.
        dvs_message_t a = make_msg(seen);
        CHILD_CHECK_EQ(0, dvs_send_T(12, &a, 5000));
        jitter(rng);
        continue;
      }
      CHILD_CHECK_EQ(kDone, m.m_type);
      break;
    }
    rounds.send(seen);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto notifier = run_in_child("notifier", [&, sock] {
    CHILD_CHECK_EQ(12, open_and_bind(sock, 0, 12));
    std::mt19937 rng(7);
    for (int i = 1; i <= kIters / 3; ++i) {
      jitter(rng);
      CHILD_CHECK_EQ(0, dvs_notify(kSrv));
      dvs_message_t a{};
      int r = dvs_receive_T(kSrv, &a, 5000);  // a lost notify shows up as a timeout here
      CHILD_CHECK_EQ(0, r);
      CHILD_CHECK_EQ(i, a.m_type);
    }
    dvs_message_t m = make_msg(kDone);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(notifier.wait_ok(milliseconds(40000)));
  EXPECT_TRUE(target.wait_ok(milliseconds(40000)));
  auto n = rounds.recv(milliseconds(0));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(kIters / 3, *n);
}

}  // namespace
