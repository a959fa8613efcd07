// run_remote: one client/server pair across two nodes. See remote.hpp.
#include "workloads/remote/remote.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <time.h>

#include <fmt/format.h>

#include "workloads/measure/clock.hpp"
#include "workloads/pingpong/loops.hpp"
#include "workloads/pingpong/session.hpp"
#include "workloads/remote/session.hpp"

namespace dvs::workloads::remote {

namespace {

unsigned char push_pattern(size_t i) { return static_cast<unsigned char>((i * 73u + 11u) & 0xffu); }

// The server's side of VcopyPush: blocked in receive while the client pushes into dst; checks
// the data after the stop message.
int push_server(measure::ChildCtx& ctx, const unsigned char* dst, size_t bytes) {
  dvs_message_t m{};
  const int rc = dvs_receive(DVS_ANY, &m);
  if (rc < 0) return ctx.fail("server receive: %s", dvs_err(rc));
  if (m.m_type != kStop) return ctx.fail("server: expected stop, got m_type %d", m.m_type);
  for (size_t i = 0; i < bytes; ++i)
    if (dst[i] != push_pattern(i)) return ctx.fail("server: pushed data differs at byte %zu", i);
  return 0;
}

// The client's side of VcopyPush: requester = source.
int push_client(measure::ChildCtx& ctx, const RemoteConfig& cfg, int self_ep, unsigned char* src,
                unsigned char* remote_dst, measure::LoopResult& res) {
  const size_t bytes = cfg.vcopy_bytes;
  for (size_t i = 0; i < bytes; ++i) src[i] = push_pattern(i);
  res.bytes_per_op = bytes;
  const int server_ep = cfg.server_p_nr;
  // The server must be blocked in receive before a copy can succeed: retry the first one.
  const uint64_t deadline = measure::now_ns() + uint64_t(cfg.setup_timeout_ms) * 1'000'000u;
  long r;
  for (;;) {
    r = dvs_vcopy(self_ep, src, server_ep, remote_dst, bytes);
    if (r >= 0 || measure::now_ns() > deadline) break;
    const timespec ts{0, 200'000};
    nanosleep(&ts, nullptr);
  }
  if (r < 0) return ctx.fail("client first vcopy (push): %s", dvs_err(int(r)));
  if (size_t(r) != bytes) return ctx.fail("client vcopy pushed %ld of %zu bytes", r, bytes);
  measure::run_timed_loop(
      [&]() -> int {
        const long c = dvs_vcopy(self_ep, src, server_ep, remote_dst, bytes);
        return c < 0 ? int(c) : (size_t(c) == bytes ? 0 : EDVSGENERIC);
      },
      cfg.loop, res);
  if (res.error < 0) return ctx.fail("client vcopy (push): %s", dvs_err(res.error));
  dvs_message_t m{};
  m.m_type = kStop;
  const int rc = dvs_send(server_ep, &m);
  if (rc < 0) return ctx.fail("client stop: %s", dvs_err(rc));
  return 0;
}

Primitive message_primitive(RemoteLoop l) {
  switch (l) {
    case RemoteLoop::SendReceive: return Primitive::SendReceive;
    case RemoteLoop::NotifyReceive: return Primitive::NotifyReceive;
    default: return Primitive::SendrecReply;
  }
}

}  // namespace

const char* loop_id(RemoteLoop l) {
  switch (l) {
    case RemoteLoop::SendrecReply: return "sendrec_reply";
    case RemoteLoop::SendReceive: return "send_receive";
    case RemoteLoop::NotifyReceive: return "notify_receive";
    case RemoteLoop::VcopyPull: return "vcopy_pull";
    case RemoteLoop::VcopyPush: return "vcopy_push";
  }
  return "?";
}

const char* loop_label(RemoteLoop l) {
  switch (l) {
    case RemoteLoop::SendrecReply: return "sendrec <-> receive/reply";
    case RemoteLoop::SendReceive: return "send/receive <-> receive/send";
    case RemoteLoop::NotifyReceive: return "notify/receive <-> receive/notify";
    case RemoteLoop::VcopyPull: return "vcopy pull (requester = dst)";
    case RemoteLoop::VcopyPush: return "vcopy push (requester = src)";
  }
  return "?";
}

measure::TwoProcessOutcome run_remote(RemoteLoop l, const RemoteConfig& cfg) {
  const bool copy = l == RemoteLoop::VcopyPull || l == RemoteLoop::VcopyPush;
  // vcopy buffers: mapped before fork so both children have them at the same address (each
  // child's pages are its own: MAP_PRIVATE). [0, bytes) = source, [bytes, 2 bytes) = dest.
  const size_t len = copy ? cfg.vcopy_bytes : 0;
  unsigned char* buf = nullptr;
  if (len > 0) {
    void* mem = mmap(nullptr, 2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return measure::failed_outcome(fmt::format("mmap {} bytes: {}", 2 * len, strerror(errno)));
    buf = static_cast<unsigned char*>(mem);
  }
  SyncPage* sync = map_sync_page();
  if (sync == nullptr) {
    if (buf != nullptr) munmap(buf, 2 * len);
    return measure::failed_outcome(fmt::format("mmap sync page: {}", strerror(errno)));
  }
  const int server_ep = cfg.server_p_nr, client_ep = cfg.client_p_nr;

  auto server = [&](measure::ChildCtx& ctx) -> int {
    if (server_session(ctx, cfg, server_ep, &sync->server_ready[0]) < 0) {
      sync->abort.store(1);
      return 1;
    }
    int rc = drain_probe(ctx, cfg, client_ep, &sync->probe_taken[0]);
    if (rc == 0) {
      switch (l) {
        case RemoteLoop::VcopyPull: rc = vcopy_server(ctx, buf, len); break;
        case RemoteLoop::VcopyPush: rc = push_server(ctx, buf + len, len); break;
        default: rc = message_server(ctx, message_primitive(l), client_ep); break;
      }
    }
    close_session();
    return rc;
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    const int ep = client_session(ctx, cfg, client_ep, server_ep, &sync->server_ready[0],
                                  &sync->probe_taken[0], &sync->abort);
    if (ep < 0) return 1;
    int rc;
    switch (l) {
      case RemoteLoop::VcopyPull:
        rc = vcopy_client(ctx, server_ep, ep, buf, buf + len, len, cfg.loop, cfg.setup_timeout_ms, res);
        break;
      case RemoteLoop::VcopyPush: rc = push_client(ctx, cfg, ep, buf, buf + len, res); break;
      default: rc = message_client(ctx, message_primitive(l), server_ep, cfg.loop, res); break;
    }
    close_session();
    return rc;
  };
  auto out = measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms);
  unmap_sync_page(sync);
  if (buf != nullptr) munmap(buf, 2 * len);
  return out;
}

}  // namespace dvs::workloads::remote
