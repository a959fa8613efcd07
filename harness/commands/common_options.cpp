// The options several commands share: see common_options.hpp.
#include "harness/commands/common_options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dvs/dvs.h"
#include "workloads/measure/placement.hpp"
#include "workloads/pingpong/pingpong.hpp"

namespace dvs::cli {

CLI::Option* add_dvsd_option(CLI::App* cmd, std::string* path) {
  return cmd->add_option("--dvsd", *path, "dvsd binary (default: $DVSD_BIN, else dvsd beside this binary)");
}

CLI::Option* add_out_option(CLI::App* cmd, std::string* dir, const std::string& default_dir) {
  return cmd->add_option("--out", *dir,
                         fmt::format("Parent directory of the run directory (default: <source>/{})", default_dir));
}

CLI::Option* add_quick_option(CLI::App* cmd, bool* quick, const std::string& what_it_does) {
  return cmd->add_flag("--quick", *quick, what_it_does + ": a smoke run, not a measurement");
}

CLI::Option* add_json_option(CLI::App* cmd, bool* json) {
  return cmd->add_flag("--json", *json, "One JSON document instead of the table");
}

CLI::Option* add_wait_option(CLI::App* cmd, std::string* wait, const std::string& whose, const std::string& name) {
  return cmd
      ->add_option(name, *wait,
                   fmt::format("Wait strategy of {}: {} (default {})", whose, fmt::join(workloads::kWaitNames, ", "),
                               *wait))
      ->check(CLI::IsMember(workloads::kWaitNames));
}

CLI::Option* add_waits_option(CLI::App* cmd, std::vector<std::string>* waits, const std::string& help) {
  return cmd->add_option("--wait", *waits, fmt::format("{}: {} (default: all)", help,
                                                       fmt::join(workloads::kWaitNames, ", ")))
      ->check(CLI::IsMember(workloads::kWaitNames))
      ->delimiter(',');
}

CLI::Option* add_spin_ns_option(CLI::App* cmd, uint32_t* spin_ns) {
  return cmd->add_option("--spin-ns", *spin_ns,
                         fmt::format("Spin budget of spin-then-block, ns (default {})", DVS_DEFAULT_SPIN_NS));
}

CLI::Option* add_placement_option(CLI::App* cmd, std::string* placement) {
  return cmd->add_option("--placement", *placement, "cross (two CPUs, default), same (one CPU) or none (unpinned)")
      ->check(CLI::IsMember(measure::kPlacementArgs));
}

CLI::Option* add_fail_on_criteria_option(CLI::App* cmd, bool* fail) {
  return cmd->add_flag("--fail-on-criteria", *fail,
                       "Exit status 1 when a criterion printed in this run is MISSED (a criterion that could not "
                       "be judged, e.g. its rows did not run, does not fail; a failed run exits 1 anyway). "
                       "Default: the criteria do not change the exit status");
}

}  // namespace dvs::cli
