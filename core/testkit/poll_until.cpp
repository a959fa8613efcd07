#include "core/testkit/poll_until.hpp"

#include <thread>

namespace dvs::testing {

bool poll_until(const std::function<bool()>& pred, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  auto step = std::chrono::microseconds(200);
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(step);
    if (step < std::chrono::microseconds(2000)) step *= 2;
  }
}

}  // namespace dvs::testing
