// Tests of whole shm links: two processes (fork), peer killed while the other waits (for data
// and for space), corrupted shared memory, hostile hellos, poll_fd readiness, close() waking a
// blocked sender. The generic contract is covered by transports/conformance/.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/poll_until.hpp"
#include "dvs/errors.h"
#include "transports/shm/shm_link.hpp"
#include "transports/shm/shm_socket.hpp"
#include "transports/shm/shm_transport.hpp"

namespace dvs::transport::shm {
namespace {

using ::dvs::testing::Clock;
using ::dvs::testing::ForkedChild;
using ::dvs::testing::Millis;
using ::dvs::testing::ms_since;
using ::dvs::testing::Pipe;
using ::dvs::testing::poll_until;
using ::dvs::testing::run_in_child;

std::string fresh_name() {
  static int n = 0;
  return "shm-test-" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

std::vector<std::byte> pattern(size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<uint8_t>(seed * 29 + i * 3 + (i >> 9)));
  return v;
}

int send_vec(Link& l, const std::vector<std::byte>& v) {
  iovec io{const_cast<std::byte*>(v.data()), v.size()};
  return l.send(std::span<const iovec>(&io, 1));
}

char thread_state(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t p = s.rfind(')');
  return (p == std::string::npos || p + 2 >= s.size()) ? '?' : s[p + 2];
}

class ShmLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_ = make_shm_transport();
    Availability a = t_->probe();
    if (!a.available) GTEST_SKIP() << a.reason;
  }
  // listen + dial (dial does not wait for accept) + accept, with the given dial options.
  void pair(const std::string& opts = "") {
    int err = 0;
    l_ = t_->listen("shm://" + fresh_name(), &err);
    ASSERT_TRUE(l_) << err;
    d_ = t_->dial(l_->uri() + opts, 1000, &err);
    ASSERT_TRUE(d_) << err;
    a_ = l_->accept(1000, &err);
    ASSERT_TRUE(a_) << err;
  }
  ShmLink& shm(Link& l) { return dynamic_cast<ShmLink&>(l); }

  std::unique_ptr<Transport> t_;
  std::unique_ptr<Listener> l_;
  std::unique_ptr<Link> d_, a_;
};

TEST_F(ShmLinkTest, ProbeAndCapabilities) {
  Capabilities c = t_->capabilities();
  EXPECT_TRUE(c.reliable && c.ordered && c.message_boundaries && c.same_host_only);
  EXPECT_FALSE(c.rma);
  EXPECT_EQ(c.max_frame, kMaxFrame);
}

TEST_F(ShmLinkTest, ListenTwiceOnOneNameIsAddrInUse) {
  int err = 0;
  auto a = t_->listen("shm://" + fresh_name(), &err);
  ASSERT_TRUE(a);
  EXPECT_EQ(t_->listen(a->uri(), &err), nullptr);
  EXPECT_EQ(err, EDVSADDRINUSE);
  auto b = t_->listen("shm://", &err);  // empty name: a unique one is chosen
  ASSERT_TRUE(b);
  EXPECT_NE(b->uri(), "shm://");
}

TEST_F(ShmLinkTest, FramesLargerThanASmallRingBothWays) {
  ASSERT_NO_FATAL_FAILURE(pair("?ring=4k"));
  std::span<const std::byte> f;
  for (size_t len : {size_t(1), size_t(4088), size_t(4089), size_t(100000), kMaxFrame}) {
    auto v = pattern(len, static_cast<unsigned>(len));
    int rc = 1;
    std::thread s([&] { rc = send_vec(*d_, v); });
    ASSERT_EQ(a_->recv(&f, 10000), static_cast<long>(len));
    s.join();
    ASSERT_EQ(rc, 0);
    EXPECT_TRUE(std::equal(v.begin(), v.end(), f.begin())) << len;
    std::thread s2([&] { rc = send_vec(*a_, v); });
    ASSERT_EQ(d_->recv(&f, 10000), static_cast<long>(len));
    s2.join();
    EXPECT_TRUE(std::equal(v.begin(), v.end(), f.begin())) << len;
  }
}

