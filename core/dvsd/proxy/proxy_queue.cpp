#include "core/dvsd/proxy/proxy_queue.hpp"

#include <atomic>

#include "core/dvsd/table_admin.hpp"
#include "core/ipc/remote_inbound.hpp"
#include "core/ipc/slot_ops.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::core {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;

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
}  // namespace

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

bool proxy_is_up(DcTable& t, int node) { return node_link_up(t.slot(t.geometry().proxy_index(node))); }

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
    if (xs.wake.load(kRelaxed) == 0) need_ring = end_wait_with(xs, EDVSNOTCONN);
    unlock_slot(xs);
    if (need_ring) ring(xs);
  }
  // Calls in flight on that node, and local waits for its endpoints, fail; its surrogates leave
  // local queues.
  for (int i = 0; i < t.geometry().nr_slots(); ++i) {
    Slot& s = t.slot(i);
    if (is_remote(s) && s.node.load(kRelaxed) == node) {
      abandon_surrogate_op(t, i);
      // What its frames auto-bound goes with the link: a peer that leaves takes no slots along.
      if (s.misc.load(kRelaxed) & kMiscAutoBound) (void)admin_unbind(t, i);
      continue;
    }
    if (!waits_on_node(t, s, node) || lock_slot(s) != 0) continue;
    bool need_ring = false;
    if (waits_on_node(t, s, node)) need_ring = end_wait_with(s, EDVSNOTCONN);
    unlock_slot(s);
    if (need_ring) ring(s);
  }
}

}  // namespace dvs::core
