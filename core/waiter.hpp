// Waiting for and signalling a slot's completion word (the "doorbell" of a blocked caller).
//
// Protocol (Dekker style, so a wake is never lost):
//   waiter: under its slot lock sets wake = 0, releases locks, then wait_woken().
//   waker:  under the waiter's slot lock stores result, then mark_woken(), which tells whether
//           the waiter sleeps; if so it calls ring() after releasing the lock.
// The futex is process-shared (the slot lives in a MAP_SHARED memfd).
#pragma once

#include <cstdint>

#include "core/shm_table.hpp"

namespace dvs::core {

struct Deadline {
  // -1: forever; otherwise CLOCK_MONOTONIC nanoseconds.
  int64_t at_ns = -1;
  static Deadline after_ms(long timeout_ms);
  bool forever() const { return at_ns < 0; }
};

int64_t monotonic_ns();

// Blocks until slot.wake != 0 or the deadline passes. Returns true if woken, false on timeout.
// mode: DVS_WAIT_SPIN polls (checking the clock every few hundred polls), SPIN_THEN_BLOCK polls
// for spin_ns then futex-waits, BLOCK futex-waits at once. Never blocks past the deadline.
bool wait_woken(Slot& slot, int mode, uint32_t spin_ns, Deadline deadline);

// Waker side, with the waiter's lock held: store wake = 1 and tell whether the waiter sleeps in
// the futex (then call ring() once the locks are released).
inline bool mark_woken(Slot& slot) {
  slot.wake.store(1, std::memory_order_seq_cst);
  return slot.sleeping.load(std::memory_order_seq_cst) != 0;
}
// futex wake of the slot's owner.
void ring(Slot& slot);

}  // namespace dvs::core
