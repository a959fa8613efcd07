// notify: non-blocking, coalescing, priority over queued messages, direct wake-up.
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

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

using Notify = DvsdTest;

constexpr int kTarget = 10;    // system slots: notify targets the pending bitmap of system procs
constexpr int kNotifier = 12;
constexpr int kNotifier2 = 13;

// Checks a notify message from system process `from`; returns 0 or a failing exit code.
int check_notify(const dvs_message_t& m, int from) {
  CHILD_CHECK_EQ(from, m.m_source);
  CHILD_CHECK_EQ(DVS_NOTIFY_FROM(from), m.m_type);
  CHILD_CHECK(DVS_IS_NOTIFY(m.m_type));
  // m9_t1 carries the send time (CLOCK_REALTIME): plausible, i.e. within a minute of now.
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const long long dt = static_cast<long long>(now.tv_sec) - m.m_u.m9.m9_t1_sec;
  if (dt < -60 || dt > 60)
    fprintf(stderr, "notify timestamp %lld s off (m9_t1_sec=%lld)\n", dt,
            static_cast<long long>(m.m_u.m9.m9_t1_sec));
  CHILD_CHECK(dt >= -60 && dt <= 60);
  return 0;
}

TEST_F(Notify, MacrosMatchMinix) {
  EXPECT_EQ(0x1000, DVS_NOTIFY_MESSAGE);
  EXPECT_EQ(0x100c, DVS_NOTIFY_FROM(12));
  EXPECT_TRUE(DVS_IS_NOTIFY(DVS_NOTIFY_FROM(0)));
  EXPECT_TRUE(DVS_IS_NOTIFY(DVS_NOTIFY_FROM(-2)));
  EXPECT_FALSE(DVS_IS_NOTIFY(5));
}

TEST_F(Notify, IsNonBlockingAndCoalesced) {
  const std::string sock = sock_;
  Pipe ready, notified, finished;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kTarget, open_and_bind(sock, 0, kTarget));
    ready.send(1);
    CHILD_CHECK(notified.recv().has_value());
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 0));
    if (int rc = check_notify(m, kNotifier)) return rc;
    // The second notify was coalesced with the first: nothing else pending.
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto notifier = run_in_child("notifier", [&, sock] {
    CHILD_CHECK_EQ(kNotifier, open_and_bind(sock, 0, kNotifier));
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));  // target is not receiving: must not block
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));
    CHILD_CHECK(ms_since(t0) < 1000);
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, kNotifier, &pi));
    CHILD_CHECK_EQ(0, pi.p_rts_flags & DVS_SENDING);
    notified.send(1);
    finished.recv(milliseconds(15000));  // stay bound: a dead sender's notifications may be dropped
    return 0;
  });
  EXPECT_TRUE(target.wait_ok());
  finished.send(1);
  EXPECT_TRUE(notifier.wait_ok());
}

TEST_F(Notify, PendingNotificationsComeBeforeQueuedMessages) {
  const std::string sock = sock_;
  Pipe ready, notified, finished;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kTarget, open_and_bind(sock, 0, kTarget));
    ready.send(1);
    CHILD_CHECK(notified.recv().has_value());
    dvs_message_t m{};
    // The sender queued first, the notification came later: the notification wins.
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    if (int rc = check_notify(m, kNotifier)) return rc;
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(40, DVS_ENDPOINT_P(m.m_source));
    CHILD_CHECK_EQ(55, m.m_type);
    CHILD_CHECK(payload_ok(m, 5));
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto sender = run_in_child("sender", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, 40));
    dvs_message_t m = make_msg(55, 5);
    CHILD_CHECK_EQ(0, dvs_send_T(kTarget, &m, 10000));
    return 0;
  });
  auto notifier = run_in_child("notifier", [&, sock] {
    CHILD_CHECK_EQ(kNotifier, open_and_bind(sock, 0, kNotifier));
    CHILD_CHECK_EQ(0, wait_sending(0, 40, kTarget));
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));
    notified.send(1);
    finished.recv(milliseconds(15000));  // stay bound: a dead sender's notifications may be dropped
    return 0;
  });
  EXPECT_TRUE(target.wait_ok());
  finished.send(1);
  EXPECT_TRUE(notifier.wait_ok());
  EXPECT_TRUE(sender.wait_ok());
}

