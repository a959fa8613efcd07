// pipe_stream: one-way block stream through a pipe (comparator of vcopy). See baseline.hpp.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/baselines/fd_io.hpp"
#include "workloads/baselines/fd_stream.hpp"

namespace dvs::baselines {

measure::TwoProcessOutcome pipe_stream(const BaselineConfig& cfg) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    measure::TwoProcessOutcome o;
    o.result = std::make_unique<measure::LoopResult>();
    o.error = fmt::format("pipe: {}", strerror(errno));
    return o;
  }
  return fd_stream(cfg, p[0], p[1]);
}

}  // namespace dvs::baselines
