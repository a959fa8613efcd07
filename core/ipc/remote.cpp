#include "core/ipc/remote.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <vector>

#include "core/ipc/slot_ops.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::core {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;

long futex(std::atomic<uint32_t>* addr, int op, uint32_t val, const timespec* ts) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), op, val, ts, nullptr, 0);
}

bool proxy_up(Slot& p) { return (p.misc.load(kRelaxed) & kMiscProxyUp) != 0; }

// A local caller that waits for node's proxy: its op and how far it got.
bool waits_on_node(DcTable& t, Slot& s, int node) {
  if (s.wake.load(std::memory_order_acquire) != 0 || is_remote(s) || is_free(s)) return false;
  uint32_t f = s.flags.load(kRelaxed);
  if ((f & DVS_SENDING) && s.sendto.load(kRelaxed) == t.geometry().proxy_index(node)) return true;
  if ((f & DVS_RECEIVING) && !(f & DVS_SENDING)) {
    int g = s.getfrom.load(kRelaxed), gi = kNoSlot;
    if (g == DVS_ANY || index_of_endpoint(t, g, &gi) != 0) return false;
    Slot& src = t.slot(gi);
    return is_remote(src) && src.node.load(kRelaxed) == node;
  }
  return false;
}
// Takes surrogate e out of whatever it waits in (its remote caller moved on).
void abandon_surrogate_op(DcTable& t, int e) {
  Slot& es = t.slot(e);
  int d = es.sendto.load(kRelaxed);
  if ((es.flags.load(kRelaxed) & DVS_SENDING) && t.valid_index(d) && d != e && lock_pair(t, e, d) == 0) {
    unlink(t, d, e);
    es.flags.store(es.flags.load(kRelaxed) & ~kBlockedMask, kRelaxed);
    unlock_pair(t, e, d);
  }
  if (lock_slot(es) == 0) {
    es.flags.store(es.flags.load(kRelaxed) & ~kBlockedMask, kRelaxed);
    es.sendto.store(kNoSlot, kRelaxed);
    es.getfrom.store(DVS_NONE, kRelaxed);
    es.rmt_cmd.store(kCmdNone, kRelaxed);
    unlock_slot(es);
  }
}
}  // namespace

void ring_doorbell(DcTable& t) {
  TableHeader& h = t.header();
  h.doorbell.fetch_add(1, std::memory_order_seq_cst);
  if (h.dvsd_sleeping.load(std::memory_order_seq_cst) != 0) futex(&h.doorbell, FUTEX_WAKE, INT_MAX, nullptr);
}

void proxy_wait_doorbell(DcTable& t, uint32_t seen, int timeout_ms) {
  TableHeader& h = t.header();
  h.dvsd_sleeping.store(1, std::memory_order_seq_cst);
  if (h.doorbell.load(std::memory_order_seq_cst) == seen) {
    timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
    futex(&h.doorbell, FUTEX_WAIT, seen, timeout_ms < 0 ? nullptr : &ts);
  }
  h.dvsd_sleeping.store(0, std::memory_order_relaxed);
}

