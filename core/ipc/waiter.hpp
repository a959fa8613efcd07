// Waiting for and signalling a slot's completion word (the "doorbell" of a blocked caller).
//
// Slot::wake holds one of the states below. Protocol (Dekker style, so a wake is never lost):
//   waiter: under its slot lock sets wake = kWakeWaiting, releases locks, then wait_woken().
//   waker:  under the waiter's slot lock, complete_call() (or claim_call() ... publish_call()),
//           which tells whether the waiter sleeps in the futex; if so it calls ring() after
//           releasing the lock.
//   A waiter that cannot take its own lock to cancel a timed-out wait (someone holds it past the
//   lock bound) abandons the call instead: wake kWakeWaiting -> kWakeAbandoned by CAS, without
//   the lock. No waker can complete an abandoned call (its CAS fails, and a delivery is then not
//   made), so nothing is delivered into a slot whose owner has left; the owner's next call
//   clears the abandoned state under its lock first (recover_abandoned, slot_ops.hpp).
// The futex is process-shared (the slot lives in a MAP_SHARED memfd).
#pragma once

#include <cstdint>
#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "core/ipc/shm_table.hpp"

namespace dvs::core {

inline constexpr uint32_t kWakeWaiting = 0;    // blocked: a waker may complete it
inline constexpr uint32_t kWakeDone = 1;       // completed (or not blocked): result and msg are valid
inline constexpr uint32_t kWakeAbandoned = 2;  // the owner gave up without its lock (see above)
inline constexpr uint32_t kWakeClaimed = 3;    // a waker holding the lock is completing it

struct Deadline {
  // -1: forever; otherwise CLOCK_MONOTONIC nanoseconds.
  int64_t at_ns = -1;
  // timeout_ms < 0: forever. A timeout of more than about 100 years is forever too, never
  // "already passed" (no overflow).
  static Deadline after_ms(long timeout_ms);
  bool forever() const { return at_ns < 0; }
};

int64_t monotonic_ns();

enum class WaitEnd {
  kWoken,        // wake == kWakeDone
  kTimedOut,     // the deadline passed first
  kInterrupted,  // a signal handler ran while the caller slept in the futex (EINTR)
  kDvsdGone,     // the table's dvsd died or exited (DcTable::dvsd_alive)
  kLinkDown,     // the caller's own link its remote call went out on died first (LinkWaiter only)
};

// Slot::sleeping: how the owner sleeps, so a waker knows how to wake it.
inline constexpr uint32_t kSleepNot = 0;
inline constexpr uint32_t kSleepFutex = 1;  // in FUTEX_WAIT on slot.wake
// In a poll of its links and its door: an abstract UNIX datagram socket at door_address(slot.door)
// in the owner's network namespace (libdvs's direct path, LinkWaiter below). A waker sends it an
// empty datagram. A waker in another network namespace cannot reach it: the owner then sees the
// completion at its next life check (kLifeCheckNs).
inline constexpr uint32_t kSleepDoor = 2;

// A sleeping caller wakes at least this often to see whether its table's dvsd is still alive:
// a call blocked on a dead table ends within about this long.
inline constexpr int64_t kLifeCheckNs = 200'000'000;

// Blocks until slot.wake == kWakeDone or the deadline passes, or a caught signal interrupts the
// futex sleep, or t's dvsd is gone. mode: DVS_WAIT_SPIN polls (checking the clock and dvsd every
// few hundred polls; signals do not interrupt it), SPIN_THEN_BLOCK polls for spin_ns then
// futex-waits, BLOCK futex-waits at once (in slices of at most kLifeCheckNs, so any caught
// signal, SA_RESTART or not, interrupts it). Never blocks past the deadline.
WaitEnd wait_woken(const DcTable& t, Slot& slot, int mode, uint32_t spin_ns, Deadline deadline);

// A caller that reads links of its own while it waits (libdvs's direct remote path: remote
// requests and answers for its endpoint arrive on links only its thread reads). block() waits
// through it instead of wait_woken; ipc_receive lets it deliver what already arrived first.
class LinkWaiter {
 public:
  virtual ~LinkWaiter() = default;
  // As wait_woken (same ends, same bounds), reading the caller's links meanwhile and delivering
  // what arrives into t (which may complete slot). Sleeps with slot.sleeping = kSleepDoor.
  virtual WaitEnd wait(DcTable& t, Slot& slot, int mode, uint32_t spin_ns, Deadline deadline) = 0;
  // Delivers into t what has already arrived on the caller's links; never blocks.
  virtual void poll_now(DcTable& t) = 0;
};

// The abstract socket address of door d, for binding it and for ring(): fills *a, returns its length.
socklen_t door_address(uint64_t d, sockaddr_un* a);

// Waker side, with the waiter's lock held: completes the waiter's call with result if it is
// still waiting (true; *need_ring then says whether to ring() once the locks are released), else
// changes nothing (false: completed already, or abandoned by its owner). A message delivered with
// the completion is written to slot.msg before the call; on false it was not delivered.
[[nodiscard]] inline bool complete_call(Slot& slot, int result, bool* need_ring) {
  // Only the owner changes wake away from kWakeWaiting without the lock (to kWakeAbandoned), and it
  // then never reads result: storing result before the CAS is safe.
  if (slot.wake.load(std::memory_order_relaxed) != kWakeWaiting) return false;
  slot.result.store(result, std::memory_order_relaxed);
  uint32_t expected = kWakeWaiting;
  if (!slot.wake.compare_exchange_strong(expected, kWakeDone, std::memory_order_seq_cst)) return false;
  *need_ring = slot.sleeping.load(std::memory_order_seq_cst) != 0;
  return true;
}

// For a waker that must do irreversible work (take a queued sender's message) before it can
// complete the call: claims the waiting call (true), or false if it no longer waits. A claimed
// call must be finished, under the same lock, by publish_call() or unclaim_call().
[[nodiscard]] inline bool claim_call(Slot& slot) {
  uint32_t expected = kWakeWaiting;
  return slot.wake.compare_exchange_strong(expected, kWakeClaimed, std::memory_order_acq_rel);
}
// Completes a claimed call with result; returns whether to ring() after unlocking.
[[nodiscard]] inline bool publish_call(Slot& slot, int result) {
  slot.result.store(result, std::memory_order_relaxed);
  slot.wake.store(kWakeDone, std::memory_order_seq_cst);
  return slot.sleeping.load(std::memory_order_seq_cst) != 0;
}
// Gives a claimed call back (it still waits); returns whether to ring() after unlocking (a
// sleeper that saw the claim waits for the word to change).
[[nodiscard]] inline bool unclaim_call(Slot& slot) {
  slot.wake.store(kWakeWaiting, std::memory_order_seq_cst);
  return slot.sleeping.load(std::memory_order_seq_cst) != 0;
}

// Wakes the slot's owner: futex wake, or a datagram to its door when it sleeps on kSleepDoor.
void ring(Slot& slot);

// The table's doorbell: libdvs rings it after queueing work for a proxy; dvsd's dispatcher waits
// on it (until the doorbell moves past `seen`, or timeout_ms passes; -1 = no bound).
void ring_doorbell(DcTable& t);
void wait_doorbell(DcTable& t, uint32_t seen, int timeout_ms);

}  // namespace dvs::core
