// `dvs microbench`: runs the Google Benchmark microbenchmarks of the hot pieces (wire codec,
// histogram record, transports' links and rings, copies) with repetitions, keeps each binary's
// JSON output beside a meta.json in results/microbench/<run-id>/, and prints the medians.
#ifndef DVS_HARNESS_CLI_MICROBENCH_COMMAND_HPP
#define DVS_HARNESS_CLI_MICROBENCH_COMMAND_HPP

#include "harness/commands/command.hpp"

namespace dvs::cli {

// `dvs microbench`; its run returns 0, 1 (a benchmark binary failed) or 2.
Command make_microbench_command();

}  // namespace dvs::cli

#endif
