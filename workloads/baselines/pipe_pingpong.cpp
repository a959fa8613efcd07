// pipe_pingpong: two pipes, 64 bytes each way per round trip. See baseline.hpp.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/baselines/fd_pingpong.hpp"

namespace dvs::baselines {

measure::TwoProcessOutcome pipe_pingpong(const BaselineConfig& cfg) {
  int to_server[2], to_client[2];
  if (pipe2(to_server, O_CLOEXEC) != 0) {
    measure::TwoProcessOutcome o;
    o.result = std::make_unique<measure::LoopResult>();
    o.error = fmt::format("pipe: {}", strerror(errno));
    return o;
  }
  if (pipe2(to_client, O_CLOEXEC) != 0) {
    close(to_server[0]);
    close(to_server[1]);
    measure::TwoProcessOutcome o;
    o.result = std::make_unique<measure::LoopResult>();
    o.error = fmt::format("pipe: {}", strerror(errno));
    return o;
  }
  return fd_pingpong(cfg, to_client[0], to_server[1], to_server[0], to_client[1]);
}

}  // namespace dvs::baselines
