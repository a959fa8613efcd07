// fd_pingpong: see fd_pingpong.hpp.
#include "workloads/baselines/fd_pingpong.hpp"

#include <cstring>
#include <functional>
#include <unistd.h>
#include <vector>

#include "workloads/baselines/fd_io.hpp"
#include "workloads/measure/pairs.hpp"

namespace dvs::baselines {

namespace {

void close_all_but(const std::vector<int>& fds, int keep_a, int keep_b) {
  for (int fd : fds)
    if (fd != keep_a && fd != keep_b) close(fd);
}

// The server's side: echo each message until the client's stop ('S').
int echo_server(measure::ChildCtx& ctx, int rd, int wr, int poll_us) {
  unsigned char m[kMsgBytes];
  for (;;) {
    int rc = read_full_polling(rd, m, sizeof m, poll_us);
    if (rc < 0) return ctx.fail("server read: %s", strerror(-rc));
    rc = write_full(wr, m, sizeof m);
    if (rc < 0) return ctx.fail("server write: %s", strerror(-rc));
    if (m[0] == 'S') return 0;
  }
}

// The client's side: the timed loop of pings, then the stop exchange.
int ping_client(measure::ChildCtx& ctx, int rd, int wr, const BaselineConfig& cfg, measure::LoopResult& res) {
  unsigned char m[kMsgBytes];
  std::memset(m, 0xa5, sizeof m);
  m[0] = 'P';
  res.bytes_per_op = kMsgBytes;
  measure::run_timed_loop(
      [&]() -> int {
        int rc = write_full(wr, m, sizeof m);
        if (rc < 0) return rc;
        return read_full_polling(rd, m, sizeof m, cfg.poll_us);
      },
      cfg.loop, res);
  if (res.error < 0) return ctx.fail("client I/O: %s", strerror(-res.error));
  m[0] = 'S';
  if (write_full(wr, m, sizeof m) < 0 || read_full(rd, m, sizeof m) < 0)
    return ctx.fail("client: stop exchange failed");
  return 0;
}

}  // namespace

measure::TwoProcessOutcome fd_pingpong(const BaselineConfig& cfg, int client_rd, int client_wr,
                                       int server_rd, int server_wr) {
  const std::vector<int> all = {client_rd, client_wr, server_rd, server_wr};
  auto server = [&](measure::ChildCtx& ctx) -> int {
    close_all_but(all, server_rd, server_wr);
    return echo_server(ctx, server_rd, server_wr, cfg.poll_us);
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    close_all_but(all, client_rd, client_wr);
    return ping_client(ctx, client_rd, client_wr, cfg, res);
  };
  return measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    for (int fd : all) close(fd);
  });
}

measure::TwoProcessOutcome fd_pingpong_pairs(const BaselineConfig& cfg, const std::vector<FdPair>& pairs) {
  std::vector<int> all;
  for (const auto& p : pairs) all.insert(all.end(), {p.client_rd, p.client_wr, p.server_rd, p.server_wr});
  measure::PairsConfig pc;
  pc.n = int(pairs.size());
  pc.cpus = cfg.cpus;
  pc.timeout_ms = cfg.timeout_ms;
  pc.bytes_per_op = kMsgBytes;
  pc.parent_after_fork = [&] {
    for (int fd : all) close(fd);
  };
  auto server = [&](measure::ChildCtx& ctx, int k) -> int {
    const FdPair& p = pairs[size_t(k)];
    close_all_but(all, p.server_rd, p.server_wr);
    return echo_server(ctx, p.server_rd, p.server_wr, cfg.poll_us);
  };
  auto client = [&](measure::ChildCtx& ctx, int k, const std::function<bool()>& release,
                    measure::LoopResult& res) -> int {
    const FdPair& p = pairs[size_t(k)];
    close_all_but(all, p.client_rd, p.client_wr);
    if (!release()) return ctx.fail("client %d: not released (another child failed)", k);
    return ping_client(ctx, p.client_rd, p.client_wr, cfg, res);
  };
  return measure::run_pairs(pc, server, client);
}

}  // namespace dvs::baselines
