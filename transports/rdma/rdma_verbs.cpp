#include "transports/rdma/rdma_verbs.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <random>

#include "dvs/errors.h"

namespace dvs::transport::rdma {

namespace {

thread_local std::string g_last_error;

// Records "what: strerror(e)" as the thread's last verbs error; returns code.
int verbs_fail(int code, const std::string& what, int e) {
  g_last_error = what + ": " + (e ? strerror(e) : "failed");
  return code;
}

int errno_code(int e) {
  switch (e) {
    case ENOMEM: return EDVSNOMEM;
    case EPERM:
    case EACCES: return EDVSACCES;
    case ENODEV:
    case ENOSYS: return EDVSAFNOSUPPORT;
    default: return EDVSIO;
  }
}

// The GID a RoCE port derives from an IP address: IPv6 as is, IPv4 as ::ffff:a.b.c.d.
bool gid_of(const sockaddr* sa, ibv_gid* out) {
  *out = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    out->raw[10] = 0xff;
    out->raw[11] = 0xff;
    memcpy(&out->raw[12], &in->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    memcpy(out->raw, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    return true;
  }
  return false;
}

bool is_v4_mapped(const ibv_gid& g) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return memcmp(g.raw, prefix, sizeof prefix) == 0;
}

// Calls fn(ctx, port, port_attr, gid_entry) for every RoCE v2 GID of every active Ethernet port
// of every device; stops when fn returns true (and then leaves that device open: *kept).
template <class Fn>
void for_each_roce_gid(Fn fn, ibv_context** kept = nullptr) {
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (!list) return;
  for (int d = 0; d < n; ++d) {
    ibv_context* ctx = ibv_open_device(list[d]);
    if (!ctx) continue;
    bool found = false;
    ibv_device_attr dev{};
    if (ibv_query_device(ctx, &dev) == 0) {
      for (uint8_t port = 1; port <= dev.phys_port_cnt && !found; ++port) {
        ibv_port_attr pa{};
        if (ibv_query_port(ctx, port, &pa) != 0 || pa.state != IBV_PORT_ACTIVE ||
            pa.link_layer != IBV_LINK_LAYER_ETHERNET)
          continue;
        for (int i = 0; i < pa.gid_tbl_len && !found; ++i) {
          ibv_gid_entry e{};
          if (ibv_query_gid_ex(ctx, port, static_cast<uint32_t>(i), &e, 0) != 0) continue;  // an empty entry
          if (e.gid_type != IBV_GID_TYPE_ROCE_V2) continue;
          found = fn(ctx, port, pa, e);
        }
      }
    }
    if (found && kept) {
      *kept = ctx;
      break;
    }
    ibv_close_device(ctx);
    if (found) break;
  }
  ibv_free_device_list(list);
}

}  // namespace

const std::string& last_verbs_error() { return g_last_error; }

std::string devices_unavailable_reason() {
  int n = 0;
  errno = 0;
  ibv_device** list = ibv_get_device_list(&n);
  const int e = errno;
  if (list) ibv_free_device_list(list);
  if (list && n > 0) return "";
  std::string why = "no RDMA device (ibv_get_device_list: 0 devices";
  if (!list && e == ENOSYS)
    why += "; ENOSYS: this kernel has no RDMA support";
  else if (!list && e != 0)
    why += std::string("; ") + strerror(e);
  return why + "); create one with `rdma link add rxe0 type rxe netdev IFACE`, or run in the VM lab: "
               "dvs lab run --rdma -- COMMAND (docs/LAB.md)";
}

int open_device_for(const sockaddr* ip, ibv_context** ctx, PortAddress* out) {
  ibv_gid want{};
  if (!gid_of(ip, &want)) return EDVSINVAL;
  if (!devices_unavailable_reason().empty()) return EDVSAFNOSUPPORT;
  bool found = false;
  for_each_roce_gid(
      [&](ibv_context* c, uint8_t port, const ibv_port_attr& pa, const ibv_gid_entry& e) {
        if (memcmp(e.gid.raw, want.raw, sizeof want.raw) != 0) return false;
        out->device = ibv_get_device_name(c->device);
        out->port = port;
        out->gid_index = static_cast<int>(e.gid_index);
        out->gid = e.gid;
        out->active_mtu = pa.active_mtu;
        found = true;
        return true;
      },
      ctx);
  return found ? 0 : EDVSADDRNOTAVAIL;
}

std::vector<std::string> rdma_ipv4_addresses() {
  std::vector<std::string> out;
  for_each_roce_gid([&](ibv_context*, uint8_t, const ibv_port_attr&, const ibv_gid_entry& e) {
    if (!is_v4_mapped(e.gid)) return false;
    char buf[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &e.gid.raw[12], buf, sizeof buf)) out.emplace_back(buf);
    return false;
  });
  return out;
}

