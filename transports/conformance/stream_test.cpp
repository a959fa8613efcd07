// Conformance: ordering, frame sizes and boundaries, gather lists, full duplex, many links.
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "core/testkit/rc_str.hpp"
#include "core/testkit/test_time.hpp"
#include "transports/conformance/conformance.hpp"

namespace dvs::transport::conformance {
namespace {

DVS_CONFORMANCE_SUITE(Stream);

constexpr int kRecvMs = 10000;  // bound on any single recv in this file

// Receives one frame and checks its length and pattern; returns false (with a gtest failure).
bool expect_frame(Link& l, uint64_t seq, size_t len) {
  std::span<const std::byte> f;
  long rc = l.recv(&f, kRecvMs);
  if (rc < 0) {
    ADD_FAILURE() << "frame " << seq << ": recv failed: " << rc_name(rc);
    return false;
  }
  if (static_cast<size_t>(rc) != len || f.size() != len) {
    ADD_FAILURE() << "frame " << seq << ": length " << rc << " (span " << f.size() << "), expected " << len;
    return false;
  }
  if (!check_pattern(seq, f)) {
    ADD_FAILURE() << "frame " << seq << " (" << len << " bytes): contents differ";
    return false;
  }
  return true;
}

TEST_P(Stream, OrderedFramesIntact) {
  if (!caps_.ordered || !caps_.message_boundaries) GTEST_SKIP() << "not claimed ordered+framed";
  constexpr int kFrames = 10000;
  auto size_of = [&](int i) {
    size_t s = (i % 1000 == 999) ? 65536 + size_t(i % 7) : 1 + size_t(i) * 7919 % 3000;
    return std::min(s, caps_.max_frame);
  };
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  auto sender = [&] {
    std::vector<std::byte> buf(70000);
    for (int i = 0; i < kFrames; ++i) {
      std::span<std::byte> f(buf.data(), size_of(i));
      fill_pattern(uint64_t(i), f);
      int rc = send_bytes(*p.dialer, f);
      if (rc < 0) {
        ADD_FAILURE() << "send " << i << ": " << rc_name(rc);
        return;
      }
    }
  };
  auto receiver = [&] {
    for (int i = 0; i < kFrames; ++i)
      if (!expect_frame(*p.acceptor, uint64_t(i), size_of(i))) return;
  };
  EXPECT_TRUE(run_bounded({sender, receiver}, Millis(30000), [&] {
    p.dialer->close();
    p.acceptor->close();
  }));
}

TEST_P(Stream, FrameSizesUpToMaxAndOneBeyond) {
  if (caps_.max_frame > (size_t{256} << 20)) GTEST_SKIP() << "max_frame too large to test here";
  std::vector<size_t> sizes = {1, 2, 63, 64, 65, 4095, 4096, 4097, 65536, 1 << 20, caps_.max_frame};
  sizes.erase(std::remove_if(sizes.begin(), sizes.end(), [&](size_t s) { return s > caps_.max_frame; }),
              sizes.end());
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  std::vector<std::byte> buf(caps_.max_frame);
  for (size_t k = 0; k < sizes.size(); ++k) {
    const size_t len = sizes[k];
    std::span<std::byte> f(buf.data(), len);
    fill_pattern(k, f);
    // A sender thread: a frame larger than the transport's buffering blocks until received.
    int rc = 1;
    EXPECT_TRUE(run_bounded({[&] { rc = send_bytes(*p.dialer, f); },
                             [&] { expect_frame(*p.acceptor, k, len); }},
                            Millis(20000), [&] {
                              p.dialer->close();
                              p.acceptor->close();
                            }))
        << "size " << len;
    ASSERT_RC(0, rc) << "size " << len;
  }
  // max_frame + 1, as two pieces of the same buffer: refused, nothing sent, link still usable.
  iovec over[2] = {{buf.data(), caps_.max_frame}, {buf.data(), 1}};
  EXPECT_RC(EDVSMSGSIZE, p.dialer->send(over));
  std::span<const std::byte> fr;
  EXPECT_RC(EDVSTIMEDOUT, p.acceptor->recv(&fr, 0));
  fill_pattern(999, std::span<std::byte>(buf.data(), 100));
  ASSERT_RC(0, send_bytes(*p.dialer, std::span<const std::byte>(buf.data(), 100)));
  EXPECT_TRUE(expect_frame(*p.acceptor, 999, 100));
}

TEST_P(Stream, GatherListArrivesAsOneFrame) {
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  // The reference frame, cut into pieces of awkward sizes (one empty).
  std::vector<std::byte> whole(1 + 7 + 0 + 100 + 4096 + 3);
  fill_pattern(42, whole);
  std::vector<iovec> iov;
  size_t off = 0;
  for (size_t n : {size_t(1), size_t(7), size_t(0), size_t(100), size_t(4096), size_t(3)}) {
    iov.push_back({whole.data() + off, n});
    off += n;
  }
  ASSERT_RC(0, p.dialer->send(iov));
  EXPECT_TRUE(expect_frame(*p.acceptor, 42, whole.size()));

  // A long gather list (more pieces than IOV_MAX = 1024).
  std::vector<std::byte> many(3000 * 5);
  fill_pattern(43, many);
  iov.clear();
  for (size_t i = 0; i < 3000; ++i) iov.push_back({many.data() + i * 5, 5});
  int rc = 1;
  EXPECT_TRUE(run_bounded({[&] { rc = p.dialer->send(iov); },
                           [&] { expect_frame(*p.acceptor, 43, many.size()); }},
                          Millis(10000), [&] {
                            p.dialer->close();
                            p.acceptor->close();
                          }));
  EXPECT_RC(0, rc);
}

// Signals hitting the sending and receiving threads while large frames are in flight: blocked
// writes come back short or with EINTR, blocked reads with EINTR. Frames must still arrive whole
// (this is what catches a transport that ignores partial writes or treats EINTR as an error).
TEST_P(Stream, SignalsDuringSendAndRecv) {
  // Frames larger than the socket buffers, so the sender really blocks mid-frame.
  constexpr int kFrames = 12;
  const size_t len = std::min<size_t>(size_t{4} << 20, caps_.max_frame);
  struct sigaction sa {}, old {};
  sa.sa_handler = [](int) {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: interrupted calls really return EINTR / short counts
  ASSERT_EQ(0, sigaction(SIGUSR1, &sa, &old));
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  std::atomic<pthread_t> sender_th{}, receiver_th{};
  std::atomic<int> started{0};
  std::atomic<bool> done{false};
  auto sender = [&] {
    sender_th = pthread_self();
    ++started;
    std::vector<std::byte> buf(len);
    for (int i = 0; i < kFrames; ++i) {
      fill_pattern(uint64_t(i), buf);
      if (int rc = send_bytes(*p.dialer, buf); rc < 0) {
        ADD_FAILURE() << "send " << i << ": " << rc_name(rc);
        break;
      }
    }
  };
  auto receiver = [&] {
    receiver_th = pthread_self();
    ++started;
    for (int i = 0; i < kFrames; ++i)
      if (!expect_frame(*p.acceptor, uint64_t(i), len)) break;
    done = true;
  };
  auto signaller = [&] {
    // A load generator, not synchronisation: a signal to each thread every 20 us.
    while (started < 2 && !done) sched_yield();
    const timespec gap{0, 20000};
    while (!done) {
      pthread_kill(sender_th.load(), SIGUSR1);
      pthread_kill(receiver_th.load(), SIGUSR1);
      nanosleep(&gap, nullptr);
    }
  };
  // The sender and receiver finish first; the signaller stops when the receiver is done.
  EXPECT_TRUE(run_bounded({sender, receiver, signaller}, Millis(30000), [&] {
    done = true;
    p.dialer->close();
    p.acceptor->close();
  }));
  sigaction(SIGUSR1, &old, nullptr);
}

// Each side sends and receives at the same time, with enough data that a transport which
// cannot send while receiving (or has a shared lock) would deadlock.
TEST_P(Stream, FullDuplex) {
  constexpr int kFrames = 400;
  const size_t len = std::min<size_t>(32768, caps_.max_frame);
  std::unique_ptr<Listener> l;
  LinkPair p;
  ASSERT_TRUE(make_pair(&l, &p));
  auto send_n = [&](Link& link, uint64_t base) {
    return [&link, base, len] {
      std::vector<std::byte> buf(len);
      for (int i = 0; i < kFrames; ++i) {
        fill_pattern(base + uint64_t(i), buf);
        int rc = send_bytes(link, buf);
        if (rc < 0) {
          ADD_FAILURE() << "send " << i << ": " << rc_name(rc);
          return;
        }
      }
    };
  };
  auto recv_n = [&](Link& link, uint64_t base) {
    return [&link, base, len] {
      for (int i = 0; i < kFrames; ++i)
        if (!expect_frame(link, base + uint64_t(i), len)) return;
    };
  };
  EXPECT_TRUE(run_bounded({send_n(*p.dialer, 0), send_n(*p.acceptor, 1000000),
                           recv_n(*p.acceptor, 0), recv_n(*p.dialer, 1000000)},
                          Millis(30000), [&] {
                            p.dialer->close();
                            p.acceptor->close();
                          }));
}

// One listener, 16 dialers at once; each link echoes 100 frames tagged with the dialer's id.
TEST_P(Stream, ManyLinksToOneListener) {
  constexpr int kDialers = 16;
  constexpr int kRounds = 100;
  std::unique_ptr<Listener> l;
  ASSERT_TRUE(listen(&l));
  const std::string uri = l->uri();
  std::mutex mu;
  std::vector<Link*> live;  // for the timeout handler
  auto track = [&](Link* k) {
    std::lock_guard<std::mutex> g(mu);
    live.push_back(k);
  };
  std::vector<std::unique_ptr<Link>> accepted;
  std::vector<std::function<void()>> fns;
  fns.push_back([&] {  // the server: accept all, one echo thread per link
    std::vector<std::thread> echoers;
    for (int i = 0; i < kDialers; ++i) {
      int err = 0;
      auto k = l->accept(kRecvMs, &err);
      if (!k) {
        ADD_FAILURE() << "accept " << i << ": " << rc_name(err);
        break;
      }
      track(k.get());
      Link* raw = k.get();
      {
        std::lock_guard<std::mutex> g(mu);
        accepted.push_back(std::move(k));
      }
      echoers.emplace_back([raw] {
        for (;;) {
          std::span<const std::byte> f;
          long rc = raw->recv(&f, kRecvMs);
          if (rc < 0) {
            if (rc != EDVSNOTCONN) ADD_FAILURE() << "echo recv: " << rc_name(rc);
            return;
          }
          if (int s = send_bytes(*raw, f); s < 0) {
            ADD_FAILURE() << "echo send: " << rc_name(s);
            return;
          }
        }
      });
    }
    for (auto& e : echoers) e.join();
  });
  for (int d = 0; d < kDialers; ++d)
    fns.push_back([&, d] {
      int err = 0;
      auto k = t_->dial(uri, 5000, &err);
      if (!k) {
        ADD_FAILURE() << "dial " << d << ": " << rc_name(err);
        return;
      }
      track(k.get());
      std::vector<std::byte> buf(1 + (d * 37) % 500);
      for (int r = 0; r < kRounds; ++r) {
        uint64_t seq = uint64_t(d) * 1000 + uint64_t(r);
        fill_pattern(seq, buf);
        if (int rc = send_bytes(*k, buf); rc < 0) {
          ADD_FAILURE() << "dialer " << d << " send: " << rc_name(rc);
          break;
        }
        if (!expect_frame(*k, seq, buf.size())) break;
      }
      k->close();  // ends the echo thread
      std::lock_guard<std::mutex> g(mu);
      live.erase(std::find(live.begin(), live.end(), k.get()));
    });
  EXPECT_TRUE(run_bounded(std::move(fns), Millis(30000), [&] {
    std::lock_guard<std::mutex> g(mu);
    for (Link* k : live) k->close();
    l->close();
  }));
  EXPECT_EQ(accepted.size(), size_t(kDialers));
}

}  // namespace
}  // namespace dvs::transport::conformance
