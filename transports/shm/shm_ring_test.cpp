// Unit tests of the ring and the framing (no sockets, no processes): wrap-around, exact fit,
// frames larger than the ring, corrupted head/tail/length, and an SPSC stress across two threads
// (the test run under TSan).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "dvs/errors.h"
#include "transports/shm/shm_frame.hpp"
#include "transports/shm/shm_ring.hpp"
#include "transports/shm/shm_uri.hpp"

namespace dvs::transport::shm {
namespace {

// A ring in ordinary memory: control block + data area of `cap` bytes.
struct TestRing {
  explicit TestRing(uint64_t capacity) : cap(capacity), data(new std::byte[capacity]) {
    std::memset(data.get(), 0xEE, capacity);
  }
  RingWriter writer(uint64_t start = 0) { return RingWriter(&ctl, data.get(), cap, start); }
  RingReader reader(uint64_t start = 0) { return RingReader(&ctl, data.get(), cap, start); }
  uint64_t cap;
  RingCtl ctl{};
  std::unique_ptr<std::byte[]> data;
};

std::vector<std::byte> pattern(size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<uint8_t>(seed * 131 + i * 7 + (i >> 8)));
  return v;
}

// Writes one frame (header + body) through w, all at once; false if it does not fit.
bool put_frame(RingWriter& w, const std::vector<std::byte>& body) {
  FrameHeader h{kFrameMagic, static_cast<uint32_t>(body.size())};
  if (w.write_some(&h, sizeof h) != static_cast<long>(sizeof h)) return false;
  if (w.write_some(body.data(), body.size()) != static_cast<long>(body.size())) return false;
  w.publish();
  return true;
}

TEST(ShmRing, BytesWrapAroundTheEnd) {
  TestRing r(4096);
  auto w = r.writer();
  auto rd = r.reader();
  // Move both positions close to the end, then write across it.
  std::vector<std::byte> fill(4000);
  ASSERT_EQ(w.write_some(fill.data(), fill.size()), 4000);
  w.publish();
  ASSERT_EQ(rd.available(), 4000);
  std::vector<std::byte> sink(4000);
  ASSERT_EQ(rd.read_some(sink.data(), sink.size()), 4000u);
  rd.publish();
  auto msg = pattern(500, 1);  // 96 bytes to the end, 404 wrapped
  ASSERT_EQ(w.write_some(msg.data(), msg.size()), 500);
  w.publish();
  ASSERT_EQ(rd.available(), 500);
  std::vector<std::byte> got(500);
  ASSERT_EQ(rd.read_some(got.data(), got.size()), 500u);
  EXPECT_EQ(got, msg);
}

TEST(ShmRing, ExactFitThenFullThenSpaceAgain) {
  TestRing r(4096);
  auto w = r.writer();
  auto rd = r.reader();
  auto a = pattern(4096, 2);
  EXPECT_EQ(w.write_some(a.data(), a.size()), 4096);  // exactly the capacity
  EXPECT_EQ(w.write_some(a.data(), 1), 0);            // full
  w.publish();
  ASSERT_EQ(rd.available(), 4096);
  std::vector<std::byte> got(4096);
  EXPECT_EQ(rd.read_some(got.data(), 100), 100u);
  EXPECT_EQ(w.write_some(a.data(), 1), 0) << "space is not visible before the reader publishes";
  rd.publish();
  EXPECT_EQ(w.write_some(a.data(), 200), 100) << "exactly the freed space";
  EXPECT_EQ(rd.read_some(got.data() + 100, 4096), 3996u);
  EXPECT_EQ(got, a);
}

TEST(ShmRing, CountersNearWrapOfUint64) {
  // Positions are free-running 64-bit counters: start just below 2^64 and cross it.
  const uint64_t start = ~uint64_t{0} - 1000;
  TestRing r(4096);
  r.ctl.head = start;
  r.ctl.tail = start;
  auto w = r.writer(start);
  auto rd = r.reader(start);
  for (unsigned i = 0; i < 10; ++i) {
    auto m = pattern(777, i);
    ASSERT_EQ(w.write_some(m.data(), m.size()), 777);
    w.publish();
    ASSERT_EQ(rd.available(), 777);
    std::vector<std::byte> got(777);
    ASSERT_EQ(rd.read_some(got.data(), got.size()), 777u);
    rd.publish();
    ASSERT_EQ(got, m) << i;
  }
}

TEST(ShmRing, CorruptHeadIsRejected) {
  TestRing r(4096);
  auto w = r.writer();
  auto rd = r.reader();
  auto m = pattern(100, 3);
  w.write_some(m.data(), m.size());
  w.publish();
  ASSERT_EQ(rd.available(), 100);
  r.ctl.head = 4097;  // more than capacity ahead of the tail
  EXPECT_EQ(rd.available(), EDVSBADVALUE);
  r.ctl.head = 50;  // backwards
  EXPECT_EQ(rd.available(), EDVSBADVALUE);
  r.ctl.head = ~uint64_t{0};  // "behind" the tail
  EXPECT_EQ(rd.available(), EDVSBADVALUE);
  r.ctl.head = 4096;  // exactly full is valid
  EXPECT_EQ(rd.available(), 4096);
}

TEST(ShmRing, CorruptTailIsRejected) {
  TestRing r(4096);
  auto w = r.writer();
  auto m = pattern(4096, 4);
  ASSERT_EQ(w.write_some(m.data(), m.size()), 4096);
  w.publish();
  r.ctl.tail = 5000;  // beyond what was written
  EXPECT_EQ(w.write_some(m.data(), 1), EDVSBADVALUE);
  EXPECT_EQ(w.refresh_free(), EDVSBADVALUE);
  r.ctl.tail = 1000;
  EXPECT_EQ(w.refresh_free(), 1000);
  r.ctl.tail = 10;  // backwards from what we saw
  EXPECT_EQ(w.refresh_free(), EDVSBADVALUE);
}

TEST(ShmRing, DoorbellFlagIsTakenOnce) {
  TestRing r(4096);
  auto w = r.writer();
  std::byte b{};
  w.write_some(&b, 1);
  EXPECT_FALSE(w.publish()) << "nobody armed";
  r.ctl.reader_sleeping = 1;
  w.write_some(&b, 1);
  EXPECT_TRUE(w.publish()) << "armed: the writer takes it";
  EXPECT_EQ(r.ctl.reader_sleeping.load(), 0u);
  w.write_some(&b, 1);
  EXPECT_FALSE(w.publish());
  auto rd = r.reader();
  rd.available();
  rd.read_some(&b, 1);
  r.ctl.writer_sleeping = 1;
  EXPECT_TRUE(rd.publish());
  EXPECT_FALSE(rd.publish()) << "nothing new consumed";
}

TEST(ShmFrame, SmallFramesAndWrap) {
  TestRing r(4096);
  auto w = r.writer();
  auto rd = r.reader();
  FrameReader fr;
  for (unsigned i = 0; i < 200; ++i) {  // ~ 60 KiB through a 4 KiB ring: wraps many times
    auto body = pattern(1 + (i * 37) % 600, i);
    ASSERT_TRUE(put_frame(w, body)) << i;
    long n = fr.poll(rd);
    ASSERT_EQ(n, static_cast<long>(body.size())) << i;
    EXPECT_TRUE(std::equal(body.begin(), body.end(), fr.frame().begin())) << i;
    rd.publish();
  }
}

TEST(ShmFrame, ExactFitFrame) {
  TestRing r(4096);
  auto w = r.writer();
  auto rd = r.reader();
  FrameReader fr;
  auto body = pattern(4096 - sizeof(FrameHeader), 5);  // header + body == capacity
  ASSERT_TRUE(put_frame(w, body));
  EXPECT_EQ(w.write_some(body.data(), 1), 0);
  EXPECT_EQ(fr.poll(rd), static_cast<long>(body.size()));
  EXPECT_TRUE(std::equal(body.begin(), body.end(), fr.frame().begin()));
}

TEST(ShmFrame, FrameLargerThanTheRingIsStreamed) {
  TestRing r(4096);
  auto w = r.writer();
  auto rd = r.reader();
  FrameReader fr;
  auto body = pattern(100000, 6);
  FrameHeader h{kFrameMagic, static_cast<uint32_t>(body.size())};
  std::vector<std::byte> stream(sizeof h + body.size());
  std::memcpy(stream.data(), &h, sizeof h);
  std::memcpy(stream.data() + sizeof h, body.data(), body.size());
  size_t off = 0;
  long got = 0;
  int rounds = 0;
  while (got == 0) {
    long k = w.write_some(stream.data() + off, stream.size() - off);
    ASSERT_GE(k, 0);
    off += static_cast<size_t>(k);
    w.publish();
    got = fr.poll(rd);
    ASSERT_GE(got, 0);
    if (got == 0) {
      EXPECT_TRUE(fr.mid_frame());
    }
    rd.publish();
    ASSERT_LT(++rounds, 1000);
  }
  EXPECT_EQ(got, 100000);
  EXPECT_GT(rounds, 20);
  EXPECT_TRUE(std::equal(body.begin(), body.end(), fr.frame().begin()));
  EXPECT_FALSE(fr.mid_frame());
}

TEST(ShmFrame, HeaderSplitAcrossPolls) {
  TestRing r(4096);
  auto w = r.writer();
  auto rd = r.reader();
  FrameReader fr;
  FrameHeader h{kFrameMagic, 3};
  const auto* hp = reinterpret_cast<const std::byte*>(&h);
  w.write_some(hp, 5);
  w.publish();
  EXPECT_EQ(fr.poll(rd), 0);
  EXPECT_TRUE(fr.mid_frame());
  w.write_some(hp + 5, 3);
  const std::byte body[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
  w.write_some(body, 2);
  w.publish();
  EXPECT_EQ(fr.poll(rd), 0);
  w.write_some(body + 2, 1);
  w.publish();
  ASSERT_EQ(fr.poll(rd), 3);
  EXPECT_EQ(fr.frame()[2], std::byte{3});
}

TEST(ShmFrame, BadMagicZeroAndHugeLengthsAreRejected) {
  for (FrameHeader h : {FrameHeader{0x12345678u, 10}, FrameHeader{kFrameMagic, 0},
                        FrameHeader{kFrameMagic, static_cast<uint32_t>(kMaxFrame + 1)},
                        FrameHeader{kFrameMagic, 0xFFFFFFFFu}}) {
    TestRing r(4096);
    auto w = r.writer();
    auto rd = r.reader();
    FrameReader fr;
    w.write_some(&h, sizeof h);
    w.publish();
    EXPECT_EQ(fr.poll(rd), EDVSBADVALUE) << std::hex << h.magic << " " << h.length;
  }
}

TEST(ShmFrame, CorruptHeadMidFrameIsRejected) {
  TestRing r(4096);
  auto w = r.writer();
  auto rd = r.reader();
  FrameReader fr;
  FrameHeader h{kFrameMagic, 1000};
  w.write_some(&h, sizeof h);
  w.publish();
  EXPECT_EQ(fr.poll(rd), 0);
  r.ctl.head = uint64_t{1} << 40;  // a head far beyond anything possible
  EXPECT_EQ(fr.poll(rd), EDVSBADVALUE);
}

// One producer thread, one consumer thread, frames of varied size through a small ring (spin
// waiting only). Checks order and content; under TSan it checks the memory ordering.
TEST(ShmRingThreads, SpscStress) {
  TestRing r(8192);
  constexpr unsigned kFrames = 20000;
  auto size_of = [](unsigned i) { return size_t(1 + (i * 7919u) % 20000u); };  // some > ring
  std::thread producer([&] {
    auto w = r.writer();
    std::vector<std::byte> buf(20001);
    for (unsigned i = 0; i < kFrames; ++i) {
      const size_t n = size_of(i);
      for (size_t k = 0; k < n; ++k) buf[k] = std::byte(static_cast<uint8_t>(i + k));
      FrameHeader h{kFrameMagic, static_cast<uint32_t>(n)};
      std::vector<std::pair<const std::byte*, size_t>> parts = {
          {reinterpret_cast<const std::byte*>(&h), sizeof h}, {buf.data(), n}};
      for (auto [p, len] : parts) {
        while (len > 0) {
          long k = w.write_some(p, len);
          ASSERT_GE(k, 0);
          if (k == 0) {
            w.publish();
            std::this_thread::yield();
            continue;
          }
          p += k;
          len -= static_cast<size_t>(k);
        }
      }
      w.publish();
    }
  });
  auto rd = r.reader();
  FrameReader fr;
  unsigned bad = 0;
  for (unsigned i = 0; i < kFrames;) {
    long n = fr.poll(rd);
    rd.publish();
    ASSERT_GE(n, 0);
    if (n == 0) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_EQ(static_cast<size_t>(n), size_of(i));
    auto f = fr.frame();
    for (size_t k = 0; k < f.size(); ++k)
      if (f[k] != std::byte(static_cast<uint8_t>(i + k))) ++bad;
    ++i;
  }
  producer.join();
  EXPECT_EQ(bad, 0u);
}

TEST(ShmUri, ParsesNamesAndOptions) {
  ShmUri u;
  ASSERT_EQ(parse_shm_uri("shm://node-1.a_b", false, &u), 0);
  EXPECT_EQ(u.name, "node-1.a_b");
  EXPECT_EQ(u.ring, kDefaultRing);
  EXPECT_EQ(u.spin_ns, kDefaultSpinNs);
  ASSERT_EQ(parse_shm_uri("shm://x?ring=64k&spin_us=0", false, &u), 0);
  EXPECT_EQ(u.ring, 65536u);
  EXPECT_EQ(u.spin_ns, 0);
  ASSERT_EQ(parse_shm_uri("shm://", true, &u), 0);
  EXPECT_EQ(u.name, "");
  for (const char* bad : {"shm://", "tcp://x", "shm:/x", "shm://a/b", "shm://x?ring=3000",
                          "shm://x?ring=1k", "shm://x?ring=2g", "shm://x?bogus=1", "shm://x?ring",
                          "shm://x?spin_us=-1", "shm://x?spin_us=2000000"})
    EXPECT_EQ(parse_shm_uri(bad, false, &u), EDVSINVAL) << bad;
  EXPECT_EQ(parse_shm_uri("shm://" + std::string(kMaxNameLen + 1, 'a'), false, &u), EDVSINVAL);
}

}  // namespace
}  // namespace dvs::transport::shm
