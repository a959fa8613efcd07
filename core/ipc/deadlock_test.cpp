// Deadlock detection (a dvs extension over M3-IPC, which had none: MINIX-3-style EDVSLOCKED).
#include <gtest/gtest.h>

#include <memory>
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

using Deadlock = DvsdTest;

constexpr int A = 10, B = 11, C = 12;  // system slots: endpoint == p_nr

TEST_F(Deadlock, TwoCycleSendSend) {
  const std::string sock = sock_;
  StartGate gate;
  auto a = run_in_child("A", [&, sock] {
    CHILD_CHECK_EQ(A, open_and_bind(sock, 0, A));
    gate.arrive_and_wait();
    dvs_message_t m = make_msg(1, 1);
    // Blocked until B takes it (after B's own send was refused).
    CHILD_CHECK_EQ(0, dvs_send_T(B, &m, 10000));
    return 0;
  });
  auto b = run_in_child("B", [&, sock] {
    CHILD_CHECK_EQ(B, open_and_bind(sock, 0, B));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_sending(0, A, B));
    dvs_message_t m = make_msg(2);
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSLOCKED, dvs_send_T(A, &m, 5000));
    CHILD_CHECK(ms_since(t0) < 4000);  // detected, not timed out
    CHILD_CHECK_EQ(EDVSLOCKED, dvs_sendrec_T(A, &m, 5000));
    // A is still blocked and its message still deliverable.
    CHILD_CHECK_EQ(0, wait_sending(0, A, B));
    CHILD_CHECK_EQ(0, dvs_receive_T(A, &m, 5000));
    CHILD_CHECK_EQ(A, m.m_source);
    CHILD_CHECK_EQ(1, m.m_type);
    CHILD_CHECK(payload_ok(m, 1));
    return 0;
  });
  ASSERT_TRUE(gate.open(2));
  EXPECT_TRUE(b.wait_ok(milliseconds(15000)));
  EXPECT_TRUE(a.wait_ok(milliseconds(15000)));
}

TEST_F(Deadlock, ThreeCycleCloserGetsLocked) {
  const std::string sock = sock_;
  StartGate gate;
  auto a = run_in_child("A", [&, sock] {
    CHILD_CHECK_EQ(A, open_and_bind(sock, 0, A));
    gate.arrive_and_wait();
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_send_T(B, &m, 15000));  // A -> B
    return 0;
  });
  auto b = run_in_child("B", [&, sock] {
    CHILD_CHECK_EQ(B, open_and_bind(sock, 0, B));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_sending(0, A, B));
    dvs_message_t m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_send_T(C, &m, 15000));  // B -> C
    // Then take A's message.
    CHILD_CHECK_EQ(0, dvs_receive_T(A, &m, 5000));
    CHILD_CHECK_EQ(1, m.m_type);
    return 0;
  });
  auto c = run_in_child("C", [&, sock] {
    CHILD_CHECK_EQ(C, open_and_bind(sock, 0, C));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_sending(0, B, C));
    dvs_message_t m = make_msg(3);
    CHILD_CHECK_EQ(EDVSLOCKED, dvs_send_T(A, &m, 5000));  // C -> A closes the cycle
    CHILD_CHECK_EQ(EDVSLOCKED, dvs_sendrec_T(A, &m, 5000));
    // A and B are still blocked; unwind: C takes B's message, B then takes A's.
    CHILD_CHECK_EQ(0, wait_sending(0, A, B));
    CHILD_CHECK_EQ(0, dvs_receive_T(B, &m, 5000));
    CHILD_CHECK_EQ(2, m.m_type);
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(c.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(b.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(a.wait_ok(milliseconds(20000)));
}

TEST_F(Deadlock, ReceiveFromAProcessReceivingFromUs) {
  const std::string sock = sock_;
  StartGate gate;
  auto a = run_in_child("A", [&, sock] {
    CHILD_CHECK_EQ(A, open_and_bind(sock, 0, A));
    gate.arrive_and_wait();
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(B, &m, 10000));  // A waits for B
    CHILD_CHECK_EQ(B, m.m_source);
    CHILD_CHECK_EQ(7, m.m_type);
    return 0;
  });
  auto b = run_in_child("B", [&, sock] {
    CHILD_CHECK_EQ(B, open_and_bind(sock, 0, B));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_receiving(0, A));
    dvs_message_t m{};
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSLOCKED, dvs_receive_T(A, &m, 5000));  // B waits for A: cycle
    CHILD_CHECK(ms_since(t0) < 4000);
    // A is still receiving from B: release it.
    CHILD_CHECK_EQ(0, wait_receiving(0, A));
    m = make_msg(7);
    CHILD_CHECK_EQ(0, dvs_send_T(A, &m, 5000));
    return 0;
  });
  ASSERT_TRUE(gate.open(2));
  EXPECT_TRUE(b.wait_ok(milliseconds(15000)));
  EXPECT_TRUE(a.wait_ok(milliseconds(15000)));
}

