#include "core/waiter.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace dvs::core {

namespace {
long futex(std::atomic<uint32_t>* addr, int op, uint32_t val, const timespec* ts) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), op, val, ts, nullptr, 0);
}

inline void cpu_relax() { __builtin_ia32_pause(); }

// Spins until woken, until spin_budget_ns elapses, or until the deadline. Returns true if woken.
bool spin_until(Slot& slot, int64_t spin_budget_ns, Deadline deadline) {
  for (int i = 0; i < 64; ++i) {  // the common case: woken within a few hundred ns, no clock read
    if (slot.wake.load(std::memory_order_acquire) != 0) return true;
    cpu_relax();
  }
  if (spin_budget_ns < 0 && deadline.forever()) {
    while (slot.wake.load(std::memory_order_acquire) == 0) cpu_relax();
    return true;
  }
  int64_t start = monotonic_ns();
  int64_t stop = spin_budget_ns < 0 ? -1 : start + spin_budget_ns;
  if (!deadline.forever() && (stop < 0 || deadline.at_ns < stop)) stop = deadline.at_ns;
  for (;;) {
    for (int i = 0; i < 256; ++i) {
      if (slot.wake.load(std::memory_order_acquire) != 0) return true;
      cpu_relax();
    }
    if (stop >= 0 && monotonic_ns() >= stop) return slot.wake.load(std::memory_order_acquire) != 0;
  }
}

bool futex_sleep(Slot& slot, Deadline deadline) {
  for (;;) {
    slot.sleeping.store(1, std::memory_order_seq_cst);
    if (slot.wake.load(std::memory_order_seq_cst) != 0) {
      slot.sleeping.store(0, std::memory_order_relaxed);
      return true;
    }
    timespec rel{};
    const timespec* tsp = nullptr;
    if (!deadline.forever()) {
      int64_t left = deadline.at_ns - monotonic_ns();
      if (left <= 0) {
        slot.sleeping.store(0, std::memory_order_relaxed);
        return slot.wake.load(std::memory_order_acquire) != 0;
      }
      rel.tv_sec = static_cast<time_t>(left / 1'000'000'000);
      rel.tv_nsec = static_cast<long>(left % 1'000'000'000);
      tsp = &rel;
    }
    futex(&slot.wake, FUTEX_WAIT, 0, tsp);  // EAGAIN/EINTR/ETIMEDOUT: re-check below
    slot.sleeping.store(0, std::memory_order_relaxed);
    if (slot.wake.load(std::memory_order_acquire) != 0) return true;
  }
}
}  // namespace

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Deadline Deadline::after_ms(long timeout_ms) {
  if (timeout_ms < 0) return Deadline{};
  return Deadline{monotonic_ns() + static_cast<int64_t>(timeout_ms) * 1'000'000};
}

bool wait_woken(Slot& slot, int mode, uint32_t spin_ns, Deadline deadline) {
  switch (mode) {
    case DVS_WAIT_SPIN:
      return spin_until(slot, -1, deadline);
    case DVS_WAIT_SPIN_THEN_BLOCK:
      if (spin_until(slot, spin_ns, deadline)) return true;
      return futex_sleep(slot, deadline);
    default:
      return futex_sleep(slot, deadline);
  }
}

void ring(Slot& slot) { futex(&slot.wake, FUTEX_WAKE, 1, nullptr); }

}  // namespace dvs::core
