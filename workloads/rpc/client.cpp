// The RPC client process: `outstanding` threads, each with its own endpoint, in a closed or an
// open loop (see rpc.hpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>
#include <time.h>

#include "workloads/measure/clock.hpp"
#include "workloads/rpc/children.hpp"
#include "workloads/rpc/endpoints.hpp"

namespace dvs::workloads::rpc {

namespace {

constexpr uint64_t kSec = 1'000'000'000u;

void nap_us(long us) {
  const timespec ts{us / 1'000'000, (us % 1'000'000) * 1000};
  nanosleep(&ts, nullptr);
}

void sleep_until_ns(uint64_t t) {
  const timespec ts{time_t(t / kSec), long(t % kSec)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

bool wait_flag(const std::atomic<uint32_t>& flag, const std::atomic<uint32_t>& abort, uint64_t deadline) {
  while (flag.load(std::memory_order_acquire) == 0) {
    if (abort.load() != 0 || measure::now_ns() > deadline) return false;
    nap_us(200);
  }
  return true;
}

// The arrival schedule of one client process (open loop), shared by its threads.
class Schedule {
 public:
  Schedule(const RpcConfig& cfg, int c)
      : poisson_(cfg.arrivals == Arrivals::Poisson),
        gap_ns_(1e9 * cfg.clients / cfg.rate),
        rng_(cfg.seed * 7919u + uint64_t(c)) {
    // Fixed spacing: the clients' arrivals interleave evenly.
    next_ns_ = poisson_ ? draw() : gap_ns_ * double(c) / cfg.clients;
  }
  // Intended time of the next arrival, ns after the release.
  uint64_t take() {
    std::lock_guard<std::mutex> g(mu_);
    const double t = next_ns_;
    next_ns_ += poisson_ ? draw() : gap_ns_;
    return uint64_t(t);
  }

 private:
  double draw() { return std::exponential_distribution<double>(1.0 / gap_ns_)(rng_); }
  std::mutex mu_;
  bool poisson_;
  double gap_ns_;
  double next_ns_ = 0;
  std::mt19937_64 rng_;
};

struct Client {
  const RpcConfig& cfg;
  Control& ctl;
  int c;
  ClientBlock& blk;
  int nsec;
  measure::ChildCtx& ctx;
  std::mutex mu;  // guards blk
  Schedule sched;

  void record(uint64_t latency, uint64_t done, bool unsent) {
    const uint64_t rel = done > ctl.go_ns ? done - ctl.go_ns : 0;
    const int s = int(std::min<uint64_t>(rel / kSec, uint64_t(nsec - 1)));
    std::lock_guard<std::mutex> g(mu);
    blk.total.record(latency);
    blk.second(s)->record(latency);
    if (unsent) {
      ++blk.unsent;
    } else {
      ++blk.completed;
      blk.last_done_ns = std::max(blk.last_done_ns, done);
    }
  }
  void count_error(int rc) {
    std::lock_guard<std::mutex> g(mu);
    ++blk.failed;
    if (blk.first_error == 0) blk.first_error = rc;
  }

  // One sendrec of request seq to server_ep. 0, or a negative dvs error.
  int request(int server_ep, uint64_t seq, std::vector<uint8_t>& req, std::vector<uint8_t>& rep) {
    dvs_message_t m{};
    m.m_type = kRequest;
    const Header h{seq, uint32_t(cfg.request_bytes), uint32_t(cfg.reply_bytes),
                   reinterpret_cast<uint64_t>(req.data()), reinterpret_cast<uint64_t>(rep.data())};
    std::memcpy(m.m_u.raw, &h, sizeof h);
    uint8_t* inl = m.m_u.raw + sizeof h;
    uint8_t* out = cfg.request_bytes > kInlineBytes ? req.data() : inl;
    for (size_t i = 0; i < cfg.request_bytes; ++i) out[i] = pattern_byte(seq, i);
    const long timeout = cfg.request_timeout_ms + long(cfg.stall_ns / 1'000'000u);
    const int rc = dvs_sendrec_T(server_ep, &m, timeout);
    if (rc < 0) return rc;
    if (m.m_type == kReplyErr) {
      Header e;
      std::memcpy(&e, m.m_u.raw, sizeof e);
      return int(int64_t(e.seq));
    }
    bool good = m.m_type == kReplyOk;
    if (good && cfg.verify) {
      const uint8_t* in = cfg.reply_bytes > kInlineBytes ? rep.data() : inl;
      for (size_t i = 0; i < cfg.reply_bytes && good; ++i) good = in[i] == pattern_byte(~seq, i);
    }
    std::lock_guard<std::mutex> g(mu);
    if (!good) {
      ++blk.verify_failures;
    } else if (ctl.go.load(std::memory_order_relaxed) != 0) {  // not the untimed first round trip
      blk.request_bytes += cfg.request_bytes;
      blk.reply_bytes += cfg.reply_bytes;
    }
    return 0;
  }

  int server_of(int t, uint64_t i) const {
    return cfg.server_p_nr + int((uint64_t(c) * cfg.outstanding + uint64_t(t) + i) % uint64_t(cfg.servers));
  }

  // Bind, (remote) declare the servers and probe the links, one untimed round trip, wait for go.
  int setup(int t) {
    const int ep = dvs_tbind(cfg.dc, DVS_ANY);
    if (ep < 0) return ctx.fail("client %d thread %d: dvs_tbind(dc %d, ANY): %s", c, t, cfg.dc, dvs_errname(ep));
    int rc = dvs_set_wait(cfg.wait, cfg.spin_ns);
    if (rc < 0) return ctx.fail("client %d thread %d: dvs_set_wait: %s", c, t, dvs_errname(rc));
    const uint64_t deadline = measure::now_ns() + uint64_t(cfg.setup_timeout_ms) * 1'000'000u;
    if (cfg.server_node >= 0 && c == 0 && t == 0) {
      for (int k = 0; k < cfg.servers; ++k) {
        const int sep = cfg.server_p_nr + k;
        const char* what = "";
        if ((rc = rmtbind_and_probe(cfg.dc, sep, cfg.server_node, deadline, &what)) < 0)
          return ctx.fail("client 0: %s (dc %d, ep %d, node %d): %s", what, cfg.dc, sep, cfg.server_node, dvs_errname(rc));
      }
      ctl.links_ready.store(1, std::memory_order_release);
    } else if (cfg.server_node >= 0 && !wait_flag(ctl.links_ready, ctl.abort, deadline)) {
      return ctx.fail("client %d thread %d: the links to node %d did not come up", c, t, cfg.server_node);
    }
    return 0;
  }

  int thread_main(int t) {
    if (setup(t) != 0) {
      ctl.abort.store(1);
      return 1;
    }
    std::vector<uint8_t> req(std::max<size_t>(cfg.request_bytes, 1)), rep(std::max<size_t>(cfg.reply_bytes, 1));
    const uint64_t warm_seq = (uint64_t{1} << 63) | (uint64_t(c) << 32) | uint64_t(t);
    int rc = request(server_of(t, 0), warm_seq, req, rep);
    if (rc < 0) {
      ctl.abort.store(1);
      return ctx.fail("client %d thread %d: first round trip to %d: %s", c, t, server_of(t, 0), dvs_errname(rc));
    }
    ctl.clients_ready.fetch_add(1);
    if (!wait_flag(ctl.go, ctl.abort, measure::now_ns() + uint64_t(cfg.setup_timeout_ms + 5'000) * 1'000'000u))
      return ctx.fail("client %d thread %d: not released (another child failed)", c, t);
    const uint64_t go = ctl.go_ns;
    const uint64_t end = go + uint64_t(cfg.duration_s * 1e9);
    // Sequence numbers: unique per (client, thread, request).
    uint64_t seq = (uint64_t(c) << 48) | (uint64_t(t) << 40);
    uint64_t i = 0;
    if (cfg.loop == Loop::Closed) {
      for (uint64_t t0; (t0 = measure::now_ns()) < end; ++i) {
        if ((rc = request(server_of(t, i), seq + i, req, rep)) < 0) break;
        const uint64_t done = measure::now_ns();
        record(done - t0, done, false);
      }
    } else {
      const uint64_t give_up = end + uint64_t(cfg.drain_s * 1e9);
      for (;; ++i) {
        const uint64_t intended = go + sched.take();
        if (intended >= end) break;
        uint64_t now = measure::now_ns();
        if (now > give_up) {  // never sent: recorded with what it has waited so far
          record(now - intended, now, true);
          continue;
        }
        if (now < intended) sleep_until_ns(intended);
        if ((rc = request(server_of(t, i), seq + i, req, rep)) < 0) break;
        now = measure::now_ns();
        record(now - intended, now, false);
      }
    }
    if (rc < 0) {
      count_error(rc);
      return ctx.fail("client %d thread %d: request %llu to %d: %s", c, t, (unsigned long long)i,
                      server_of(t, i), dvs_errname(rc));
    }
    return 0;
  }
};

}  // namespace

int client_main(const RpcConfig& cfg, Control& ctl, int c, ClientBlock& blk, int nsec,
                measure::ChildCtx& ctx) {
  const int rc = dvs_open(cfg.client_socket.c_str());
  if (rc < 0) {
    ctl.abort.store(1);
    return ctx.fail("client %d: dvs_open(%s): %s", c, cfg.client_socket.c_str(), dvs_errname(rc));
  }
  Client cl{cfg, ctl, c, blk, nsec, ctx, {}, Schedule(cfg, c)};
  std::vector<int> status(size_t(cfg.outstanding), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < cfg.outstanding; ++t)
    threads.emplace_back([&cl, &status, t] { status[size_t(t)] = cl.thread_main(t); });
  for (auto& th : threads) th.join();
  dvs_close();
  for (int s : status)
    if (s != 0) return 1;
  return 0;
}

}  // namespace dvs::workloads::rpc
