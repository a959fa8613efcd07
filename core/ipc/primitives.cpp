#include "core/ipc/primitives.hpp"

#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/ipc/remote.hpp"
#include "core/ipc/slot_ops.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::core {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;

// ---------- the receive-side match, shared by receive and by the end of a vcopy ----------
constexpr int kNothing = 1;  // internal: nothing matched

// With r locked: takes a pending notification or the first matching queued sender for a
// receive(src) by slot r, writing the message to *out. Returns 0, kNothing, EDVSAGAIN (back off:
// unlock r, lock_pair(r, *backoff_with) unless it is kNoSlot, retry) or an error for a corrupt
// queue. A queued local sender whose owner abandoned its call (waiter.hpp) leaves the queue
// without its message being delivered (EDVSAGAIN with kNoSlot: look again).
// A remote surrogate's plain send taken: its SEND_ACK is owed. With owed != nullptr it is left
// there for the caller to send once its locks are released (send_owed_ack), else queued for the
// proxy now.
int take_for_receiver(DcTable& t, int r, int src, dvs_message_t* out, int* backoff_with, OwedAck* owed) {
  Slot& rs = t.slot(r);
  int src_index = kNoSlot;
  if (src != DVS_ANY && index_of_endpoint(t, src, &src_index) != 0) return EDVSENDPOINT;
  // (1) pending notifications first, lowest slot index first.
  for (int w = 0; w < kMaxSlots / 64; ++w) {
    uint64_t bits = rs.notify_pending[w].load(kRelaxed);
    if (src_index != kNoSlot) bits &= (src_index / 64 == w) ? (uint64_t{1} << (src_index % 64)) : 0;
    if (bits == 0) continue;
    int from = w * 64 + __builtin_ctzll(bits);
    rs.notify_pending[w].fetch_and(~(uint64_t{1} << (from % 64)), kRelaxed);
    if (!t.valid_index(from)) return EDVSBADSRCDST;
    build_notify(t, from, out);
    return 0;
  }
  // (2) the sender queue, FIFO, first sender matching src.
  int q = rs.q_head.load(kRelaxed);
  for (int steps = 0; q != kNoSlot; ++steps) {
    if (!t.valid_index(q) || steps > t.geometry().nr_slots()) return EDVSBADSRCDST;
    if (src == DVS_ANY || q == src_index) break;
    q = t.slot(q).q_next.load(kRelaxed);
  }
  if (q == kNoSlot) return kNothing;
  int rc = lock_second(t, r, q);
  if (rc == EDVSAGAIN) {
    *backoff_with = q;
    return EDVSAGAIN;
  }
  if (rc != 0) return rc;
  Slot& qs = t.slot(q);
  if (!unlink(t, r, q)) {
    unlock_slot(qs);
    return EDVSBADSRCDST;
  }
  uint32_t f = qs.flags.load(kRelaxed) & ~DVS_SENDING;
  qs.flags.store(f, kRelaxed);
  qs.sendto.store(kNoSlot, kRelaxed);
  const bool local = !is_remote(qs);
  if (local && qs.wake.load(kRelaxed) != kWakeWaiting) {  // abandoned: not delivered
    unlock_slot(qs);
    *backoff_with = kNoSlot;
    return EDVSAGAIN;
  }
  *out = qs.msg;
  bool need_ring = false;
  if ((f & DVS_RECEIVING) == 0) {  // plain send: the rendezvous completes the sender's call now
    if (!local && owed) {
      *owed = OwedAck{q, qs.node.load(kRelaxed), qs.endpoint.load(kRelaxed), rs.endpoint.load(kRelaxed),
                      qs.op_seq.load(kRelaxed)};
    } else if (!local) {
      queue_remote_answer(t, q, kCmdSend, DVS_OK, rs.endpoint.load(kRelaxed));  // its node's proxy owes a SEND_ACK
    } else if (!complete_call(qs, DVS_OK, &need_ring)) {  // abandoned just now: not delivered
      unlock_slot(qs);
      *backoff_with = kNoSlot;
      return EDVSAGAIN;
    }
  }
  unlock_slot(qs);
  if (need_ring) ring(qs);
  return 0;
}

// ---------- deadlock detection (beyond the original) ----------