// Reader and writer in two processes: the child dials and echoes; frames larger than its ring.
TEST_F(ShmLinkTest, EchoAcrossProcesses) {
  int err = 0;
  l_ = t_->listen("shm://" + fresh_name(), &err);
  ASSERT_TRUE(l_);
  const std::string uri = l_->uri() + "?ring=16k&spin_us=20";
  Transport* t = t_.get();
  ForkedChild child = run_in_child("echo", [&]() -> int {
    int e = 0;
    auto k = t->dial(uri, 5000, &e);
    CHILD_CHECK(k != nullptr);
    std::span<const std::byte> f;
    for (;;) {
      long n = k->recv(&f, 10000);
      if (n == EDVSNOTCONN) return 0;
      CHILD_CHECK(n > 0);
      iovec io{const_cast<std::byte*>(f.data()), f.size()};
      CHILD_CHECK_EQ(0, k->send(std::span<const iovec>(&io, 1)));
    }
  });
  a_ = l_->accept(5000, &err);
  ASSERT_TRUE(a_) << err;
  std::span<const std::byte> f;
  for (unsigned i = 0; i < 300; ++i) {
    size_t len = i % 50 == 49 ? 50000 + i : 1 + (i * 61) % 2000;
    auto v = pattern(len, i);
    ASSERT_EQ(send_vec(*a_, v), 0);
    ASSERT_EQ(a_->recv(&f, 10000), static_cast<long>(len)) << i;
    ASSERT_TRUE(std::equal(v.begin(), v.end(), f.begin())) << i;
  }
  a_->close();
  EXPECT_TRUE(child.wait_ok(Millis(10000)));
}

// The receiver sleeps in recv; the peer process is SIGKILLed: recv returns EDVSNOTCONN promptly
// (the UNIX socket hangs up), after delivering what the peer sent before.
TEST_F(ShmLinkTest, PeerKilledWhileReceiverWaits) {
  int err = 0;
  l_ = t_->listen("shm://" + fresh_name(), &err);
  ASSERT_TRUE(l_);
  const std::string uri = l_->uri();
  Transport* t = t_.get();
  Pipe ready;
  ForkedChild child = run_in_child("silent", [&]() -> int {
    int e = 0;
    auto k = t->dial(uri, 5000, &e);
    CHILD_CHECK(k != nullptr);
    auto v = pattern(10, 1);
    CHILD_CHECK_EQ(0, send_vec(*k, v));
    ready.send(1);
    pause();
    return 0;
  });
  a_ = l_->accept(5000, &err);
  ASSERT_TRUE(a_) << err;
  ASSERT_TRUE(ready.recv().has_value());
  std::atomic<pid_t> tid{0};
  long rc = 1;
  Clock::time_point killed{}, returned{};
  std::thread r([&] {
    std::span<const std::byte> f;
    long n = a_->recv(&f, 5000);
    EXPECT_EQ(n, 10);
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    rc = a_->recv(&f, 10000);
    returned = Clock::now();
  });
  ASSERT_TRUE(poll_until([&] { return tid != 0 && thread_state(tid) == 'S'; }));
  killed = Clock::now();
  child.kill9();
  r.join();
  EXPECT_EQ(rc, EDVSNOTCONN);
  EXPECT_LT((std::chrono::duration<double, std::milli>(returned - killed).count()), 1000.0);
}

// The sender sleeps because the ring is full (the peer does not read); the peer is SIGKILLed:
// send returns EDVSNOTCONN within about one futex slice.
TEST_F(ShmLinkTest, PeerKilledWhileSenderWaitsForSpace) {
  int err = 0;
  l_ = t_->listen("shm://" + fresh_name(), &err);
  ASSERT_TRUE(l_);
  const std::string uri = l_->uri();
  Transport* t = t_.get();
  Pipe ready;
  ForkedChild child = run_in_child("no-reader", [&]() -> int {
    int e = 0;
    auto k = t->dial(uri, 5000, &e);
    CHILD_CHECK(k != nullptr);
    ready.send(1);
    pause();
    return 0;
  });
  a_ = l_->accept(5000, &err);
  ASSERT_TRUE(a_) << err;
  ASSERT_TRUE(ready.recv().has_value());
  std::atomic<pid_t> tid{0};
  int rc = 0;
  Clock::time_point killed{}, returned{};
  std::thread s([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    auto v = pattern(1 << 20, 2);
    while (rc == 0) rc = send_vec(*a_, v);  // 4 MiB ring: blocks on the 5th
    returned = Clock::now();
  });
  ASSERT_TRUE(poll_until([&] { return tid != 0 && thread_state(tid) == 'S'; }));
  killed = Clock::now();
  child.kill9();
  s.join();
  EXPECT_EQ(rc, EDVSNOTCONN);
  EXPECT_LT((std::chrono::duration<double, std::milli>(returned - killed).count()), 1000.0);
}

