// `dvs gate`: the instruction-count regression gate (harness/gate/gate.hpp, harness/README.md).
#ifndef DVS_HARNESS_CLI_GATE_COMMAND_HPP
#define DVS_HARNESS_CLI_GATE_COMMAND_HPP

namespace CLI {
class App;
}

namespace dvs::cli {

// Adds the `gate` subcommand to app. When it is parsed, its callback runs the gate and exits the
// process with the gate's status (0 passed/skipped/recorded, 1 regression, 2 cannot run).
void add_gate_command(CLI::App& app);

}  // namespace dvs::cli

#endif
