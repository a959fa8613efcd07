// clock_overhead_ns: see clock.hpp.
#include "workloads/measure/clock.hpp"

#include <algorithm>
#include <vector>

namespace dvs::measure {

uint64_t clock_overhead_ns(int samples) {
  std::vector<uint64_t> d;
  d.reserve(size_t(samples));
  for (int i = 0; i < samples; ++i) {
    const uint64_t a = now_ns();
    const uint64_t b = now_ns();
    d.push_back(b - a);
  }
  std::nth_element(d.begin(), d.begin() + long(d.size() / 2), d.end());
  return d[d.size() / 2];
}

}  // namespace dvs::measure