// ---- Endpoint ----

int Endpoint::create(ibv_context* ctx, const PortAddress& addr, const EndpointConfig& cfg,
                     std::unique_ptr<Endpoint>* out) {
  std::unique_ptr<Endpoint> ep(new Endpoint());
  ep->ctx_ = ctx;
  ep->cfg_ = cfg;
  ep->addr_ = addr;
  const std::string dev = addr.device + ": ";
  if (cfg.recv_slots == 0 || cfg.send_slots + cfg.ctrl_slots == 0 || cfg.slot_bytes == 0) return EDVSINVAL;
  ep->pd_ = ibv_alloc_pd(ctx);
  if (!ep->pd_) return verbs_fail(errno_code(errno), dev + "ibv_alloc_pd", errno);
  if (cfg.completion_channel) {
    ep->channel_ = ibv_create_comp_channel(ctx);
    if (!ep->channel_) return verbs_fail(errno_code(errno), dev + "ibv_create_comp_channel", errno);
    // Non-blocking: waiters poll() it, then take every pending event without blocking.
    const int fl = fcntl(ep->channel_->fd, F_GETFL);
    if (fl < 0 || fcntl(ep->channel_->fd, F_SETFL, fl | O_NONBLOCK) < 0)
      return verbs_fail(EDVSIO, dev + "fcntl(completion channel)", errno);
  }
  const int sends = static_cast<int>(cfg.send_slots + cfg.ctrl_slots + (cfg.landing_bytes > 0 ? 1 : 0));
  ep->send_cq_ = ibv_create_cq(ctx, sends, nullptr, ep->channel_, 0);
  ep->recv_cq_ = ibv_create_cq(ctx, static_cast<int>(cfg.recv_slots), nullptr, ep->channel_, 0);
  if (!ep->send_cq_ || !ep->recv_cq_) return verbs_fail(errno_code(errno), dev + "ibv_create_cq", errno);
  ibv_qp_init_attr qa{};
  qa.send_cq = ep->send_cq_;
  qa.recv_cq = ep->recv_cq_;
  qa.qp_type = IBV_QPT_RC;
  qa.sq_sig_all = 0;
  qa.cap.max_send_wr = static_cast<uint32_t>(sends);
  qa.cap.max_recv_wr = cfg.recv_slots;
  qa.cap.max_send_sge = 1;
  qa.cap.max_recv_sge = 1;
  ep->qp_ = ibv_create_qp(ep->pd_, &qa);
  if (!ep->qp_) return verbs_fail(errno_code(errno), dev + "ibv_create_qp", errno);
  // One page-aligned buffer for every slot, registered once.
  const size_t len = size_t{cfg.recv_slots + cfg.send_slots} * cfg.slot_bytes + size_t{cfg.ctrl_slots} * kCtrlSlotBytes +
                     size_t{cfg.landing_bytes} * 2;
  void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return verbs_fail(EDVSNOMEM, "mmap", errno);
  ep->buf_ = static_cast<std::byte*>(mem);
  ep->buf_len_ = len;
  const int access = IBV_ACCESS_LOCAL_WRITE | (cfg.remote_write ? IBV_ACCESS_REMOTE_WRITE : 0);
  ep->mr_ = ibv_reg_mr(ep->pd_, mem, len, access);
  if (!ep->mr_)  // EPERM/ENOMEM here is usually RLIMIT_MEMLOCK (ulimit -l)
    return verbs_fail(errno_code(errno), dev + "ibv_reg_mr of " + std::to_string(len) + " bytes (ulimit -l?)", errno);
  if (cfg.landing_bytes > 0) {
    ep->landing_mr_ = ibv_reg_mr(ep->pd_, ep->slots_end(), cfg.landing_bytes, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
    if (!ep->landing_mr_)
      return verbs_fail(errno_code(errno), dev + "ibv_reg_mr of the landing area (ulimit -l?)", errno);
  }
  ep->local_.qpn = ep->qp_->qp_num;
  ep->local_.psn = std::random_device{}() & 0xffffff;
  ep->local_.gid = addr.gid;
  ep->local_.mtu = addr.active_mtu;
  ibv_qp_attr a{};
  a.qp_state = IBV_QPS_INIT;
  a.pkey_index = 0;
  a.port_num = addr.port;
  // SEND/RECV only (no remote access to our memory) unless the endpoint was made for RDMA WRITE.
  a.qp_access_flags = cfg.remote_write || cfg.landing_bytes > 0 ? IBV_ACCESS_REMOTE_WRITE : 0;
  if (int e = ibv_modify_qp(ep->qp_, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
    return verbs_fail(errno_code(e), dev + "ibv_modify_qp(INIT)", e);
  *out = std::move(ep);
  return 0;
}

Endpoint::~Endpoint() {
  // The QP first: after that no completion (and no completion event) can arrive. A CQ can only
  // be destroyed once every event the kernel queued for it was acknowledged (libibverbs waits
  // for that), so take what is left in the channel.
  if (qp_) ibv_destroy_qp(qp_);
  if (channel_) {
    ibv_cq* cq = nullptr;
    void* cq_ctx = nullptr;
    pollfd p{channel_->fd, POLLIN, 0};
    while (::poll(&p, 1, 0) == 1 && ibv_get_cq_event(channel_, &cq, &cq_ctx) == 0) ibv_ack_cq_events(cq, 1);
  }
  if (send_cq_) ibv_destroy_cq(send_cq_);
  if (recv_cq_) ibv_destroy_cq(recv_cq_);
  if (channel_) ibv_destroy_comp_channel(channel_);
  if (landing_mr_) ibv_dereg_mr(landing_mr_);
  if (mr_) ibv_dereg_mr(mr_);
  if (buf_) munmap(buf_, buf_len_);
  if (pd_) ibv_dealloc_pd(pd_);
  if (ctx_) ibv_close_device(ctx_);
}

int Endpoint::connect(const QpInfo& remote) {
  const std::string dev = addr_.device + ": ";
  ibv_qp_attr a{};
  a.qp_state = IBV_QPS_RTR;
  a.path_mtu = remote.mtu < local_.mtu ? remote.mtu : local_.mtu;
  a.dest_qp_num = remote.qpn;
  a.rq_psn = remote.psn;
  a.max_dest_rd_atomic = 1;
  a.min_rnr_timer = 12;  // 0.64 ms; never needed: the credits guarantee a posted receive
  a.ah_attr.is_global = 1;
  a.ah_attr.grh.dgid = remote.gid;
  a.ah_attr.grh.sgid_index = static_cast<uint8_t>(addr_.gid_index);
  a.ah_attr.grh.hop_limit = 64;
  a.ah_attr.port_num = addr_.port;
  if (int e = ibv_modify_qp(qp_, &a,
                            IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
                                IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
    return verbs_fail(errno_code(e), dev + "ibv_modify_qp(RTR)", e);
  a = {};
  a.qp_state = IBV_QPS_RTS;
  a.timeout = 14;    // 4.096 us * 2^14 = 67 ms per ACK timeout
  a.retry_cnt = 7;   // a silent peer QP: an error completion after about 0.5 s
  a.rnr_retry = 0;   // receiver not ready is a protocol violation here, not a reason to wait
  a.sq_psn = local_.psn;
  a.max_rd_atomic = 1;
  if (int e = ibv_modify_qp(qp_, &a,
                            IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
                                IBV_QP_MAX_QP_RD_ATOMIC))
    return verbs_fail(errno_code(e), dev + "ibv_modify_qp(RTS)", e);
  return 0;
}

void Endpoint::set_error() {
  ibv_qp_attr a{};
  a.qp_state = IBV_QPS_ERR;
  (void)ibv_modify_qp(qp_, &a, IBV_QP_STATE);
}

int Endpoint::post_recv(uint32_t i) {
  ibv_sge sge{reinterpret_cast<uintptr_t>(recv_slot(i)), cfg_.slot_bytes, mr_->lkey};
  ibv_recv_wr wr{};
  wr.wr_id = i;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  if (int e = ibv_post_recv(qp_, &wr, &bad)) return verbs_fail(EDVSNOTCONN, addr_.device + ": ibv_post_recv", e);
  return 0;
}

int Endpoint::post_send(uint64_t wr_id, const std::byte* addr, uint32_t len) {
  ibv_sge sge{reinterpret_cast<uintptr_t>(addr), len, mr_->lkey};
  ibv_send_wr wr{};
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_SEND;
  wr.send_flags = IBV_SEND_SIGNALED;
  ibv_send_wr* bad = nullptr;
  if (int e = ibv_post_send(qp_, &wr, &bad)) return verbs_fail(EDVSNOTCONN, addr_.device + ": ibv_post_send", e);
  return 0;
}

int Endpoint::post_write(uint64_t wr_id, const std::byte* addr, uint32_t len, uint64_t remote_addr, uint32_t rkey) {
  ibv_sge sge{reinterpret_cast<uintptr_t>(addr), len, mr_->lkey};
  ibv_send_wr wr{};
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_RDMA_WRITE;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.wr.rdma.remote_addr = remote_addr;
  wr.wr.rdma.rkey = rkey;
  ibv_send_wr* bad = nullptr;
  if (int e = ibv_post_send(qp_, &wr, &bad)) return verbs_fail(EDVSNOTCONN, addr_.device + ": ibv_post_send(WRITE)", e);
  return 0;
}

}  // namespace dvs::transport::rdma
