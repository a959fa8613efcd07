// A scenario turned into the cells `dvs bench` runs (bench/runner.hpp), the matching raw
// baselines included so every dvs cell has a ratio.
//
// Per [[matrix]]: every transport x primitive x size (vcopy only) x placement x wait
// combination that makes sense (local runs in same-core / cross-core / unpinned, tcp and shm in
// cross-node; other pairings are not cells), then for each dvs cell its baseline, measured with
// the same CPU placement of the two measuring processes (docs/BENCH.md has the table):
//   local and shm, messages: spin -> raw shm spin, spin-then-block -> raw shm spin-then-futex,
//                            block -> pipe ping-pong (as dvs run)
//   tcp, messages:           raw TCP ping-pong, 64 B, TCP_NODELAY (as dvs run's remote section)
//   local and shm, vcopy:    pipe stream at the same size;   tcp, vcopy: raw TCP stream, same size
// Baselines run before the dvs cells of their matrix. Cell ids name every dimension:
//   <transport>/dvs/<primitive>[/<bytes>][/pairs<N>][/batch<B>]/<wait>/<placement>
//     e.g. local/dvs/vcopy/4095/block/cross-core, tcp/dvs/sendrec_reply/pairs8/batch1/block/cross-node
//   baseline/<mechanism>[/<bytes>]/<wait>/<placement>          e.g. baseline/pipe/block/cross-core
// A cell planned twice (two matrices, or a baseline two matrices need) is run once if both ask
// for the same settings, and is an error naming both matrices otherwise.
// Cells that cannot run here are planned as skipped with the reason (rcvrqst/reply across
// nodes: workloads/remote has no such loop; vcopy_push locally; spin with both processes on one
// CPU; a SysV MQ stream above msgmax).
#ifndef DVS_HARNESS_BENCH_PLAN_HPP
#define DVS_HARNESS_BENCH_PLAN_HPP

#include <memory>
#include <string>
#include <vector>

#include "harness/plan/scenario.hpp"
#include "harness/run/bench_nodes.hpp"
#include "harness/run/runner.hpp"

namespace dvs::bench {

// Timed iterations of a loop run by duration (its time budget ends it first).
inline constexpr uint64_t kDurationCap = uint64_t{1} << 40;

struct Plan {
  std::vector<RunItem> items;
  uint64_t local_copylen = 0;   // largest local vcopy (0: none)
  uint64_t remote_copylen = 0;  // largest cross-node vcopy (0: none)
};

// "" or "FILE:LINE: why" (a cell planned twice with different settings). nodes may be null
// (--dry-run: nothing runs).
std::string plan_scenario(const Scenario& s, const std::shared_ptr<BenchNodes>& nodes,
                          const std::string& run_id, Plan* out);

}  // namespace dvs::bench

#endif
