// `dvs bench SCENARIO.toml [--out DIR] [--quick] [--dry-run] [--dvsd PATH]`: run a scenario's
// matrix (bench/scenario.hpp, bench/plan.hpp) with bench/runner.hpp, print one summary table
// (stdout), write <out>/<run-id>/ (meta.json, runs.jsonl, runs.csv, histograms.jsonl,
// scenario.toml, dvsd logs). docs/BENCH.md.
// Exit status: 0 every loop ran (skips allowed), 1 a loop failed or the results could not be
// written, 2 bad usage or an invalid scenario (one line "FILE:LINE: ..." on stderr),
// 130 interrupted (Ctrl-C; what was measured is written).
#ifndef DVS_HARNESS_BENCH_BENCH_COMMAND_HPP
#define DVS_HARNESS_BENCH_BENCH_COMMAND_HPP

#include <string>

#include "harness/commands/command.hpp"

namespace dvs::bench {

struct BenchOptions {
  std::string scenario;   // the TOML file
  std::string out_dir;    // parent of the run directory ("" = <source>/results/runs)
  bool quick = false;     // cap the counts (apply_quick): a smoke run
  bool dry_run = false;   // validate and print the plan; run nothing, write nothing
  std::string dvsd_path;  // "" = $DVSD_BIN, else beside this binary
  std::string argv_line;  // recorded in meta.json
};

// `dvs bench`; argv_line (the command line) is recorded in meta.json. Its run returns run_bench's status.
cli::Command make_bench_command(const std::string& argv_line);

int run_bench(const BenchOptions& o);

}  // namespace dvs::bench

#endif
