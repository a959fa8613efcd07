// Helpers on slots shared by the primitives (primitives.cpp) and remote IPC (remote*.cpp). Internal to
// the core. "Locked" below means: the caller holds that slot's lock (shm_table.hpp contract).
#pragma once

#include <atomic>
#include <cstdint>

#include "core/ipc/primitives.hpp"
#include "core/ipc/remote.hpp"
#include "core/ipc/shm_table.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::core {

inline constexpr uint32_t kBlockedMask = DVS_SENDING | DVS_RECEIVING;

inline bool is_free(Slot& s) { return (s.flags.load(std::memory_order_relaxed) & DVS_SLOT_FREE) != 0; }
inline bool is_remote(Slot& s) { return (s.flags.load(std::memory_order_relaxed) & DVS_REMOTE) != 0; }
// A node's proxy slot says whether that node's link is up (written by dvsd, proxy_queue.hpp).
inline bool node_link_up(Slot& proxy_slot) {
  return (proxy_slot.misc.load(std::memory_order_relaxed) & kMiscProxyUp) != 0;
}

// Receptive to a message from `from_ep` (locked): blocked receiving, not in a send phase, not in
// a copy, its call not abandoned, and waiting for ANY or for from_ep.
inline bool receptive(Slot& s, int32_t from_ep) {
  uint32_t f = s.flags.load(std::memory_order_relaxed);
  if ((f & DVS_RECEIVING) == 0 || (f & (DVS_SENDING | DVS_ONCOPY | DVS_SLOT_FREE)) != 0) return false;
  if (s.wake.load(std::memory_order_relaxed) != kWakeWaiting) return false;
  int32_t g = s.getfrom.load(std::memory_order_relaxed);
  return g == DVS_ANY || g == from_ep;
}

// Waits for a reply from exactly `from_ep` (locked): receptive, and not by receive(ANY). reply()
// completes only such a wait, so a late reply never reaches a caller that moved on to another
// receive (the original answers EDVSPROCSTS then).
inline bool awaits_reply_from(Slot& s, int32_t from_ep) {
  return receptive(s, from_ep) && s.getfrom.load(std::memory_order_relaxed) == from_ep;
}

// Completes the blocked call of s (locked) with result, if it still waits. True if s must be rung
// after unlocking. (For an error, or where nothing was delivered: a call that no longer waits
// needs nothing.)
[[nodiscard]] inline bool wake_with(Slot& s, int result) {
  bool need_ring = false;
  return complete_call(s, result, &need_ring) && need_ring;
}

// (s locked, being bound) The call state a new binding starts with: no call, no remote command,
// no queue of senders, nothing pending to notify, a woken wait word, and may IPC to every slot.
inline void reset_call_state(Slot& s) {
  constexpr auto relaxed = std::memory_order_relaxed;
  s.rmt_cmd.store(kCmdNone, relaxed);
  s.getfrom.store(DVS_NONE, relaxed);
  s.sendto.store(kNoSlot, relaxed);
  s.q_head.store(kNoSlot, relaxed);
  s.q_tail.store(kNoSlot, relaxed);
  s.q_next.store(kNoSlot, relaxed);
  s.wake.store(1, relaxed);
  for (auto& w : s.notify_pending) w.store(0, relaxed);
  for (auto& w : s.ipc_to) w.store(~uint64_t{0}, relaxed);
}

// Ends the wait of s (locked), whatever it waited in, and completes its call with result if it
// still waits: clears its blocked flags, its send target and its source. True if s must be rung
// after unlocking (as wake_with).
[[nodiscard]] inline bool end_wait_with(Slot& s, int result) {
  s.flags.store(s.flags.load(std::memory_order_relaxed) & ~kBlockedMask, std::memory_order_relaxed);
  s.sendto.store(kNoSlot, std::memory_order_relaxed);
  s.getfrom.store(DVS_NONE, std::memory_order_relaxed);
  return wake_with(s, result);
}

// (any lock, or the slot's owner) The slot is bound to exactly ep, locally.
inline bool still_bound(Slot& s, int32_t ep) {
  return s.endpoint.load(std::memory_order_relaxed) == ep &&
         (s.flags.load(std::memory_order_relaxed) & DVS_SLOT_FREE) == 0;
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
// (dst locked, bound) A notify from slot from_index (endpoint from_ep) to dst: delivered now if
// dst waits for it, else left as dst's pending bit (a second one before the receive coalesces).
// *need_ring: ring dst after unlocking.
inline void deliver_notify(DcTable& t, Slot& dst, int from_index, int32_t from_ep, bool* need_ring) {
  if (receptive(dst, from_ep)) {
    build_notify(t, from_index, &dst.msg);
    const uint32_t before = dst.flags.load(std::memory_order_relaxed);
    const int32_t getfrom = dst.getfrom.load(std::memory_order_relaxed);
    dst.getfrom.store(DVS_NONE, std::memory_order_relaxed);
    dst.flags.store(before & ~DVS_RECEIVING, std::memory_order_relaxed);
    if (complete_call(dst, DVS_OK, need_ring)) return;
    dst.flags.store(before, std::memory_order_relaxed);  // it abandoned the receive this instant: left pending
    dst.getfrom.store(getfrom, std::memory_order_relaxed);
  }
  dst.notify_pending[from_index / 64].fetch_or(uint64_t{1} << (from_index % 64), std::memory_order_relaxed);
}

// Waits (caller's wait strategy) for the wake set up under the lock; returns the call's result,
// or after the deadline (or a signal handler interrupting a futex sleep) takes the caller out of
// whatever it waits in: EDVSTIMEDOUT (EDVSINTR) unless it completed meanwhile.
int block(Caller& c, Deadline deadline);
// Takes the caller out of its wait (its own and, if sending, the destination's lock): `code`, or
// the call's result if it completed meanwhile. If a lock cannot be taken within the lock bound
// the call is abandoned (waiter.hpp) and the lock error is returned.
int cancel_wait(DcTable& t, int self, int code);
// Every primitive starts here: 0, or EDVSDVSINIT if the table's dvsd died or exited (the process
// must dvs_close, dvs_open and bind again: a restarted dvsd has new tables), EDVSNOTBIND if the
// caller's slot is no longer bound to its endpoint (unbound by dvsd or a system process), or the
// error of clearing an abandoned call left by the caller's previous call (a lock still not
// available).
int enter_call_slow(Caller& c);
inline int enter_call(Caller& c) {
  Slot& s = c.table->slot(c.index);
  if (__builtin_expect(c.table->dvsd_alive() && s.wake.load(std::memory_order_acquire) == kWakeDone &&
                           still_bound(s, c.endpoint),
                       1))
    return 0;
  return enter_call_slow(c);
}

}  // namespace dvs::core
