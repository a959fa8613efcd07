// dvs vs raw inside one lab run: see lab_bench.hpp.
#include "harness/lab/lab_bench.hpp"

#include <algorithm>
#include <cstdio>

#include "workloads/measure/nonparametric.hpp"

namespace dvs::lab::testing {

namespace {

// Round trips (or ops) per second, or MB/s (10^6 bytes) for a throughput comparison.
double figure(const dvs::measure::TwoProcessOutcome& o, bool throughput) {
  const auto& r = *o.result;
  if (r.elapsed_ns == 0) return 0;
  const double ops_per_s = 1e9 * double(r.iterations) / double(r.elapsed_ns);
  return throughput ? ops_per_s * double(r.bytes_per_op) / 1e6 : ops_per_s;
}

}  // namespace

std::vector<VersusResult> run_versus(const std::string& title, const std::vector<Versus>& cases, int reps) {
  std::vector<VersusResult> out(cases.size());
  for (int rep = 0; rep < reps; ++rep) {
    for (size_t i = 0; i < cases.size(); ++i) {
      for (bool dvs_side : {false, true}) {
        auto o = dvs_side ? cases[i].dvs() : cases[i].raw();
        if (!o.ok) {
          if (out[i].error.empty()) out[i].error = (dvs_side ? "dvs: " : "raw: ") + o.error;
          continue;
        }
        (dvs_side ? out[i].dvs : out[i].raw).push_back(figure(o, cases[i].throughput));
      }
    }
  }
  std::printf("%s (%d repetitions interleaved, medians):\n", title.c_str(), reps);
  for (size_t i = 0; i < cases.size(); ++i) {
    auto& r = out[i];
    r.raw_median = dvs::stats::median(r.raw);
    r.dvs_median = dvs::stats::median(r.dvs);
    r.ratio = r.raw_median > 0 ? r.dvs_median / r.raw_median : 0;
    const char* unit = cases[i].throughput ? "MB/s" : "round trips/s";
    std::printf("  %-20s %-22s %10.1f %-13s  dvs %10.1f %-13s  dvs/raw %.2f%s%s\n", cases[i].what.c_str(),
                cases[i].raw_name.c_str(), r.raw_median, unit, r.dvs_median, unit, r.ratio,
                r.error.empty() ? "" : "  FAILED: ", r.error.c_str());
  }
  std::fflush(stdout);
  return out;
}

}  // namespace dvs::lab::testing
