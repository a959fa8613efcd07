// tcp_stream: one-way block stream over one TCP connection (comparator of remote vcopy).
// The loop is fd_stream (shared with pipe_stream). See baseline.hpp.
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/baselines/fd_io.hpp"
#include "workloads/baselines/fd_stream.hpp"
#include "workloads/baselines/tcp_pair.hpp"

namespace dvs::baselines {

measure::TwoProcessOutcome tcp_stream(const BaselineConfig& cfg) {
  int c = -1, s = -1;
  std::string err;
  if (make_tcp_pair(cfg.tcp_host, &c, &s, &err, cfg.tcp_client_netns, cfg.tcp_server_netns) != 0)
    return measure::failed_outcome(err);
  return fd_stream(cfg, c, s);
}

}  // namespace dvs::baselines