// Follows "waits for" edges from `start`: SENDING -> its destination, RECEIVING from one
// endpoint -> that endpoint. True if the walk returns to `self`. Lock-free peek.
bool closes_cycle(DcTable& t, int self, int start, std::vector<int>* members) {
  int x = start;
  members->clear();
  for (int steps = 0; steps <= t.geometry().nr_slots(); ++steps) {
    if (x == self) return true;
    if (!t.valid_index(x)) return false;
    members->push_back(x);
    Slot& s = t.slot(x);
    uint32_t f = s.flags.load(std::memory_order_acquire);
    if (f & DVS_SLOT_FREE) return false;
    if (f & DVS_SENDING) {
      x = s.sendto.load(kRelaxed);
    } else if (f & DVS_RECEIVING) {
      int g = s.getfrom.load(kRelaxed);
      if (g == DVS_ANY || index_of_endpoint(t, g, &x) != 0) return false;
    } else {
      return false;
    }
  }
  return false;
}

// Could s be a link of a wait-for chain (blocked sending, or receiving from one endpoint)?
bool waits_on_someone(Slot& s) {
  uint32_t f = s.flags.load(std::memory_order_seq_cst);
  if (f & DVS_SLOT_FREE) return false;
  if (f & DVS_SENDING) return true;
  return (f & DVS_RECEIVING) && s.getfrom.load(kRelaxed) != DVS_ANY;
}

// Called with `start` locked (and self running, or locked), after self published its wait.
// Returns EDVSLOCKED if blocking would deadlock, 0 if not, EDVSAGAIN if it could not be verified
// now (retry). The verdict is taken under the table's cycle_lock with every other member locked,
// and on EDVSLOCKED `withdraw` (which must undo self's published wait) runs before that lock is
// released: of callers closing one cycle at the same moment (each holding the next one's lock,
// as in two processes sending to each other), the first to get the cycle_lock is refused and
// withdraws; the others then find no cycle and block as usual.
template <typename Withdraw>
int check_deadlock(DcTable& t, int self, int start, Withdraw&& withdraw) {
  std::vector<int> members;
  if (!closes_cycle(t, self, start, &members)) return 0;
  if (lock_cycle(t) != 0) return EDVSAGAIN;
  std::vector<int> taken;
  auto release = [&] {
    for (int x : taken) unlock_slot(t.slot(x));
    unlock_cycle(t);
  };
  for (int m : members) {
    if (m == start || m == self) continue;
    if (trylock_slot(t.slot(m)) != 0) {
      release();
      return EDVSAGAIN;
    }
    taken.push_back(m);
  }
  std::vector<int> again;
  bool cycle = closes_cycle(t, self, start, &again) && again == members;
  if (cycle) withdraw();
  release();
  return cycle ? EDVSLOCKED : 0;
}

