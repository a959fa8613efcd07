// Helpers on slots shared by the primitives (ipc.cpp) and remote IPC (remote.cpp). Internal to
// the core. "Locked" below means: the caller holds that slot's lock (shm_table.hpp contract).
#pragma once

#include <atomic>
#include <cstdint>

#include "core/ipc.hpp"
#include "core/shm_table.hpp"
#include "core/waiter.hpp"

namespace dvs::core {

inline constexpr uint32_t kBlockedMask = DVS_SENDING | DVS_RECEIVING;

inline bool is_free(Slot& s) { return (s.flags.load(std::memory_order_relaxed) & DVS_SLOT_FREE) != 0; }
inline bool is_remote(Slot& s) { return (s.flags.load(std::memory_order_relaxed) & DVS_REMOTE) != 0; }

// Receptive to a message from `from_ep` (locked): blocked receiving, not in a send phase, not in
// a copy, and waiting for ANY or for from_ep.
inline bool receptive(Slot& s, int32_t from_ep) {
  uint32_t f = s.flags.load(std::memory_order_relaxed);
  if ((f & DVS_RECEIVING) == 0 || (f & (DVS_SENDING | DVS_ONCOPY | DVS_SLOT_FREE)) != 0) return false;
  int32_t g = s.getfrom.load(std::memory_order_relaxed);
  return g == DVS_ANY || g == from_ep;
}

// Completes the blocked call of s (locked) with result. True if s must be rung after unlocking.
[[nodiscard]] inline bool wake_with(Slot& s, int result) {
  s.result.store(result, std::memory_order_relaxed);
  return mark_woken(s);
}

// Counters are written only by their owner: no atomic read-modify-write on the hot path.
inline void bump(std::atomic<uint64_t>& counter, uint64_t n) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Endpoint -> slot index using only the trusted geometry. EDVSENDPOINT if malformed.
int index_of_endpoint(DcTable& t, int ep, int* index);
// (locked) The slot is bound (locally or as a REMOTE descriptor) to exactly ep; else died_code
// (slot free but last bound to ep), EDVSNOTBIND (never bound to it) or EDVSENDPOINT (stale).
int check_bound(Slot& s, int ep, int died_code);
// Privilege check: may `self` send to slot dst_index (only system destinations are checked).
bool may_send_to(DcTable& t, Slot& self, int dst_index);
// Append sender to dst's queue / remove it (dst locked). unlink: false if absent or the queue is
// corrupt (then the queue is reset).
void enqueue(DcTable& t, int dst, int sender);
bool unlink(DcTable& t, int dst, int sender);
// Locks `other` while `held` is locked: in order if other > held, else only by trylock;
// EDVSAGAIN means release everything and take both with lock_pair.
int lock_second(DcTable& t, int held, int other);
// The message notify builds: source = that slot's endpoint, m_type = NOTIFY_FROM(p_nr), time.
void build_notify(DcTable& t, int from_index, dvs_message_t* m);
// Waits (caller's wait strategy) for the wake set up under the lock; returns the call's result,
// or after the deadline takes the caller out of whatever it waits in (EDVSTIMEDOUT unless it
// completed meanwhile).
int block(Caller& c, Deadline deadline);
int cancel_wait(DcTable& t, int self);

}  // namespace dvs::core
