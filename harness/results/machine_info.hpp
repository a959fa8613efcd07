// Machine and build metadata recorded with every run (meta.json): a result without it is noise.
#ifndef DVS_HARNESS_CLI_MACHINE_INFO_HPP
#define DVS_HARNESS_CLI_MACHINE_INFO_HPP

#include <string>

#include <nlohmann/json.hpp>

namespace dvs::cli {

// CPU model, online CPUs, the CPUs this process may use with their core/package ids, kernel,
// hostname, date (UTC, ISO 8601), git sha and dirty flag of source_dir, clock_gettime cost.
// Also: hypervisor (CPUID signature + DMI product), build type and compiler, and
// cpu_ticks_start (for finish_machine_info).
nlohmann::json collect_machine_info(const std::string& source_dir);

// /proc/stat's aggregate CPU ticks: {total, idle, steal} (null if unreadable).
nlohmann::json cpu_ticks();

// At the end of a run: loadavg_end, cpu_ticks_end, and over the run steal_pct (CPU time the
// hypervisor gave to other guests) and busy_pct (all CPUs, including other work on the machine).
void finish_machine_info(nlohmann::json& meta);

// /proc/loadavg as given ("0.99 1.49 0.75 2/180 12345"): other work competing for the CPUs.
std::string loadavg();

// Short git sha of source_dir ("nogit" if unavailable): part of the run id.
std::string short_git_sha(const std::string& source_dir);

// "20261122-031500" (UTC).
std::string utc_stamp();

// This process's command line as given, arguments joined by spaces (/proc/self/cmdline; ""
// if unreadable): meta.json's options.argv.
std::string own_command_line();

}  // namespace dvs::cli

#endif
