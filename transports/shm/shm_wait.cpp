#include "transports/shm/shm_wait.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

namespace dvs::transport::shm {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Deadline Deadline::after_ms(long timeout_ms) {
  if (timeout_ms < 0) return {};
  return {now_ns() + static_cast<int64_t>(timeout_ms) * 1000000};
}

Deadline Deadline::after_ns(int64_t ns) { return {now_ns() + (ns < 0 ? 0 : ns)}; }

int Deadline::poll_ms(int cap_ms) const {
  if (forever()) return cap_ms;
  int64_t left = at_ns - now_ns();
  if (left <= 0) return 0;
  int64_t ms = (left + 999999) / 1000000;
  if (ms > INT_MAX) ms = INT_MAX;
  if (cap_ms >= 0 && ms > cap_ms) ms = cap_ms;
  return static_cast<int>(ms);
}

Deadline Deadline::min(Deadline o) const {
  if (forever()) return o;
  if (o.forever()) return *this;
  return {at_ns < o.at_ns ? at_ns : o.at_ns};
}

void futex_wait_shared(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ns) {
  timespec ts{static_cast<time_t>(timeout_ns / 1000000000), static_cast<long>(timeout_ns % 1000000000)};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, &ts, nullptr, 0);
}

void futex_wake_shared(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace dvs::transport::shm
