// The one way `dvs run` and `dvs bench` execute their cells.
//
// Every cell runs `repetitions` times, interleaved by repetition: repetition 1 of every cell,
// then repetition 2 of every cell, ... (a cell with fewer repetitions drops out when it has had
// them), so a slow drift of the machine spreads over all cells instead of biasing the last ones,
// and a cell is compared with its baseline measured in the same repetition (attach_ratios per
// repetition; plans put a baseline before the cells that use it). Each result is appended at
// once to runs.jsonl / runs.csv / histograms.jsonl with "rep" (1-based) and "repetitions", so
// `dvs compare` finds one row per repetition under the same cell id, and a run stopped by
// Ctrl-C (InterruptWatch: checked between loops) keeps every row it measured.
#ifndef DVS_HARNESS_BENCH_RUNNER_HPP
#define DVS_HARNESS_BENCH_RUNNER_HPP

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/plan/cells.hpp"
#include "harness/results/report.hpp"
#include "harness/run/interrupt.hpp"
#include "harness/run/progress.hpp"

namespace dvs::bench {

struct RunItem {
  cli::Cell cell;
  // How its rows are labelled: run_id, placement (CpuPair::describe(); its first word is the
  // row's "placement"), options (warmup, spin_ns). Must outlive the run.
  cli::RunContext ctx;
  int repetitions = 1;
  // > 0: the loop runs this long (its time budget) instead of a sample count: reaching the
  // budget is the plan, not "truncated".
  double duration_s = 0;
  // Set on every row of the cell (after row_json: these win).
  nlohmann::json row_fields = nlohmann::json::object();
};

struct RunOutcome {
  // reps[r]: the loops of repetition r + 1 in execution order (CellResult::cell points into the
  // items given to run_items).
  std::vector<std::vector<cli::CellResult>> reps;
  size_t loops_planned = 0;
  size_t loops_run = 0;
  bool interrupted = false;
  bool any_failed = false;  // a loop failed (skips do not count)
  std::string write_error;  // a row could not be written: the run stopped there
};

// Runs the items as described above, appending rows to `writer` (already open).
RunOutcome run_items(const std::vector<RunItem>& items, cli::ResultsWriter& writer,
                     const InterruptWatch& interrupt, Progress& progress);

// One result per cell for a table, in item order (cells that never ran are left out): among its
// ok repetitions the one with the median p50 (the lower middle one for an even count), else its
// last, carrying the cell's ratio (the median of its per-repetition ratios, results/ratio.hpp).
// Moves the results out of `o`.
std::vector<cli::CellResult> median_repetitions(RunOutcome& o);

// The "rep"/"repetitions" fields and row_fields added to row_json's row (and rep to the
// histogram's line): what run_items writes.
nlohmann::json item_row(const RunItem& item, const cli::CellResult& r, int rep);

}  // namespace dvs::bench

#endif
