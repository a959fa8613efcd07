// The one clock of every timed loop (dvs primitives and raw baselines alike), so the timing
// overhead is identical everywhere: clock_gettime(CLOCK_MONOTONIC) through the vDSO (~30 ns on
// the project's VMs; `dvs run` measures and records it in meta.json).
#ifndef DVS_HARNESS_MEASURE_CLOCK_HPP
#define DVS_HARNESS_MEASURE_CLOCK_HPP

#include <cstdint>
#include <ctime>

namespace dvs::measure {

inline uint64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

// Median cost of one now_ns() call, measured over `samples` back-to-back pairs.
uint64_t clock_overhead_ns(int samples = 10001);

}  // namespace dvs::measure

#endif
