// Time units of the test helpers: every bounded wait takes a Millis; Clock is monotonic.
#ifndef DVS_TESTING_TEST_TIME_HPP
#define DVS_TESTING_TEST_TIME_HPP

#include <chrono>

namespace dvs::testing {

using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Milliseconds elapsed since t0.
inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace dvs::testing

#endif
