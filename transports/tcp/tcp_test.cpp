// tcp-specific tests: URI grammar, wire format, receive buffer, socket options, exact errors for
// crafted bad headers. Behaviour shared by all transports is in transports/conformance.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "dvs/errors.h"
#include "transports/tcp/rx_buffer.hpp"
#include "transports/tcp/tcp_frame.hpp"
#include "transports/tcp/tcp_transport.hpp"
#include "transports/tcp/tcp_uri.hpp"

namespace dvs::transport::tcp {
namespace {

TEST(TcpUri, ParsesHostsPortsAndOptions) {
  TcpAddress a;
  ASSERT_EQ(0, parse_tcp_uri("tcp://127.0.0.1:4000", {}, &a));
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 4000);
  ASSERT_EQ(0, parse_tcp_uri("tcp://[::1]:0", {}, &a));
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 0);
  ASSERT_EQ(0, parse_tcp_uri("tcp://node-3.lab:65535?keepidle=2&keepcnt=9&user_timeout_ms=0", {}, &a));
  EXPECT_EQ(a.host, "node-3.lab");
  EXPECT_EQ(a.port, 65535);
  EXPECT_EQ(a.options.keepidle_s, 2);
  EXPECT_EQ(a.options.keepintvl_s, TcpOptions{}.keepintvl_s);
  EXPECT_EQ(a.options.keepcnt, 9);
  EXPECT_EQ(a.options.user_timeout_ms, 0);
  EXPECT_EQ(a.query, "?keepidle=2&keepcnt=9&user_timeout_ms=0");
  ASSERT_EQ(0, parse_tcp_uri("tcp://:7", {}, &a));
  EXPECT_EQ(a.host, "");
}

TEST(TcpUri, RejectsMalformed) {
  TcpAddress a;
  for (const char* bad :
       {"tcp://", "tcp://host", "tcp://host:", "tcp://host:65536", "tcp://host:-1", "tcp://host:12x",
        "tcp://::1:80", "tcp://[::1]80", "tcp://[]:80", "tcp://[::1", "udp://host:1", "host:1",
        "tcp://host:1?keepidle=0", "tcp://host:1?bogus=1", "tcp://host:1?keepcnt", "tcp://a b:1"})
    EXPECT_EQ(EDVSINVAL, parse_tcp_uri(bad, {}, &a)) << bad;
}

TEST(TcpFrame, HeaderRoundTripAndValidation) {
  std::byte h[kHeaderSize];
  encode_header(0x01020304, h);
  EXPECT_EQ(h[4], std::byte{4});  // little-endian length
  EXPECT_EQ(decode_header(h, 0x7fffffff), 0x01020304);
  EXPECT_EQ(decode_header(h, 0x01020303), EDVSBADVALUE);  // above max_frame
  encode_header(0, h);
  EXPECT_EQ(decode_header(h, kMaxFrame), EDVSBADVALUE);  // empty frame
  encode_header(1, h);
  h[3] = std::byte{2};  // another version
  EXPECT_EQ(decode_header(h, kMaxFrame), EDVSBADVALUE);
}

TEST(RxBuffer, CompactsAndGrowsKeepingPendingBytes) {
  RxBuffer b(1 << 20);
  b.make_room(8);
  ASSERT_GE(b.capacity(), RxBuffer::kInitial);
  auto s = b.free_space();
  for (size_t i = 0; i < 100; ++i) s[i] = std::byte(static_cast<uint8_t>(i));
  b.commit(100);
  b.consume(90);
  b.make_room(RxBuffer::kInitial);  // fits after compaction
  ASSERT_EQ(b.size(), 10u);
  EXPECT_EQ(b.data()[0], std::byte{90});
  b.make_room(300000);  // must grow
  EXPECT_GE(b.capacity(), 300000u);
  EXPECT_LE(b.capacity(), size_t{1} << 20);
  ASSERT_EQ(b.size(), 10u);
  EXPECT_EQ(b.data()[9], std::byte{99});
}

