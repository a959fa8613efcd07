// The ping-pong loop over a pair of byte-stream descriptors (pipes or a socket pair), shared by
// pipe_pingpong and unix_pingpong. Message byte 0 is the type: 'P' ping, 'S' stop.
#ifndef DVS_HARNESS_BASELINES_FD_PINGPONG_HPP
#define DVS_HARNESS_BASELINES_FD_PINGPONG_HPP

#include <vector>

#include "workloads/baselines/baseline.hpp"

namespace dvs::baselines {

// client_rd/client_wr: the client's ends; server_rd/server_wr: the server's. Every fd is closed
// in the calling process once both children exist and by each child before its loop (the ends it does not use).
measure::TwoProcessOutcome fd_pingpong(const BaselineConfig& cfg, int client_rd, int client_wr,
                                       int server_rd, int server_wr);

struct FdPair {
  int client_rd, client_wr, server_rd, server_wr;
};
// The same loop over n such pairs at once (measure::run_pairs: all clients released together,
// aggregate round trips over the common window). The same fd ownership as fd_pingpong.
measure::TwoProcessOutcome fd_pingpong_pairs(const BaselineConfig& cfg, const std::vector<FdPair>& pairs);

}  // namespace dvs::baselines

#endif
