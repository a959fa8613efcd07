// pipe_stream: one-way block stream through a pipe (comparator of vcopy). See baseline.hpp.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "baselines/baseline.hpp"
#include "baselines/fd_io.hpp"

namespace dvs::baselines {

measure::TwoProcessOutcome pipe_stream(const BaselineConfig& cfg) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    measure::TwoProcessOutcome o;
    o.result = std::make_unique<measure::LoopResult>();
    o.error = fmt::format("pipe: {}", strerror(errno));
    return o;
  }
  const size_t block = cfg.block_bytes;
  // Writer: blocks until the reader closes its end (EPIPE), which is its normal end.
  auto server = [&](measure::ChildCtx& ctx) -> int {
    close(p[0]);
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<unsigned char> buf(block, 0x5a);
    for (;;) {
      const int rc = write_full(p[1], buf.data(), buf.size());
      if (rc == -EPIPE) return 0;
      if (rc < 0) return ctx.fail("writer: %s", strerror(-rc));
    }
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    close(p[1]);
    std::vector<unsigned char> buf(block);
    res.bytes_per_op = block;
    measure::run_timed_loop([&]() -> int { return read_full(p[0], buf.data(), buf.size()); },
                            cfg.loop, res);
    close(p[0]);
    if (res.error < 0) return ctx.fail("reader: %s", strerror(-res.error));
    if (buf[0] != 0x5a || buf[block - 1] != 0x5a) return ctx.fail("reader: corrupt data");
    return 0;
  };
  return measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    close(p[0]);
    close(p[1]);
  });
}

}  // namespace dvs::baselines