TEST_F(ShmLinkTest, CloseWakesSenderBlockedOnFullRing) {
  ASSERT_NO_FATAL_FAILURE(pair("?ring=4k"));
  std::atomic<pid_t> tid{0};
  int rc = 0;
  std::thread s([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    auto v = pattern(1000, 3);
    while (rc == 0) rc = send_vec(*d_, v);
  });
  ASSERT_TRUE(poll_until([&] { return tid != 0 && thread_state(tid) == 'S'; }));
  auto t0 = Clock::now();
  d_->close();
  s.join();
  EXPECT_EQ(rc, EDVSNOTCONN);
  EXPECT_LT(ms_since(t0), 1000.0);
}

TEST_F(ShmLinkTest, CorruptHeadClosesLinkWithBadValue) {
  ASSERT_NO_FATAL_FAILURE(pair());
  // The dialer's outgoing ring (ring 0) as the acceptor sees it: a "peer" scribbles on head.
  shm(*d_).header_for_test()->ring[kDialer].head.store(uint64_t{1} << 50);
  std::span<const std::byte> f;
  EXPECT_EQ(a_->recv(&f, 1000), EDVSBADVALUE);
  EXPECT_EQ(a_->recv(&f, 0), EDVSNOTCONN);
  EXPECT_EQ(d_->recv(&f, 1000), EDVSNOTCONN) << "the peer learns the link is closed";
}

TEST_F(ShmLinkTest, CorruptTailFailsTheSender) {
  ASSERT_NO_FATAL_FAILURE(pair("?ring=4k"));
  auto v = pattern(3000, 4);
  ASSERT_EQ(send_vec(*d_, v), 0);
  shm(*a_).header_for_test()->ring[kDialer].tail.store(999999);  // beyond what was written
  EXPECT_EQ(send_vec(*d_, v), EDVSBADVALUE);
  EXPECT_EQ(send_vec(*d_, v), EDVSNOTCONN);
}

TEST_F(ShmLinkTest, CorruptLengthInRingIsBadValue) {
  ASSERT_NO_FATAL_FAILURE(pair());
  FrameHeader h{kFrameMagic, static_cast<uint32_t>(kMaxFrame) + 1};
  ASSERT_EQ(d_->inject_raw_for_test({reinterpret_cast<const std::byte*>(&h), sizeof h}), 0);
  std::span<const std::byte> f;
  EXPECT_EQ(a_->recv(&f, 1000), EDVSBADVALUE);
}

