// fd_stream: see fd_stream.hpp.
#include "workloads/baselines/fd_stream.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include "workloads/baselines/fd_io.hpp"

namespace dvs::baselines {

measure::TwoProcessOutcome fd_stream(const BaselineConfig& cfg, int reader_fd, int writer_fd) {
  const size_t block = cfg.block_bytes;
  auto server = [&](measure::ChildCtx& ctx) -> int {
    close(reader_fd);
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<unsigned char> buf(block, 0x5a);
    for (;;) {
      const int rc = write_full(writer_fd, buf.data(), buf.size());
      if (rc == -EPIPE || rc == -ECONNRESET) return 0;
      if (rc < 0) return ctx.fail("writer: %s", strerror(-rc));
    }
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    close(writer_fd);
    std::vector<unsigned char> buf(block);
    res.bytes_per_op = block;
    if (cfg.stream_rcvlowat) {  // woken once per block instead of once per segment
      const int v = static_cast<int>(block);
      if (setsockopt(reader_fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) != 0)
        return ctx.fail("reader: SO_RCVLOWAT: %s", strerror(errno));
    }
    measure::run_timed_loop([&]() -> int { return read_full(reader_fd, buf.data(), buf.size()); },
                            cfg.loop, res);
    shutdown(reader_fd, SHUT_RDWR);  // a socket: tell the writer now (ENOTSOCK otherwise, ignored)
    close(reader_fd);
    if (res.error < 0) return ctx.fail("reader: %s", strerror(-res.error));
    if (buf[0] != 0x5a || buf[block - 1] != 0x5a) return ctx.fail("reader: corrupt data");
    return 0;
  };
  return measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    close(reader_fd);
    close(writer_fd);
  });
}

}  // namespace dvs::baselines
