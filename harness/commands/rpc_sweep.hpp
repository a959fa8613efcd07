// The rate sweep of `dvs rpc --sweep`: the highest open-loop offered rate that holds a latency
// objective (percentile q of the latency from the intended send time <= bound), found by
// doubling from a start rate until a step fails (halving instead if the start fails), then
// bisecting between the best passing and the lowest failing rate until they are within
// `tolerance` of each other. Bounded by max_steps runs. docs/RPC.md.
#ifndef DVS_HARNESS_RPC_SWEEP_HPP
#define DVS_HARNESS_RPC_SWEEP_HPP

#include <functional>
#include <string>
#include <vector>

namespace dvs::rpc {

struct SweepOptions {
  double start_rps = 1000;
  double max_rps = 1e6;
  double min_rps = 1;
  double tolerance = 0.1;  // stop when failing / passing rate <= 1 + tolerance
  int max_steps = 12;
};

struct SweepStep {
  double rate = 0;
  bool pass = false;
  std::string why;  // the measured percentile vs the bound, or the failure
};

struct SweepAnswer {
  std::vector<SweepStep> steps;
  double best_pass = 0;    // 0: no rate held the objective
  double lowest_fail = 0;  // 0: no step failed
  std::string stop_reason;
};

// run(rate) measures one step and says whether it held the objective (why: a short text).
SweepAnswer sweep(const SweepOptions& o, const std::function<SweepStep(double rate)>& run);

}  // namespace dvs::rpc

#endif
