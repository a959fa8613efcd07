// send / receive / sendrec / rcvrqst / reply / timeouts / wakeup (M3-IPC §2.6 semantics).
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

using Primitives = DvsdTest;

constexpr int kSrv = 10;  // a system slot: endpoint == p_nr

// ---------------------------------------------------------------------------------------------
// send / receive

TEST_F(Primitives, SendIsRendezvousAndOverwritesSource) {
  const std::string sock = sock_;
  Pipe ready, sender_ep, send_returned;
  auto recv = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    auto sep = sender_ep.recv();
    CHILD_CHECK(sep.has_value());
    // The sender is blocked in SENDING to us, and its send has not returned.
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, 40, &pi));
    CHILD_CHECK_EQ(kSrv, pi.p_sendto);
    CHILD_CHECK(!send_returned.readable());
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive(DVS_ANY, &m));
    CHILD_CHECK_EQ(*sep, m.m_source);  // not the 0x5a5a5a5a the sender wrote
    CHILD_CHECK_EQ(77, m.m_type);
    CHILD_CHECK(payload_ok(m, 9));
    // Only now does the send complete.
    CHILD_CHECK(send_returned.recv(milliseconds(5000)).has_value());
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto send = run_in_child("sender", [&, sock] {
    int ep = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep);
    sender_ep.send(ep);
    dvs_message_t m = make_msg(77, 9);
    CHILD_CHECK_EQ(0, dvs_send(kSrv, &m));
    send_returned.send(1);
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, 40, &pi));
    CHILD_CHECK_EQ(0, pi.p_rts_flags & (DVS_SENDING | DVS_RECEIVING));
    return 0;
  });
  EXPECT_TRUE(send.wait_ok());
  EXPECT_TRUE(recv.wait_ok());
}

TEST_F(Primitives, ReceiverBlockedFirstGetsTheMessage) {
  const std::string sock = sock_;
  Pipe ready;
  auto recv = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(11, m.m_source);
    CHILD_CHECK_EQ(5, m.m_type);
    CHILD_CHECK(payload_ok(m, 200));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto send = run_in_child("sender", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, kSrv, &pi));
    CHILD_CHECK_EQ(DVS_ANY, pi.p_getfrom);
    dvs_message_t m = make_msg(5, 200);
    CHILD_CHECK_EQ(0, dvs_send(kSrv, &m));
    return 0;
  });
  EXPECT_TRUE(send.wait_ok());
  EXPECT_TRUE(recv.wait_ok());
}

// Senders 40, 41, 42, 43 queue up in this order (each waits until the previous one is blocked
// sending before it sends).
std::vector<ForkedChild> queue_senders(const std::string& sock, int n, Pipe& eps) {
  std::vector<ForkedChild> kids;
  for (int k = 0; k < n; ++k) {
    kids.push_back(run_in_child("sender" + std::to_string(k), [&eps, sock, k] {
      int ep = open_and_bind(sock, 0, 40 + k);
      CHILD_CHECK_OK(ep);
      eps.send((static_cast<int64_t>(k) << 32) | static_cast<uint32_t>(ep));
      if (k > 0) CHILD_CHECK_EQ(0, wait_sending(0, 40 + k - 1, kSrv));
      dvs_message_t m = make_msg(100 + k, k);
      CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 20000));
      return 0;
    }));
  }
  return kids;
}

TEST_F(Primitives, SenderQueueIsFifo) {
  const std::string sock = sock_;
  constexpr int kN = 4;
  Pipe ready, eps;
  auto recv = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    int sender_ep[kN] = {};
    for (int i = 0; i < kN; ++i) {
      auto v = eps.recv();
      CHILD_CHECK(v.has_value());
      sender_ep[*v >> 32] = static_cast<int32_t>(*v & 0xffffffff);
    }
    CHILD_CHECK_EQ(0, wait_sending(0, 40 + kN - 1, kSrv));
    for (int k = 0; k < kN; ++k) {
      dvs_message_t m{};
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
      CHILD_CHECK_EQ(100 + k, m.m_type);
      CHILD_CHECK_EQ(40 + k, DVS_ENDPOINT_P(m.m_source));
      CHILD_CHECK_EQ(sender_ep[k], m.m_source);
      CHILD_CHECK(payload_ok(m, k));
    }
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto senders = queue_senders(sock, kN, eps);
  EXPECT_TRUE(recv.wait_ok(milliseconds(20000)));
  for (auto& s : senders) EXPECT_TRUE(s.wait_ok());
}