// A connected pair over loopback (dial from a thread, accept here).
struct Pair {
  std::unique_ptr<Listener> l;
  std::unique_ptr<Link> d, a;
};
Pair make_pair(Transport& t, const std::string& uri) {
  Pair p;
  int err = 0;
  p.l = t.listen(uri, &err);
  if (!p.l) return p;
  int derr = 0;
  std::thread th([&] { p.d = t.dial(p.l->uri(), 5000, &derr); });
  p.a = p.l->accept(5000, &err);
  th.join();
  return p;
}

int intopt(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  getsockopt(fd, level, name, &v, &len);
  return v;
}

TEST(TcpLink, SocketOptionsAreApplied) {
  auto t = make_tcp_transport();
  Pair p = make_pair(*t, "tcp://127.0.0.1:0?keepidle=3&keepintvl=2&keepcnt=4&user_timeout_ms=7000");
  ASSERT_TRUE(p.d && p.a);
  for (Link* k : {p.d.get(), p.a.get()}) {
    int fd = k->poll_fd();
    EXPECT_EQ(intopt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
    EXPECT_EQ(intopt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(intopt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 3);
    EXPECT_EQ(intopt(fd, IPPROTO_TCP, TCP_KEEPINTVL), 2);
    EXPECT_EQ(intopt(fd, IPPROTO_TCP, TCP_KEEPCNT), 4);
    EXPECT_EQ(intopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 7000);
  }
  EXPECT_NE(p.l->uri().find("?keepidle=3"), std::string::npos) << p.l->uri();
}

TEST(TcpLink, Port0ReportsTheRealPort) {
  auto t = make_tcp_transport();
  int err = 0;
  auto l = t->listen("tcp://127.0.0.1:0", &err);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->uri().rfind("tcp://127.0.0.1:", 0), 0u);
  EXPECT_NE(l->uri(), "tcp://127.0.0.1:0");
  auto l2 = t->listen(l->uri(), &err);
  EXPECT_EQ(l2, nullptr);
  EXPECT_EQ(err, EDVSADDRINUSE);
}

TEST(TcpLink, Ipv6LoopbackAndHostName) {
  auto t = make_tcp_transport();
  int err = 0;
  auto probe6 = t->listen("tcp://[::1]:0", &err);
  if (!probe6) GTEST_SKIP() << "no IPv6 loopback here: " << dvs_errname(err);
  probe6.reset();
  Pair p6 = make_pair(*t, "tcp://[::1]:0");
  ASSERT_TRUE(p6.d && p6.a);
  EXPECT_EQ(p6.l->uri().rfind("tcp://[::1]:", 0), 0u);
  EXPECT_EQ(p6.d->peer(), p6.l->uri());
  // "localhost" resolves to ::1 and/or 127.0.0.1; dial tries each address in turn.
  Pair pn = make_pair(*t, "tcp://localhost:0");
  ASSERT_TRUE(pn.d && pn.a);
  std::byte b[5] = {};
  iovec v{b, sizeof b};
  ASSERT_EQ(0, pn.d->send(std::span<const iovec>(&v, 1)));
  std::span<const std::byte> f;
  EXPECT_EQ(5, pn.a->recv(&f, 5000));
}

// Feeds raw bytes to the acceptor and returns what its recv() says.
long recv_after_raw(const std::vector<std::byte>& raw, bool close_after) {
  auto t = make_tcp_transport();
  Pair p = make_pair(*t, "tcp://127.0.0.1:0");
  if (!p.d || !p.a) return 1;
  if (p.d->inject_raw_for_test(raw) != 0) return 2;
  if (close_after) p.d->close();
  std::span<const std::byte> f;
  return p.a->recv(&f, 5000);
}

std::vector<std::byte> header(uint32_t len) {
  std::vector<std::byte> h(kHeaderSize);
  encode_header(len, h.data());
  return h;
}

TEST(TcpLink, BadHeadersAreBadValue) {
  std::vector<std::byte> magic = header(10);
  magic[0] = std::byte{'X'};
  EXPECT_EQ(EDVSBADVALUE, recv_after_raw(magic, false));
  EXPECT_EQ(EDVSBADVALUE, recv_after_raw(header(0), false));
  EXPECT_EQ(EDVSBADVALUE, recv_after_raw(header(uint32_t(kMaxFrame + 1)), false));
}

TEST(TcpLink, TruncatedFrameThenCloseIsNotConn) {
  std::vector<std::byte> raw = header(100);
  raw.resize(kHeaderSize + 10);  // 10 of the 100 promised bytes
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(EDVSNOTCONN, recv_after_raw(raw, true));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// A frame arriving a byte at a time, with recv() timing out in between: the partial frame is
// kept across the timeouts and delivered whole.
TEST(TcpLink, PartialFrameSurvivesTimeouts) {
  auto t = make_tcp_transport();
  Pair p = make_pair(*t, "tcp://127.0.0.1:0");
  ASSERT_TRUE(p.d && p.a);
  std::vector<std::byte> raw = header(3);
  for (uint8_t c : {'a', 'b', 'c'}) raw.push_back(std::byte{c});
  std::span<const std::byte> f;
  for (size_t i = 0; i < raw.size(); ++i) {
    ASSERT_EQ(0, p.d->inject_raw_for_test(std::span<const std::byte>(&raw[i], 1)));
    if (i + 1 < raw.size()) {
      // Not a whole frame yet: recv() times out, keeping the bytes it has read so far.
      EXPECT_EQ(EDVSTIMEDOUT, p.a->recv(&f, 20));
    }
  }
  ASSERT_EQ(3, p.a->recv(&f, 5000));
  EXPECT_EQ(0, std::memcmp(f.data(), "abc", 3));
}

// A large frame whose rest arrives long after its start (a slow peer, or a kernel that never
// wakes a receiver on its SO_RCVLOWAT): recv() with no timeout still returns it whole, and the
// frames after it too (the link has dropped the low-water mark).
TEST(TcpLink, LargeFrameTrickledInWithPausesArrivesWhole) {
  auto t = make_tcp_transport();
  Pair p = make_pair(*t, "tcp://127.0.0.1:0");
  ASSERT_TRUE(p.d && p.a);
  constexpr uint32_t kLen = 256 * 1024;
  std::vector<std::byte> raw = header(kLen);
  for (uint32_t i = 0; i < kLen; ++i) raw.push_back(std::byte(i * 7));
  std::thread feeder([&] {
    // Header and 1 KiB, then the rest in three pieces 30 ms apart (> the 5 ms safety bound).
    size_t at = 0;
    for (size_t piece : {size_t{kHeaderSize + 1024}, size_t{100'000}, size_t{100'000}, raw.size()}) {
      const size_t end = std::min(piece + at, raw.size());
      EXPECT_EQ(0, p.d->inject_raw_for_test(std::span<const std::byte>(raw.data() + at, end - at)));
      at = end;
      if (at == raw.size()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    std::byte small[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
    iovec v{small, sizeof small};
    EXPECT_EQ(0, p.d->send(std::span<const iovec>(&v, 1)));
  });
  std::span<const std::byte> f;
  ASSERT_EQ(long(kLen), p.a->recv(&f, -1));
  EXPECT_EQ(0, std::memcmp(f.data(), raw.data() + kHeaderSize, kLen));
  ASSERT_EQ(3, p.a->recv(&f, 5000));
  feeder.join();
}

TEST(TcpTransport, CapabilitiesAndProbe) {
  auto t = make_tcp_transport();
  EXPECT_EQ(t->scheme(), "tcp");
  Capabilities c = t->capabilities();
  EXPECT_TRUE(c.reliable && c.ordered && c.message_boundaries);
  EXPECT_EQ(c.max_frame, kMaxFrame);
  EXPECT_FALSE(c.rma);
  EXPECT_FALSE(c.same_host_only);
  Availability a = t->probe();
  EXPECT_TRUE(a.available) << a.reason;
}

TEST(TcpTransport, DialNeedsHostAndPort) {
  auto t = make_tcp_transport();
  int err = 0;
  EXPECT_EQ(t->dial("tcp://:80", 1000, &err), nullptr);
  EXPECT_EQ(err, EDVSINVAL);
  EXPECT_EQ(t->dial("tcp://127.0.0.1:0", 1000, &err), nullptr);
  EXPECT_EQ(err, EDVSINVAL);
}

}  // namespace
}  // namespace dvs::transport::tcp
