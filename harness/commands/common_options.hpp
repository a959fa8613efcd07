// The options several `dvs` commands take, each declared here once: its name, help text,
// validator and default. A command adds one with the function below and its own target variable.
#ifndef DVS_HARNESS_COMMANDS_COMMON_OPTIONS_HPP
#define DVS_HARNESS_COMMANDS_COMMON_OPTIONS_HPP

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace dvs::cli {

// `--dvsd PATH`: the dvsd binary the command starts. "" (not given) = found by find_dvsd
// (harness/run/private_dvsd.hpp): $DVSD_BIN, else dvsd beside this binary.
CLI::Option* add_dvsd_option(CLI::App* cmd, std::string* path);

// `--out DIR`: the parent directory of the run directory the command writes (<DIR>/<run-id>/).
// default_dir names the default in the help text, relative to the source tree ("results/runs").
CLI::Option* add_out_option(CLI::App* cmd, std::string* dir, const std::string& default_dir);

// `--quick`: a smoke run, not a measurement. what_it_does: how the command shrinks its run
// ("Small iteration counts").
CLI::Option* add_quick_option(CLI::App* cmd, bool* quick, const std::string& what_it_does);

// `--json`: one JSON document on stdout instead of the text for people.
CLI::Option* add_json_option(CLI::App* cmd, bool* json);

// A wait-strategy option (`--wait` unless name says otherwise) taking one of the names
// workloads::kWaitNames lists; whose: the endpoints it applies to ("every endpoint").
// The default is the target's value when added.
CLI::Option* add_wait_option(CLI::App* cmd, std::string* wait, const std::string& whose,
                             const std::string& name = "--wait");
// `--wait A,B`: the same names, several (a comma-separated list); the default is all of them.
CLI::Option* add_waits_option(CLI::App* cmd, std::vector<std::string>* waits, const std::string& help);

// `--spin-ns NS`: the spin budget of spin-then-block (default DVS_DEFAULT_SPIN_NS, dvs/dvs.h).
CLI::Option* add_spin_ns_option(CLI::App* cmd, uint32_t* spin_ns);

// `--placement P`: cross (two CPUs, the default), same (one CPU) or none (unpinned);
// measure::kPlacementArgs.
CLI::Option* add_placement_option(CLI::App* cmd, std::string* placement);

// `--fail-on-criteria`: the exit status is 1 when a criterion the command printed in this run is
// MISSED (harness/results/criteria.hpp); one that could not be judged does not fail. Off: the
// criteria do not change the exit status.
CLI::Option* add_fail_on_criteria_option(CLI::App* cmd, bool* fail);

}  // namespace dvs::cli

#endif
