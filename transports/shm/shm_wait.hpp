// Waiting primitives for the shm transport: a monotonic deadline, the CPU pause hint for spin
// loops, and a process-shared futex (the word lives in the MAP_SHARED memfd, so no
// FUTEX_PRIVATE_FLAG).
#pragma once

#include <atomic>
#include <cstdint>

namespace dvs::transport::shm {

int64_t now_ns();  // CLOCK_MONOTONIC

// A point in time to give up; forever when constructed from timeout_ms < 0.
struct Deadline {
  int64_t at_ns = -1;  // -1: forever
  static Deadline after_ms(long timeout_ms);
  static Deadline after_ns(int64_t ns);
  bool forever() const { return at_ns < 0; }
  bool passed() const { return !forever() && now_ns() >= at_ns; }
  // Milliseconds left for poll(): -1 forever, 0 if passed, rounded up otherwise; capped at cap_ms
  // when cap_ms >= 0.
  int poll_ms(int cap_ms = -1) const;
  Deadline min(Deadline o) const;
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// FUTEX_WAIT on a shared word while it equals `expected`, at most timeout_ns (>= 0). Returns when
// woken, on timeout, on a signal, or at once if the word differs. The caller re-checks its
// condition in every case.
void futex_wait_shared(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ns);
// FUTEX_WAKE of every waiter on the shared word (in any process).
void futex_wake_shared(std::atomic<uint32_t>* word);

}  // namespace dvs::transport::shm
