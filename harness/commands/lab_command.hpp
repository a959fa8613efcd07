// `dvs lab run|fetch`: the VM lab (harness/lab/lab.hpp, docs/LAB.md).
#pragma once

#include "harness/commands/command.hpp"

namespace dvs::lab {
// `dvs lab run|fetch`. Its run returns: `lab run` the guest command's exit status (124 time-out,
// 125 lab error), `lab fetch` 0 or 125.
cli::Command make_lab_command();

}  // namespace dvs::lab
