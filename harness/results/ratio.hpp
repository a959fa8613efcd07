// The one ratio convention of dvs run, dvs bench, the result files and dvs report: how many
// times slower a row is than the row it is compared with (its baseline).
//
//   latency-like rows (message round trips, basis "p50"):      row p50 / baseline p50
//   throughput-like rows (copies, aggregate rates, basis
//   "mb_per_s" or "msgs_per_s"):                              baseline rate / row rate
//
// So a ratio > 1 always means the row is slower than its baseline, < 1 faster, 1 the same.
// Across repetitions a cell's ratio is the median of its per-repetition ratios (each against the
// baseline of the same repetition): what the terminal tables print and what dvs report shows,
// both from runs.jsonl "ratio_to_baseline" (docs/RESULTS_SCHEMA.md).
//
// A ratio is only given when both rows cross the same network: a row between two nodes is never
// divided by an in-host baseline (ratio_refusal says why not).
#ifndef DVS_HARNESS_RESULTS_RATIO_HPP
#define DVS_HARNESS_RESULTS_RATIO_HPP

#include <optional>
#include <string>
#include <vector>

namespace dvs::cli {

enum class RatioBasis {
  P50,       // median latency (round trip or per block), ns
  MsgsPerS,  // aggregate messages per second
  MbPerS,    // MB (1e6 B) per second
  RequestsPerS,  // HTTP requests per second (dvs web bench)
};

// "p50", "msgs_per_s", "mb_per_s", "requests_per_s": the runs.jsonl "ratio_basis" and the field the ratio is of.
const char* ratio_basis_name(RatioBasis b);

// The ratio of `row` to `baseline` under `b` (values in the basis' unit); nullopt when a value
// is not positive.
std::optional<double> slowdown_ratio(RatioBasis b, double row, double baseline);

// Median of per-repetition ratios (nullopt if none).
std::optional<double> ratio_across_repetitions(std::vector<double> per_repetition);

// "1.73x": two decimals, as every table prints a ratio.
std::string format_ratio(double ratio);

// The network a row's messages cross: "" for none (both ends on this host, no link), else e.g.
// "tcp over loopback". "" if a row on `row_network` may be divided by a baseline on
// `baseline_network`, else why not (one sentence).
std::string ratio_refusal(const std::string& row_network, const std::string& baseline_network);

// What a ratio column says about it, once per table.
inline constexpr const char* kRatioLegend =
    "ratio = how many times slower than the baseline (>1 slower, <1 faster): p50 / baseline p50 "
    "for round trips, baseline rate / rate for MB/s and msgs/s rows";

}  // namespace dvs::cli

#endif
