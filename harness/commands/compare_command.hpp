// `dvs compare A B`: compares two `dvs run` result directories cell by cell (docs/RESULTS_SCHEMA.md):
// per cell with status ok in both, the change of the median latency (ratio B/A), a two-sided
// Mann-Whitney U p-value and a verdict (faster / slower / no change: p < --alpha AND
// |B/A - 1| > --threshold). One table on stdout, or one JSON document with --json.
//
// The test: with >= 5 ok rows of the cell on each side (repetitions), on the per-repetition
// medians; otherwise on all samples of the two (merged) histograms, each bucket's samples at the
// bucket midpoint. Samples within one run are serially correlated, so the sample test overstates
// significance: the threshold is what keeps it from crying wolf.
//
// Exit status: 1 when a verdict --fail-on counts is found (regression, the default: a cell
// "slower"; change: "slower" or "faster"; never: none), else 0; 2 bad input (missing
// directory, no runs.jsonl, unreadable rows, no cell ok in both): one line on stderr.
#ifndef DVS_HARNESS_CLI_COMPARE_COMMAND_HPP
#define DVS_HARNESS_CLI_COMPARE_COMMAND_HPP

#include "harness/commands/command.hpp"

namespace dvs::cli {

// `dvs compare`; its run returns the status above.
Command make_compare_command();

}  // namespace dvs::cli

#endif