// ---------- send and sendrec share one path ----------
// Only the destination is locked: the caller's own state is written while it runs (see the
// locking contract in shm_table.hpp), so the fast path costs one lock.
int do_send(Caller& c, int dst_ep, dvs_message_t* m, long timeout_ms, bool then_receive) {
  DcTable& t = *c.table;
  if (int rc = enter_call(c); rc != 0) return rc;
  if (dst_ep == c.endpoint || dst_ep == DVS_SELF) return EDVSENDPOINT;
  int d = kNoSlot;
  if (int rc = index_of_endpoint(t, dst_ep, &d); rc != 0) return rc;
  if (d == c.index) return EDVSENDPOINT;
  Slot& self = t.slot(c.index);
  Slot& ds = t.slot(d);
  if (!may_send_to(t, self, d)) return EDVSTRAPDENIED;
  Deadline deadline = Deadline::after_ms(timeout_ms);
  m->m_source = c.endpoint;
  for (int attempt = 0;; ++attempt) {
    if (int rc = lock_slot(ds); rc != 0) return rc;
    if (int rc = check_bound(ds, dst_ep, EDVSDSTDIED); rc != 0) {
      unlock_slot(ds);
      return rc;
    }
    if (is_remote(ds)) {  // the destination lives on another node: its proxy carries the call
      unlock_slot(ds);
      return remote_call(c, d, dst_ep, then_receive ? kCmdSendrec : kCmdSend, m, timeout_ms);
    }
    if (receptive(ds, c.endpoint)) {  // rendezvous now: copy straight into the receiver's slot
      const uint32_t before = self.flags.load(kRelaxed);
      if (then_receive) {  // become a receiver of dst before dst can run and reply
        self.getfrom.store(dst_ep, kRelaxed);
        self.wake.store(kWakeWaiting, kRelaxed);
        self.flags.store(before | DVS_RECEIVING, std::memory_order_release);
      }
      ds.msg = *m;
      ds.getfrom.store(DVS_NONE, kRelaxed);
      ds.flags.store(ds.flags.load(kRelaxed) & ~DVS_RECEIVING, kRelaxed);
      bool need_ring = false;
      if (complete_call(ds, DVS_OK, &need_ring)) {
        unlock_slot(ds);
        if (need_ring) ring(ds);
        bump(self.lclsent, 1);
        if (!then_receive) return DVS_OK;
        int rc = block(c, deadline);
        if (rc == DVS_OK) *m = self.msg;
        return rc;
      }
      // The receiver abandoned its call this instant: it takes nothing; queue as for a busy one.
      if (then_receive) {
        self.flags.store(before, kRelaxed);
        self.getfrom.store(DVS_NONE, kRelaxed);
        self.wake.store(kWakeDone, kRelaxed);
      }
    }
    if (timeout_ms == DVS_TIMEOUT_NOWAIT) {
      unlock_slot(ds);
      return EDVSTIMEDOUT;
    }
    // Publish that we block sending to d (the receiver copies from our slot's buffer), then
    // peek at d: only a blocked d can lead back to us. Publish-then-peek on both sides means of
    // two processes closing a cycle at the same time at least one sees the other.
    self.msg = *m;
    self.sendto.store(d, kRelaxed);
    self.getfrom.store(then_receive ? dst_ep : DVS_NONE, kRelaxed);
    self.wake.store(kWakeWaiting, kRelaxed);
    uint32_t before = self.flags.load(kRelaxed);
    self.flags.store(before | DVS_SENDING | (then_receive ? DVS_RECEIVING : 0u), std::memory_order_seq_cst);
    if (waits_on_someone(ds)) {
      auto withdraw = [&] {  // nobody acts on a sender that is not in a queue yet
        self.flags.store(before, kRelaxed);
        self.sendto.store(kNoSlot, kRelaxed);
        self.getfrom.store(DVS_NONE, kRelaxed);
        self.wake.store(kWakeDone, kRelaxed);
      };
      int dl = check_deadlock(t, c.index, d, withdraw);
      if (dl != 0) {
        withdraw();
        unlock_slot(ds);
        if (dl == EDVSAGAIN && attempt < 1000) {
          sched_yield();
          continue;
        }
        if (dl == EDVSAGAIN) return EDVSBUSY;  // could not verify: report contention, not a deadlock
        return dl;
      }
    }
    enqueue(t, d, c.index);
    unlock_slot(ds);
    int rc = block(c, deadline);
    if (rc == DVS_OK) {
      bump(self.lclsent, 1);
      if (then_receive) *m = self.msg;
    }
    return rc;
  }
}