TEST_F(Primitives, ReceiveFromSourceSkipsOthersWhoStayQueuedInOrder) {
  const std::string sock = sock_;
  constexpr int kN = 4;
  Pipe ready, eps;
  auto recv = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    CHILD_CHECK_EQ(0, wait_sending(0, 40 + kN - 1, kSrv));
    dvs_message_t m{};
    // Take 42's message first, then 40's, past the others.
    const int ep42 = proc_ep(0, 42);
    CHILD_CHECK_OK(ep42);
    CHILD_CHECK_EQ(0, dvs_receive_T(ep42, &m, 5000));
    CHILD_CHECK_EQ(102, m.m_type);
    CHILD_CHECK_EQ(ep42, m.m_source);
    // 42 is gone from the queue; 40, 41, 43 still wait, in order.
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    CHILD_CHECK_EQ(0, wait_sending(0, 41, kSrv));
    CHILD_CHECK_EQ(0, wait_sending(0, 43, kSrv));
    for (int k : {0, 1, 3}) {
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
      CHILD_CHECK_EQ(100 + k, m.m_type);
      CHILD_CHECK_EQ(40 + k, DVS_ENDPOINT_P(m.m_source));
    }
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto senders = queue_senders(sock, kN, eps);
  EXPECT_TRUE(recv.wait_ok(milliseconds(20000)));
  for (auto& s : senders) EXPECT_TRUE(s.wait_ok());
}

TEST_F(Primitives, ReceiveFromSourceWaitsForThatSource) {
  const std::string sock = sock_;
  StartGate gate;
  Pipe s12_ready;
  auto recv = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    gate.arrive_and_wait();
    dvs_message_t m{};
    // 40 is queued, but we want 12: block until 12 sends.
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    CHILD_CHECK_EQ(0, dvs_receive_T(12, &m, 10000));
    CHILD_CHECK_EQ(12, m.m_source);
    CHILD_CHECK_EQ(2, m.m_type);
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(40, DVS_ENDPOINT_P(m.m_source));
    CHILD_CHECK_EQ(1, m.m_type);
    return 0;
  });
  auto s40 = run_in_child("s40", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    gate.arrive_and_wait();
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 20000));
    return 0;
  });
  auto s12 = run_in_child("s12", [&, sock] {
    CHILD_CHECK_EQ(12, open_and_bind(sock, 0, 12));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_procinfo(0, kSrv, [](const dvs_procinfo_t& pi) {
                     return (pi.p_rts_flags & DVS_RECEIVING) && pi.p_getfrom == 12;
                   }));
    dvs_message_t m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 5000));
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(recv.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(s40.wait_ok());
  EXPECT_TRUE(s12.wait_ok());
}

