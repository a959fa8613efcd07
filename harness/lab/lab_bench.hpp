// dvs against the raw transport inside one lab VM run: the same loop measured for a raw
// comparator and for dvs, repeated with the two interleaved (raw, dvs, raw, dvs, ...), and one
// table of medians and same-run ratios. Used by the lab's multi-node tests; under TCG only the
// ratios mean something (docs/LAB.md).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "workloads/measure/two_process.hpp"

namespace dvs::lab::testing {

// One comparison: `raw` and `dvs` each measure one loop (a fresh run per call).
struct Versus {
  std::string what;     // "sendrec 64 B", "vcopy pull 1 MiB"
  std::string raw_name;  // "raw TIPC ping-pong"
  std::function<dvs::measure::TwoProcessOutcome()> raw, dvs;
  bool throughput = false;  // compare MB/s (else round trips/s)
};

struct VersusResult {
  std::vector<double> raw, dvs;  // per repetition: round trips/s or MB/s
  double raw_median = 0, dvs_median = 0, ratio = 0;  // ratio = median(dvs) / median(raw)
  std::string error;                                 // a run failed: why (the others still ran)
};

// Runs every comparison `reps` times, interleaved, and prints a table headed by `title`
// (placement, wait strategy...): per comparison the median of each side and the ratio.
std::vector<VersusResult> run_versus(const std::string& title, const std::vector<Versus>& cases, int reps);

}  // namespace dvs::lab::testing
