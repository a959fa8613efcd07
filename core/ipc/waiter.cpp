#include "core/ipc/waiter.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>

namespace dvs::core {

namespace {
long futex(std::atomic<uint32_t>* addr, int op, uint32_t val, const timespec* ts) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), op, val, ts, nullptr, 0);
}

inline void cpu_relax() { __builtin_ia32_pause(); }

inline bool done(Slot& slot) { return slot.wake.load(std::memory_order_acquire) == kWakeDone; }

// Spins until woken, until spin_budget_ns elapses (< 0: no budget), until the deadline, or until
// t's dvsd is gone.
WaitEnd spin_until(const DcTable& t, Slot& slot, int64_t spin_budget_ns, Deadline deadline) {
  for (int i = 0; i < 64; ++i) {  // the common case: woken within a few hundred ns, no clock read
    if (done(slot)) return WaitEnd::kWoken;
    cpu_relax();
  }
  const bool timed = spin_budget_ns >= 0 || !deadline.forever();
  int64_t stop = -1;
  if (timed) {
    const int64_t start = monotonic_ns();
    stop = spin_budget_ns < 0 ? -1 : start + spin_budget_ns;
    if (!deadline.forever() && (stop < 0 || deadline.at_ns < stop)) stop = deadline.at_ns;
  }
  for (;;) {
    for (int i = 0; i < 256; ++i) {
      if (done(slot)) return WaitEnd::kWoken;
      cpu_relax();
    }
    if (!t.dvsd_alive()) return done(slot) ? WaitEnd::kWoken : WaitEnd::kDvsdGone;
    if (stop >= 0 && monotonic_ns() >= stop) return done(slot) ? WaitEnd::kWoken : WaitEnd::kTimedOut;
  }
}

WaitEnd futex_sleep(const DcTable& t, Slot& slot, Deadline deadline) {
  for (;;) {
    slot.sleeping.store(kSleepFutex, std::memory_order_seq_cst);
    const uint32_t seen = slot.wake.load(std::memory_order_seq_cst);
    if (seen == kWakeDone) {
      slot.sleeping.store(0, std::memory_order_relaxed);
      return WaitEnd::kWoken;
    }
    int64_t slice = kLifeCheckNs;
    if (!deadline.forever()) {
      const int64_t left = deadline.at_ns - monotonic_ns();
      if (left <= 0) {
        slot.sleeping.store(0, std::memory_order_relaxed);
        return done(slot) ? WaitEnd::kWoken : WaitEnd::kTimedOut;
      }
      if (left < slice) slice = left;
    }
    const timespec rel{static_cast<time_t>(slice / 1'000'000'000), static_cast<long>(slice % 1'000'000'000)};
    // Sleeps while the word still holds what we saw (waiting, or claimed by a waker that will
    // publish or give it back and ring). EAGAIN / ETIMEDOUT: re-check below. With a timeout the
    // kernel never restarts the wait after a signal handler ran: EINTR.
    const long rc = futex(&slot.wake, FUTEX_WAIT, seen, &rel);
    const bool interrupted = rc != 0 && errno == EINTR;
    slot.sleeping.store(0, std::memory_order_relaxed);
    if (done(slot)) return WaitEnd::kWoken;
    if (interrupted) return WaitEnd::kInterrupted;
    if (!t.dvsd_alive()) return WaitEnd::kDvsdGone;
  }
}
}  // namespace

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Deadline Deadline::after_ms(long timeout_ms) {
  // Beyond about 100 years a timeout is forever; below it, now + timeout cannot overflow (the
  // monotonic clock would have to read over 190 years).
  constexpr long kForeverMs = 100L * 366 * 24 * 3600 * 1000;
  if (timeout_ms < 0 || timeout_ms > kForeverMs) return Deadline{};
  return Deadline{monotonic_ns() + static_cast<int64_t>(timeout_ms) * 1'000'000};
}

WaitEnd wait_woken(const DcTable& t, Slot& slot, int mode, uint32_t spin_ns, Deadline deadline) {
  switch (mode) {
    case DVS_WAIT_SPIN:
      return spin_until(t, slot, -1, deadline);
    case DVS_WAIT_SPIN_THEN_BLOCK: {
      const WaitEnd e = spin_until(t, slot, spin_ns, deadline);
      if (e != WaitEnd::kTimedOut || (!deadline.forever() && monotonic_ns() >= deadline.at_ns)) return e;
      return futex_sleep(t, slot, deadline);
    }
    default:
      return futex_sleep(t, slot, deadline);
  }
}

socklen_t door_address(uint64_t d, sockaddr_un* a) {
  *a = sockaddr_un{};
  a->sun_family = AF_UNIX;
  // Abstract: sun_path[0] stays NUL, the name follows (not NUL-terminated).
  const int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "dvs-door-%016llx", static_cast<unsigned long long>(d));
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + static_cast<size_t>(n));
}

void ring(Slot& slot) {
  if (slot.sleeping.load(std::memory_order_seq_cst) != kSleepDoor) {
    futex(&slot.wake, FUTEX_WAKE, 1, nullptr);
    return;
  }
  // One datagram per wake; the owner drains them. Failures (the owner is gone, or sleeps in
  // another network namespace) are covered by its life checks.
  static const int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);  // unconnected: shared by all threads
  if (sock < 0) return;
  sockaddr_un to;
  const socklen_t len = door_address(slot.door.load(std::memory_order_relaxed), &to);
  (void)sendto(sock, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to), len);
}

void ring_doorbell(DcTable& t) {
  TableHeader& h = t.header();
  h.doorbell.fetch_add(1, std::memory_order_seq_cst);
  if (h.dvsd_sleeping.load(std::memory_order_seq_cst) != 0) futex(&h.doorbell, FUTEX_WAKE, INT_MAX, nullptr);
}

void wait_doorbell(DcTable& t, uint32_t seen, int timeout_ms) {
  TableHeader& h = t.header();
  h.dvsd_sleeping.store(1, std::memory_order_seq_cst);
  if (h.doorbell.load(std::memory_order_seq_cst) == seen) {
    timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
    futex(&h.doorbell, FUTEX_WAIT, seen, timeout_ms < 0 ? nullptr : &ts);
  }
  h.dvsd_sleeping.store(0, std::memory_order_relaxed);
}

}  // namespace dvs::core