TEST_F(Primitives, ReceiveFromAStaleUserEndpointFails) {
  const std::string sock = sock_;
  auto k = run_in_child("r", [sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    dvs_message_t m{};
    auto t0 = Clock::now();
    int r = dvs_receive_T(DVS_ENDPOINT(3, 50), &m, 1000);  // nobody at user slot 50
    CHILD_CHECK(r < 0);
    CHILD_CHECK(r != EDVSTIMEDOUT);
    CHILD_CHECK(ms_since(t0) < 900);
    r = dvs_receive_T(500, &m, 1000);  // no such slot
    CHILD_CHECK(r < 0);
    CHILD_CHECK(r != EDVSTIMEDOUT);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

// dvs semantics: a well-known (system, generation 0) source may be awaited before it binds.
TEST_F(Primitives, ReceiveFromAWellKnownSourceWaitsForItToBind) {
  const std::string sock = sock_;
  Pipe ready;
  auto r = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(12, &m, 10000));
    CHILD_CHECK_EQ(12, m.m_source);
    CHILD_CHECK_EQ(8, m.m_type);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto s12 = run_in_child("s12", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    // Make sure the receiver is already waiting for 12 before 12 exists.
    CHILD_CHECK_EQ(0, wait_procinfo(0, kSrv, [](const dvs_procinfo_t& pi) {
                     return (pi.p_rts_flags & DVS_RECEIVING) && pi.p_getfrom == 12;
                   }));
    CHILD_CHECK_EQ(12, dvs_bind(0, 12));
    dvs_message_t m = make_msg(8);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(s12.wait_ok());
  EXPECT_TRUE(r.wait_ok());
}

TEST_F(Primitives, SendToSelfAndToBadEndpointsFails) {
  const std::string sock = sock_;
  auto k = run_in_child("self", [sock] {
    int ep = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep);
    dvs_message_t m = make_msg(1);
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSENDPOINT, dvs_send_T(ep, &m, 1000));
    CHILD_CHECK(ms_since(t0) < 900);  // fails at once, not by timeout
    // An endpoint of slot 40 with another generation is stale.
    const int stale = DVS_ENDPOINT(DVS_ENDPOINT_G(ep) + 1, 40);
    CHILD_CHECK_EQ(EDVSENDPOINT, dvs_send_T(stale, &m, 1000));
    // Nobody is bound at system slot 20; slot 500 does not exist.
    t0 = Clock::now();
    int r = dvs_send_T(20, &m, 1000);
    CHILD_CHECK(r < 0);
    CHILD_CHECK(r != EDVSTIMEDOUT);
    r = dvs_send_T(500, &m, 1000);
    CHILD_CHECK(r < 0);
    CHILD_CHECK(r != EDVSTIMEDOUT);
    r = dvs_send_T(DVS_ANY, &m, 1000);
    CHILD_CHECK(r < 0);
    CHILD_CHECK(ms_since(t0) < 2900);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// sendrec / rcvrqst / reply

enum class ServerKind { ReceiveReply, RcvrqstReply, ReceiveSend };

void sendrec_round_trips(const std::string& sock, ServerKind kind) {
  constexpr int kRounds = 50;
  Pipe ready;
  auto server = run_in_child("server", [&, sock, kind] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    for (int i = 0; i < kRounds; ++i) {
      dvs_message_t m{};
      if (kind == ServerKind::RcvrqstReply)
        CHILD_CHECK_EQ(0, dvs_rcvrqst_T(&m, 10000));
      else
        CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
      CHILD_CHECK_EQ(40, DVS_ENDPOINT_P(m.m_source));
      CHILD_CHECK_EQ(1000 + i, m.m_type);
      CHILD_CHECK(payload_ok(m, i));
      const int client = m.m_source;
      m = make_msg(2000 + i, i + 1);
      if (kind == ServerKind::ReceiveSend)
        CHILD_CHECK_EQ(0, dvs_send_T(client, &m, 10000));
      else
        CHILD_CHECK_EQ(0, dvs_reply_T(client, &m, 10000));
    }
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    for (int i = 0; i < kRounds; ++i) {
      dvs_message_t m = make_msg(1000 + i, i);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kSrv, &m, 10000));
      // The reply is in the same buffer, from the server.
      CHILD_CHECK_EQ(kSrv, m.m_source);
      CHILD_CHECK_EQ(2000 + i, m.m_type);
      CHILD_CHECK(payload_ok(m, i + 1));
    }
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(server.wait_ok(milliseconds(20000)));
}

TEST_F(Primitives, SendrecWithReceiveAndReply) { sendrec_round_trips(sock_, ServerKind::ReceiveReply); }
TEST_F(Primitives, SendrecWithRcvrqstAndReply) { sendrec_round_trips(sock_, ServerKind::RcvrqstReply); }
TEST_F(Primitives, SendrecWithReceiveAndSend) { sendrec_round_trips(sock_, ServerKind::ReceiveSend); }

TEST_F(Primitives, ReplyToAProcessNotWaitingFailsAtOnce) {
  const std::string sock = sock_;
  Pipe ready, done;
  auto idle = run_in_child("idle", [&, sock] {
    int ep = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep);
    ready.send(ep);
    done.recv(milliseconds(10000));
    return 0;
  });
  auto ep = ready.recv();
  ASSERT_TRUE(ep);
  const int idle_ep = static_cast<int>(*ep);
  auto server = run_in_child("server", [&, sock, idle_ep] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    dvs_message_t m = make_msg(1);
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSPROCSTS, dvs_reply(idle_ep, &m));  // untimed: must not block
    const double ms = ms_since(t0);
    if (ms > 1000) fprintf(stderr, "reply to a non-waiting process took %.1f ms\n", ms);
    CHILD_CHECK(ms < 1000);
    // A process blocked receiving from someone else is not waiting for us either.
    return 0;
  });
  EXPECT_TRUE(server.wait_ok(milliseconds(5000)));
  done.send(1);
  EXPECT_TRUE(idle.wait_ok());
}

