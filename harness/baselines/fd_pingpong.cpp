// fd_pingpong: see fd_pingpong.hpp.
#include "baselines/fd_pingpong.hpp"

#include <cstring>
#include <unistd.h>

#include "baselines/fd_io.hpp"

namespace dvs::baselines {

namespace {
void close_except(const int (&fds)[4], int keep_a, int keep_b) {
  for (int fd : fds)
    if (fd != keep_a && fd != keep_b) close(fd);
}
}  // namespace

measure::TwoProcessOutcome fd_pingpong(const BaselineConfig& cfg, int client_rd, int client_wr,
                                       int server_rd, int server_wr) {
  const int all[4] = {client_rd, client_wr, server_rd, server_wr};
  auto server = [&](measure::ChildCtx& ctx) -> int {
    close_except(all, server_rd, server_wr);
    unsigned char m[kMsgBytes];
    for (;;) {
      int rc = read_full_polling(server_rd, m, sizeof m, cfg.poll_us);
      if (rc < 0) return ctx.fail("server read: %s", strerror(-rc));
      rc = write_full(server_wr, m, sizeof m);
      if (rc < 0) return ctx.fail("server write: %s", strerror(-rc));
      if (m[0] == 'S') return 0;
    }
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    close_except(all, client_rd, client_wr);
    unsigned char m[kMsgBytes];
    std::memset(m, 0xa5, sizeof m);
    m[0] = 'P';
    res.bytes_per_op = kMsgBytes;
    measure::run_timed_loop(
        [&]() -> int {
          int rc = write_full(client_wr, m, sizeof m);
          if (rc < 0) return rc;
          return read_full_polling(client_rd, m, sizeof m, cfg.poll_us);
        },
        cfg.loop, res);
    if (res.error < 0) return ctx.fail("client I/O: %s", strerror(-res.error));
    m[0] = 'S';
    if (write_full(client_wr, m, sizeof m) < 0 || read_full(client_rd, m, sizeof m) < 0)
      return ctx.fail("client: stop exchange failed");
    return 0;
  };
  return measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    for (int fd : all) close(fd);
  });
}

}  // namespace dvs::baselines