TEST_F(Notify, TwoNotifiersGiveTwoMessages) {
  const std::string sock = sock_;
  Pipe ready, notified, finished;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kTarget, open_and_bind(sock, 0, kTarget));
    ready.send(1);
    CHILD_CHECK(notified.recv().has_value());
    CHILD_CHECK(notified.recv().has_value());
    bool from12 = false, from13 = false;
    for (int i = 0; i < 2; ++i) {
      dvs_message_t m{};
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 0));
      CHILD_CHECK(DVS_IS_NOTIFY(m.m_type));
      if (m.m_source == kNotifier) {
        CHILD_CHECK_EQ(DVS_NOTIFY_FROM(kNotifier), m.m_type);
        from12 = true;
      } else {
        CHILD_CHECK_EQ(kNotifier2, m.m_source);
        CHILD_CHECK_EQ(DVS_NOTIFY_FROM(kNotifier2), m.m_type);
        from13 = true;
      }
    }
    CHILD_CHECK(from12 && from13);
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto n1 = run_in_child("n12", [&, sock] {
    CHILD_CHECK_EQ(kNotifier, open_and_bind(sock, 0, kNotifier));
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));
    notified.send(1);
    finished.recv(milliseconds(15000));  // stay bound: a dead sender's notifications may be dropped
    return 0;
  });
  auto n2 = run_in_child("n13", [&, sock] {
    CHILD_CHECK_EQ(kNotifier2, open_and_bind(sock, 0, kNotifier2));
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));
    notified.send(1);
    finished.recv(milliseconds(15000));  // stay bound: a dead sender's notifications may be dropped
    return 0;
  });
  EXPECT_TRUE(target.wait_ok());
  finished.send(1);
  finished.send(1);
  EXPECT_TRUE(n1.wait_ok());
  EXPECT_TRUE(n2.wait_ok());
}

TEST_F(Notify, WakesATargetBlockedInReceiveAny) {
  const std::string sock = sock_;
  Pipe ready, finished;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kTarget, open_and_bind(sock, 0, kTarget));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    if (int rc = check_notify(m, kNotifier)) return rc;
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto notifier = run_in_child("notifier", [&, sock] {
    CHILD_CHECK_EQ(kNotifier, open_and_bind(sock, 0, kNotifier));
    CHILD_CHECK_EQ(0, wait_receiving(0, kTarget));
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));
    finished.recv(milliseconds(15000));
    return 0;
  });
  EXPECT_TRUE(target.wait_ok());
  finished.send(1);
  EXPECT_TRUE(notifier.wait_ok());
}

TEST_F(Notify, WakesATargetReceivingFromTheNotifierOnly) {
  const std::string sock = sock_;
  StartGate gate;
  Pipe notified, finished;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kTarget, open_and_bind(sock, 0, kTarget));
    gate.arrive_and_wait();
    dvs_message_t m{};
    // Receiving from 12: a notify from 13 stays pending, the one from 12 wakes us.
    CHILD_CHECK_EQ(0, dvs_receive_T(kNotifier, &m, 10000));
    if (int rc = check_notify(m, kNotifier)) return rc;
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 0));
    if (int rc = check_notify(m, kNotifier2)) return rc;
    return 0;
  });
  auto n13 = run_in_child("n13", [&, sock] {
    CHILD_CHECK_EQ(kNotifier2, open_and_bind(sock, 0, kNotifier2));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_receiving(0, kTarget));
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));
    notified.send(1);
    finished.recv(milliseconds(15000));  // stay bound: a dead sender's notifications may be dropped
    return 0;
  });
  auto n12 = run_in_child("n12", [&, sock] {
    CHILD_CHECK_EQ(kNotifier, open_and_bind(sock, 0, kNotifier));
    gate.arrive_and_wait();
    CHILD_CHECK(notified.recv().has_value());
    // The target must still be receiving from 12 (13's notify did not wake it).
    CHILD_CHECK_EQ(0, wait_receiving(0, kTarget));
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, kTarget, &pi));
    CHILD_CHECK_EQ(kNotifier, pi.p_getfrom);
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));
    finished.recv(milliseconds(15000));
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(target.wait_ok());
  finished.send(1);
  finished.send(1);
  EXPECT_TRUE(n13.wait_ok());
  EXPECT_TRUE(n12.wait_ok());
}