TEST_F(Primitives, ReplyToAProcessWaitingForAnotherFails) {
  const std::string sock = sock_;
  StartGate gate;
  Pipe refused;
  auto r = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    gate.arrive_and_wait();
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(11, &m, 10000));  // waits for 11, not for 10
    CHILD_CHECK_EQ(11, m.m_source);
    return 0;
  });
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_receiving(0, 40));
    dvs_message_t m = make_msg(1);
    const int rep = proc_ep(0, 40);
    CHILD_CHECK_OK(rep);
    CHILD_CHECK_EQ(EDVSPROCSTS, dvs_reply_T(rep, &m, 1000));
    refused.send(1);
    return 0;
  });
  auto other = run_in_child("s11", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    gate.arrive_and_wait();
    CHILD_CHECK(refused.recv().has_value());
    dvs_message_t m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_send_T(proc_ep(0, 40), &m, 5000));
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(server.wait_ok());
  EXPECT_TRUE(other.wait_ok());
  EXPECT_TRUE(r.wait_ok());
}

TEST_F(Primitives, RcvrqstAndReplyAreForSystemProcessesOnly) {
  const std::string sock = sock_;
  Pipe ready;
  // The system process 10 sendrecs to the user process 40, so 40 is the one 10 waits for:
  // only the privilege check can refuse 40's reply.
  auto user = run_in_child("user", [&, sock] {
    int ep = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep);
    ready.send(ep);
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_rcvrqst_T(&m, 0));
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(kSrv, m.m_source);
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    dvs_message_t r = make_msg(9);
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_reply_T(kSrv, &r, 1000));
    // A plain send completes the system process's sendrec.
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &r, 5000));
    return 0;
  });
  auto ep = ready.recv();
  ASSERT_TRUE(ep);
  const int uep = static_cast<int>(*ep);
  auto sys = run_in_child("system", [&, sock, uep] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    dvs_message_t m = make_msg(8);
    CHILD_CHECK_EQ(0, dvs_sendrec_T(uep, &m, 10000));
    CHILD_CHECK_EQ(uep, m.m_source);
    CHILD_CHECK_EQ(9, m.m_type);
    return 0;
  });
  EXPECT_TRUE(sys.wait_ok());
  EXPECT_TRUE(user.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// timeouts

TEST_F(Primitives, ReceiveNowaitWithNothingThere) {
  const std::string sock = sock_;
  Pipe ready, done;
  auto peer = run_in_child("peer", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    ready.send(1);
    done.recv();
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto k = run_in_child("r", [sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    dvs_message_t m{};
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, DVS_TIMEOUT_NOWAIT));
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(11, &m, DVS_TIMEOUT_NOWAIT));
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_rcvrqst_T(&m, DVS_TIMEOUT_NOWAIT));
    const double ms = ms_since(t0);
    if (ms >= 200) fprintf(stderr, "three NOWAIT receives took %.1f ms\n", ms);
    CHILD_CHECK(ms < 200);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
  done.send(1);
  EXPECT_TRUE(peer.wait_ok());
}

