// Conformance: peer death (a forked process SIGKILLed), garbage and truncated input,
// reconnecting after a link died.
#include <signal.h>

#include <algorithm>

#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/poll_until.hpp"
#include "transports/conformance/conformance.hpp"

namespace dvs::transport::conformance {
namespace {

using ::dvs::testing::Clock;
using ::dvs::testing::ForkedChild;
using ::dvs::testing::ms_since;
using ::dvs::testing::Pipe;
using ::dvs::testing::poll_until;
using ::dvs::testing::run_in_child;

DVS_CONFORMANCE_SUITE(Failure);

constexpr double kDeathBoundMs = 5000;

// Receives until an error, checking that every frame that still arrives is whole and in
// order (frames are numbered from *next). Returns the error and how long it took.
long drain_until_error(Link& l, size_t len, uint64_t* next, double* ms) {
  auto t0 = Clock::now();
  for (;;) {
    int left = static_cast<int>(kDeathBoundMs - ms_since(t0));
    std::span<const std::byte> f;
    long rc = l.recv(&f, std::max(left, 0));
    if (rc < 0) {
      *ms = ms_since(t0);
      return rc;
    }
    EXPECT_EQ(static_cast<size_t>(rc), len) << "a partial or merged frame after peer death";
    EXPECT_TRUE(check_pattern(*next, f)) << "frame " << *next;
    ++*next;
  }
}

// The child streams frames to us; we kill it mid-stream. recv must report EDVSNOTCONN
// (after any frames already delivered) within the bound, send must fail soon, and the
// listener must accept a new link afterwards.
TEST_P(Failure, PeerKilledMidStream) {
  std::unique_ptr<Listener> l;
  ASSERT_TRUE(listen(&l));
  const std::string uri = l->uri();
  Transport* t = t_;
  const size_t len = std::min<size_t>(4096, caps_.max_frame);
  // Fork before any link exists, so the child holds no copy of this process's links.
  ForkedChild child = run_in_child("streamer", [&]() -> int {
    int err = 0;
    auto k = t->dial(uri, 5000, &err);
    CHILD_CHECK(k != nullptr);
    std::vector<std::byte> buf(len);
    for (uint64_t seq = 0;; ++seq) {
      fill_pattern(seq, buf);
      int rc = send_bytes(*k, buf);
      if (rc < 0) return 3;  // we are killed long before this could happen
    }
  });
  int err = 0;
  auto acc = l->accept(5000, &err);
  ASSERT_TRUE(acc) << rc_name(err);
  uint64_t next = 0;
  for (; next < 100; ++next) {
    std::span<const std::byte> f;
    ASSERT_RC(long(len), acc->recv(&f, 5000));
    ASSERT_TRUE(check_pattern(next, f)) << "frame " << next;
  }
  child.kill9();
  ASSERT_EQ(child.status()->term_signal, SIGKILL) << child.status()->describe();

  double ms = 0;
  EXPECT_RC(EDVSNOTCONN, drain_until_error(*acc, len, &next, &ms));
  EXPECT_LT(ms, kDeathBoundMs);
  std::span<const std::byte> f;
  EXPECT_RC(EDVSNOTCONN, acc->recv(&f, 0)) << "a dead link stays dead";

  // send fails within the bound (the first sends may still be buffered by the transport).
  std::vector<std::byte> big(std::min<size_t>(65536, caps_.max_frame));
  auto t0 = Clock::now();
  int rc = 0;
  while (rc == 0 && ms_since(t0) < kDeathBoundMs) rc = send_bytes(*acc, big);
  EXPECT_RC(EDVSNOTCONN, rc);

  // The listener still serves.
  LinkPair p;
  ASSERT_TRUE(connect(*l, &p));
  std::byte b[10];
  fill_pattern(7, b);
  ASSERT_RC(0, send_bytes(*p.dialer, b));
  ASSERT_RC(10, p.acceptor->recv(&f, 5000));
  EXPECT_TRUE(check_pattern(7, f));
}

// The child is killed while blocked in the middle of sending a frame as large as max_frame (we
// do not read, so it blocks once the transport's buffers are full): the receiver must get the
// whole frames before it and then an error, never a truncated frame, never a hang.
TEST_P(Failure, PeerKilledMidFrame) {
  std::unique_ptr<Listener> l;
  ASSERT_TRUE(listen(&l));
  const std::string uri = l->uri();
  Transport* t = t_;
  const size_t len = std::min<size_t>(caps_.max_frame, size_t{64} << 20);
  Pipe sending;
  ForkedChild child = run_in_child("big-sender", [&]() -> int {
    int err = 0;
    auto k = t->dial(uri, 5000, &err);
    CHILD_CHECK(k != nullptr);
    std::vector<std::byte> buf(len);
    for (uint64_t seq = 0;; ++seq) {
      fill_pattern(seq, buf);
      sending.send(static_cast<int64_t>(seq));
      if (send_bytes(*k, buf) < 0) return 3;
    }
  });
  int err = 0;
  auto acc = l->accept(5000, &err);
  ASSERT_TRUE(acc) << rc_name(err);
  ASSERT_TRUE(sending.recv(::dvs::testing::Millis(5000)).has_value());
  // Wait until the child sleeps in send() (its buffers are full), i.e. it is mid-frame.
  ASSERT_TRUE(poll_until([&] { return thread_state(child.pid(), child.pid()) == 'S'; },
                         ::dvs::testing::Millis(10000)))
      << "the sender never blocked";
  child.kill9();
  uint64_t next = 0;
  double ms = 0;
  long rc = drain_until_error(*acc, len, &next, &ms);
  EXPECT_TRUE(rc == EDVSNOTCONN || rc == EDVSBADVALUE) << rc_name(rc);
  EXPECT_LT(ms, kDeathBoundMs);
}

// Garbage from the peer: recv reports it (EDVSBADVALUE, or EDVSNOTCONN), the link is closed on
// both ends, and the listener keeps serving new links.
TEST_P(Failure, GarbageClosesLinkListenerKeepsServing) {
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  std::vector<std::byte> junk(256);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = std::byte(static_cast<uint8_t>(0xA5 ^ (i * 13)));
  ASSERT_RC(0, p.dialer->inject_raw_for_test(junk));
  std::span<const std::byte> f;
  long rc = p.acceptor->recv(&f, 5000);
  EXPECT_TRUE(rc == EDVSBADVALUE || rc == EDVSNOTCONN) << rc_name(rc);
  EXPECT_RC(EDVSNOTCONN, p.acceptor->recv(&f, 0)) << "the link is closed after bad input";
  EXPECT_RC(EDVSNOTCONN, p.dialer->recv(&f, 5000)) << "the garbage sender sees the close";

  for (int round = 0; round < 2; ++round) {
    LinkPair q;
    ASSERT_TRUE(connect(*l, &q));
    std::byte b[33];
    fill_pattern(uint64_t(round), b);
    ASSERT_RC(0, send_bytes(*q.dialer, b));
    ASSERT_RC(33, q.acceptor->recv(&f, 5000));
    EXPECT_TRUE(check_pattern(uint64_t(round), f));
  }
}

// A few raw bytes (less than any header), then the sender closes: an error, no hang.
TEST_P(Failure, TruncatedInputThenClose) {
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  const std::byte three[3] = {std::byte{1}, std::byte{0}, std::byte{0}};
  ASSERT_RC(0, p.dialer->inject_raw_for_test(three));
  p.dialer->close();
  std::span<const std::byte> f;
  auto t0 = Clock::now();
  long rc = p.acceptor->recv(&f, 5000);
  EXPECT_TRUE(rc == EDVSBADVALUE || rc == EDVSNOTCONN) << rc_name(rc);
  EXPECT_LT(ms_since(t0), kDeathBoundMs);
}

// After a link dies (either side closing or being destroyed), dialing the same listener works.
TEST_P(Failure, ReconnectAfterLinkDies) {
  std::unique_ptr<Listener> l;
  ASSERT_TRUE(listen(&l));
  for (int round = 0; round < 3; ++round) {
    LinkPair p;
    ASSERT_TRUE(connect(*l, &p));
    std::byte b[64];
    fill_pattern(uint64_t(round), b);
    ASSERT_RC(0, send_bytes(*p.dialer, b));
    std::span<const std::byte> f;
    ASSERT_RC(64, p.acceptor->recv(&f, 5000));
    EXPECT_TRUE(check_pattern(uint64_t(round), f));
    if (round % 2 == 0) {
      p.dialer.reset();  // destroyed
      EXPECT_RC(EDVSNOTCONN, p.acceptor->recv(&f, 5000));
    } else {
      p.acceptor->close();
      EXPECT_RC(EDVSNOTCONN, p.dialer->recv(&f, 5000));
    }
  }
}

}  // namespace
}  // namespace dvs::transport::conformance
