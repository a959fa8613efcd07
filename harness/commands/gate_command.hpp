// `dvs gate`: the instruction-count regression gate (harness/gate/gate.hpp, harness/README.md).
#ifndef DVS_HARNESS_CLI_GATE_COMMAND_HPP
#define DVS_HARNESS_CLI_GATE_COMMAND_HPP

#include "harness/commands/command.hpp"

namespace dvs::cli {

// `dvs gate`; its run returns the gate's status (0 passed/skipped/recorded, 1 regression, 2 cannot run).
Command make_gate_command();

}  // namespace dvs::cli

#endif
