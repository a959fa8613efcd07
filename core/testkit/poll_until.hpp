// Bounded polling: the way a test waits for a state it cannot be told about.
#ifndef DVS_TESTING_POLL_UNTIL_HPP
#define DVS_TESTING_POLL_UNTIL_HPP

#include <functional>

#include "core/testkit/test_time.hpp"

namespace dvs::testing {

// Poll pred() until it is true or timeout elapses (bounded polling, 200 µs .. 2 ms steps).
bool poll_until(const std::function<bool()>& pred, Millis timeout = Millis(5000));

}  // namespace dvs::testing

#endif
