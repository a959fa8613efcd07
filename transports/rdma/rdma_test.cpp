// rdma-specific tests: URI grammar, the message and Hello formats, probe's reason (everywhere);
// where an RDMA device exists (the VM lab: dvs lab run --rdma), what the conformance suite does
// not see: credits (a sender never overruns the peer's posted receives), a blocked recv()
// sleeping instead of spinning, poll_us, listen address selection, a dial to something that is
// not an rdma listener. Behaviour shared by all transports is in transports/conformance.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/testkit/poll_until.hpp"
#include "dvs/errors.h"
#include "transports/rdma/rdma_frame.hpp"
#include "transports/rdma/rdma_handshake.hpp"
#include "transports/rdma/rdma_link.hpp"
#include "transports/rdma/rdma_transport.hpp"
#include "transports/rdma/rdma_uri.hpp"
#include "transports/rdma/rdma_verbs.hpp"
#include "transports/registry.hpp"
#include "transports/transport_testing.hpp"

namespace dvs::transport::rdma {
namespace {

using ::dvs::testing::Clock;
using ::dvs::testing::ms_since;
using ::dvs::testing::poll_until;

TEST(RdmaUri, ParsesAddressPortAndOptions) {
  RdmaAddress a;
  ASSERT_EQ(0, parse_rdma_uri("rdma://10.89.0.1:7000", &a));
  EXPECT_EQ(a.host, "10.89.0.1");
  EXPECT_EQ(a.port, 7000);
  EXPECT_EQ(a.options.poll_us, 0);
  EXPECT_EQ(a.query, "");
  ASSERT_EQ(0, parse_rdma_uri("rdma://[fe80::1]:0?poll_us=250", &a));
  EXPECT_EQ(a.host, "fe80::1");
  EXPECT_EQ(a.port, 0);
  EXPECT_EQ(a.options.poll_us, 250);
  EXPECT_EQ(a.query, "?poll_us=250");
  ASSERT_EQ(0, parse_rdma_uri("rdma://:0", &a));  // listen: pick an RDMA address
  EXPECT_EQ(a.host, "");
  sockaddr_storage ss{};
  socklen_t len = 0;
  ASSERT_TRUE(to_sockaddr("10.89.0.1", 4242, &ss, &len));
  EXPECT_EQ(format_rdma_uri(reinterpret_cast<sockaddr*>(&ss), len, "?poll_us=5"), "rdma://10.89.0.1:4242?poll_us=5");
  ASSERT_TRUE(to_sockaddr("::1", 1, &ss, &len));
  EXPECT_EQ(format_rdma_uri(reinterpret_cast<sockaddr*>(&ss), len), "rdma://[::1]:1");
}

TEST(RdmaUri, RejectsMalformed) {
  RdmaAddress a;
  for (const char* bad :
       {"rdma://", "rdma://10.89.0.1", "rdma://10.89.0.1:", "rdma://10.89.0.1:65536", "rdma://10.89.0.1:-1",
        "rdma://host.example:7000", "rdma://rxe0/10.89.0.1:7000", "rdma://fe80::1:7000", "rdma://[fe80::1]7000",
        "rdma://10.89.0.1:7000?poll_us=-1", "rdma://10.89.0.1:7000?poll_us=1000001", "rdma://10.89.0.1:7000?poll_us=",
        "rdma://10.89.0.1:7000?poll_us", "rdma://10.89.0.1:7000?bogus=1", "tcp://10.89.0.1:7000", "10.89.0.1:7000"})
    EXPECT_EQ(EDVSINVAL, parse_rdma_uri(bad, &a)) << bad;
}

TEST(RdmaFrame, HeaderRoundTripAndValidation) {
  std::byte m[kMsgHeader + 4] = {};
  encode_message_header(MsgHeader{MsgKind::First, 3, 300, 123456, 0}, m);
  MsgHeader h;
  ASSERT_TRUE(decode_message(m, sizeof m, &h));
  EXPECT_EQ(h.kind, MsgKind::First);
  EXPECT_EQ(h.ctrl_credits, 3);
  EXPECT_EQ(h.data_credits, 300);
  EXPECT_EQ(h.value, 123456u);
  set_returned_credits(7, 65535, 1, m);
  ASSERT_TRUE(decode_message(m, sizeof m, &h));
  EXPECT_EQ(h.ctrl_credits, 7);
  EXPECT_EQ(h.data_credits, 65535);
  EXPECT_FALSE(decode_message(m, kMsgHeader - 1, &h)) << "shorter than a header";
  EXPECT_FALSE(decode_message(m, kMsgHeader, &h)) << "a data message without payload";
  std::byte bad[sizeof m];
  auto mutate = [&](size_t at, std::byte v) {
    std::memcpy(bad, m, sizeof m);
    bad[at] = v;
    return decode_message(bad, sizeof bad, &h);
  };
  EXPECT_FALSE(mutate(0, std::byte{'X'})) << "magic";
  EXPECT_FALSE(mutate(3, std::byte{1})) << "version 1 (before LANDED)";
  EXPECT_FALSE(mutate(4, std::byte{0})) << "kind 0";
  EXPECT_FALSE(mutate(4, std::byte{5})) << "kind 5";
  EXPECT_FALSE(mutate(12, std::byte{2})) << "two landing credits";
  EXPECT_FALSE(mutate(13, std::byte{1})) << "reserved byte";
  EXPECT_TRUE(mutate(12, std::byte{1})) << "one landing credit";
  EXPECT_EQ(h.landing_credits, 1);
  std::byte l[kMsgHeader];
  encode_message_header(MsgHeader{MsgKind::Landed, 0, 2, 700000, 0}, l);
  ASSERT_TRUE(decode_message(l, sizeof l, &h));
  EXPECT_EQ(h.kind, MsgKind::Landed);
  EXPECT_EQ(h.value, 700000u);
  std::byte lp[kMsgHeader + 1] = {};
  std::memcpy(lp, l, sizeof l);
  EXPECT_FALSE(decode_message(lp, sizeof lp, &h)) << "a LANDED with a payload";
  encode_message_header(MsgHeader{MsgKind::Landed, 0, 0, 0, 0}, l);
  EXPECT_FALSE(decode_message(l, sizeof l, &h)) << "a LANDED of 0 bytes";
  std::byte c[kMsgHeader];
  encode_message_header(MsgHeader{MsgKind::Credit, 1, 8, 0, 0}, c);
  ASSERT_TRUE(decode_message(c, sizeof c, &h));
  EXPECT_EQ(h.kind, MsgKind::Credit);
  EXPECT_FALSE(decode_message(m, sizeof m, &h) && h.kind == MsgKind::Credit);
  encode_message_header(MsgHeader{MsgKind::Credit, 1, 8, 5, 0}, c);
  EXPECT_FALSE(decode_message(c, sizeof c, &h)) << "a CREDIT with a value";
}

TEST(RdmaHandshake, HelloRoundTripAndValidation) {
  Hello h;
  h.qp.qpn = 0x123456;
  h.qp.psn = 0xabcdef;
  h.qp.gid.raw[10] = 0xff;
  h.qp.gid.raw[11] = 0xff;
  h.qp.gid.raw[15] = 7;
  h.qp.mtu = IBV_MTU_4096;
  h.data_slots = 32;
  h.ctrl_slots = 4;
  h.slot_bytes = 16384;
  h.max_frame = 1 << 24;
  h.landing_addr = 0x7f1234567000;
  h.landing_rkey = 0xdeadbeef;
  h.landing_bytes = 1 << 20;
  std::byte buf[kHelloBytes];
  encode_hello(h, buf);
  Hello g;
  ASSERT_TRUE(decode_hello(buf, &g));
  EXPECT_EQ(g.qp.qpn, h.qp.qpn);
  EXPECT_EQ(g.qp.psn, h.qp.psn);
  EXPECT_EQ(std::memcmp(g.qp.gid.raw, h.qp.gid.raw, 16), 0);
  EXPECT_EQ(g.qp.mtu, IBV_MTU_4096);
  EXPECT_EQ(g.data_slots, 32u);
  EXPECT_EQ(g.ctrl_slots, 4u);
  EXPECT_EQ(g.slot_bytes, 16384u);
  EXPECT_EQ(g.max_frame, 1u << 24);
  EXPECT_EQ(g.landing_addr, h.landing_addr);
  EXPECT_EQ(g.landing_rkey, h.landing_rkey);
  EXPECT_EQ(g.landing_bytes, h.landing_bytes);
  auto with = [&](auto change) {
    Hello x = h;
    change(x);
    encode_hello(x, buf);
    return decode_hello(buf, &g);
  };
  EXPECT_FALSE(with([](Hello& x) { x.qp.qpn = 0; }));
  EXPECT_FALSE(with([](Hello& x) { x.qp.qpn = 1 << 24; }));
  EXPECT_FALSE(with([](Hello& x) { x.qp.psn = 1 << 24; }));
  EXPECT_FALSE(with([](Hello& x) { x.qp.mtu = static_cast<ibv_mtu>(6); }));
  EXPECT_FALSE(with([](Hello& x) { x.data_slots = 0; }));
  EXPECT_FALSE(with([](Hello& x) { x.slot_bytes = 32; }));
  EXPECT_FALSE(with([](Hello& x) { x.max_frame = 0; }));
  EXPECT_FALSE(with([](Hello& x) { x.landing_bytes = (64u << 20) + 1; }));
  EXPECT_FALSE(with([](Hello& x) { x.landing_addr = 0; })) << "a landing area without an address";
  EXPECT_TRUE(with([](Hello& x) { x.landing_addr = 0, x.landing_rkey = 0, x.landing_bytes = 0; })) << "no landing area";
  encode_hello(h, buf);
  buf[0] = std::byte{'X'};
  EXPECT_FALSE(decode_hello(buf, &g));
  encode_hello(h, buf);
  buf[70] = std::byte{1};
  EXPECT_FALSE(decode_hello(buf, &g)) << "reserved bytes";
}

Transport* rdma_transport() { return registered("rdma", register_rdma); }

TEST(RdmaProbe, SaysWhyWhenUnavailable) {
  Transport* t = rdma_transport();
  ASSERT_NE(t, nullptr);
  Availability a = t->probe();
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (list) ibv_free_device_list(list);
  EXPECT_EQ(a.available, n > 0) << a.reason;
  if (n == 0) {
    EXPECT_NE(a.reason.find("no RDMA device (ibv_get_device_list: 0 devices"), std::string::npos) << a.reason;
    int err = 0;
    EXPECT_EQ(t->listen("rdma://:0", &err), nullptr);
    EXPECT_EQ(err, EDVSAFNOSUPPORT);
  }
  // Bad URIs are refused before anything else, on any machine: port 0 and "any address" are
  // listen-only, names are no device addresses.
  for (const char* bad : {"rdma://10.89.0.1:0", "rdma://:7000", "rdma://node1:7000"}) {
    int err = 0;
    EXPECT_EQ(t->dial(bad, 100, &err), nullptr) << bad;
    EXPECT_EQ(err, EDVSINVAL) << bad;
  }
  int err = 0;
  EXPECT_EQ(t->listen("rdma://node1:7000", &err), nullptr);
  EXPECT_EQ(err, EDVSINVAL);
}

class RdmaLive : public AvailableTransportTest {
 protected:
  RdmaLive() : AvailableTransportTest("rdma", register_rdma) {}
  // A listener on `uri` and a link pair through it (the dial runs in a thread: it waits for accept).
  void make_pair(const std::string& uri) {
    int err = 0;
    l_ = t_->listen(uri, &err);
    ASSERT_NE(l_, nullptr) << dvs_errname(err);
    int derr = 0;
    std::thread d([&] { dialer_ = t_->dial(l_->uri(), 5000, &derr); });
    acceptor_ = l_->accept(5000, &err);
    d.join();
    ASSERT_NE(dialer_, nullptr) << dvs_errname(derr);
    ASSERT_NE(acceptor_, nullptr) << dvs_errname(err);
  }
  std::unique_ptr<Listener> l_;
  std::unique_ptr<Link> dialer_, acceptor_;
};

int send_u32(Link& l, uint32_t v, size_t len) {
  std::vector<std::byte> b(len);
  std::memcpy(b.data(), &v, sizeof v);
  iovec io{b.data(), b.size()};
  return l.send(std::span<const iovec>(&io, 1));
}

TEST_F(RdmaLive, ListenPicksAnRdmaAddressAndRefusesOthers) {
  const auto addrs = rdma_ipv4_addresses();
  ASSERT_FALSE(addrs.empty());
  int err = 0;
  auto l = t_->listen("rdma://:0?poll_us=10", &err);
  ASSERT_NE(l, nullptr) << dvs_errname(err);
  EXPECT_EQ(l->uri().rfind("rdma://" + addrs.front() + ":", 0), 0u) << l->uri();
  EXPECT_NE(l->uri().find("?poll_us=10"), std::string::npos) << l->uri();
  EXPECT_EQ(t_->listen("rdma://127.0.0.1:0", &err), nullptr) << "loopback has no RDMA device";
  EXPECT_EQ(err, EDVSADDRNOTAVAIL);
}

// The dialer sends 200 frames while nobody receives: it must stop after the peer's data slots
// (its credits), asleep, and resume as the receiver consumes. The QP runs with rnr_retry 0, so
// one SEND without a posted receive would have killed the link.
TEST_F(RdmaLive, SenderStopsAtThePeersCreditsAndNeverOverruns) {
  ASSERT_NO_FATAL_FAILURE(make_pair("rdma://:0"));
  constexpr uint32_t kFrames = 200;
  const uint32_t slots = LinkGeometry{}.data_slots;
  std::atomic<uint32_t> sent{0};
  std::atomic<pid_t> tid{0};
  std::atomic<int> send_rc{0};
  std::thread sender([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    for (uint32_t i = 0; i < kFrames; ++i) {
      if (int rc = send_u32(*dialer_, i, 100); rc < 0) {
        send_rc = rc;
        return;
      }
      ++sent;
    }
  });
  // It blocks (asleep in the kernel) with exactly `slots` frames out.
  EXPECT_TRUE(poll_until([&] {
    char st = '?';
    std::string p = "/proc/self/task/" + std::to_string(tid.load()) + "/stat";
    if (FILE* f = fopen(p.c_str(), "r")) {
      char buf[512] = {};
      size_t n = fread(buf, 1, sizeof buf - 1, f);
      fclose(f);
      const char* rp = strrchr(buf, ')');
      if (n > 0 && rp && rp[1] == ' ') st = rp[2];
    }
    return sent.load() == slots && st == 'S';
  }, ::dvs::testing::Millis(10000)))
      << "sent " << sent.load() << " of " << slots;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(sent.load(), slots) << "the sender went past the peer's credits";
  for (uint32_t i = 0; i < kFrames; ++i) {
    std::span<const std::byte> f;
    long n = acceptor_->recv(&f, 10000);
    ASSERT_EQ(n, 100) << "frame " << i << ": " << dvs_errname(static_cast<int>(n));
    uint32_t v = 0;
    std::memcpy(&v, f.data(), sizeof v);
    ASSERT_EQ(v, i);
  }
  sender.join();
  EXPECT_EQ(send_rc.load(), 0) << dvs_errname(send_rc.load());
  // Both directions still work.
  ASSERT_EQ(0, send_u32(*acceptor_, 7, 20000));
  std::span<const std::byte> f;
  EXPECT_EQ(dialer_->recv(&f, 10000), 20000);
}

// A recv() waiting for nothing sleeps on the completion channel: it uses (almost) no CPU.
// Bulk frames (more than a slot, at most the 1 MiB landing area) go by RDMA WRITE + LANDED
// when the landing credit is back, else as chunks; larger ones always as chunks. Every byte
// arrives either way, in order, and the credit comes back once the receiver moves on.
TEST_F(RdmaLive, BulkFramesGoByRdmaWriteAndArriveIntact) {
  ASSERT_NO_FATAL_FAILURE(make_pair("rdma://:0"));
  auto* sender = dynamic_cast<RdmaLink*>(dialer_.get());
  ASSERT_NE(sender, nullptr);
  const std::vector<size_t> sizes = {100, 20000, 512 * 1024, 1 << 20, (1 << 20) + 1, 300000, 3 << 20, 512 * 1024};
  auto pattern = [](size_t i, size_t k) { return std::byte(static_cast<uint8_t>(i * 7 + k * 13 + (i >> 10))); };
  std::thread rx([&] {
    for (size_t k = 0; k < sizes.size(); ++k) {
      std::span<const std::byte> f;
      const long n = acceptor_->recv(&f, 10000);
      ASSERT_EQ(n, static_cast<long>(sizes[k])) << "frame " << k;
      for (size_t i = 0; i < f.size(); ++i)
        if (f[i] != pattern(i, k)) FAIL() << "frame " << k << " byte " << i;
    }
  });
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<std::byte> b(sizes[k]);
    for (size_t i = 0; i < b.size(); ++i) b[i] = pattern(i, k);
    // Two pieces: the gather path of both ways.
    iovec io[2] = {{b.data(), b.size() / 2}, {b.data() + b.size() / 2, b.size() - b.size() / 2}};
    ASSERT_EQ(0, dialer_->send(std::span<const iovec>(io, 2))) << "frame " << k;
    if (k == 2) {  // let the receiver take the first bulk frame: the credit comes back
      for (int i = 0; i < 200 && sender->frames_written() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  rx.join();
  // 20000 B, 512 KiB, 1 MiB, 300000 B and the last 512 KiB are candidates (100 B fits a slot,
  // 1 MiB + 1 and 3 MiB exceed the landing area); at least the first went by WRITE.
  EXPECT_GE(sender->frames_written(), 1u);
  EXPECT_LE(sender->frames_written(), 5u);
}

TEST_F(RdmaLive, BlockedRecvSleeps) {
  ASSERT_NO_FATAL_FAILURE(make_pair("rdma://:0"));
  clockid_t cpu;
  ASSERT_EQ(0, pthread_getcpuclockid(pthread_self(), &cpu));
  timespec a{}, b{};
  clock_gettime(cpu, &a);
  std::span<const std::byte> f;
  auto t0 = Clock::now();
  EXPECT_EQ(EDVSTIMEDOUT, acceptor_->recv(&f, 500));
  const double wall = ms_since(t0);
  clock_gettime(cpu, &b);
  const double cpu_ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  EXPECT_GE(wall, 490.0);
  EXPECT_LT(cpu_ms, 100.0) << "recv(500) burnt " << cpu_ms << " ms of CPU";
}

// poll_us: the receiver spins first; frames still flow both ways, and a long wait still ends up
// asleep (the spin is bounded).
TEST_F(RdmaLive, PollUsSpinsThenSleeps) {
  ASSERT_NO_FATAL_FAILURE(make_pair("rdma://:0?poll_us=2000"));
  for (uint32_t i = 0; i < 50; ++i) {
    ASSERT_EQ(0, send_u32(*dialer_, i, 64));
    std::span<const std::byte> f;
    ASSERT_EQ(64, acceptor_->recv(&f, 5000));
    ASSERT_EQ(0, send_u32(*acceptor_, i, 64));
    ASSERT_EQ(64, dialer_->recv(&f, 5000));
  }
  clockid_t cpu;
  ASSERT_EQ(0, pthread_getcpuclockid(pthread_self(), &cpu));
  timespec a{}, b{};
  clock_gettime(cpu, &a);
  std::span<const std::byte> f;
  EXPECT_EQ(EDVSTIMEDOUT, acceptor_->recv(&f, 500));
  clock_gettime(cpu, &b);
  const double cpu_ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  EXPECT_LT(cpu_ms, 300.0) << "spun for " << cpu_ms << " ms of a 500 ms wait with poll_us=2000";
}

// Both ends idle the way dvsd's proxies do: recv() with a timeout, and a small frame (a
// heartbeat) whenever the link was quiet that long. Every heartbeat must arrive.
TEST_F(RdmaLive, IdleHeartbeatsArrive) {
  ASSERT_NO_FATAL_FAILURE(make_pair("rdma://:0"));
  constexpr int kBeats = 100;
  auto side = [](Link& l, int* got, int* sent) {
    return [&l, got, sent] {
      auto last_tx = Clock::now() - std::chrono::seconds(1);
      const auto end = Clock::now() + std::chrono::seconds(20);
      while (Clock::now() < end && (*got < kBeats || *sent < kBeats)) {
        std::span<const std::byte> f;
        long n = l.recv(&f, 10);
        if (n > 0) ++*got;
        else if (n != EDVSTIMEDOUT) return;
        if (*sent < kBeats && ms_since(last_tx) >= 10) {
          if (send_u32(l, uint32_t(*sent), 24) < 0) return;
          ++*sent;
          last_tx = Clock::now();
        }
      }
    };
  };
  int got_d = 0, sent_d = 0, got_a = 0, sent_a = 0;
  std::thread d(side(*dialer_, &got_d, &sent_d)), a(side(*acceptor_, &got_a, &sent_a));
  d.join();
  a.join();
  EXPECT_EQ(sent_d, kBeats);
  EXPECT_EQ(sent_a, kBeats);
  EXPECT_EQ(got_d, kBeats);
  EXPECT_EQ(got_a, kBeats);
}

// Something that is not an rdma listener answers on the port: dial fails cleanly.
TEST_F(RdmaLive, DialToSomethingElseIsRefused) {
  const auto addrs = rdma_ipv4_addresses();
  ASSERT_FALSE(addrs.empty());
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(ls, 0);
  sockaddr_storage ss{};
  socklen_t len = 0;
  ASSERT_TRUE(to_sockaddr(addrs.front(), 0, &ss, &len));
  ASSERT_EQ(0, bind(ls, reinterpret_cast<sockaddr*>(&ss), len));
  ASSERT_EQ(0, listen(ls, 1));
  len = sizeof ss;
  ASSERT_EQ(0, getsockname(ls, reinterpret_cast<sockaddr*>(&ss), &len));
  const std::string uri = format_rdma_uri(reinterpret_cast<sockaddr*>(&ss), len);
  std::thread server([&] {
    int c = accept(ls, nullptr, nullptr);
    if (c < 0) return;
    char junk[kHelloBytes];
    std::memset(junk, 'x', sizeof junk);
    (void)!write(c, junk, sizeof junk);
    char drain[256];
    while (read(c, drain, sizeof drain) > 0) {
    }
    close(c);
  });
  int err = 0;
  auto t0 = Clock::now();
  EXPECT_EQ(t_->dial(uri, 5000, &err), nullptr);
  EXPECT_EQ(err, EDVSCONNREFUSED) << dvs_errname(err);
  EXPECT_LT(ms_since(t0), 3000.0);
  shutdown(ls, SHUT_RDWR);
  server.join();
  close(ls);
}

}  // namespace
}  // namespace dvs::transport::rdma
