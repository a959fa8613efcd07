// `dvs reproduce m3ipc`: re-runs the experiments of the original M3-IPC evaluation
// (the local and remote benchmarks of Pessolani's thesis, PabloPessolani/PID5162) on this machine and prints, per table, the published figure, ours,
// both normalised to a common baseline measured the same way (pipes locally, the raw transport
// remotely) and the ratio of the normalised values. The cells: harness/scenarios/m3ipc.toml (run
// as `dvs bench` runs a scenario); the published figures: harness/scenarios/m3ipc-published.toml.
// Output: <out>/<run-id>/{reproduce.md, meta.json (with the tables), runs.jsonl, runs.csv,
// histograms.jsonl, scenario.toml, published.toml, dvsd logs}. docs/REPRODUCTION.md.
#ifndef DVS_HARNESS_CLI_REPRODUCE_COMMAND_HPP
#define DVS_HARNESS_CLI_REPRODUCE_COMMAND_HPP

#include <string>

#include "harness/commands/command.hpp"

namespace dvs::cli {

struct ReproduceOptions {
  std::string experiment = "m3ipc";
  bool quick = false;          // smoke run: bench's --quick counts (apply_quick), one repetition
  std::string out_dir;         // parent of the run directory ("" = <source>/results/reproduce)
  std::string dvsd_path;       // "" = $DVSD_BIN, else beside this binary
  std::string scenario;        // "" = <source>/harness/scenarios/m3ipc.toml
  std::string published;       // "" = <source>/harness/scenarios/m3ipc-published.toml
  int reps = 0;                // repetitions per cell, median reported (0 = the scenario's, --quick 1)
  std::string argv_line;
};

// `dvs reproduce`; its run runs the experiment and returns its status (0 every cell ran, 1 a cell
// failed or setup failed, 2 bad usage or a bad scenario / published file, 130 interrupted).
Command make_reproduce_command();

int run_reproduce(const ReproduceOptions& o);

}  // namespace dvs::cli

#endif
