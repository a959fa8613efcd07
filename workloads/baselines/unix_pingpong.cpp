// unix_pingpong: socketpair(AF_UNIX, SOCK_STREAM), 64 bytes each way. See baseline.hpp.
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/baselines/fd_pingpong.hpp"

namespace dvs::baselines {

measure::TwoProcessOutcome unix_pingpong(const BaselineConfig& cfg) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    measure::TwoProcessOutcome o;
    o.result = std::make_unique<measure::LoopResult>();
    o.error = fmt::format("socketpair: {}", strerror(errno));
    return o;
  }
  // A socket end is both read and write end: dup so each side owns two fds (closed separately).
  const int c2 = dup(sv[0]);
  const int s2 = dup(sv[1]);
  return fd_pingpong(cfg, sv[0], c2, sv[1], s2);
}

}  // namespace dvs::baselines
