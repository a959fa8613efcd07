#include "core/dvsd/table_admin.hpp"

#include <climits>
#include <cstring>

#include "core/ipc/remote.hpp"
#include "core/ipc/slot_ops.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::core {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}  // namespace

int admin_bind(DcTable& t, int index, pid_t pid, pid_t tid, bool is_thread, int* ep_out) {
  if (!t.valid_index(index)) return EDVSBADPROC;
  Slot& s = t.slot(index);
  if (int rc = lock_slot(s); rc != 0) return rc;
  if (!is_free(s)) {
    unlock_slot(s);
    return EDVSSLOTUSED;
  }
  const DcGeometry& g = t.geometry();
  int p_nr = g.pnr_of(index);
  int gen = 0;
  if (!g.is_system_index(index)) {
    int old = s.endpoint.load(kRelaxed);
    gen = (old == DVS_NONE || DVS_ENDPOINT_P(old) != p_nr) ? 1 : DVS_ENDPOINT_G(old) + 1;
    if (static_cast<int64_t>(gen) * DVS_GEN_SIZE + p_nr > INT32_MAX - DVS_GEN_SIZE) gen = 1;
  }
  int ep = DVS_ENDPOINT(gen, p_nr);
  s.endpoint.store(ep, kRelaxed);
  s.lpid.store(pid, kRelaxed);
  s.tid.store(tid, kRelaxed);
  s.node.store(g.node_id, kRelaxed);
  s.misc.store(is_thread ? kMiscThread : 0u, kRelaxed);
  reset_call_state(s);
  s.lclsent.store(0, kRelaxed);
  s.lclcopy.store(0, kRelaxed);
  s.sleeping.store(0, kRelaxed);
  s.result.store(0, kRelaxed);
  int level = index < g.nr_tasks ? DVS_LEVEL_TASK : g.is_system_index(index) ? DVS_LEVEL_SERVER : DVS_LEVEL_USER;
  s.priv_level.store(level, kRelaxed);
  std::memset(s.name, 0, sizeof s.name);
  s.flags.store(0, std::memory_order_release);
  unlock_slot(s);
  *ep_out = ep;
  return 0;
}

int admin_unbind(DcTable& t, int index) {
  if (!t.valid_index(index)) return EDVSBADPROC;
  Slot& x = t.slot(index);
  if (int rc = lock_slot(x); rc != 0) return rc;
  uint32_t f = x.flags.load(kRelaxed);
  if (f & DVS_SLOT_FREE) {
    unlock_slot(x);
    return EDVSNOTBIND;
  }
  int ep = x.endpoint.load(kRelaxed);
  int d = x.sendto.load(kRelaxed);
  // From here on every new call addressed to ep fails (FREE).
  x.flags.store(DVS_SLOT_FREE | (f & DVS_SENDING), kRelaxed);
  unlock_slot(x);
  // (1) leave the queue it was waiting in.
  if ((f & DVS_SENDING) && t.valid_index(d) && d != index && lock_pair(t, index, d) == 0) {
    if (x.sendto.load(kRelaxed) == d) unlink(t, d, index);
    unlock_pair(t, index, d);
  }
  // (2) fail every sender queued to it.
  for (int guard = 0; guard <= t.geometry().nr_slots() * 4; ++guard) {
    if (lock_slot(x) != 0) break;
    int q = x.q_head.load(kRelaxed);
    if (q == kNoSlot || !t.valid_index(q) || q == index) {
      x.q_head.store(kNoSlot, kRelaxed);
      x.q_tail.store(kNoSlot, kRelaxed);
      unlock_slot(x);
      break;
    }
    int rc = lock_second(t, index, q);
    if (rc == EDVSAGAIN) {
      unlock_slot(x);
      if (lock_pair(t, index, q) == 0) unlock_pair(t, index, q);
      continue;
    }
    if (rc != 0) {  // unusable sender slot: drop it from the queue, it has its own timeout
      unlink(t, index, q);
      unlock_slot(x);
      continue;
    }
    Slot& qs = t.slot(q);
    unlink(t, index, q);
    uint32_t qf = qs.flags.load(kRelaxed);
    qs.flags.store(qf & ~kBlockedMask, kRelaxed);
    qs.sendto.store(kNoSlot, kRelaxed);
    qs.getfrom.store(DVS_NONE, kRelaxed);
    bool need_ring = false;
    if (is_remote(qs))  // the remote caller learns it through its node's proxy
      queue_remote_answer(t, q, (qf & DVS_RECEIVING) ? kCmdSendrec : kCmdSend, EDVSDSTDIED, ep);
    else
      need_ring = wake_with(qs, EDVSDSTDIED);
    unlock_slot(qs);
    unlock_slot(x);
    if (need_ring) ring(qs);
  }
  // (3) fail everyone blocked receiving from it (e.g. a sendrec whose request it had taken), and
  // drop the notifications it left pending anywhere (it is FREE, so it sets no new ones: see
  // ipc_notify).
  const int bit_word = index / 64;
  const uint64_t bit = uint64_t{1} << (index % 64);
  for (int y = 0; y < t.geometry().nr_slots(); ++y) {
    if (y == index) continue;
    Slot& ys = t.slot(y);
    if (!(ys.flags.load(std::memory_order_acquire) & DVS_RECEIVING) &&
        !(ys.notify_pending[bit_word].load(kRelaxed) & bit))
      continue;
    if (lock_slot(ys) != 0) continue;
    uint32_t yf = ys.flags.load(kRelaxed);
    bool need_ring = false;
    if ((yf & DVS_RECEIVING) && !(yf & DVS_SENDING) && ys.getfrom.load(kRelaxed) == ep) {
      ys.getfrom.store(DVS_NONE, kRelaxed);
      ys.flags.store(yf & ~DVS_RECEIVING, kRelaxed);
      if (is_remote(ys))  // a remote client's sendrec whose request the dead process had taken
        queue_remote_answer(t, y, kCmdSendrec, EDVSSRCDIED, ep);
      else
        need_ring = wake_with(ys, EDVSSRCDIED);
    }
    ys.notify_pending[bit_word].fetch_and(~bit, kRelaxed);
    unlock_slot(ys);
    if (need_ring) ring(ys);
  }
  // (4) the process itself: a call it is blocked in ends with EDVSSHUTDOWN (nothing delivered);
  // its later calls get EDVSNOTBIND (enter_call).
  if (lock_slot(x) == 0) {
    x.flags.store(DVS_SLOT_FREE, kRelaxed);
    x.sendto.store(kNoSlot, kRelaxed);
    x.getfrom.store(DVS_NONE, kRelaxed);
    x.lpid.store(0, kRelaxed);
    x.tid.store(0, kRelaxed);
    for (auto& w : x.notify_pending) w.store(0, kRelaxed);
    bool need_ring = wake_with(x, EDVSSHUTDOWN);
    unlock_slot(x);
    if (need_ring) ring(x);
  }
  return DVS_OK;
}

