// Helpers on slots shared by the primitives (primitives.cpp) and remote IPC (remote*.cpp).
#include "core/ipc/slot_ops.hpp"

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

namespace {

// The caller could not take a lock it needs to cancel its wait (rc: the lock error). Abandons the
// call (waiter.hpp) unless it completed, or a waker that claimed it completes it within about the
// lock bound: then its result.
int abandon_wait(Slot& s, int rc) {
  for (int i = 0; i < 2000; ++i) {
    uint32_t w = s.wake.load(std::memory_order_acquire);
    if (w == kWakeDone) return s.result.load(kRelaxed);
    if (w == kWakeAbandoned) return rc;
    if (w == kWakeWaiting) {
      if (s.wake.compare_exchange_strong(w, kWakeAbandoned, std::memory_order_acq_rel)) return rc;
      continue;
    }
    timespec ms{0, 1'000'000};
    nanosleep(&ms, nullptr);  // claimed: a waker holding our lock is completing the call
  }
  return rc;
}

// Clears the blocked state of slot self (locked) and marks its call done.
void clear_wait(Slot& s) {
  s.flags.store(s.flags.load(kRelaxed) & ~kBlockedMask, kRelaxed);
  s.sendto.store(kNoSlot, kRelaxed);
  s.getfrom.store(DVS_NONE, kRelaxed);
  s.wake.store(kWakeDone, std::memory_order_release);
}

// Takes slot self out of whatever it waits in (a call still waiting, or one its owner abandoned).
// Returns `code`, or the call's result if it completed meanwhile. *lock_error: a lock could not be
// taken (the call is then abandoned, see abandon_wait).
int take_out_of_wait(DcTable& t, int self, int code, bool* lock_error) {
  Slot& s = t.slot(self);
  *lock_error = false;
  for (;;) {
    if (int rc = lock_slot(s); rc != 0) {
      *lock_error = true;
      return abandon_wait(s, rc);
    }
    // Under our lock the word is waiting, done or abandoned (a claim lives only inside a waker's
    // critical section).
    if (s.wake.load(std::memory_order_acquire) == kWakeDone) {
      unlock_slot(s);
      return s.result.load(kRelaxed);
    }
    const int d = s.sendto.load(kRelaxed);
    if ((s.flags.load(kRelaxed) & DVS_SENDING) == 0 || !t.valid_index(d) || d == self) {
      clear_wait(s);
      unlock_slot(s);
      return code;
    }
    unlock_slot(s);
    if (int rc = lock_pair(t, self, d); rc != 0) {
      *lock_error = true;
      return abandon_wait(s, rc);
    }
    int result = code;
    bool finished = false;
    if (s.wake.load(std::memory_order_acquire) == kWakeDone) {
      result = s.result.load(kRelaxed);
      finished = true;
    } else if ((s.flags.load(kRelaxed) & DVS_SENDING) && s.sendto.load(kRelaxed) == d) {
      unlink(t, d, self);
      clear_wait(s);
      finished = true;
    }
    unlock_pair(t, self, d);
    if (finished) return result;
  }
}

}  // namespace

int cancel_wait(DcTable& t, int self, int code) {
  bool lock_error = false;
  return take_out_of_wait(t, self, code, &lock_error);
}

int enter_call_slow(Caller& c) {
  if (!c.table->dvsd_alive()) return EDVSDVSINIT;
  Slot& s = c.table->slot(c.index);
  if (!still_bound(s, c.endpoint)) return EDVSNOTBIND;
  if (s.wake.load(std::memory_order_acquire) == kWakeDone) return 0;
  // The previous call was abandoned (or completed after its owner left): clear it first. A late
  // completion's result is dropped: the caller was told that call failed.
  bool lock_error = false;
  int rc = take_out_of_wait(*c.table, c.index, 0, &lock_error);
  return lock_error ? rc : 0;
}

int block(Caller& c, Deadline deadline) {
  Slot& s = c.table->slot(c.index);
  const WaitEnd end = c.links ? c.links->wait(*c.table, s, c.wait_mode, c.spin_ns, deadline)
                              : wait_woken(*c.table, s, c.wait_mode, c.spin_ns, deadline);
  switch (end) {
    case WaitEnd::kWoken:
      return s.result.load(std::memory_order_acquire);
    case WaitEnd::kInterrupted:
      return cancel_wait(*c.table, c.index, EDVSINTR);
    case WaitEnd::kLinkDown:
      return cancel_wait(*c.table, c.index, EDVSNOTCONN);
    case WaitEnd::kDvsdGone:
      return cancel_wait(*c.table, c.index, EDVSDVSINIT);
    case WaitEnd::kTimedOut:
      break;
  }
  return cancel_wait(*c.table, c.index, EDVSTIMEDOUT);
}

}  // namespace dvs::core
