#include "core/ipc/remote_inbound.hpp"

#include <unistd.h>

#include <atomic>
#include <climits>

#include "core/ipc/slot_ops.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::core {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}  // namespace

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
    reset_call_state(s);
    int level = t.geometry().is_system_index(x) ? DVS_LEVEL_SERVER : DVS_LEVEL_USER;
    s.priv_level.store(level, kRelaxed);
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
  if (waits && !node_link_up(t.slot(t.geometry().proxy_index(node)))) return EDVSNOTCONN;
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
  if (rc == 0 && (rc = lock_slot(ps)) == 0 && !node_link_up(ps)) {
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