namespace {
std::atomic<DirectSender> g_direct_sender{nullptr};

// The direct path of remote_call, entered with ds (the REMOTE destination) and ps (its node's
// proxy slot) locked and checked: the caller is left in the state proxy_pop leaves a popped
// caller in (so ACKs, replies and a link going down complete it as on the proxy path), the locks
// are released, and the command goes out on the caller's own link. Notify and reply are done
// once sent (the direct path has no REPLY_ACK: the transport delivers or the link dies).
int direct_call(Caller& c, Slot& ds, Slot& ps, int node, int dst_ep, int cmd, dvs_message_t* m, Deadline deadline,
                DirectSender sender) {
  DcTable& t = *c.table;
  Slot& self = t.slot(c.index);
  const int p = t.geometry().proxy_index(node);
  DirectCommand dc;
  dc.node = node;
  dc.cmd = cmd;
  dc.src_ep = c.endpoint;
  dc.sender_links = c.links;
  dc.dst_ep = dst_ep;
  if (cmd == kCmdReply) {  // the reply consumes the remote client's wait here
    dc.ack_seq = ds.op_seq.load(kRelaxed);
    ds.getfrom.store(DVS_NONE, kRelaxed);
    ds.flags.store(ds.flags.load(kRelaxed) & ~DVS_RECEIVING, kRelaxed);
  }
  m->m_source = c.endpoint;
  dc.msg = *m;
  const bool waits = cmd == kCmdSend || cmd == kCmdSendrec;
  if (waits) {
    self.msg = *m;
    self.rmt_cmd.store(cmd, kRelaxed);
    self.rmt_dst.store(dst_ep, kRelaxed);
    self.op_seq.store(self.op_seq.load(kRelaxed) + 1, kRelaxed);
    dc.seq = self.op_seq.load(kRelaxed);
    self.sendto.store(p, kRelaxed);
    self.getfrom.store(cmd == kCmdSendrec ? dst_ep : DVS_NONE, kRelaxed);
    self.wake.store(kWakeWaiting, kRelaxed);
    self.flags.store(self.flags.load(kRelaxed) | (cmd == kCmdSendrec ? DVS_RECEIVING : DVS_SENDING),
                     std::memory_order_seq_cst);
  }
  unlock_slot(ps);
  unlock_slot(ds);
  int rc = sender(t, dc);
  if (!waits) {
    if (rc == 0) bump(self.lclsent, 1);
    return rc;
  }
  rc = rc == 0 ? block(c, deadline) : cancel_wait(t, c.index, rc);
  if (rc == DVS_OK) {
    bump(self.lclsent, 1);
    if (cmd == kCmdSendrec) *m = self.msg;
  }
  return rc;
}
}  // namespace

void set_direct_sender(DirectSender sender) { g_direct_sender.store(sender, std::memory_order_release); }

void send_owed_ack(DcTable& t, const OwedAck& a, LinkWaiter* receiver_links) {
  if (DirectSender sender = g_direct_sender.load(std::memory_order_acquire); sender && t.direct_to(a.node)) {
    DirectCommand dc;
    dc.node = a.node;
    dc.cmd = kCmdSend | kAck;
    dc.src_ep = a.src_ep;
    dc.dst_ep = a.dst_ep;
    dc.ack_seq = a.ack_seq;
    dc.sender_links = receiver_links;
    if (sender(t, dc) == 0) return;
  }
  Slot& s = t.slot(a.surrogate);
  if (lock_slot(s) != 0) return;  // the remote sender's own timeout covers a lost ACK
  if (is_remote(s) && s.endpoint.load(kRelaxed) == a.dst_ep && !(s.flags.load(kRelaxed) & kBlockedMask))
    queue_remote_answer(t, a.surrogate, kCmdSend, DVS_OK, a.src_ep);
  unlock_slot(s);
}

int remote_call(Caller& c, int dst_index, int dst_ep, int cmd, dvs_message_t* m, long timeout_ms) {
  DcTable& t = *c.table;
  Slot& self = t.slot(c.index);
  Slot& ds = t.slot(dst_index);
  Deadline deadline = Deadline::after_ms(timeout_ms);
  // Both locks in ascending order (the proxy slot comes after every endpoint slot).
  if (int rc = lock_slot(ds); rc != 0) return rc;
  int rc = check_bound(ds, dst_ep, EDVSDSTDIED);
  if (rc == 0 && !is_remote(ds)) rc = EDVSLCLPROC;  // re-bound locally meanwhile: caller retries
  int node = ds.node.load(kRelaxed);
  if (rc == 0 && (node < 0 || node >= DVS_NR_NODES)) rc = EDVSBADNODEID;
  if (rc == 0 && node == t.geometry().node_id) rc = EDVSBADNODEID;
  if (rc == 0 && !t.spans(node)) rc = EDVSNODCNODE;
  if (rc == 0 && cmd == kCmdReply && !awaits_reply_from(ds, c.endpoint)) rc = EDVSPROCSTS;
  int p = t.geometry().proxy_index(node);
  if (rc == 0) rc = lock_slot(t.slot(p));
  if (rc != 0) {
    unlock_slot(ds);
    return rc;
  }
  Slot& ps = t.slot(p);
  if (!proxy_up(ps)) {
    unlock_slot(ps);
    unlock_slot(ds);
    return EDVSNOTCONN;
  }
  if (DirectSender sender = g_direct_sender.load(std::memory_order_acquire); sender && t.direct_to(node))
    return direct_call(c, ds, ps, node, dst_ep, cmd, m, deadline, sender);
  if (cmd == kCmdReply) {  // the reply consumes the remote client's wait here
    ds.getfrom.store(DVS_NONE, kRelaxed);
    ds.flags.store(ds.flags.load(kRelaxed) & ~DVS_RECEIVING, kRelaxed);
  }
  m->m_source = c.endpoint;
  self.msg = *m;
  self.rmt_cmd.store(cmd, kRelaxed);
  self.rmt_dst.store(dst_ep, kRelaxed);
  self.op_seq.store(self.op_seq.load(kRelaxed) + 1, kRelaxed);
  self.sendto.store(p, kRelaxed);
  self.getfrom.store(cmd == kCmdSendrec ? dst_ep : DVS_NONE, kRelaxed);
  self.wake.store(kWakeWaiting, kRelaxed);
  self.flags.store(self.flags.load(kRelaxed) | DVS_SENDING | (cmd == kCmdSendrec ? DVS_RECEIVING : 0u),
                   std::memory_order_seq_cst);
  enqueue(t, p, c.index);
  unlock_slot(ps);
  unlock_slot(ds);
  ring_doorbell(t);
  rc = block(c, deadline);
  if (rc == DVS_OK) {
    bump(self.lclsent, 1);
    if (cmd == kCmdSendrec) *m = self.msg;
  }
  return rc;
}

