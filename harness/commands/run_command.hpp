// `dvs run`: start a private dvsd, run the raw baselines and every dvs primitive x wait strategy,
// print one table, write results/runs/<run-id>/. Returns the process exit status: 0 all cells
// ran (skips included), 1 a cell failed or dvsd could not be started, 2 bad options.
#ifndef DVS_HARNESS_CLI_RUN_COMMAND_HPP
#define DVS_HARNESS_CLI_RUN_COMMAND_HPP

#include "harness/commands/run_options.hpp"

namespace dvs::cli {

int run_command(const RunOptions& options);

}  // namespace dvs::cli

#endif
