// open_session / close_session: see session.hpp.
#include "workloads/pingpong/session.hpp"

#include <cstdio>
#include <time.h>

#include "workloads/measure/clock.hpp"

namespace dvs::workloads {

const char* dvs_err(int rc) {
  static thread_local char buf[64];
  std::snprintf(buf, sizeof buf, "%s (%d)", dvs_errname(rc), rc);
  return buf;
}

int open_and_bind(measure::ChildCtx& ctx, const std::string& socket_path, int dc, int p_nr, dvs_wait_mode_t wait,
                  uint32_t spin_ns, int setup_timeout_ms, const char* role) {
  int rc = dvs_open(socket_path.c_str());
  if (rc < 0) {
    ctx.fail("%s: dvs_open(%s): %s", role, socket_path.c_str(), dvs_err(rc));
    return -1;
  }
  const uint64_t deadline = measure::now_ns() + uint64_t(setup_timeout_ms) * 1'000'000u;
  int ep;
  for (;;) {
    ep = dvs_bind(dc, p_nr);
    if (ep != EDVSSLOTUSED || measure::now_ns() > deadline) break;
    const timespec ts{0, 2'000'000};  // the previous loop's process may still be leaving
    nanosleep(&ts, nullptr);
  }
  if (ep < 0) {
    ctx.fail("%s: dvs_bind(dc %d, p_nr %d): %s", role, dc, p_nr, dvs_err(ep));
    return -1;
  }
  rc = dvs_set_wait(wait, spin_ns);
  if (rc < 0) {
    ctx.fail("%s: dvs_set_wait(%s): %s", role, wait_name(wait), dvs_err(rc));
    return -1;
  }
  return ep;
}

int open_session(measure::ChildCtx& ctx, const PingpongConfig& cfg, int p_nr, int peer_p_nr,
                 const char* role) {
  const int ep = open_and_bind(ctx, cfg.socket_path, cfg.dc, p_nr, cfg.wait, cfg.spin_ns, cfg.setup_timeout_ms, role);
  if (ep < 0) return -1;
  // System slots have generation 0: the peer's endpoint is its p_nr.
  const int rc = dvs_wait4bindep_T(cfg.dc, peer_p_nr, cfg.setup_timeout_ms);
  if (rc < 0) {
    ctx.fail("%s: dvs_wait4bindep(dc %d, ep %d): %s", role, cfg.dc, peer_p_nr, dvs_err(rc));
    return -1;
  }
  return ep;
}

void close_session() { dvs_close(); }

}  // namespace dvs::workloads