void pack_vcopy(const VcopyRequest& v, dvs_message_t* m) {
  *m = dvs_message_t{};
  m->m_u.m4.m4l1 = v.src_ep;
  m->m_u.m4.m4l2 = v.dst_ep;
  m->m_u.m4.m4l3 = static_cast<int64_t>(v.src_addr);
  m->m_u.m4.m4l4 = static_cast<int64_t>(v.dst_addr);
  m->m_u.m4.m4l5 = static_cast<int64_t>(v.bytes);
}

VcopyRequest unpack_vcopy(const dvs_message_t& m) {
  return VcopyRequest{static_cast<int32_t>(m.m_u.m4.m4l1), static_cast<int32_t>(m.m_u.m4.m4l2),
                      static_cast<uint64_t>(m.m_u.m4.m4l3), static_cast<uint64_t>(m.m_u.m4.m4l4),
                      static_cast<uint64_t>(m.m_u.m4.m4l5)};
}

long remote_vcopy(Caller& c, int node, const VcopyRequest& v) {
  DcTable& t = *c.table;
  Slot& self = t.slot(c.index);
  if (node < 0 || node >= DVS_NR_NODES || node == t.geometry().node_id) return EDVSBADNODEID;
  if (!t.spans(node)) return EDVSNODCNODE;
  int p = t.geometry().proxy_index(node);
  Slot& ps = t.slot(p);
  if (int rc = lock_slot(ps); rc != 0) return rc;
  if (!proxy_up(ps)) {
    unlock_slot(ps);
    return EDVSNOTCONN;
  }
  pack_vcopy(v, &self.msg);
  self.rmt_cmd.store(kCmdVcopy, kRelaxed);
  self.rmt_dst.store(DVS_NONE, kRelaxed);
  self.op_seq.store(self.op_seq.load(kRelaxed) + 1, kRelaxed);
  self.sendto.store(p, kRelaxed);
  self.getfrom.store(DVS_NONE, kRelaxed);
  self.wake.store(kWakeWaiting, kRelaxed);
  self.flags.store(self.flags.load(kRelaxed) | DVS_SENDING, std::memory_order_seq_cst);
  enqueue(t, p, c.index);
  unlock_slot(ps);
  ring_doorbell(t);
  long rc = block(c, Deadline::after_ms(30'000));
  if (rc > 0) bump(self.lclcopy, static_cast<uint64_t>(rc));
  return rc;
}

int index_of_endpoint_public(DcTable& t, int ep, int* index) { return index_of_endpoint(t, ep, index); }

int proxy_copy_party(DcTable& t, int32_t ep, int32_t requester_ep, pid_t* pid) {
  int x = kNoSlot;
  if (int rc = index_of_endpoint(t, ep, &x); rc != 0) return rc;
  Slot& s = t.slot(x);
  if (int rc = lock_slot(s); rc != 0) return rc;
  int rc = check_bound(s, ep, EDVSDSTDIED);
  if (rc == 0 && is_remote(s)) rc = EDVSRMTPROC;
  uint32_t f = s.flags.load(kRelaxed);
  if (rc == 0 && ep != requester_ep && ((f & DVS_RECEIVING) == 0 || (f & DVS_SENDING))) rc = EDVSPROCSTS;
  if (rc == 0) *pid = s.lpid.load(kRelaxed);
  unlock_slot(s);
  return rc;
}

void queue_remote_answer(DcTable& t, int surrogate, int op, int result, int32_t local_ep) {
  Slot& s = t.slot(surrogate);
  int node = s.node.load(kRelaxed);
  if (node < 0 || node >= DVS_NR_NODES) return;
  int p = t.geometry().proxy_index(node);
  if (lock_slot(t.slot(p)) != 0) return;  // the remote sender's own timeout covers a lost ACK
  s.result.store(result, kRelaxed);
  s.rmt_cmd.store(op | kAck, kRelaxed);
  s.rmt_dst.store(local_ep, kRelaxed);
  s.flags.store(s.flags.load(kRelaxed) | DVS_SENDING, kRelaxed);  // queued (for the proxy)
  s.sendto.store(p, kRelaxed);
  enqueue(t, p, surrogate);
  unlock_slot(t.slot(p));
  ring_doorbell(t);
}

int proxy_pop(DcTable& t, int node, OutboundJob* job) {
  int p = t.geometry().proxy_index(node);
  Slot& ps = t.slot(p);
  for (int tries = 0; tries < 1000; ++tries) {
    int x = ps.q_head.load(std::memory_order_acquire);
    if (x == kNoSlot) return EDVSNOMSG;
    if (!t.valid_index(x) || t.geometry().is_proxy_index(x)) {
      if (lock_slot(ps) == 0) {  // corrupt queue head: reset it (its callers time out)
        ps.q_head.store(kNoSlot, kRelaxed);
        ps.q_tail.store(kNoSlot, kRelaxed);
        unlock_slot(ps);
      }
      return EDVSBADSRCDST;
    }
    if (lock_pair(t, x, p) != 0) return EDVSBUSY;
    Slot& xs = t.slot(x);
    if (ps.q_head.load(kRelaxed) != x) {  // changed while we were not holding the locks
      unlock_pair(t, x, p);
      continue;
    }
    unlink(t, p, x);
    *job = OutboundJob{};
    job->slot = x;
    job->cmd = xs.rmt_cmd.load(kRelaxed);
    job->seq = xs.op_seq.load(kRelaxed);
    job->src_ep = xs.endpoint.load(kRelaxed);
    bool need_ring = false;
    if (is_remote(xs)) {  // an answer owed to the remote caller this surrogate stands for
      job->dst_ep = xs.endpoint.load(kRelaxed);
      job->src_ep = xs.rmt_dst.load(kRelaxed);  // the local receiver that took the message
      job->ack_seq = job->seq;
      job->rcode = xs.result.load(kRelaxed);
      xs.flags.store(xs.flags.load(kRelaxed) & ~kBlockedMask, kRelaxed);
      xs.sendto.store(kNoSlot, kRelaxed);
      xs.rmt_cmd.store(kCmdNone, kRelaxed);
    } else {
      job->msg = xs.msg;  // the caller's message or vcopy descriptor (an ACK carries none)
      job->dst_ep = xs.rmt_dst.load(kRelaxed);
      if (job->cmd == kCmdReply) {  // answers the remote client's sendrec
        int ci = kNoSlot;
        if (index_of_endpoint(t, job->dst_ep, &ci) == 0) job->ack_seq = t.slot(ci).op_seq.load(kRelaxed);
      }
      if (job->cmd == kCmdNotify) {  // released at pickup
        xs.flags.store(xs.flags.load(kRelaxed) & ~DVS_SENDING, kRelaxed);
        xs.sendto.store(kNoSlot, kRelaxed);
        need_ring = wake_with(xs, DVS_OK);
      } else if (job->cmd == kCmdSendrec) {  // now only waits for the reply
        xs.flags.store(xs.flags.load(kRelaxed) & ~DVS_SENDING, kRelaxed);
      }
      // kCmdSend / kCmdReply / kCmdVcopy stay SENDING to the proxy slot until answered.
    }
    unlock_pair(t, x, p);
    if (need_ring) ring(xs);
    return 0;
  }
  return EDVSBUSY;
}

bool proxy_is_up(DcTable& t, int node) { return proxy_up(t.slot(t.geometry().proxy_index(node))); }

void proxy_set_up(DcTable& t, int node, bool up) {
  int p = t.geometry().proxy_index(node);
  Slot& ps = t.slot(p);
  if (lock_slot(ps) != 0) return;
  if (up) {
    ps.misc.fetch_or(kMiscProxyUp, kRelaxed);
    unlock_slot(ps);
    return;
  }
  ps.misc.fetch_and(~kMiscProxyUp, kRelaxed);
  unlock_slot(ps);
  // Drain the queue (callers fail; owed ACKs are dropped: their senders are gone with the link).
  OutboundJob job;
  while (proxy_pop(t, node, &job) == 0) {
    if (job.cmd == kCmdNotify) continue;  // already released
    Slot& xs = t.slot(job.slot);
    if (is_remote(xs)) continue;
    if (lock_slot(xs) != 0) continue;
    bool need_ring = false;
    if (xs.wake.load(kRelaxed) == 0) {
      xs.flags.store(xs.flags.load(kRelaxed) & ~kBlockedMask, kRelaxed);
      xs.sendto.store(kNoSlot, kRelaxed);
      xs.getfrom.store(DVS_NONE, kRelaxed);
      need_ring = wake_with(xs, EDVSNOTCONN);
    }
    unlock_slot(xs);
    if (need_ring) ring(xs);
  }
  // Calls in flight on that node, and local waits for its endpoints, fail; its surrogates leave
  // local queues.
  for (int i = 0; i < t.geometry().nr_slots(); ++i) {
    Slot& s = t.slot(i);
    if (is_remote(s) && s.node.load(kRelaxed) == node) {
      uint32_t f = s.flags.load(kRelaxed);
      int d = s.sendto.load(kRelaxed);
      if ((f & DVS_SENDING) && t.valid_index(d) && d != i && lock_pair(t, i, d) == 0) {
        unlink(t, d, i);
        unlock_pair(t, i, d);
      }
      if (lock_slot(s) == 0) {
        s.flags.store(s.flags.load(kRelaxed) & ~kBlockedMask, kRelaxed);
        s.sendto.store(kNoSlot, kRelaxed);
        s.getfrom.store(DVS_NONE, kRelaxed);
        s.rmt_cmd.store(kCmdNone, kRelaxed);
        unlock_slot(s);
      }
      // What its frames auto-bound goes with the link: a peer that leaves takes no slots along.
      if (s.misc.load(kRelaxed) & kMiscAutoBound) (void)admin_unbind(t, i);
      continue;
    }
    if (!waits_on_node(t, s, node) || lock_slot(s) != 0) continue;
    bool need_ring = false;
    if (waits_on_node(t, s, node)) {
      s.flags.store(s.flags.load(kRelaxed) & ~kBlockedMask, kRelaxed);
      s.sendto.store(kNoSlot, kRelaxed);
      s.getfrom.store(DVS_NONE, kRelaxed);
      need_ring = wake_with(s, EDVSNOTCONN);
    }
    unlock_slot(s);
    if (need_ring) ring(s);
  }
}

int admin_bind_remote(DcTable& t, int ep, int node) {
  int x = kNoSlot;
  if (int rc = index_of_endpoint(t, ep, &x); rc != 0) return rc;
  if (node < 0 || node >= DVS_NR_NODES || node == t.geometry().node_id) return EDVSBADNODEID;
  if (!t.spans(node)) return EDVSNODCNODE;  // the DC does not span that node
  Slot& s = t.slot(x);
  if (int rc = lock_slot(s); rc != 0) return rc;
  uint32_t f = s.flags.load(kRelaxed);
  int rc = 0;
  if (!(f & DVS_SLOT_FREE) && !(f & DVS_REMOTE)) {
    rc = EDVSSLOTUSED;  // a local process holds it
  } else if ((f & DVS_REMOTE) && (f & kBlockedMask) && s.endpoint.load(kRelaxed) == ep &&
             s.node.load(kRelaxed) == node) {
    rc = 0;  // the same descriptor, busy: keep it as it is
  } else {
    s.endpoint.store(ep, kRelaxed);
    s.node.store(node, kRelaxed);
    s.lpid.store(0, kRelaxed);
    s.tid.store(0, kRelaxed);
    s.misc.store(0, kRelaxed);
    s.getfrom.store(DVS_NONE, kRelaxed);
    s.sendto.store(kNoSlot, kRelaxed);
    s.q_head.store(kNoSlot, kRelaxed);
    s.q_tail.store(kNoSlot, kRelaxed);
    s.q_next.store(kNoSlot, kRelaxed);
    s.rmt_cmd.store(kCmdNone, kRelaxed);
    s.wake.store(1, kRelaxed);
    int level = t.geometry().is_system_index(x) ? DVS_LEVEL_SERVER : DVS_LEVEL_USER;
    s.priv_level.store(level, kRelaxed);
    for (auto& w : s.ipc_to) w.store(~uint64_t{0}, kRelaxed);
    for (auto& w : s.notify_pending) w.store(0, kRelaxed);
    s.flags.store(DVS_REMOTE, std::memory_order_release);
  }
  unlock_slot(s);
  return rc;
}

int wire_bind_remote(DcTable& t, int ep, int node) {
  int x = kNoSlot;
  if (int rc = index_of_endpoint(t, ep, &x); rc != 0) return rc;
  if (t.geometry().is_proxy_index(x)) return EDVSBADSRCDST;
  Slot& s = t.slot(x);
  const uint32_t f = s.flags.load(std::memory_order_acquire);
  // A descriptor another node's frames made is taken over once idle: the slot was unbound there and
  // bound on the sender (generations count per node, so the endpoint may even be the same). A
  // descriptor an administrator made (rmtbind), or one in a call, never moves from the wire.
  const bool stale = (f & DVS_REMOTE) && (s.misc.load(kRelaxed) & kMiscAutoBound) && !(f & kBlockedMask);
  if (!(f & DVS_SLOT_FREE) && !((f & DVS_REMOTE) && s.node.load(kRelaxed) == node) && !stale) return EDVSSLOTUSED;
  if (const int cap = t.max_autobound(); cap > 0) {
    int mine = 0;
    for (int i = 0; i < t.geometry().nr_slots(); ++i) {
      Slot& o = t.slot(i);
      if (i != x && is_remote(o) && o.node.load(kRelaxed) == node && (o.misc.load(kRelaxed) & kMiscAutoBound)) ++mine;
    }
    if (mine >= cap) return EDVSNOSPC;
  }
  if (int rc = admin_bind_remote(t, ep, node); rc != 0) return rc;
  if (lock_slot(s) != 0) return EDVSBUSY;
  // Re-checked under the lock: a concurrent rmtbind of another node wins.
  const bool ours = is_remote(s) && s.node.load(kRelaxed) == node && s.endpoint.load(kRelaxed) == ep;
  if (ours) s.misc.fetch_or(kMiscAutoBound, kRelaxed);
  unlock_slot(s);
  return ours ? 0 : EDVSSLOTUSED;
}

int proxy_deliver(DcTable& t, int node, int cmd, int32_t src_ep, int32_t dst_ep, uint32_t seq,
                  const dvs_message_t& m) {
  if (!t.spans(node)) return EDVSNODCNODE;  // del_node'd: its traffic for this DC is refused
  // A send or sendrec leaves its surrogate waiting for an answer that goes out only while node's
  // link is up, and proxy_set_up(down) has swept node's surrogates already: from a node whose
  // link is down (a frame a process link still held when it went down) it is refused.
  const bool waits = cmd == kCmdSend || cmd == kCmdSendrec;
  if (waits && !proxy_is_up(t, node)) return EDVSNOTCONN;
  int e = kNoSlot, d = kNoSlot;
  if (index_of_endpoint(t, src_ep, &e) != 0) return EDVSBADSRCDST;
  if (int rc = index_of_endpoint(t, dst_ep, &d); rc != 0) return rc;
  Slot& es = t.slot(e);
  if (!(is_remote(es) && es.endpoint.load(kRelaxed) == src_ep && es.node.load(kRelaxed) == node)) {
    if (int rc = wire_bind_remote(t, src_ep, node); rc != 0) return rc;  // auto-bind the client
  }
  Slot& ds = t.slot(d);
  dvs_message_t msg = m;
  msg.m_source = src_ep;
  if (cmd == kCmdNotify) {
    if (int rc = lock_slot(ds); rc != 0) return rc;
    int rc = check_bound(ds, dst_ep, EDVSDSTDIED);
    bool need_ring = false;
    if (rc == 0 && is_remote(ds)) rc = EDVSRMTPROC;
    if (rc == 0) deliver_notify(t, ds, e, src_ep, &need_ring);
    unlock_slot(ds);
    if (need_ring) ring(ds);
    return rc == 0 ? kDelivered : rc;
  }
  if (!waits) return EDVSBADCALL;
  if (es.flags.load(kRelaxed) & kBlockedMask) {
    // A remote caller has one operation at a time: a new one means it gave up the old one (timed
    // out there). Drop the old one; a duplicate of the same operation is refused.
    if (es.op_seq.load(kRelaxed) == seq) return EDVSBUSY;
    // On the direct path a caller's operations to different endpoints travel on different links:
    // a frame of an operation older than the one the surrogate is in comes late (its caller gave
    // it up). The newer one stays.
    if (static_cast<int32_t>(seq - es.op_seq.load(kRelaxed)) < 0) return EDVSBUSY;
    abandon_surrogate_op(t, e);
  }
  if (int rc = lock_slot(ds); rc != 0) return rc;
  int rc = check_bound(ds, dst_ep, EDVSDSTDIED);
  if (rc == 0 && is_remote(ds)) rc = EDVSRMTPROC;  // no forwarding through a third node
  // Checked again under node's proxy slot lock, held until the surrogate waits: proxy_set_up
  // clears the flag under that lock before it sweeps, so either the sweep finds this surrogate
  // waiting or this call finds the link down (the lock order is ascending: ps comes after ds).
  Slot& ps = t.slot(t.geometry().proxy_index(node));
  if (rc == 0 && (rc = lock_slot(ps)) == 0 && !proxy_up(ps)) {
    unlock_slot(ps);
    rc = EDVSNOTCONN;
  }
  if (rc != 0) {
    unlock_slot(ds);
    return rc;
  }
  // The surrogate is ours to write while it is not queued (see remote.hpp).
  es.op_seq.store(seq, kRelaxed);
  es.rmt_cmd.store(cmd, kRelaxed);
  bool sendrec = cmd == kCmdSendrec;
  if (receptive(ds, src_ep)) {
    const uint32_t surrogate_before = es.flags.load(kRelaxed);
    if (sendrec) {  // the surrogate now waits for the reply (receptive() reads its wake too)
      es.getfrom.store(dst_ep, kRelaxed);
      es.wake.store(kWakeWaiting, kRelaxed);
      es.flags.store(DVS_REMOTE | DVS_RECEIVING, std::memory_order_release);
    }
    ds.msg = msg;
    ds.getfrom.store(DVS_NONE, kRelaxed);
    ds.flags.store(ds.flags.load(kRelaxed) & ~DVS_RECEIVING, kRelaxed);
    bool need_ring = false;
    if (complete_call(ds, DVS_OK, &need_ring)) {
      unlock_slot(ps);
      unlock_slot(ds);
      if (need_ring) ring(ds);
      return kDelivered;
    }
    // The receiver abandoned its call this instant: queue the surrogate as for a busy receiver.
    es.flags.store(surrogate_before, kRelaxed);
    es.getfrom.store(DVS_NONE, kRelaxed);
  }
  es.msg = msg;
  es.sendto.store(d, kRelaxed);
  es.getfrom.store(sendrec ? dst_ep : DVS_NONE, kRelaxed);
  es.wake.store(kWakeWaiting, kRelaxed);
  es.flags.store(DVS_REMOTE | DVS_SENDING | (sendrec ? DVS_RECEIVING : 0u), std::memory_order_release);
  enqueue(t, d, e);
  unlock_slot(ps);
  unlock_slot(ds);
  return kQueued;
}

int proxy_reply(DcTable& t, int node, int32_t src_ep, int32_t dst_ep, uint32_t ack_seq, const dvs_message_t& m) {
  if (!t.spans(node)) return EDVSNODCNODE;
  int c = kNoSlot;
  if (int rc = index_of_endpoint(t, dst_ep, &c); rc != 0) return rc;
  Slot& cs = t.slot(c);
  if (int rc = lock_slot(cs); rc != 0) return rc;
  int rc = check_bound(cs, dst_ep, EDVSDSTDIED);
  bool need_ring = false;
  if (rc == 0) {
    bool waiting = !is_remote(cs) && awaits_reply_from(cs, src_ep) &&
                   cs.rmt_cmd.load(kRelaxed) == kCmdSendrec && cs.op_seq.load(kRelaxed) == ack_seq &&
                   cs.sendto.load(kRelaxed) == t.geometry().proxy_index(node);
    if (!waiting) {
      rc = EDVSPROCSTS;
    } else {
      cs.msg = m;
      cs.msg.m_source = src_ep;
      cs.getfrom.store(DVS_NONE, kRelaxed);
      cs.flags.store(cs.flags.load(kRelaxed) & ~DVS_RECEIVING, kRelaxed);
      cs.sendto.store(kNoSlot, kRelaxed);
      if (!complete_call(cs, DVS_OK, &need_ring)) rc = EDVSPROCSTS;  // it abandoned the wait
    }
  }
  unlock_slot(cs);
  if (need_ring) ring(cs);
  return rc;
}

int proxy_complete(DcTable& t, int node, int cmd, int32_t dst_ep, uint32_t ack_seq, int rcode) {
  int c = kNoSlot;
  if (int rc = index_of_endpoint(t, dst_ep, &c); rc != 0) return rc;
  Slot& cs = t.slot(c);
  if (int rc = lock_slot(cs); rc != 0) return rc;
  int op = cmd & ~kAck;
  bool match = !is_free(cs) && !is_remote(cs) && cs.endpoint.load(kRelaxed) == dst_ep &&
               cs.wake.load(kRelaxed) == 0 && cs.rmt_cmd.load(kRelaxed) == op &&
               cs.op_seq.load(kRelaxed) == ack_seq && cs.sendto.load(kRelaxed) == t.geometry().proxy_index(node);
  uint32_t f = cs.flags.load(kRelaxed);
  if (op == kCmdSend || op == kCmdReply || op == kCmdVcopy) match = match && (f & DVS_SENDING);
  if (op == kCmdSendrec) match = match && (f & kBlockedMask);
  bool need_ring = false;
  if (match) {
    cs.flags.store(f & ~kBlockedMask, kRelaxed);
    cs.sendto.store(kNoSlot, kRelaxed);
    cs.getfrom.store(DVS_NONE, kRelaxed);
    match = complete_call(cs, rcode, &need_ring);
  }
  unlock_slot(cs);
  if (need_ring) ring(cs);
  return match ? 0 : EDVSACKWAIT;
}

InboundAnswer handle_inbound(DcTable& t, int node, const InboundCommand& c, bool reply_acks) {
  switch (c.cmd) {
    case kCmdSend: {
      const int rc = proxy_deliver(t, node, kCmdSend, c.src_ep, c.dst_ep, c.seq, c.msg);
      if (rc == kQueued) return {};
      return {kCmdSend | kAck, rc == kDelivered ? 0 : rc};
    }
    case kCmdSendrec: {
      const int rc = proxy_deliver(t, node, kCmdSendrec, c.src_ep, c.dst_ep, c.seq, c.msg);
      if (rc < 0) return {kCmdSendrec | kAck, rc};
      return {};
    }
    case kCmdNotify:
      proxy_deliver(t, node, kCmdNotify, c.src_ep, c.dst_ep, c.seq, c.msg);
      return {};
    case kCmdReply: {
      const int rc = proxy_reply(t, node, c.src_ep, c.dst_ep, c.ack_seq, c.msg);
      if (reply_acks) return {kCmdReply | kAck, rc};
      return {};
    }
    case kCmdSend | kAck:
    case kCmdSendrec | kAck:
    case kCmdReply | kAck:
      proxy_complete(t, node, c.cmd & ~kAck, c.dst_ep, c.ack_seq, c.rcode);
      return {};
    default:
      if (c.cmd & kAck) return {};
      return {c.cmd | kAck, EDVSNOSYS};
  }
}

}  // namespace dvs::core