// poll_fd is readable exactly while recv(…, 0) has something (up to spurious wake-ups).
TEST_F(ShmLinkTest, PollFdFollowsNonBlockingRecv) {
  ASSERT_NO_FATAL_FAILURE(pair());
  pollfd p{a_->poll_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
  for (unsigned i = 0; i < 3; ++i) ASSERT_EQ(send_vec(*d_, pattern(5 + i, i)), 0);
  std::span<const std::byte> f;
  for (unsigned i = 0; i < 3; ++i) {
    ASSERT_EQ(poll(&p, 1, 1000), 1) << i;
    ASSERT_EQ(a_->recv(&f, 0), static_cast<long>(5 + i));
  }
  EXPECT_EQ(a_->recv(&f, 0), EDVSTIMEDOUT);
  EXPECT_EQ(poll(&p, 1, 0), 0) << "no spurious readiness in the simple case";
  ASSERT_EQ(send_vec(*d_, pattern(9, 9)), 0);
  EXPECT_EQ(poll(&p, 1, 1000), 1);
  EXPECT_EQ(a_->recv(&f, 0), 9);
  // Peer death makes it readable too.
  EXPECT_EQ(a_->recv(&f, 0), EDVSTIMEDOUT);
  d_.reset();
  EXPECT_EQ(poll(&p, 1, 1000), 1);
  EXPECT_EQ(a_->recv(&f, 0), EDVSNOTCONN);
}

TEST_F(ShmLinkTest, FramesSentBeforeAcceptArrive) {
  int err = 0;
  l_ = t_->listen("shm://" + fresh_name(), &err);
  ASSERT_TRUE(l_);
  d_ = t_->dial(l_->uri(), 1000, &err);
  ASSERT_TRUE(d_);
  ASSERT_EQ(send_vec(*d_, pattern(20, 5)), 0);
  ASSERT_EQ(send_vec(*d_, pattern(21, 6)), 0);
  a_ = l_->accept(1000, &err);
  ASSERT_TRUE(a_);
  pollfd p{a_->poll_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 1) << "frames already waiting make poll_fd readable";
  std::span<const std::byte> f;
  EXPECT_EQ(a_->recv(&f, 0), 20);
  EXPECT_EQ(a_->recv(&f, 0), 21);
}

// Hostile dialers: a region that is not sealed, one with a bad magic, and no hello at all are
// all dropped; the listener keeps serving.
TEST_F(ShmLinkTest, BadHellosAreDroppedListenerKeepsServing) {
  int err = 0;
  l_ = t_->listen("shm://" + fresh_name(), &err);
  ASSERT_TRUE(l_);
  const std::string name = l_->uri().substr(6);
  auto raw_dial = [&]() {
    sockaddr_un a;
    socklen_t len;
    EXPECT_TRUE(abstract_address(name, &a, &len));
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    EXPECT_EQ(connect(s, reinterpret_cast<sockaddr*>(&a), len), 0);
    return s;
  };
  // 1. Unsealed memfd of the right size and content.
  int m1 = memfd_create("bad", MFD_CLOEXEC);
  ASSERT_EQ(ftruncate(m1, static_cast<off_t>(total_size_for(kMinRing))), 0);
  struct Ident {
    uint64_t magic;
    uint32_t version, reserved;
    uint64_t capacity, total_size;
  } good{kMagic, kVersion, 0, kMinRing, total_size_for(kMinRing)};
  ASSERT_EQ(pwrite(m1, &good, 32, 0), 32);
  int s1 = raw_dial();
  ASSERT_EQ(send_hello(s1, m1), 0);
  // 2. Sealed, but the header announces a different size.
  int m2 = memfd_create("bad2", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ASSERT_EQ(ftruncate(m2, static_cast<off_t>(total_size_for(kMinRing))), 0);
  Ident lie = good;
  lie.capacity = kMinRing * 2;
  ASSERT_EQ(pwrite(m2, &lie, 32, 0), 32);
  ASSERT_EQ(fcntl(m2, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
  int s2 = raw_dial();
  ASSERT_EQ(send_hello(s2, m2), 0);
  // 3. Garbage instead of a hello.
  int s3 = raw_dial();
  ASSERT_EQ(send(s3, "hello?", 6, 0), 6);
  auto t0 = Clock::now();
  EXPECT_EQ(l_->accept(300, &err), nullptr);
  EXPECT_EQ(err, EDVSTIMEDOUT);
  EXPECT_LT(ms_since(t0), 2000.0);
  // The dropped dialers see the hang-up.
  pollfd p{s1, 0, 0};
  EXPECT_EQ(poll(&p, 1, 1000), 1);
  for (int fd : {m1, m2, s1, s2, s3}) close(fd);
  // A good dialer still gets through.
  d_ = t_->dial(l_->uri(), 1000, &err);
  ASSERT_TRUE(d_);
  a_ = l_->accept(1000, &err);
  ASSERT_TRUE(a_) << err;
  ASSERT_EQ(send_vec(*d_, pattern(7, 7)), 0);
  std::span<const std::byte> f;
  EXPECT_EQ(a_->recv(&f, 1000), 7);
}

}  // namespace
}  // namespace dvs::transport::shm
