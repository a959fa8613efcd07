// `dvs rpc`: the RPC workload (workloads/rpc) on a private dvsd (or two nodes linked by tcp or
// shm), one run or a rate sweep against a latency objective; prints per-second and whole-run
// figures and writes a run directory in the results format (docs/RPC.md,
// docs/RESULTS_SCHEMA.md). Options may also come from a scenario file (--scenario,
// harness/scenarios/rpc-*.toml): its [rpc] keys are the long option names, and an option given
// on the command line wins. Bad input: one line on stderr, exit 2.
#ifndef DVS_HARNESS_RPC_RPC_COMMAND_HPP
#define DVS_HARNESS_RPC_RPC_COMMAND_HPP

#include "harness/commands/command.hpp"

namespace dvs::rpc {

// `dvs rpc`; its run returns the status (0 ran, 1 a run failed, 2 bad input).
cli::Command make_rpc_command();

}  // namespace dvs::rpc

#endif