int do_receive(Caller& c, int src_ep, dvs_message_t* m, long timeout_ms) {
  DcTable& t = *c.table;
  if (int rc = enter_call(c); rc != 0) return rc;
  Slot& self = t.slot(c.index);
  int src_index = kNoSlot;
  if (src_ep != DVS_ANY) {
    if (src_ep == c.endpoint || src_ep == DVS_SELF) return EDVSENDPOINT;
    if (int rc = index_of_endpoint(t, src_ep, &src_index); rc != 0) return rc;
  }
  Deadline deadline = Deadline::after_ms(timeout_ms);
  // Calls that already arrived on the caller's own links queue now, behind the local senders
  // already queued (a receive that blocks reads them as it waits; one that may not block, or that
  // would take a queued local sender first, looks now).
  if (c.links && (timeout_ms == DVS_TIMEOUT_NOWAIT || self.q_head.load(kRelaxed) != kNoSlot)) c.links->poll_now(t);
  for (int attempt = 0;; ++attempt) {
    if (int rc = lock_slot(self); rc != 0) return rc;
    if (src_ep == DVS_ANY && (self.misc.load(kRelaxed) & kMiscWokenUp)) {
      self.misc.fetch_and(~kMiscWokenUp, kRelaxed);
      unlock_slot(self);
      return EDVSWOKENUP;
    }
    int backoff = kNoSlot;
    OwedAck owed;
    int rc = take_for_receiver(t, c.index, src_ep, m, &backoff, &owed);
    if (owed.surrogate != kNoSlot) {  // rc == 0: a remote sender's message taken
      unlock_slot(self);
      send_owed_ack(t, owed, c.links);
      return rc;
    }
    if (rc == EDVSAGAIN) {
      unlock_slot(self);
      if (backoff == kNoSlot) continue;  // an abandoned sender left the queue: look again
      // Take both in order, then drop the other: the next pass will get it by trylock or in order.
      if (int lr = lock_pair(t, c.index, backoff); lr != 0) return lr;
      unlock_pair(t, c.index, backoff);
      continue;
    }
    if (rc != kNothing) {
      unlock_slot(self);
      return rc;
    }
    if (src_index != kNoSlot) {
      // The awaited source must be alive, except a well-known system endpoint (generation 0),
      // which may be waited for before it binds (a server restarting, a client racing its server).
      Slot& ss = t.slot(src_index);
      int br = check_bound(ss, src_ep, EDVSSRCDIED);
      bool well_known_free = br != 0 && is_free(ss) && t.geometry().is_system_index(src_index);
      if (br != 0 && !well_known_free) {
        unlock_slot(self);
        return br;
      }
    }
    if (timeout_ms == DVS_TIMEOUT_NOWAIT) {
      unlock_slot(self);
      return EDVSTIMEDOUT;
    }
    self.getfrom.store(src_ep, kRelaxed);
    self.wake.store(kWakeWaiting, kRelaxed);
    uint32_t before = self.flags.load(kRelaxed);
    // seq_cst only where the publish-then-peek deadlock check needs it (a specific source).
    self.flags.store(before | DVS_RECEIVING,
                     src_index != kNoSlot ? std::memory_order_seq_cst : std::memory_order_release);
    if (src_index != kNoSlot && waits_on_someone(t.slot(src_index))) {
      // Waiting for a blocked source: make sure it does not wait (transitively) for us. Our own
      // lock is held, so nobody can deliver to us while we look or undo.
      auto withdraw = [&] {
        self.flags.store(before, kRelaxed);
        self.getfrom.store(DVS_NONE, kRelaxed);
        self.wake.store(kWakeDone, kRelaxed);
      };
      int dl = lock_second(t, c.index, src_index);
      if (dl == 0) {
        dl = check_deadlock(t, c.index, src_index, withdraw);
        unlock_slot(t.slot(src_index));
      }
      if (dl != 0) {
        withdraw();
        unlock_slot(self);
        if (dl == EDVSAGAIN && attempt < 1000) {
          if (lock_pair(t, c.index, src_index) == 0) unlock_pair(t, c.index, src_index);
          sched_yield();
          continue;
        }
        return dl == EDVSAGAIN ? EDVSBUSY : dl;
      }
    }
    unlock_slot(self);
    rc = block(c, deadline);
    if (rc == DVS_OK) *m = self.msg;
    return rc;
  }
}

// ---------- vcopy ----------
int pid_of(Slot& s) { return s.lpid.load(kRelaxed); }