TEST_F(Primitives, TimedCallsTimeOutInRoughlyTheirTime) {
  const std::string sock = sock_;
  Pipe ready, done;
  auto idle = run_in_child("idle", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    done.recv(milliseconds(15000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto k = run_in_child("timer", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    dvs_message_t m = make_msg(1);
    struct Case {
      const char* name;
      std::function<int()> call;
    };
    const Case cases[] = {
        {"receive_T(ANY)", [&] { return dvs_receive_T(DVS_ANY, &m, 50); }},
        {"receive_T(10)", [&] { return dvs_receive_T(kSrv, &m, 50); }},
        {"send_T", [&] { return dvs_send_T(kSrv, &m, 50); }},
        {"sendrec_T", [&] { return dvs_sendrec_T(kSrv, &m, 50); }},
    };
    for (const auto& c : cases) {
      auto t0 = Clock::now();
      int r = c.call();
      const double ms = ms_since(t0);
      if (r != EDVSTIMEDOUT || ms < 40 || ms > 2000)
        fprintf(stderr, "%s(50 ms) = %s after %.1f ms\n", c.name, rc_str(r).c_str(), ms);
      CHILD_CHECK_EQ(EDVSTIMEDOUT, r);
      CHILD_CHECK(ms >= 40);
      CHILD_CHECK(ms < 2000);
      dvs_procinfo_t pi{};
      CHILD_CHECK_OK(dvs_getprocinfo(0, 40, &pi));
      CHILD_CHECK_EQ(0, pi.p_rts_flags & (DVS_SENDING | DVS_RECEIVING));
    }
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
  done.send(1);
  EXPECT_TRUE(idle.wait_ok(milliseconds(20000)));
}

TEST_F(Primitives, TimedOutSenderIsNoLongerQueued) {
  const std::string sock = sock_;
  Pipe ready, timed_out, checked;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    auto r = timed_out.recv();
    CHILD_CHECK(r.has_value());
    CHILD_CHECK_EQ(EDVSTIMEDOUT, *r);
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(proc_ep(0, 40), &m, 0));
    checked.send(1);
    // A later real message still gets through.
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(2, m.m_type);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto sender = run_in_child("sender", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    dvs_message_t m = make_msg(1);
    int r = dvs_send_T(kSrv, &m, 50);
    timed_out.send(r);
    CHILD_CHECK_EQ(EDVSTIMEDOUT, r);
    CHILD_CHECK(checked.recv().has_value());
    m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(sender.wait_ok());
  EXPECT_TRUE(target.wait_ok());
}

TEST_F(Primitives, SendrecTimesOutWaitingForTheReplyAndLateReplyFails) {
  const std::string sock = sock_;
  Pipe ready, client_done, replied;
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    const int client = m.m_source;
    auto r = client_done.recv();  // do not reply until the client has given up
    CHILD_CHECK(r.has_value());
    CHILD_CHECK_EQ(EDVSTIMEDOUT, *r);
    CHILD_CHECK_EQ(EDVSPROCSTS, dvs_reply_T(client, &m, 1000));
    replied.send(1);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    dvs_message_t m = make_msg(1);
    auto t0 = Clock::now();
    int r = dvs_sendrec_T(kSrv, &m, 300);
    const double ms = ms_since(t0);
    client_done.send(r);
    CHILD_CHECK_EQ(EDVSTIMEDOUT, r);
    CHILD_CHECK(ms >= 250 && ms < 3000);
    CHILD_CHECK(replied.recv().has_value());  // stay bound until the late reply was refused
    return 0;
  });
  EXPECT_TRUE(client.wait_ok());
  EXPECT_TRUE(server.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// wakeup

TEST_F(Primitives, WakeupMakesABlockedReceiveReturnWokenUp) {
  const std::string sock = sock_;
  Pipe ready;
  auto sleeper = run_in_child("sleeper", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    dvs_message_t m{};
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSWOKENUP, dvs_receive(DVS_ANY, &m));
    CHILD_CHECK(ms_since(t0) < 10000);
    // Still usable afterwards.
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(11, m.m_source);
    CHILD_CHECK_EQ(3, m.m_type);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto waker = run_in_child("waker", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    CHILD_CHECK_OK(dvs_wakeup(0, kSrv));
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    dvs_message_t m = make_msg(3);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(waker.wait_ok());
  EXPECT_TRUE(sleeper.wait_ok());
}

TEST_F(Primitives, WakeupOfAnUnboundEndpointFails) {
  const std::string sock = sock_;
  auto k = run_in_child("waker", [sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    CHILD_CHECK(dvs_wakeup(0, 25) < 0);
    CHILD_CHECK(dvs_wakeup(7, 12) < 0);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Primitives, ManyClientsOneServer) {
  const std::string sock = sock_;
  constexpr int kClients = 8;
#ifdef DVS_SANITIZED
  constexpr int kEach = 50;
#else
  constexpr int kEach = 200;
#endif
  Pipe ready;
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    int per_client[kClients] = {};
    for (int i = 0; i < kClients * kEach; ++i) {
      dvs_message_t m{};
      CHILD_CHECK_EQ(0, dvs_rcvrqst_T(&m, 10000));
      const int c = DVS_ENDPOINT_P(m.m_source) - 40;
      CHILD_CHECK(c >= 0 && c < kClients);
      CHILD_CHECK_EQ(c, m.m_u.m1.m1i1);
      CHILD_CHECK_EQ(per_client[c], m.m_u.m1.m1i2);  // each client's requests in order
      per_client[c]++;
      m.m_type = m.m_u.m1.m1i2 * 3 + c;
      CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
    }
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  std::vector<ForkedChild> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(run_in_child("client" + std::to_string(c), [&, sock, c] {
      CHILD_CHECK_OK(open_and_bind(sock, 0, 40 + c));
      for (int i = 0; i < kEach; ++i) {
        dvs_message_t m{};
        m.m_u.m1.m1i1 = c;
        m.m_u.m1.m1i2 = i;
        CHILD_CHECK_EQ(0, dvs_sendrec_T(kSrv, &m, 10000));
        CHILD_CHECK_EQ(kSrv, m.m_source);
        CHILD_CHECK_EQ(i * 3 + c, m.m_type);
      }
      return 0;
    }));
  }
  for (auto& c : clients) EXPECT_TRUE(c.wait_ok(milliseconds(30000)));
  EXPECT_TRUE(server.wait_ok(milliseconds(30000)));
}

TEST_F(Primitives, WakeupOfABlockedSenderRemovesItFromTheQueue) {
  const std::string sock = sock_;
  StartGate gate;
  Pipe result, checked;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    gate.arrive_and_wait();
    auto r = result.recv();
    CHILD_CHECK(r.has_value());
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));  // the woken sender left
    checked.send(1);
    return 0;
  });
  auto sender = run_in_child("sender", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    gate.arrive_and_wait();
    dvs_message_t m = make_msg(1);
    int r = dvs_send_T(kSrv, &m, 10000);
    result.send(r);
    CHILD_CHECK_EQ(EDVSWOKENUP, r);
    CHILD_CHECK(checked.recv().has_value());
    return 0;
  });
  auto waker = run_in_child("waker", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    const int ep = proc_ep(0, 40);
    CHILD_CHECK_OK(ep);
    CHILD_CHECK_OK(dvs_wakeup(0, ep));
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(waker.wait_ok());
  EXPECT_TRUE(sender.wait_ok());
  EXPECT_TRUE(target.wait_ok());
}

TEST_F(Primitives, ReplyReachesAProcessReceivingFromTheServer) {
  const std::string sock = sock_;
  StartGate gate;
  auto user = run_in_child("user", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    gate.arrive_and_wait();
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(kSrv, &m, 10000));
    CHILD_CHECK_EQ(kSrv, m.m_source);
    CHILD_CHECK_EQ(31, m.m_type);
    CHILD_CHECK(payload_ok(m, 31));
    return 0;
  });
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_receiving(0, 40));
    dvs_message_t m = make_msg(31, 31);
    CHILD_CHECK_EQ(0, dvs_reply_T(proc_ep(0, 40), &m, 1000));
    return 0;
  });
  ASSERT_TRUE(gate.open(2));
  EXPECT_TRUE(server.wait_ok());
  EXPECT_TRUE(user.wait_ok());
}