int admin_setpriv(DcTable& t, int index, const dvs_priv_t& p) {
  if (!t.valid_index(index)) return EDVSBADPROC;
  if (p.level < DVS_LEVEL_USER || p.level > DVS_LEVEL_PROXY) return EDVSBADVALUE;
  Slot& s = t.slot(index);
  if (int rc = lock_slot(s); rc != 0) return rc;
  int rc = is_free(s) ? EDVSNOTBIND : 0;
  if (rc == 0) {
    s.priv_level.store(p.level, kRelaxed);
    for (int w = 0; w < kMaxSlots / 64; ++w) s.ipc_to[w].store(p.ipc_to[w], kRelaxed);
  }
  unlock_slot(s);
  return rc;
}

void admin_getpriv(DcTable& t, int index, dvs_priv_t* out) {
  Slot& s = t.slot(index);
  out->level = s.priv_level.load(kRelaxed);
  for (int w = 0; w < kMaxSlots / 64; ++w) out->ipc_to[w] = s.ipc_to[w].load(kRelaxed);
}

void admin_procinfo(DcTable& t, int index, dvs_procinfo_t* out) {
  Slot& s = t.slot(index);
  std::memset(out, 0, sizeof *out);
  out->p_nr = t.geometry().pnr_of(index);
  out->p_endpoint = s.endpoint.load(kRelaxed);
  out->p_dcid = t.geometry().dcid;
  out->p_rts_flags = s.flags.load(kRelaxed);
  out->p_lpid = s.lpid.load(kRelaxed);
  out->p_tid = s.tid.load(kRelaxed);
  out->p_nodeid = s.node.load(kRelaxed);
  out->p_getfrom = s.getfrom.load(kRelaxed);
  int d = s.sendto.load(kRelaxed);
  out->p_sendto = t.valid_index(d) ? t.slot(d).endpoint.load(kRelaxed) : DVS_NONE;
  out->p_wait_mode = s.wait_mode.load(kRelaxed);
  out->p_lclsent = s.lclsent.load(kRelaxed);
  out->p_lclcopy = s.lclcopy.load(kRelaxed);
  std::memcpy(out->p_name, s.name, sizeof out->p_name);
  out->p_name[sizeof out->p_name - 1] = '\0';
}

}  // namespace dvs::core