long copy_between(pid_t src_pid, const void* src_addr, pid_t dst_pid, void* dst_addr, size_t bytes) {
  pid_t me = getpid();
  if (src_pid == me && dst_pid == me) {
    std::memmove(dst_addr, src_addr, bytes);
    return static_cast<long>(bytes);
  }
  size_t done = 0;
  auto fail = [](int e) -> long {
    if (e == EFAULT) return EDVSFAULT;
    if (e == ESRCH) return EDVSDEADSRCDST;
    if (e == EPERM) return EDVSPERM;
    return EDVSIO;
  };
  if (src_pid == me || dst_pid == me) {
    while (done < bytes) {
      iovec local{}, remote{};
      ssize_t n;
      if (src_pid == me) {
        local = {const_cast<char*>(static_cast<const char*>(src_addr)) + done, bytes - done};
        remote = {static_cast<char*>(dst_addr) + done, bytes - done};
        n = process_vm_writev(dst_pid, &local, 1, &remote, 1, 0);
      } else {
        local = {static_cast<char*>(dst_addr) + done, bytes - done};
        remote = {const_cast<char*>(static_cast<const char*>(src_addr)) + done, bytes - done};
        n = process_vm_readv(src_pid, &local, 1, &remote, 1, 0);
      }
      if (n <= 0) return fail(n < 0 ? errno : EFAULT);
      done += static_cast<size_t>(n);
    }
    return static_cast<long>(bytes);
  }
  // Third party: through a bounce buffer (two copies; the kernel has no remote-to-remote copy).
  std::vector<char> bounce(std::min<size_t>(bytes, 64 * 1024));
  while (done < bytes) {
    size_t chunk = std::min(bounce.size(), bytes - done);
    iovec l{bounce.data(), chunk};
    iovec r{const_cast<char*>(static_cast<const char*>(src_addr)) + done, chunk};
    ssize_t n = process_vm_readv(src_pid, &l, 1, &r, 1, 0);
    if (n <= 0) return fail(n < 0 ? errno : EFAULT);
    size_t got = static_cast<size_t>(n), put = 0;
    while (put < got) {
      iovec l2{bounce.data() + put, got - put};
      iovec r2{static_cast<char*>(dst_addr) + done + put, got - put};
      ssize_t w = process_vm_writev(dst_pid, &l2, 1, &r2, 1, 0);
      if (w <= 0) return fail(w < 0 ? errno : EFAULT);
      put += static_cast<size_t>(w);
    }
    done += got;
  }
  return static_cast<long>(bytes);
}

int lock_sorted(DcTable& t, const std::vector<int>& idx) {
  for (size_t i = 0; i < idx.size(); ++i) {
    if (int rc = lock_slot(t.slot(idx[i])); rc != 0) {
      for (size_t j = 0; j < i; ++j) unlock_slot(t.slot(idx[j]));
      return rc;
    }
  }
  return 0;
}

void unlock_all(DcTable& t, const std::vector<int>& idx) {
  for (int i : idx) unlock_slot(t.slot(i));
}

// With the slot locked and blocked receiving (and no longer ONCOPY): deliver whatever arrived
// meanwhile. Senders that queued during the copy would otherwise wait for a receive that
// already started.
void complete_pending_receive(DcTable& t, int r) {
  for (int tries = 0; tries < 1000; ++tries) {
    if (lock_slot(t.slot(r)) != 0) return;
    Slot& rs = t.slot(r);
    uint32_t f = rs.flags.load(kRelaxed);
    if ((f & DVS_RECEIVING) == 0 || (f & (DVS_SENDING | DVS_ONCOPY | DVS_SLOT_FREE))) {
      unlock_slot(rs);
      return;
    }
    // Claimed before taking: a sender's call is completed only if the receive can take its message.
    if (!claim_call(rs)) {
      unlock_slot(rs);
      return;
    }
    int backoff = kNoSlot;
    dvs_message_t got;
    int rc = take_for_receiver(t, r, rs.getfrom.load(kRelaxed), &got, &backoff, nullptr);
    bool need_ring;
    if (rc == 0) {
      rs.msg = got;
      rs.getfrom.store(DVS_NONE, kRelaxed);
      rs.flags.store(f & ~DVS_RECEIVING, kRelaxed);
      need_ring = publish_call(rs, DVS_OK);
    } else {
      need_ring = unclaim_call(rs);
    }
    unlock_slot(rs);
    if (need_ring) ring(rs);
    if (rc != EDVSAGAIN) return;
    if (backoff != kNoSlot && lock_pair(t, r, backoff) == 0) unlock_pair(t, r, backoff);
  }
}
}  // namespace

int ipc_send(Caller& c, int dst_ep, dvs_message_t* m, long timeout_ms) {
  return do_send(c, dst_ep, m, timeout_ms, false);
}

int ipc_sendrec(Caller& c, int dst_ep, dvs_message_t* m, long timeout_ms) {
  return do_send(c, dst_ep, m, timeout_ms, true);
}

int ipc_receive(Caller& c, int src_ep, dvs_message_t* m, long timeout_ms) {
  return do_receive(c, src_ep, m, timeout_ms);
}

int ipc_rcvrqst(Caller& c, dvs_message_t* m, long timeout_ms) {
  if (!c.table->geometry().is_system_index(c.index)) return EDVSPRIVILEGES;
  return do_receive(c, DVS_ANY, m, timeout_ms);
}

