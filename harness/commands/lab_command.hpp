// `dvs lab run|fetch`: the VM lab (harness/lab/lab.hpp, docs/LAB.md).
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace dvs::lab {
// Adds the `lab` subcommand to app. When it is parsed, its callback runs and exits the process:
// `lab run` with the guest command's exit status (124 time-out, 125 lab error), `lab fetch` 0 or
// 125.
void add_lab_command(CLI::App& app);

}  // namespace dvs::lab
