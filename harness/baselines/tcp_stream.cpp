// tcp_stream: one-way block stream over one TCP connection (comparator of remote vcopy).
// The loop is pipe_stream's. See baseline.hpp.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "baselines/baseline.hpp"
#include "baselines/fd_io.hpp"
#include "baselines/tcp_pair.hpp"

namespace dvs::baselines {

measure::TwoProcessOutcome tcp_stream(const BaselineConfig& cfg) {
  int c = -1, s = -1;
  std::string err;
  if (make_tcp_pair(cfg.tcp_host, &c, &s, &err) != 0) {
    measure::TwoProcessOutcome o;
    o.result = std::make_unique<measure::LoopResult>();
    o.error = err;
    return o;
  }
  const size_t block = cfg.block_bytes;
  // Writer: blocks until the reader closes its end (EPIPE / ECONNRESET), its normal end.
  auto server = [&](measure::ChildCtx& ctx) -> int {
    close(c);
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<unsigned char> buf(block, 0x5a);
    for (;;) {
      const int rc = write_full(s, buf.data(), buf.size());
      if (rc == -EPIPE || rc == -ECONNRESET) return 0;
      if (rc < 0) return ctx.fail("writer: %s", strerror(-rc));
    }
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    close(s);
    std::vector<unsigned char> buf(block);
    res.bytes_per_op = block;
    measure::run_timed_loop([&]() -> int { return read_full(c, buf.data(), buf.size()); },
                            cfg.loop, res);
    shutdown(c, SHUT_RDWR);
    close(c);
    if (res.error < 0) return ctx.fail("reader: %s", strerror(-res.error));
    if (buf[0] != 0x5a || buf[block - 1] != 0x5a) return ctx.fail("reader: corrupt data");
    return 0;
  };
  return measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    close(c);
    close(s);
  });
}

}  // namespace dvs::baselines