TEST_F(Deadlock, NoFalsePositiveOnAChain) {
  // A -> B, B -> C with C receiving: a chain, not a cycle. Everything completes.
  const std::string sock = sock_;
  StartGate gate;
  auto c = run_in_child("C", [&, sock] {
    CHILD_CHECK_EQ(C, open_and_bind(sock, 0, C));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_sending(0, B, C));
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(B, m.m_source);
    return 0;
  });
  auto a = run_in_child("A", [&, sock] {
    CHILD_CHECK_EQ(A, open_and_bind(sock, 0, A));
    gate.arrive_and_wait();
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_send_T(B, &m, 10000));
    return 0;
  });
  auto b = run_in_child("B", [&, sock] {
    CHILD_CHECK_EQ(B, open_and_bind(sock, 0, B));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_sending(0, A, B));
    dvs_message_t m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_send_T(C, &m, 10000));  // A waits on B, B on C, C on nobody
    CHILD_CHECK_EQ(0, dvs_receive_T(A, &m, 5000));
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(b.wait_ok(milliseconds(15000)));
  EXPECT_TRUE(a.wait_ok(milliseconds(15000)));
  EXPECT_TRUE(c.wait_ok(milliseconds(15000)));
}

// N processes in a ring send to their successor at the same moment, round after round.
// Every round is a send cycle: it must be broken by EDVSLOCKED (never left to the timeout),
// and only the caller that closes it should fail: the others' messages are then received.
void ring_rounds(const std::string& sock, int n, int rounds) {
  std::vector<std::unique_ptr<Pipe>> go(n);
  for (auto& g : go) g = std::make_unique<Pipe>();
  Pipe arrived, outcome;
  std::vector<ForkedChild> kids;
  for (int k = 0; k < n; ++k) {
    kids.push_back(run_in_child("ring" + std::to_string(k), [&, sock, k] {
      const int me = A + k, next = A + (k + 1) % n, prev = A + (k + n - 1) % n;
      CHILD_CHECK_EQ(me, open_and_bind(sock, 0, me));
      for (int r = 0; r < rounds; ++r) {
        arrived.send(1);
        CHILD_CHECK(go[k]->recv(milliseconds(10000)).has_value());
        dvs_message_t m = make_msg(r);
        int s1 = dvs_send_T(next, &m, 1000);
        int s2 = 1;
        if (s1 == EDVSLOCKED) {
          // We closed the cycle: our predecessor's message is still for us.
          s2 = dvs_receive_T(prev, &m, 1000);
        } else if (s1 == 0) {
          // Delivered; our predecessor may still wait for us to take its message.
          dvs_procinfo_t pi{};
          if (dvs_getprocinfo(0, prev, &pi) == 0 && (pi.p_rts_flags & DVS_SENDING) && pi.p_sendto == me)
            s2 = dvs_receive_T(prev, &m, 1000);
        }
        // One value per round and member: send result * 1000 + follow-up result.
        outcome.send(static_cast<int64_t>(s1) * 100000 + s2);
      }
      return 0;
    }));
  }
  int undetected = 0, multi_locked = 0, stuck = 0;
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < n; ++k) ASSERT_TRUE(arrived.recv()) << "round " << r;
    for (int k = 0; k < n; ++k) go[k]->send(1);
    int locked = 0, timed_out = 0;
    for (int k = 0; k < n; ++k) {
      auto v = outcome.recv(milliseconds(10000));
      ASSERT_TRUE(v.has_value()) << "round " << r;
      const int64_t s1 = *v < 0 ? -((-*v + 50000) / 100000) : (*v + 50000) / 100000;
      const int64_t s2 = *v - s1 * 100000;
      if (s1 == EDVSLOCKED) ++locked;
      if (s1 == EDVSTIMEDOUT) ++timed_out;
      if (s2 != 1 && s2 != 0) ++stuck;
    }
    if (locked == 0) ++undetected;
    if (locked > 1) ++multi_locked;
    (void)timed_out;
  }
  for (auto& k : kids) EXPECT_TRUE(k.wait_ok(milliseconds(10000)));
  EXPECT_EQ(0, undetected) << undetected << " of " << rounds << " simultaneous " << n
                           << "-cycles were not detected (all sends timed out)";
  EXPECT_EQ(0, multi_locked) << multi_locked << " of " << rounds << " " << n
                             << "-cycles failed more than one member with EDVSLOCKED";
  EXPECT_EQ(0, stuck) << stuck << " follow-up receives failed (a message was lost)";
}

TEST_F(Deadlock, SimultaneousCrossSendsAreResolved) { ring_rounds(sock_, 2, 100); }
TEST_F(Deadlock, SimultaneousThreeRingsAreResolved) { ring_rounds(sock_, 3, 60); }

}  // namespace
