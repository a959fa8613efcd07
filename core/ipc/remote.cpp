#include "core/ipc/remote.hpp"

#include <unistd.h>

#include <atomic>
#include <climits>
#include <vector>

#include "core/ipc/slot_ops.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::core {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}  // namespace

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
  if (!node_link_up(ps)) {
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
  if (!node_link_up(ps)) {
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

}  // namespace dvs::core
