// tcp_pingpong: 64 bytes each way over one TCP connection (TCP_NODELAY). See baseline.hpp.
#include <unistd.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/baselines/fd_pingpong.hpp"
#include "workloads/baselines/tcp_pair.hpp"

namespace dvs::baselines {

measure::TwoProcessOutcome tcp_pingpong(const BaselineConfig& cfg) {
  int c = -1, s = -1;
  std::string err;
  if (make_tcp_pair(cfg.tcp_host, &c, &s, &err, cfg.tcp_client_netns, cfg.tcp_server_netns) != 0)
    return measure::failed_outcome(err);
  // A socket is both read and write end: dup so each side owns two fds (as unix_pingpong).
  const int c2 = dup(c);
  const int s2 = dup(s);
  return fd_pingpong(cfg, c, c2, s, s2);
}

}  // namespace dvs::baselines
