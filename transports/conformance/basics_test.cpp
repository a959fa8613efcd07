// Conformance: capabilities, URIs, timeouts, close semantics, poll descriptors.
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "core/testkit/poll_until.hpp"
#include "core/testkit/rc_str.hpp"
#include "transports/conformance/conformance.hpp"

namespace dvs::transport::conformance {
namespace {

using ::dvs::testing::Clock;
using ::dvs::testing::ms_since;
using ::dvs::testing::poll_until;

DVS_CONFORMANCE_SUITE(Basics);

// Capabilities are sane and stable; the claimed properties are exercised by the Stream suite
// (ordered + boundaries: OrderedFramesIntact, FrameSizes; reliable: every test that counts
// frames). A transport that does not claim a property skips the tests that rely on it.
TEST_P(Basics, CapabilitiesAreSaneAndStable) {
  EXPECT_EQ(t_->scheme(), GetParam());
  EXPECT_EQ(find_transport(GetParam()), t_);
  EXPECT_GE(caps_.max_frame, 1u);
  Capabilities again = t_->capabilities();
  EXPECT_EQ(again.reliable, caps_.reliable);
  EXPECT_EQ(again.ordered, caps_.ordered);
  EXPECT_EQ(again.message_boundaries, caps_.message_boundaries);
  EXPECT_EQ(again.max_frame, caps_.max_frame);
  EXPECT_EQ(again.rma, caps_.rma);
  EXPECT_EQ(again.same_host_only, caps_.same_host_only);
  RecordProperty("max_frame", std::to_string(caps_.max_frame));
  // The rest of the suite is written for reliable, ordered, framed transports.
  EXPECT_TRUE(caps_.reliable && caps_.ordered && caps_.message_boundaries)
      << "the conformance suite tests reliable, ordered, framed links only";
}

TEST_P(Basics, ListenerUriNamesTheSchemeAndIsUnique) {
  std::unique_ptr<Listener> a, b;
  ASSERT_TRUE(listen(&a));
  ASSERT_TRUE(listen(&b));
  EXPECT_EQ(a->uri().rfind(GetParam() + "://", 0), 0u) << a->uri();
  EXPECT_NE(a->uri(), b->uri());
  LinkPair p;
  ASSERT_TRUE(connect(*a, &p));
  EXPECT_FALSE(p.dialer->peer().empty());
  EXPECT_FALSE(p.acceptor->peer().empty());
}

TEST_P(Basics, MalformedUrisAreRefused) {
  int err = 0;
  EXPECT_EQ(t_->dial("no-scheme-at-all", 1000, &err), nullptr);
  EXPECT_RC(EDVSINVAL, err);
  err = 0;
  EXPECT_EQ(t_->dial("wrongscheme://x", 1000, &err), nullptr);
  EXPECT_RC(EDVSINVAL, err);
  err = 0;
  EXPECT_EQ(t_->listen("wrongscheme://x", &err), nullptr);
  EXPECT_RC(EDVSINVAL, err);
}

TEST_P(Basics, RecvTimeoutZeroAndFifty) {
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  std::span<const std::byte> f;
  auto t0 = Clock::now();
  EXPECT_RC(EDVSTIMEDOUT, p.acceptor->recv(&f, 0));
  EXPECT_LT(ms_since(t0), 50.0) << "recv(0) must poll, not wait";
  t0 = Clock::now();
  EXPECT_RC(EDVSTIMEDOUT, p.acceptor->recv(&f, 50));
  double ms = ms_since(t0);
  EXPECT_GE(ms, 45.0);
  EXPECT_LT(ms, 1000.0);
  // A timeout leaves the link usable.
  std::byte b[3];
  fill_pattern(1, b);
  ASSERT_RC(0, send_bytes(*p.dialer, b));
  ASSERT_RC(3, p.acceptor->recv(&f, 5000));
  EXPECT_TRUE(check_pattern(1, f));
}

TEST_P(Basics, AcceptTimeout) {
  std::unique_ptr<Listener> l;
  ASSERT_TRUE(listen(&l));
  int err = 0;
  auto t0 = Clock::now();
  EXPECT_EQ(l->accept(0, &err), nullptr);
  EXPECT_RC(EDVSTIMEDOUT, err);
  EXPECT_LT(ms_since(t0), 50.0);
  t0 = Clock::now();
  EXPECT_EQ(l->accept(50, &err), nullptr);
  EXPECT_RC(EDVSTIMEDOUT, err);
  EXPECT_GE(ms_since(t0), 45.0);
}

TEST_P(Basics, DialNobodyListeningIsRefusedQuickly) {
  std::unique_ptr<Listener> l;
  ASSERT_TRUE(listen(&l));
  const std::string uri = l->uri();
  l.reset();  // nobody listens on uri any more
  int err = 0;
  auto t0 = Clock::now();
  EXPECT_EQ(t_->dial(uri, 3000, &err), nullptr);
  EXPECT_RC(EDVSCONNREFUSED, err);
  EXPECT_LT(ms_since(t0), 1000.0);
}

TEST_P(Basics, EmptyFrameIsRefused) {
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  EXPECT_RC(EDVSINVAL, p.dialer->send({}));
  std::byte b{};
  iovec empty[2] = {{&b, 0}, {&b, 0}};
  EXPECT_RC(EDVSINVAL, p.dialer->send(empty));
  std::span<const std::byte> f;
  EXPECT_RC(EDVSTIMEDOUT, p.acceptor->recv(&f, 0)) << "nothing may have been sent";
}

// close() from another thread wakes a recv() blocked (really asleep in the kernel) on the link.
TEST_P(Basics, CloseUnblocksRecvInAnotherThread) {
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  std::atomic<pid_t> tid{0};
  long rc = 1;
  Clock::time_point closed_at{}, returned_at{};
  auto blocked = [&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    std::span<const std::byte> f;
    rc = p.acceptor->recv(&f, -1);
    returned_at = Clock::now();
  };
  auto closer = [&] {
    ASSERT_TRUE(poll_until([&] { return tid != 0 && thread_state(getpid(), tid) == 'S'; }))
        << "the receiving thread never blocked";
    closed_at = Clock::now();
    p.acceptor->close();
  };
  // If close() fails to wake it, closing the peer is the last resort to end the thread.
  ASSERT_TRUE(run_bounded({blocked, closer}, Millis(10000), [&] { p.dialer->close(); }));
  EXPECT_RC(EDVSNOTCONN, rc);
  const double woke_ms = std::chrono::duration<double, std::milli>(returned_at - closed_at).count();
  EXPECT_LT(woke_ms, 5000.0);
}

TEST_P(Basics, CloseUnblocksAcceptInAnotherThread) {
  std::unique_ptr<Listener> l;
  ASSERT_TRUE(listen(&l));
  std::atomic<pid_t> tid{0};
  int err = 0;
  std::unique_ptr<Link> got;
  auto blocked = [&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    got = l->accept(-1, &err);
  };
  auto closer = [&] {
    ASSERT_TRUE(poll_until([&] { return tid != 0 && thread_state(getpid(), tid) == 'S'; }));
    l->close();
  };
  ASSERT_TRUE(run_bounded({blocked, closer}, Millis(10000), [&] {
    int e = 0;
    auto unblock = t_->dial(l->uri(), 1000, &e);  // last resort: give accept() something
  }));
  EXPECT_EQ(got, nullptr);
  EXPECT_RC(EDVSNOTCONN, err);
}

TEST_P(Basics, CloseIsIdempotentAndFinal) {
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  p.dialer->close();
  p.dialer->close();
  std::byte b[8];
  fill_pattern(2, b);
  EXPECT_RC(EDVSNOTCONN, send_bytes(*p.dialer, b));
  std::span<const std::byte> f;
  EXPECT_RC(EDVSNOTCONN, p.dialer->recv(&f, 0));
  // The peer learns it (both directions are closed).
  EXPECT_RC(EDVSNOTCONN, p.acceptor->recv(&f, 5000));
  l->close();
  l->close();
  int err = 0;
  EXPECT_EQ(l->accept(0, &err), nullptr);
  EXPECT_RC(EDVSNOTCONN, err);
}

TEST_P(Basics, PollFdsBecomeReadable) {
  std::unique_ptr<Listener> l;
  ASSERT_TRUE(listen(&l));
  std::unique_ptr<Link> dialed;
  int derr = 0;
  std::thread dialer;
  if (l->poll_fd() >= 0) {
    dialer = std::thread([&] { dialed = t_->dial(l->uri(), 5000, &derr); });
    pollfd pl{l->poll_fd(), POLLIN, 0};
    EXPECT_EQ(poll(&pl, 1, 5000), 1) << "listener poll_fd not readable with a dial pending";
  } else {
    dialer = std::thread([&] { dialed = t_->dial(l->uri(), 5000, &derr); });
  }
  int aerr = 0;
  auto acc = l->accept(5000, &aerr);
  dialer.join();
  ASSERT_TRUE(acc) << rc_name(aerr);
  ASSERT_TRUE(dialed) << rc_name(derr);
  if (acc->poll_fd() < 0) GTEST_SKIP() << "link has no poll_fd";
  pollfd pf{acc->poll_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&pf, 1, 0), 0) << "readable before anything was sent";
  std::byte b[16];
  fill_pattern(3, b);
  ASSERT_RC(0, send_bytes(*dialed, b));
  EXPECT_EQ(poll(&pf, 1, 5000), 1);
  std::span<const std::byte> f;
  ASSERT_RC(16, acc->recv(&f, 5000));
  EXPECT_TRUE(check_pattern(3, f));
}

}  // namespace
}  // namespace dvs::transport::conformance
