// dvs run's matrix as a scenario (harness/plan/scenario.hpp), for the planner dvs bench and
// dvs reproduce use (bench_plan.hpp).
//
// Matrices (a side left out by --remote-only / --no-remote):
//   "local"               every local primitive x o.waits at o.placement; vcopy at o.vcopy_bytes;
//                         with "block" among the waits also raw shm + futex, UNIX socket and the
//                         peer libraries (nng/zmq over ipc:// and tcp://). The raw shm spin /
//                         spin-then-futex, pipe and pipe stream rows are the dvs cells' baselines.
//   "remote"              tcp cross-node sendrec, send/receive, notify under o.remote_wait on the
//                         proxy and direct paths (their baseline: raw TCP ping-pong), and the
//                         peer libraries over tcp:// between the same endpoints
//   "remote-copy"         tcp vcopy pull and push at o.remote_copy_bytes (baseline: raw TCP
//                         stream), the SO_RCVLOWAT stream beside it
//   "remote-pairs"        1 and 8 concurrent sendrec pairs across the nodes with dvsd --batch 64
//                         and 1 (8 pairs compared with 1 pair by rate)
//   "remote-pairs-direct" 1 and 8 pairs on the direct path
// Counts: iterations -> samples, block_iterations -> block_samples, copy_iterations ->
// copy_samples, remote_iterations -> remote_samples, remote_copy_iterations ->
// remote_copy_samples, remote_pair_iterations -> remote_pair_samples; warmup, spin_ns,
// cell_budget_s, repeat -> repetitions. The cross-node endpoints are placed like the local ones
// (cross_node_pinning). Not in the scenario: --only (a filter over the planned cells), and the
// nodes' own settings (--proxy-poll-us, --proxy-copy-chunk, --remote-net, --dvsd-unpinned),
// which belong to the nodes that run the cross-node cells.
#ifndef DVS_HARNESS_PLAN_RUN_SCENARIO_HPP
#define DVS_HARNESS_PLAN_RUN_SCENARIO_HPP

#include "harness/commands/run_options.hpp"
#include "harness/plan/scenario.hpp"

namespace dvs::bench {

// The scenario named "run" (source "dvs run") for these options; --quick is already applied to
// their counts (run_command's apply_quick).
Scenario run_scenario(const cli::RunOptions& o);

}  // namespace dvs::bench

#endif
