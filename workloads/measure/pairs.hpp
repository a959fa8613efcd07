// n concurrent measuring pairs: 2n fork()ed children (servers pinned to cpus.server_cpu, clients
// to cpus.client_cpu, as the single-pair runs), all clients released together once every one is
// set up, the whole run bounded by timeout_ms. The parent only forks, releases and waits.
//
// Used by the remote dvs pairs (workloads/remote), the local dvs pairs (workloads/pingpong/local_pairs.hpp) and the raw
// ping-pong pairs of workloads/baselines: the callbacks hold what differs (sessions, sockets).
#ifndef DVS_HARNESS_MEASURE_PAIRS_HPP
#define DVS_HARNESS_MEASURE_PAIRS_HPP

#include <cstdint>
#include <functional>

#include "workloads/measure/two_process.hpp"

namespace dvs::measure {

inline constexpr int kMaxPairs = 8;

struct PairsConfig {
  int n = 1;                      // 1..kMaxPairs
  CpuPair cpus;
  int timeout_ms = 60'000;        // the whole run
  int release_timeout_ms = 15'000;  // how long a ready client waits for the others
  uint64_t bytes_per_op = 64;
  std::function<void()> parent_after_fork;  // e.g. close the parent's copies of the children's fds
};

// The PairsConfig of n message ping-pong pairs run with a loop's config (cfg.cpus, timeout_ms,
// setup_timeout_ms): a ready client waits for the others up to its setup timeout + 5 s; each
// operation moves one dvs message.
template <class LoopConfigT>
PairsConfig message_pairs_config(int n, const LoopConfigT& cfg, uint64_t message_bytes) {
  PairsConfig pc;
  pc.n = n;
  pc.cpus = cfg.cpus;
  pc.timeout_ms = cfg.timeout_ms;
  pc.release_timeout_ms = cfg.setup_timeout_ms + 5'000;
  pc.bytes_per_op = message_bytes;
  return pc;
}

// Server k, in its child: set up, serve until the client's stop, return 0 (or ctx.fail()).
using PairServerFn = std::function<int(ChildCtx& ctx, int k)>;
// Client k, in its child: set up, then call release(): false means it was not released (another
// child failed, or the others were not ready in time) and it should return ctx.fail(). Then run
// its timed loop into `out` and return 0 as soon as the loop is done (its return time is the
// end of its share; cleanup after that is the runner's business only through exit).
using PairClientFn = std::function<int(ChildCtx& ctx, int k, const std::function<bool()>& release, LoopResult& out)>;

// The clients' samples merged; iterations = all timed round trips; elapsed_ns = from the common
// release to the return of the last client's function (so 2 * iterations / elapsed is the
// aggregate msgs/s of ping-pongs, if anything understated). error names each failed child
// ("server 2: exit status 1 (reason)", "client 0: timed out after 60000 ms (where it was stuck)").
TwoProcessOutcome run_pairs(const PairsConfig& cfg, const PairServerFn& server, const PairClientFn& client);

}  // namespace dvs::measure

#endif
