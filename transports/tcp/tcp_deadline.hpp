// A deadline built from a timeout in milliseconds (-1 = forever, 0 = already due), for loops
// that poll() several times but must not exceed the caller's timeout in total.
#pragma once

#include <chrono>

namespace dvs::transport::tcp {

class Deadline {
 public:
  explicit Deadline(int timeout_ms)
      : forever_(timeout_ms < 0),
        at_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms)) {}
  // What to pass to poll(): -1 forever, else the milliseconds left (rounded up, 0 when due).
  int remaining_ms() const {
    if (forever_) return -1;
    auto left = at_ - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return 0;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
  }
  bool forever() const { return forever_; }

 private:
  bool forever_;
  std::chrono::steady_clock::time_point at_;
};

}  // namespace dvs::transport::tcp
