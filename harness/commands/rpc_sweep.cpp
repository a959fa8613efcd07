// sweep: see sweep.hpp.
#include "harness/commands/rpc_sweep.hpp"

#include <algorithm>

namespace dvs::rpc {

SweepAnswer sweep(const SweepOptions& o, const std::function<SweepStep(double rate)>& run) {
  SweepAnswer a;
  double lo = 0, hi = 0;  // best passing rate, lowest failing rate (0 = none yet)
  while (int(a.steps.size()) < o.max_steps) {
    double r;
    if (hi == 0) {  // going up
      if (lo >= o.max_rps) {
        a.stop_reason = "the maximum rate held the objective";
        break;
      }
      r = lo == 0 ? o.start_rps : std::min(lo * 2, o.max_rps);
    } else if (lo == 0) {  // going down: nothing passed yet
      r = hi / 2;
      if (r < o.min_rps) {
        a.stop_reason = "no rate down to the minimum held the objective";
        break;
      }
    } else {
      if (hi <= lo * (1 + o.tolerance)) {
        a.stop_reason = "bracketed within the tolerance";
        break;
      }
      r = (lo + hi) / 2;
    }
    SweepStep s = run(r);
    s.rate = r;
    a.steps.push_back(s);
    if (s.pass) lo = std::max(lo, r);
    else hi = hi == 0 ? r : std::min(hi, r);
  }
  if (a.stop_reason.empty()) a.stop_reason = "step budget used";
  a.best_pass = lo;
  a.lowest_fail = hi;
  return a;
}

}  // namespace dvs::rpc
