// Deadlock detection (a dvs extension over M3-IPC, which had none: MINIX-3-style EDVSLOCKED).
#include <gtest/gtest.h>

#include "core/testing/dvsd_process.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

using Deadlock = DvsdTest;

constexpr int A = 10, B = 11, C = 12;  // system slots: endpoint == p_nr

TEST_F(Deadlock, TwoCycleSendSend) {
  const std::string sock = sock_;
  Pipe ready;
  auto a = run_in_child("A", [&, sock] {
    CHILD_CHECK_EQ(A, open_and_bind(sock, 0, A));
    ready.send(1);
    dvs_message_t m = make_msg(1, 1);
    // Blocked until B takes it (after B's own send was refused).
    CHILD_CHECK_EQ(0, dvs_send_T(B, &m, 10000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto b = run_in_child("B", [&, sock] {
    CHILD_CHECK_EQ(B, open_and_bind(sock, 0, B));
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
  EXPECT_TRUE(b.wait_ok(milliseconds(15000)));
  EXPECT_TRUE(a.wait_ok(milliseconds(15000)));
}

TEST_F(Deadlock, ThreeCycleCloserGetsLocked) {
  const std::string sock = sock_;
  Pipe ready;
  auto a = run_in_child("A", [&, sock] {
    CHILD_CHECK_EQ(A, open_and_bind(sock, 0, A));
    ready.send(1);
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_send_T(B, &m, 15000));  // A -> B
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto b = run_in_child("B", [&, sock] {
    CHILD_CHECK_EQ(B, open_and_bind(sock, 0, B));
    CHILD_CHECK_EQ(0, wait_sending(0, A, B));
    ready.send(2);
    dvs_message_t m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_send_T(C, &m, 15000));  // B -> C
    // Then take A's message.
    CHILD_CHECK_EQ(0, dvs_receive_T(A, &m, 5000));
    CHILD_CHECK_EQ(1, m.m_type);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto c = run_in_child("C", [&, sock] {
    CHILD_CHECK_EQ(C, open_and_bind(sock, 0, C));
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
  EXPECT_TRUE(c.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(b.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(a.wait_ok(milliseconds(20000)));
}

TEST_F(Deadlock, ReceiveFromAProcessReceivingFromUs) {
  const std::string sock = sock_;
  Pipe ready;
  auto a = run_in_child("A", [&, sock] {
    CHILD_CHECK_EQ(A, open_and_bind(sock, 0, A));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(B, &m, 10000));  // A waits for B
    CHILD_CHECK_EQ(B, m.m_source);
    CHILD_CHECK_EQ(7, m.m_type);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto b = run_in_child("B", [&, sock] {
    CHILD_CHECK_EQ(B, open_and_bind(sock, 0, B));
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
  EXPECT_TRUE(b.wait_ok(milliseconds(15000)));
  EXPECT_TRUE(a.wait_ok(milliseconds(15000)));
}

TEST_F(Deadlock, NoFalsePositiveOnAChain) {
  // A -> B, B -> C with C receiving: a chain, not a cycle. Everything completes.
  const std::string sock = sock_;
  Pipe ready;
  auto c = run_in_child("C", [&, sock] {
    CHILD_CHECK_EQ(C, open_and_bind(sock, 0, C));
    ready.send(1);
    CHILD_CHECK_EQ(0, wait_sending(0, B, C));
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(B, m.m_source);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto a = run_in_child("A", [&, sock] {
    CHILD_CHECK_EQ(A, open_and_bind(sock, 0, A));
    ready.send(2);
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_send_T(B, &m, 10000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto b = run_in_child("B", [&, sock] {
    CHILD_CHECK_EQ(B, open_and_bind(sock, 0, B));
    CHILD_CHECK_EQ(0, wait_sending(0, A, B));
    dvs_message_t m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_send_T(C, &m, 10000));  // A waits on B, B on C, C on nobody
    CHILD_CHECK_EQ(0, dvs_receive_T(A, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(b.wait_ok(milliseconds(15000)));
  EXPECT_TRUE(a.wait_ok(milliseconds(15000)));
  EXPECT_TRUE(c.wait_ok(milliseconds(15000)));
}

}  // namespace