TEST_F(Primitives, NullMessageBufferIsAnErrorNotACrash) {
  const std::string sock = sock_;
  Pipe ready, done;
  auto peer = run_in_child("peer", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    ready.send(1);
    done.recv();
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto k = run_in_child("caller", [sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    CHILD_CHECK(dvs_send_T(11, nullptr, 100) < 0);
    CHILD_CHECK(dvs_sendrec_T(11, nullptr, 100) < 0);
    CHILD_CHECK(dvs_receive_T(DVS_ANY, nullptr, 0) < 0);
    CHILD_CHECK(dvs_rcvrqst_T(nullptr, 0) < 0);
    CHILD_CHECK(dvs_reply_T(11, nullptr, 0) < 0);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
  done.send(1);
  EXPECT_TRUE(peer.wait_ok());
}

// A sendrec caller, in its send phase and in its reply phase, takes only its server's reply;
// other senders queue up behind.
void sendrec_caller_is_exclusive(const std::string& sock, bool server_took_request_first) {
  StartGate gate;
  Pipe other_queued;
  auto client = run_in_child("client", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    gate.arrive_and_wait();
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_sendrec_T(kSrv, &m, 10000));
    CHILD_CHECK_EQ(kSrv, m.m_source);  // the server's reply, not the other's message
    CHILD_CHECK_EQ(2, m.m_type);
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(11, m.m_source);
    CHILD_CHECK_EQ(3, m.m_type);
    return 0;
  });
  auto server = run_in_child("server", [&, sock, server_took_request_first] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    gate.arrive_and_wait();
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kSrv));
    if (server_took_request_first) CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    other_queued.send(1);
    CHILD_CHECK_EQ(0, wait_sending(0, 11, proc_ep(0, 40)));  // the other is queued at the client
    if (!server_took_request_first) CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(40, DVS_ENDPOINT_P(m.m_source));
    const int c = m.m_source;
    m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_reply_T(c, &m, 5000));
    return 0;
  });
  auto other = run_in_child("other", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    gate.arrive_and_wait();
    CHILD_CHECK(other_queued.recv().has_value());
    dvs_message_t m = make_msg(3);
    CHILD_CHECK_EQ(0, dvs_send_T(proc_ep(0, 40), &m, 10000));
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(server.wait_ok());
  EXPECT_TRUE(other.wait_ok());
  EXPECT_TRUE(client.wait_ok());
}

