// n concurrent sendrec <-> receive/reply pairs on one dvsd node: pair k binds system slots
// 10 + k (server) and 20 + k (client) of the config's DC, all clients are released together once
// every session is up (workloads/measure/pairs.hpp), each client runs the config's loop.
#ifndef DVS_WORKLOADS_PINGPONG_LOCAL_PAIRS_HPP
#define DVS_WORKLOADS_PINGPONG_LOCAL_PAIRS_HPP

#include "workloads/measure/pairs.hpp"
#include "workloads/pingpong/pingpong.hpp"

namespace dvs::workloads {

// n in 1..measure::kMaxPairs. The result's iterations = all clients' timed round trips and
// elapsed = from the common release to the end of the last client, so 2 * iterations / elapsed
// is the aggregate msgs/s of both directions (the original's peers * loops / t). cfg.loop is one
// client's loop; server_p_nr and client_p_nr are ignored.
measure::TwoProcessOutcome run_local_pairs(int n, const PingpongConfig& cfg);

}  // namespace dvs::workloads

#endif