int ipc_reply(Caller& c, int dst_ep, dvs_message_t* m, long timeout_ms /* only remote replies block */) {
  DcTable& t = *c.table;
  if (int rc = enter_call(c); rc != 0) return rc;
  if (!t.geometry().is_system_index(c.index)) return EDVSPRIVILEGES;
  if (dst_ep == c.endpoint || dst_ep == DVS_SELF) return EDVSENDPOINT;
  int d = kNoSlot;
  if (int rc = index_of_endpoint(t, dst_ep, &d); rc != 0) return rc;
  Slot& self = t.slot(c.index);
  if (!may_send_to(t, self, d)) return EDVSTRAPDENIED;
  Slot& ds = t.slot(d);
  m->m_source = c.endpoint;
  if (int rc = lock_slot(ds); rc != 0) return rc;
  int rc = check_bound(ds, dst_ep, EDVSDSTDIED);
  if (rc == 0 && is_remote(ds)) {
    unlock_slot(ds);
    return remote_call(c, d, dst_ep, kCmdReply, m, timeout_ms);
  }
  if (rc == 0 && !awaits_reply_from(ds, c.endpoint)) rc = EDVSPROCSTS;
  bool need_ring = false;
  if (rc == 0) {
    ds.msg = *m;
    ds.getfrom.store(DVS_NONE, kRelaxed);
    ds.flags.store(ds.flags.load(kRelaxed) & ~DVS_RECEIVING, kRelaxed);
    if (!complete_call(ds, DVS_OK, &need_ring)) rc = EDVSPROCSTS;  // it abandoned the wait
  }
  unlock_slot(ds);
  if (need_ring) ring(ds);
  if (rc == 0) bump(self.lclsent, 1);
  return rc;
}