TEST_F(Primitives, SendrecCallerInSendPhaseTakesOnlyTheReply) { sendrec_caller_is_exclusive(sock_, false); }
TEST_F(Primitives, SendrecCallerInReplyPhaseTakesOnlyTheReply) { sendrec_caller_is_exclusive(sock_, true); }

// Senders that time out in the middle and at the tail of a queue leave it intact.
TEST_F(Primitives, TimeoutsInTheMiddleAndAtTheTailKeepTheQueueIntact) {
  const std::string sock = sock_;
  StartGate gate;
  Pipe timed_out, later_queued;
  auto recv = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    gate.arrive_and_wait();
    CHILD_CHECK(later_queued.recv(milliseconds(10000)).has_value());
    dvs_message_t m{};
    for (int k : {0, 3}) {
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
      CHILD_CHECK_EQ(40 + k, DVS_ENDPOINT_P(m.m_source));
      CHILD_CHECK_EQ(100 + k, m.m_type);
    }
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  std::vector<ForkedChild> senders;
  for (int k = 0; k < 4; ++k) {
    senders.push_back(run_in_child("s" + std::to_string(k), [&, sock, k] {
      CHILD_CHECK_OK(open_and_bind(sock, 0, 40 + k));
      gate.arrive_and_wait();
      if (k == 3) {
        // Queue only after 41 (middle) and 42 (tail) have timed out.
        CHILD_CHECK(timed_out.recv(milliseconds(10000)).has_value());
        CHILD_CHECK(timed_out.recv(milliseconds(10000)).has_value());
      } else if (k > 0) {
        CHILD_CHECK_EQ(0, wait_sending(0, 40 + k - 1, kSrv));
      }
      dvs_message_t m = make_msg(100 + k);
      if (k == 1 || k == 2) {
        // 41 is in the middle, 42 at the tail; 42 waits a little longer so 41 goes first.
        int r = dvs_send_T(kSrv, &m, k == 1 ? 300 : 400);
        timed_out.send(r);
        CHILD_CHECK_EQ(EDVSTIMEDOUT, r);
        return 0;
      }
      if (k == 3) {
        std::thread announce([&] {
          if (wait_sending(0, 43, kSrv) == 0) later_queued.send(1);
        });
        int r = dvs_send_T(kSrv, &m, 10000);
        announce.join();
        CHILD_CHECK_EQ(0, r);
        return 0;
      }
      CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 10000));
      return 0;
    }));
  }
  ASSERT_TRUE(gate.open(5));
  EXPECT_TRUE(recv.wait_ok(milliseconds(15000)));
  for (auto& c : senders) EXPECT_TRUE(c.wait_ok(milliseconds(15000)));
}

}  // namespace
