// Verbs plumbing shared by the rdma transport and the raw verbs baseline
// (workloads/baselines/rdma_pingpong.cpp): finding the RDMA device that owns an IP address, one
// reliable-connected QP with its registered slots, and the QP state transitions.
//
// Addressing is RoCE v2: a port's GID table holds the IP addresses of its netdev (an IPv4
// address as ::ffff:a.b.c.d), so "the device for 10.89.0.1" is the device with that GID on an
// active Ethernet port. InfiniBand ports (LID routing, a subnet manager) are not supported.
//
// Nothing here is process-global: every Endpoint opens its own device context, so a forked
// child never shares verbs state with its parent (the conformance suite forks peers), and a
// killed process's QP disappears with it.
#pragma once

#include <infiniband/verbs.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dvs::transport::rdma {

// "" when at least one verbs device exists; otherwise why not, in one line (e.g. "no RDMA
// device (ibv_get_device_list: 0 devices; ENOSYS: the kernel has no RDMA support)").
std::string devices_unavailable_reason();

// An RDMA port reachable through one IP address.
struct PortAddress {
  std::string device;    // "rxe0"
  uint8_t port = 0;      // 1-based
  int gid_index = -1;    // the RoCE v2 GID that is the IP address
  ibv_gid gid{};
  ibv_mtu active_mtu = IBV_MTU_1024;
};

// Opens the device that has `ip` (AF_INET or AF_INET6) as a RoCE v2 GID on an active port.
// 0 with *ctx (the caller closes it with ibv_close_device) and *out; EDVSAFNOSUPPORT without
// any device; EDVSADDRNOTAVAIL when no device has that address.
int open_device_for(const sockaddr* ip, ibv_context** ctx, PortAddress* out);

// The IPv4 addresses that are RoCE v2 GIDs of an active port, in device and GID order
// (e.g. {"10.89.0.1"} in the lab). Empty without devices.
std::vector<std::string> rdma_ipv4_addresses();

// What one side tells the other to connect an RC QP to it.
struct QpInfo {
  uint32_t qpn = 0;
  uint32_t psn = 0;  // 24 bits
  ibv_gid gid{};
  ibv_mtu mtu = IBV_MTU_1024;
};

// Sizes of an Endpoint: receive slots, send slots and tiny control send slots, all `slot_bytes`
// except the control ones (kCtrlSlotBytes), in one registered buffer.
struct EndpointConfig {
  uint32_t recv_slots = 0;
  uint32_t send_slots = 0;
  uint32_t ctrl_slots = 0;
  uint32_t slot_bytes = 0;
  bool completion_channel = true;  // both CQs report to one channel (for blocking waits)
  // The peer may RDMA WRITE into this endpoint's buffer (its MR and QP grant remote write; the
  // peer needs rkey() and an address in it). Off for the transport: no remote access there.
  bool remote_write = false;
  // Bulk frames by RDMA WRITE (rdma_link.hpp): a landing area of this many bytes the peer may
  // WRITE into (its own MR; nothing else of ours is exposed), and as much local staging memory
  // that our WRITEs are posted from. 0: neither. One more send work request is allowed for it.
  uint32_t landing_bytes = 0;
};
inline constexpr uint32_t kCtrlSlotBytes = 64;

// One RC QP with two CQs (send, receive), an optional completion channel and its registered
// slots. Owns everything, the device context included; the destructor releases it all.
class Endpoint {
 public:
  // Takes ownership of ctx (also on failure). 0 or an EDVS code.
  static int create(ibv_context* ctx, const PortAddress& addr, const EndpointConfig& cfg,
                    std::unique_ptr<Endpoint>* out);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // This QP's connection parameters (a random initial PSN).
  QpInfo local_info() const { return local_; }
  // RESET -> INIT -> RTR -> RTS towards the remote QP. 0 or an EDVS code.
  int connect(const QpInfo& remote);
  // The QP to the error state: outstanding work requests complete with IBV_WC_WR_FLUSH_ERR.
  void set_error();

  std::byte* recv_slot(uint32_t i) const { return buf_ + size_t{i} * cfg_.slot_bytes; }
  std::byte* send_slot(uint32_t i) const { return buf_ + size_t{cfg_.recv_slots + i} * cfg_.slot_bytes; }
  std::byte* ctrl_slot(uint32_t i) const {
    return buf_ + size_t{cfg_.recv_slots + cfg_.send_slots} * cfg_.slot_bytes + size_t{i} * kCtrlSlotBytes;
  }
  // Posts one receive into recv slot i (wr_id = i). 0 or an EDVS code.
  int post_recv(uint32_t i);
  // Posts one signalled SEND of [addr, addr + len) (inside this endpoint's buffer). 0 or an EDVS code.
  int post_send(uint64_t wr_id, const std::byte* addr, uint32_t len);
  // Posts one signalled RDMA WRITE of [addr, addr + len) (inside this endpoint's buffer) to
  // remote_addr in the peer's memory registered with rkey (the peer set remote_write). Its
  // completion means the bytes are in the peer's memory. 0 or an EDVS code.
  int post_write(uint64_t wr_id, const std::byte* addr, uint32_t len, uint64_t remote_addr, uint32_t rkey);
  // The key a peer needs to RDMA WRITE into this endpoint's buffer (remote_write endpoints).
  uint32_t rkey() const { return mr_->rkey; }
  // The landing area (landing_bytes, remote-writable with landing_rkey()) and the staging area
  // (landing_bytes, local; what post_write sends from). nullptr / 0 without landing_bytes.
  std::byte* landing() const { return landing_mr_ ? slots_end() : nullptr; }
  std::byte* staging() const { return landing_mr_ ? slots_end() + cfg_.landing_bytes : nullptr; }
  uint32_t landing_rkey() const { return landing_mr_ ? landing_mr_->rkey : 0; }

  const EndpointConfig& config() const { return cfg_; }
  const PortAddress& address() const { return addr_; }
  ibv_cq* send_cq() const { return send_cq_; }
  ibv_cq* recv_cq() const { return recv_cq_; }
  ibv_comp_channel* channel() const { return channel_; }

 private:
  Endpoint() = default;
  ibv_context* ctx_ = nullptr;
  ibv_pd* pd_ = nullptr;
  ibv_comp_channel* channel_ = nullptr;
  ibv_cq* send_cq_ = nullptr;
  ibv_cq* recv_cq_ = nullptr;
  ibv_qp* qp_ = nullptr;
  std::byte* slots_end() const {
    return buf_ + size_t{cfg_.recv_slots + cfg_.send_slots} * cfg_.slot_bytes + size_t{cfg_.ctrl_slots} * kCtrlSlotBytes;
  }
  ibv_mr* mr_ = nullptr;          // the whole buffer, local access (+ remote write if remote_write)
  ibv_mr* landing_mr_ = nullptr;  // the landing area only, remote write
  std::byte* buf_ = nullptr;
  size_t buf_len_ = 0;
  EndpointConfig cfg_;
  PortAddress addr_;
  QpInfo local_;
};

// "rxe0: ibv_create_qp: Cannot allocate memory"-style text of the last verbs failure of this
// thread (set by the functions above when they fail), for error messages.
const std::string& last_verbs_error();

}  // namespace dvs::transport::rdma
