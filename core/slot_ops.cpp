// Helpers on slots shared by the primitives (ipc.cpp) and remote IPC (remote.cpp).
#include "core/slot_ops.hpp"

#include <time.h>

#include <cstring>

namespace dvs::core {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}  // namespace



// Endpoint -> slot index without trusting anything but the geometry. EDVSENDPOINT if malformed.
int index_of_endpoint(DcTable& t, int ep, int* index) {
  if (ep == DVS_ANY || ep == DVS_NONE || ep == DVS_SELF) return EDVSENDPOINT;
  if (ep < -DVS_NR_TASKS_MAX) return EDVSENDPOINT;
  int p_nr = DVS_ENDPOINT_P(ep);
  if (!t.geometry().valid_pnr(p_nr)) return EDVSENDPOINT;
  *index = t.geometry().index_of(p_nr);
  return 0;
}

// Checks (under the slot's lock) that the slot is bound to exactly `ep`.
int check_bound(Slot& s, int ep, int died_code) {
  if (is_free(s)) return s.endpoint.load(kRelaxed) == ep ? died_code : EDVSNOTBIND;
  if (s.endpoint.load(kRelaxed) != ep) return EDVSENDPOINT;
  return 0;
}

bool may_send_to(DcTable& t, Slot& self, int dst_index) {
  if (!t.geometry().is_system_index(dst_index)) return true;  // only system destinations are checked
  return (self.ipc_to[dst_index / 64].load(kRelaxed) >> (dst_index % 64)) & 1u;
}

// Completes the blocked call of s (locked) with result. True if s must be rung after unlocking.


// Appends slot `sender` to the queue of `dst` (both locked).
void enqueue(DcTable& t, int dst, int sender) {
  Slot& d = t.slot(dst);
  t.slot(sender).q_next.store(kNoSlot, kRelaxed);
  int tail = d.q_tail.load(kRelaxed);
  if (tail == kNoSlot || !t.valid_index(tail)) {
    d.q_head.store(sender, kRelaxed);
  } else {
    t.slot(tail).q_next.store(sender, kRelaxed);
  }
  d.q_tail.store(sender, kRelaxed);
}

// Removes `sender` from the queue of `dst` (dst locked). Returns false if not found or the list
// is corrupt (in which case the queue is reset: its members are woken by their own timeouts or
// by dvsd's cleanup).
bool unlink(DcTable& t, int dst, int sender) {
  Slot& d = t.slot(dst);
  int prev = kNoSlot;
  int q = d.q_head.load(kRelaxed);
  for (int steps = 0; q != kNoSlot; ++steps) {
    if (!t.valid_index(q) || steps > t.geometry().nr_slots()) {
      d.q_head.store(kNoSlot, kRelaxed);
      d.q_tail.store(kNoSlot, kRelaxed);
      return false;
    }
    int next = t.slot(q).q_next.load(kRelaxed);
    if (q == sender) {
      if (prev == kNoSlot)
        d.q_head.store(next, kRelaxed);
      else
        t.slot(prev).q_next.store(next, kRelaxed);
      if (d.q_tail.load(kRelaxed) == sender) d.q_tail.store(prev, kRelaxed);
      t.slot(sender).q_next.store(kNoSlot, kRelaxed);
      return true;
    }
    prev = q;
    q = next;
  }
  return false;
}

// Locks `other` while `held` is locked: in order if other > held, else only by trylock.
// EDVSAGAIN means: release everything and take both with lock_pair.
int lock_second(DcTable& t, int held, int other) {
  if (other > held) return lock_slot(t.slot(other));
  return trylock_slot(t.slot(other));
}

void build_notify(DcTable& t, int from_index, dvs_message_t* m) {
  std::memset(m, 0, sizeof *m);
  m->m_source = t.slot(from_index).endpoint.load(kRelaxed);
  m->m_type = DVS_NOTIFY_FROM(t.geometry().pnr_of(from_index));
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  m->m_u.m9.m9_t1_sec = now.tv_sec;
  m->m_u.m9.m9_t1_nsec = now.tv_nsec;
}

// ---------- blocking and cancelling ----------

// After a timed-out wait: take the caller out of whatever it waits in, unless it completed.
int cancel_wait(DcTable& t, int self) {
  Slot& s = t.slot(self);
  for (;;) {
    if (int rc = lock_slot(s); rc != 0) return rc;
    if (s.wake.load(std::memory_order_acquire) != 0) {
      unlock_slot(s);
      return s.result.load(kRelaxed);
    }
    uint32_t f = s.flags.load(kRelaxed);
    if ((f & DVS_SENDING) == 0) {
      s.flags.store(f & ~kBlockedMask, kRelaxed);
      s.getfrom.store(DVS_NONE, kRelaxed);
      s.wake.store(1, kRelaxed);
      unlock_slot(s);
      return EDVSTIMEDOUT;
    }
    int d = s.sendto.load(kRelaxed);
    unlock_slot(s);
    if (!t.valid_index(d) || d == self) return EDVSBADSRCDST;
    if (int rc = lock_pair(t, self, d); rc != 0) return rc;
    bool done = false;
    int result = EDVSTIMEDOUT;
    if (s.wake.load(std::memory_order_acquire) != 0) {
      result = s.result.load(kRelaxed);
      done = true;
    } else if ((s.flags.load(kRelaxed) & DVS_SENDING) && s.sendto.load(kRelaxed) == d) {
      unlink(t, d, self);
      s.flags.store(s.flags.load(kRelaxed) & ~kBlockedMask, kRelaxed);
      s.sendto.store(kNoSlot, kRelaxed);
      s.getfrom.store(DVS_NONE, kRelaxed);
      s.wake.store(1, kRelaxed);
      done = true;
    }
    unlock_pair(t, self, d);
    if (done) return result;
  }
}

// Releases nothing; waits for the wake set up under the lock, then returns the call's result.
int block(Caller& c, Deadline deadline) {
  Slot& s = c.table->slot(c.index);
  if (wait_woken(s, c.wait_mode, c.spin_ns, deadline)) return s.result.load(std::memory_order_acquire);
  return cancel_wait(*c.table, c.index);
}

}  // namespace dvs::core