TEST_F(Notify, NotifyToUnboundFails) {
  const std::string sock = sock_;
  auto k = run_in_child("n", [sock] {
    CHILD_CHECK_EQ(kNotifier, open_and_bind(sock, 0, kNotifier));
    CHILD_CHECK(dvs_notify(20) < 0);  // nobody at 20
    CHILD_CHECK(dvs_notify(DVS_ENDPOINT(3, 50)) < 0);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Notify, SeveralPendingSourcesComeLowestSlotFirst) {
  const std::string sock = sock_;
  Pipe ready, step, go, finished;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kTarget, open_and_bind(sock, 0, kTarget));
    ready.send(1);
    CHILD_CHECK(go.recv().has_value());
    for (int from : {-3, 12, 20}) {  // notified in the order 20, -3, 12
      dvs_message_t m{};
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 0));
      if (int rc = check_notify(m, from)) return rc;
    }
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  std::vector<ForkedChild> ns;
  for (int from : {20, -3, 12}) {
    ns.push_back(run_in_child("n" + std::to_string(from), [&, sock, from] {
      CHILD_CHECK_OK(dvs_open(sock.c_str()));
      dvs_bind(0, from);  // task endpoints are negative: check with dvs_self()
      CHILD_CHECK_EQ(from, dvs_self());
      CHILD_CHECK_EQ(0, dvs_notify(kTarget));
      step.send(1);
      finished.recv(milliseconds(15000));
      return 0;
    }));
    ASSERT_TRUE(step.recv()) << "notifier " << from;  // one after the other
  }
  go.send(1);
  EXPECT_TRUE(target.wait_ok());
  for (size_t i = 0; i < ns.size(); ++i) finished.send(1);
  for (auto& n : ns) EXPECT_TRUE(n.wait_ok());
}

TEST_F(Notify, DoesNotInterruptTheReplyPhaseOfASendrec) {
  // The target waits for the reply of 11 (sendrec); a notify from 12 must stay pending.
  const std::string sock = sock_;
  StartGate gate;
  Pipe notified, finished;
  auto target = run_in_child("target", [&, sock] {
    CHILD_CHECK_EQ(kTarget, open_and_bind(sock, 0, kTarget));
    gate.arrive_and_wait();
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_sendrec_T(11, &m, 10000));
    CHILD_CHECK_EQ(11, m.m_source);  // the reply, not the notify
    CHILD_CHECK_EQ(2, m.m_type);
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 0));
    if (int rc = check_notify(m, kNotifier)) return rc;
    return 0;
  });
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    gate.arrive_and_wait();
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(kTarget, m.m_source);
    CHILD_CHECK(notified.recv().has_value());
    m = make_msg(2);
    CHILD_CHECK_EQ(0, dvs_reply_T(kTarget, &m, 5000));
    return 0;
  });
  auto notifier = run_in_child("notifier", [&, sock] {
    CHILD_CHECK_EQ(kNotifier, open_and_bind(sock, 0, kNotifier));
    gate.arrive_and_wait();
    CHILD_CHECK_EQ(0, wait_procinfo(0, kTarget, [](const dvs_procinfo_t& pi) {
                     return (pi.p_rts_flags & DVS_RECEIVING) && !(pi.p_rts_flags & DVS_SENDING) &&
                            pi.p_getfrom == 11;
                   }));
    CHILD_CHECK_EQ(0, dvs_notify(kTarget));
    notified.send(1);
    finished.recv(milliseconds(15000));
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(server.wait_ok());
  EXPECT_TRUE(target.wait_ok());
  finished.send(1);
  EXPECT_TRUE(notifier.wait_ok());
}

}  // namespace