int ipc_notify(Caller& c, int dst_ep) {
  DcTable& t = *c.table;
  if (int rc = enter_call(c); rc != 0) return rc;
  if (dst_ep == c.endpoint || dst_ep == DVS_SELF) return EDVSENDPOINT;
  int d = kNoSlot;
  if (int rc = index_of_endpoint(t, dst_ep, &d); rc != 0) return rc;
  Slot& self = t.slot(c.index);
  if (!may_send_to(t, self, d)) return EDVSTRAPDENIED;
  Slot& ds = t.slot(d);
  if (int rc = lock_slot(ds); rc != 0) return rc;
  int rc = check_bound(ds, dst_ep, EDVSDSTDIED);
  if (rc == 0 && is_remote(ds)) {  // released when the proxy picks it up, as in the original
    unlock_slot(ds);
    dvs_message_t m{};
    return remote_call(c, d, dst_ep, kCmdNotify, &m, 30'000);
  }
  // Still bound, checked under the destination's lock: unbinding drops the pending bits of a
  // departing process slot by slot under each slot's lock, so none is set after that.
  if (rc == 0 && !still_bound(self, c.endpoint)) rc = EDVSNOTBIND;
  bool need_ring = false;
  if (rc == 0) deliver_notify(t, ds, c.index, c.endpoint, &need_ring);
  unlock_slot(ds);
  if (need_ring) ring(ds);
  if (rc == 0) bump(self.lclsent, 1);
  return rc;
}

long ipc_vcopy(Caller& c, int src_ep, const void* src_addr, int dst_ep, void* dst_addr, size_t bytes) {
  DcTable& t = *c.table;
  if (int rc = enter_call(c); rc != 0) return rc;
  if (!t.geometry().is_system_index(c.index)) return EDVSPRIVILEGES;
  if (bytes > static_cast<size_t>(t.geometry().max_copylen)) return EDVSRANGE;
  if (bytes == 0) return 0;
  if (src_ep == DVS_SELF) src_ep = c.endpoint;
  if (dst_ep == DVS_SELF) dst_ep = c.endpoint;
  int s = c.index, d = c.index;
  if (src_ep != c.endpoint) {
    if (int rc = index_of_endpoint(t, src_ep, &s); rc != 0) return rc;
  }
  if (dst_ep != c.endpoint) {
    if (int rc = index_of_endpoint(t, dst_ep, &d); rc != 0) return rc;
  }
  // A remote party: the proxy of its node moves the data. Both remote: this node's proxy relays
  // the chunks (pulls them from the source's node, pushes them to the destination's node).
  bool src_remote = s != c.index && is_remote(t.slot(s));
  bool dst_remote = d != c.index && is_remote(t.slot(d));
  if (src_remote || dst_remote) {
    int local_party = src_remote ? d : s;
    if (!(src_remote && dst_remote) && local_party != c.index) {  // blocked receiving (rechecked by the proxy)
      Slot& lp = t.slot(local_party);
      uint32_t f = lp.flags.load(std::memory_order_acquire);
      if ((f & DVS_RECEIVING) == 0 || (f & DVS_SENDING)) return EDVSPROCSTS;
    }
    int node = t.slot(src_remote ? s : d).node.load(kRelaxed);
    return remote_vcopy(c, node,
                        VcopyRequest{src_ep, dst_ep, reinterpret_cast<uint64_t>(src_addr),
                                     reinterpret_cast<uint64_t>(dst_addr), static_cast<uint64_t>(bytes)});
  }
  std::vector<int> parties{c.index, s, d};
  std::sort(parties.begin(), parties.end());
  parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
  if (int rc = lock_sorted(t, parties); rc != 0) return rc;
  int rc = 0;
  for (int p : parties) {
    if (p == c.index) continue;
    Slot& ps = t.slot(p);
    int ep = p == s ? src_ep : dst_ep;
    rc = check_bound(ps, ep, p == s ? EDVSSRCDIED : EDVSDSTDIED);
    if (rc != 0) break;
    uint32_t f = ps.flags.load(kRelaxed);
    if (f & DVS_ONCOPY) {
      rc = EDVSBUSY;
      break;
    }
    if ((f & DVS_RECEIVING) == 0 || (f & DVS_SENDING)) {
      rc = EDVSPROCSTS;
      break;
    }
  }
  pid_t src_pid = pid_of(t.slot(s)), dst_pid = pid_of(t.slot(d));
  if (rc == 0) {
    for (int p : parties)
      if (p != c.index) t.slot(p).flags.fetch_or(DVS_ONCOPY, kRelaxed);
  }
  unlock_all(t, parties);
  if (rc != 0) return rc;
  long copied = copy_between(src_pid, src_addr, dst_pid, dst_addr, bytes);
  for (int p : parties) {
    if (p == c.index) continue;
    if (lock_slot(t.slot(p)) == 0) {
      t.slot(p).flags.fetch_and(~DVS_ONCOPY, kRelaxed);
      unlock_slot(t.slot(p));
    }
    complete_pending_receive(t, p);
  }
  if (copied > 0) bump(t.slot(c.index).lclcopy, static_cast<uint64_t>(copied));
  return copied;
}

int ipc_wakeup(DcTable& t, int ep) {
  int x = kNoSlot;
  if (int rc = index_of_endpoint(t, ep, &x); rc != 0) return rc;
  Slot& s = t.slot(x);
  for (;;) {
    if (int rc = lock_slot(s); rc != 0) return rc;
    if (int rc = check_bound(s, ep, EDVSDSTDIED); rc != 0) {
      unlock_slot(s);
      return rc;
    }
    uint32_t f = s.flags.load(kRelaxed);
    if ((f & kBlockedMask) == 0 || s.wake.load(kRelaxed) != 0) {
      s.misc.fetch_or(kMiscWokenUp, kRelaxed);  // not blocked: its next receive(ANY) fails
      unlock_slot(s);
      return DVS_OK;
    }
    int d = (f & DVS_SENDING) ? s.sendto.load(kRelaxed) : kNoSlot;
    if (d != kNoSlot) {
      unlock_slot(s);
      if (!t.valid_index(d) || d == x) return EDVSBADSRCDST;
      if (int rc = lock_pair(t, x, d); rc != 0) return rc;
      if (!(s.flags.load(kRelaxed) & DVS_SENDING) || s.sendto.load(kRelaxed) != d) {
        unlock_pair(t, x, d);
        continue;
      }
      unlink(t, d, x);
    }
    bool need_ring = end_wait_with(s, EDVSWOKENUP);
    if (d != kNoSlot)
      unlock_pair(t, x, d);
    else
      unlock_slot(s);
    if (need_ring) ring(s);
    return DVS_OK;
  }
}

}  // namespace dvs::core
