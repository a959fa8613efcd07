// The vcopy loop: the requester (client) is the destination, as the original's zcopy loops.
#include <cstring>
#include <time.h>

#include "workloads/measure/clock.hpp"
#include "workloads/pingpong/loops.hpp"
#include "workloads/pingpong/session.hpp"

namespace dvs::workloads {

namespace {
unsigned char pattern(size_t i) { return static_cast<unsigned char>((i * 131u + 7u) & 0xffu); }
}  // namespace

int vcopy_server(measure::ChildCtx& ctx, unsigned char* src_buf, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) src_buf[i] = pattern(i);
  dvs_message_t m;
  std::memset(&m, 0, sizeof m);
  const int rc = dvs_receive(DVS_ANY, &m);  // blocked here while the client copies
  if (rc < 0) return ctx.fail("server receive: %s", dvs_err(rc));
  if (m.m_type != kStop) return ctx.fail("server: expected stop, got m_type %d", m.m_type);
  return 0;
}

int vcopy_client(measure::ChildCtx& ctx, int server_ep, int self_ep, const unsigned char* src_buf,
                 unsigned char* dst_buf, size_t bytes, const measure::LoopConfig& loop,
                 int setup_timeout_ms, measure::LoopResult& res) {
  std::memset(dst_buf, 0, bytes);
  res.bytes_per_op = bytes;
  // The server must be blocked in receive before a copy can succeed: retry the first one.
  const uint64_t deadline = measure::now_ns() + uint64_t(setup_timeout_ms) * 1'000'000u;
  long r;
  for (;;) {
    r = dvs_vcopy(server_ep, src_buf, self_ep, dst_buf, bytes);
    if (r >= 0 || measure::now_ns() > deadline) break;
    const timespec ts{0, 200'000};
    nanosleep(&ts, nullptr);
  }
  if (r < 0) return ctx.fail("client first vcopy: %s", dvs_err(int(r)));
  if (size_t(r) != bytes) return ctx.fail("client vcopy copied %ld of %zu bytes", r, bytes);
  measure::run_timed_loop(
      [&]() -> int {
        const long c = dvs_vcopy(server_ep, src_buf, self_ep, dst_buf, bytes);
        return c < 0 ? int(c) : (size_t(c) == bytes ? 0 : EDVSGENERIC);
      },
      loop, res);
  if (res.error < 0) return ctx.fail("client vcopy: %s", dvs_err(res.error));
  for (size_t i = 0; i < bytes; ++i)  // verification, off the timed path
    if (dst_buf[i] != pattern(i)) return ctx.fail("client: copied data differs at byte %zu", i);
  dvs_message_t m;
  std::memset(&m, 0, sizeof m);
  m.m_type = kStop;
  const int rc = dvs_send(server_ep, &m);
  if (rc < 0) return ctx.fail("client stop: %s", dvs_err(rc));
  return 0;
}

}  // namespace dvs::workloads
