// The RPC server process: rcvrqst, pull, serve, push, reply (see rpc.hpp).
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>
#include <time.h>

#include "workloads/measure/clock.hpp"
#include "workloads/rpc/endpoints.hpp"

namespace dvs::workloads::rpc {

namespace {

void sleep_until(uint64_t t_ns) {
  const timespec ts{time_t(t_ns / 1'000'000'000u), long(t_ns % 1'000'000'000u)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

struct Server {
  const RpcConfig& cfg;
  Control& ctl;
  int k;
  std::vector<uint8_t> buf;
  std::mt19937_64 rng;
  bool stalled = false;

  uint64_t service_time() {
    switch (cfg.service) {
      case Service::None: return 0;
      case Service::Fixed: return cfg.service_ns;
      case Service::Exponential: {
        std::exponential_distribution<double> d(1.0 / double(cfg.service_ns));
        return uint64_t(d(rng));
      }
    }
    return 0;
  }

  void maybe_stall() {
    if (cfg.stall_ns == 0 || stalled || ctl.go.load(std::memory_order_acquire) == 0) return;
    if (cfg.stall_server >= 0 && cfg.stall_server != k) return;
    const uint64_t from = ctl.go_ns + cfg.stall_at_ns;
    if (measure::now_ns() < from) return;
    stalled = true;
    ctl.stalls.fetch_add(1);
    sleep_until(from + cfg.stall_ns);
  }

  // Work on one request in m (in place: m becomes the reply). Returns the reply's m_type.
  int32_t serve(dvs_message_t& m) {
    Header h;
    std::memcpy(&h, m.m_u.raw, sizeof h);
    uint8_t* inl = m.m_u.raw + sizeof h;
    const int src = m.m_source;
    if (m.m_type != kRequest || h.request_bytes > buf.size() || h.reply_bytes > buf.size()) {
      h.seq = uint64_t(int64_t(EDVSBADCALL));
      std::memcpy(m.m_u.raw, &h, sizeof h);
      return kReplyErr;
    }
    int32_t status = kReplyOk;
    const uint8_t* req = inl;
    if (h.request_bytes > kInlineBytes) {
      const long n = dvs_vcopy(src, reinterpret_cast<const void*>(h.request_addr), DVS_SELF,
                               buf.data(), h.request_bytes);
      ctl.vcopies[k].fetch_add(1, std::memory_order_relaxed);
      if (n < 0) {
        h.seq = uint64_t(int64_t(n));
        std::memcpy(m.m_u.raw, &h, sizeof h);
        return kReplyErr;
      }
      req = buf.data();
    }
    if (cfg.verify) {
      for (size_t i = 0; i < h.request_bytes; ++i)
        if (req[i] != pattern_byte(h.seq, i)) {
          status = kReplyBad;
          ctl.server_verify_failures[k].fetch_add(1, std::memory_order_relaxed);
          break;
        }
    }
    maybe_stall();
    if (const uint64_t s = service_time(); s > 0) {
      const uint64_t until = measure::now_ns() + s;
      while (measure::now_ns() < until) {
      }
    }
    const uint64_t rseq = ~h.seq;
    uint8_t* rep = h.reply_bytes > kInlineBytes ? buf.data() : inl;
    for (size_t i = 0; i < h.reply_bytes; ++i) rep[i] = pattern_byte(rseq, i);
    if (h.reply_bytes > kInlineBytes) {
      const long n = dvs_vcopy(DVS_SELF, buf.data(), src, reinterpret_cast<void*>(h.reply_addr),
                               h.reply_bytes);
      ctl.vcopies[k].fetch_add(1, std::memory_order_relaxed);
      if (n < 0) {
        h.seq = uint64_t(int64_t(n));
        std::memcpy(m.m_u.raw, &h, sizeof h);
        return kReplyErr;
      }
    }
    return status;
  }
};

}  // namespace

int server_main(const RpcConfig& cfg, Control& ctl, int k, measure::ChildCtx& ctx) {
  const int p_nr = cfg.server_p_nr + k;
  int rc = dvs_open(cfg.server_socket.c_str());
  if (rc < 0) return ctx.fail("server %d: dvs_open(%s): %s", k, cfg.server_socket.c_str(), dvs_errname(rc));
  const uint64_t deadline = measure::now_ns() + uint64_t(cfg.setup_timeout_ms) * 1'000'000u;
  int ep;
  while ((ep = dvs_bind(cfg.dc, p_nr)) == EDVSSLOTUSED && measure::now_ns() < deadline) {
    const timespec ts{0, 2'000'000};  // a previous run's server may still be leaving
    nanosleep(&ts, nullptr);
  }
  if (ep < 0) return ctx.fail("server %d: dvs_bind(dc %d, p_nr %d): %s", k, cfg.dc, p_nr, dvs_errname(ep));
  if ((rc = dvs_set_wait(cfg.wait, cfg.spin_ns)) < 0)
    return ctx.fail("server %d: dvs_set_wait: %s", k, dvs_errname(rc));
  Server s{cfg, ctl, k, std::vector<uint8_t>(std::max<size_t>({cfg.request_bytes, cfg.reply_bytes, 1})),
           std::mt19937_64(cfg.seed * 1000003u + uint64_t(k)), false};
  ctl.servers_ready.fetch_add(1);
  int status = 0;
  for (;;) {
    dvs_message_t m{};
    rc = dvs_rcvrqst_T(&m, 100);
    if (ctl.stop.load(std::memory_order_acquire) != 0 && rc < 0) break;
    if (rc == EDVSTIMEDOUT) continue;
    if (rc < 0) {
      status = ctx.fail("server %d: dvs_rcvrqst: %s", k, dvs_errname(rc));
      break;
    }
    if (DVS_IS_NOTIFY(m.m_type)) continue;  // a client's link probe
    const int src = m.m_source;
    m.m_type = s.serve(m);
    rc = dvs_reply_T(src, &m, cfg.request_timeout_ms);
    if (rc < 0) {
      status = ctx.fail("server %d: dvs_reply(%d): %s", k, src, dvs_errname(rc));
      break;
    }
    ctl.served[k].fetch_add(1, std::memory_order_relaxed);
  }
  dvs_close();
  return status;
}

}  // namespace dvs::workloads::rpc
