// `dvs run`: start a private dvsd, run the raw baselines and every dvs primitive x wait strategy,
// print one table, write results/runs/<run-id>/. Returns the process exit status: 0 all cells
// ran (skips included), 1 a cell failed or dvsd could not be started, 2 bad options.
#ifndef DVS_HARNESS_CLI_RUN_COMMAND_HPP
#define DVS_HARNESS_CLI_RUN_COMMAND_HPP

#include <string>

#include "harness/commands/command.hpp"
#include "harness/commands/run_options.hpp"

namespace dvs::cli {

int run_command(const RunOptions& options);

// `dvs run` for the command table: its options fill a RunOptions (--quick applied to the counts
// not given), its run is run_command. argv_line (the command line) is recorded in meta.json.
Command make_run_command(const std::string& argv_line);

}  // namespace dvs::cli

#endif
