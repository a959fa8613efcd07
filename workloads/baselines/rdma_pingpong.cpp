// The raw verbs baselines, over one RC QP pair on one RDMA device (the rdma transport's device
// selection, QP set-up and Hello: transports/rdma/rdma_verbs.hpp):
//  - rdma_pingpong: 64 bytes each way as verbs SENDs;
//  - rdma_write_stream: RDMA WRITEs of cfg.block_bytes into the peer's registered memory.
// See baseline.hpp.
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "transports/rdma/rdma_handshake.hpp"
#include "transports/rdma/rdma_uri.hpp"
#include "transports/rdma/rdma_verbs.hpp"
#include "workloads/baselines/baseline.hpp"

namespace dvs::baselines {

namespace {

namespace rd = dvs::transport::rdma;

constexpr int kIoTimeoutMs = 10'000;  // bound on any single wait for a completion
constexpr uint8_t kPing = 'P', kStop = 'S';

// The next completion of cq: polls it, spinning up to poll_us, then arms it and sleeps on the
// channel. 0 with *wc (status checked), or a negative errno-style code.
int next_completion(rd::Endpoint& ep, ibv_cq* cq, int poll_us, ibv_wc* wc) {
  const auto start = std::chrono::steady_clock::now();
  const auto spin_until = start + std::chrono::microseconds(poll_us);
  bool armed = false;
  for (;;) {
    int n = ibv_poll_cq(cq, 1, wc);
    if (n < 0) return -EIO;
    if (n == 1) return wc->status == IBV_WC_SUCCESS ? 0 : -ECONNRESET;
    if (poll_us > 0 && std::chrono::steady_clock::now() < spin_until) {
      sched_yield();
      continue;
    }
    if (!armed) {  // arm, then look once more: a completion before arming raises no event
      if (ibv_req_notify_cq(cq, 0) != 0) return -EIO;
      armed = true;
      continue;
    }
    pollfd p{ep.channel()->fd, POLLIN, 0};
    const int pr = poll(&p, 1, kIoTimeoutMs);
    if (pr == 0) return -ETIMEDOUT;
    if (pr < 0 && errno != EINTR) return -errno;
    ibv_cq* ev_cq = nullptr;
    void* ev_ctx = nullptr;
    while (ibv_get_cq_event(ep.channel(), &ev_cq, &ev_ctx) == 0) {
      ibv_ack_cq_events(ev_cq, 1);
      if (ev_cq == cq) armed = false;
    }
  }
}

// One side: its endpoint on the device of `addr`, connected through the Hello exchange on the
// socket `fd` (the other end of a socketpair made before fork). 0 or a reason in *why.
// c: the endpoint's slots (its receives are all posted before the QP connects).
int connect_side(const std::string& addr, int fd, const rd::EndpointConfig& c, std::unique_ptr<rd::Endpoint>* out,
                 std::string* why) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!rd::to_sockaddr(addr, 0, &ss, &len)) {
    *why = fmt::format("rdma_pingpong: '{}' is not an IP address", addr);
    return -1;
  }
  ibv_context* ctx = nullptr;
  rd::PortAddress pa;
  if (int rc = rd::open_device_for(reinterpret_cast<sockaddr*>(&ss), &ctx, &pa); rc < 0) {
    *why = fmt::format("rdma_pingpong: no RDMA device has the address {}", addr);
    return -1;
  }
  if (rd::Endpoint::create(ctx, pa, c, out) < 0) {
    *why = "rdma_pingpong: " + rd::last_verbs_error();
    return -1;
  }
  rd::Hello mine, theirs;
  mine.qp = (*out)->local_info();
  mine.data_slots = c.recv_slots;
  mine.ctrl_slots = 1;
  mine.slot_bytes = c.slot_bytes;
  mine.max_frame = c.slot_bytes;
  std::byte buf[rd::kHelloBytes];
  rd::encode_hello(mine, buf);
  const transport::tcp::Deadline dl(kIoTimeoutMs);
  if (rd::write_exact(fd, buf, sizeof buf, dl) < 0 || rd::read_exact(fd, buf, sizeof buf, dl) < 0 ||
      !rd::decode_hello(buf, &theirs)) {
    *why = "rdma_pingpong: the QP exchange with the other process failed";
    return -1;
  }
  for (uint32_t i = 0; i < c.recv_slots; ++i)
    if ((*out)->post_recv(i) < 0) {
      *why = "rdma_pingpong: " + rd::last_verbs_error();
      return -1;
    }
  if ((*out)->connect(theirs.qp) < 0) {
    *why = "rdma_pingpong: " + rd::last_verbs_error();
    return -1;
  }
  // Both QPs in RTS with receives posted before the first SEND.
  uint8_t r = rd::kReadyByte;
  if (rd::write_exact(fd, &r, 1, dl) < 0 || rd::read_exact(fd, &r, 1, dl) < 0) {
    *why = "rdma_pingpong: the other process did not get ready";
    return -1;
  }
  return 0;
}

rd::EndpointConfig pingpong_slots() {
  rd::EndpointConfig c;
  c.recv_slots = 2;
  c.send_slots = 1;
  c.ctrl_slots = 0;
  c.slot_bytes = kMsgBytes;
  return c;
}

// One side's messages: a send is posted and its completion reaped only before the send slot is
// reused (by then the peer has usually answered, so the completion is there: no wait for it).
class Side {
 public:
  explicit Side(rd::Endpoint& ep, int poll_us) : ep_(ep), poll_us_(poll_us) {}
  std::byte* out() { return ep_.send_slot(0); }
  // Posts the send slot's 64 bytes (after reaping the previous send's completion).
  int send() {
    if (int rc = reap(); rc < 0) return rc;
    if (ep_.post_send(0, ep_.send_slot(0), kMsgBytes) < 0) return -ECONNRESET;
    outstanding_ = true;
    return 0;
  }
  // Waits for the next message and re-posts its receive. With `echo`, copies it into the send
  // slot first (reaping the previous send). The message's first byte, or a negative code.
  int recv(bool echo) {
    ibv_wc wc;
    if (int rc = next_completion(ep_, ep_.recv_cq(), poll_us_, &wc); rc < 0) return rc;
    const uint32_t slot = static_cast<uint32_t>(wc.wr_id);
    if (wc.byte_len != kMsgBytes) return -EPROTO;
    const int type = std::to_integer<uint8_t>(*ep_.recv_slot(slot));
    if (echo) {
      if (int rc = reap(); rc < 0) return rc;
      std::memcpy(ep_.send_slot(0), ep_.recv_slot(slot), kMsgBytes);
    }
    if (ep_.post_recv(slot) < 0) return -ECONNRESET;
    return type;
  }
  // Waits for the outstanding send's completion, if any.
  int reap() {
    if (!outstanding_) return 0;
    ibv_wc wc;
    if (int rc = next_completion(ep_, ep_.send_cq(), poll_us_, &wc); rc < 0) return rc;
    outstanding_ = false;
    return 0;
  }

 private:
  rd::Endpoint& ep_;
  const int poll_us_;
  bool outstanding_ = false;
};


// The device address to use (cfg.rdma_addr or the first one), or "" with *why.
std::string device_address(const BaselineConfig& cfg, std::string* why) {
  if (*why = rd::devices_unavailable_reason(); !why->empty()) return "";
  if (!cfg.rdma_addr.empty()) return cfg.rdma_addr;
  auto all = rd::rdma_ipv4_addresses();
  if (all.empty()) *why = "no RDMA device has an IPv4 address on an active port";
  return all.empty() ? "" : all.front();
}

}  // namespace

measure::TwoProcessOutcome rdma_pingpong(const BaselineConfig& cfg) {
  std::string unavailable;
  const std::string addr = device_address(cfg, &unavailable);
  if (addr.empty()) return measure::failed_outcome(unavailable);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return measure::failed_outcome(fmt::format("rdma_pingpong: socketpair: {}", strerror(errno)));
  auto server = [&](measure::ChildCtx& ctx) -> int {
    close(sv[0]);
    std::unique_ptr<rd::Endpoint> ep;
    std::string why;
    if (connect_side(addr, sv[1], pingpong_slots(), &ep, &why) < 0) return ctx.fail("server: %s", why.c_str());
    Side me(*ep, cfg.poll_us);
    for (;;) {
      const int type = me.recv(true);
      if (type < 0) return ctx.fail("server receive: %s", strerror(-type));
      if (int rc = me.send(); rc < 0) return ctx.fail("server send: %s", strerror(-rc));
      if (type == kStop) return me.reap() < 0 ? ctx.fail("server: the stop echo failed") : 0;
    }
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    close(sv[1]);
    std::unique_ptr<rd::Endpoint> ep;
    std::string why;
    if (connect_side(addr, sv[0], pingpong_slots(), &ep, &why) < 0) return ctx.fail("client: %s", why.c_str());
    Side me(*ep, cfg.poll_us);
    std::memset(me.out(), 0xa5, kMsgBytes);
    *me.out() = std::byte{kPing};
    res.bytes_per_op = kMsgBytes;
    measure::run_timed_loop(
        [&]() -> int {
          if (int rc = me.send(); rc < 0) return rc;
          const int type = me.recv(false);
          return type < 0 ? type : (type == kPing ? 0 : -EPROTO);
        },
        cfg.loop, res);
    if (res.error < 0) return ctx.fail("client: %s", strerror(-res.error));
    if (me.reap() < 0) return ctx.fail("client: a send failed");
    *me.out() = std::byte{kStop};
    if (me.send() < 0 || me.recv(false) != kStop) return ctx.fail("client: stop exchange failed");
    return 0;
  };
  return measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    close(sv[0]);
    close(sv[1]);
  });
}

measure::TwoProcessOutcome rdma_write_stream(const BaselineConfig& cfg) {
  constexpr uint32_t kWindow = 4;  // WRITEs in flight (perftest's ib_write_bw keeps a window too)
  std::string unavailable;
  const std::string addr = device_address(cfg, &unavailable);
  if (addr.empty()) return measure::failed_outcome(unavailable);
  if (cfg.block_bytes == 0 || cfg.block_bytes > (size_t{1} << 30)) return measure::failed_outcome("rdma_write_stream: bad block size");
  const auto block = static_cast<uint32_t>(cfg.block_bytes);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return measure::failed_outcome(fmt::format("rdma_write_stream: socketpair: {}", strerror(errno)));
  // The reader: its receive slot is the landing area; it tells the writer where it is, then
  // waits (bounded) for the writer's one-byte "done" on the socketpair.
  auto server = [&](measure::ChildCtx& ctx) -> int {
    close(sv[0]);
    rd::EndpointConfig c;
    c.recv_slots = 1;
    c.send_slots = 1;
    c.slot_bytes = block;
    c.remote_write = true;
    std::unique_ptr<rd::Endpoint> ep;
    std::string err;
    if (connect_side(addr, sv[1], c, &ep, &err) < 0) return ctx.fail("reader: %s", err.c_str());
    struct {
      uint64_t addr;
      uint32_t rkey;
    } where{reinterpret_cast<uintptr_t>(ep->recv_slot(0)), ep->rkey()};
    const transport::tcp::Deadline dl(kIoTimeoutMs);
    if (rd::write_exact(sv[1], &where, sizeof where, dl) < 0) return ctx.fail("reader: cannot send the rkey");
    uint8_t done = 0;
    const transport::tcp::Deadline end(cfg.timeout_ms);
    return rd::read_exact(sv[1], &done, 1, end) < 0 ? ctx.fail("reader: the writer never finished") : 0;
  };
  // The writer: kWindow WRITEs in flight from its own slots; one op = one WRITE completed (the
  // bytes are in the reader's memory), so throughput = block * completions / elapsed.
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    close(sv[1]);
    rd::EndpointConfig c;
    c.recv_slots = 1;
    c.send_slots = kWindow;
    c.slot_bytes = block;
    std::unique_ptr<rd::Endpoint> ep;
    std::string err;
    if (connect_side(addr, sv[0], c, &ep, &err) < 0) return ctx.fail("writer: %s", err.c_str());
    struct {
      uint64_t addr;
      uint32_t rkey;
    } where{};
    const transport::tcp::Deadline dl(kIoTimeoutMs);
    if (rd::read_exact(sv[0], &where, sizeof where, dl) < 0) return ctx.fail("writer: no rkey from the reader");
    for (uint32_t i = 0; i < kWindow; ++i) std::memset(ep->send_slot(i), 0x5a + int(i), block);
    uint64_t posted = 0;
    auto post = [&]() -> int {
      const uint32_t slot = uint32_t(posted % kWindow);
      if (ep->post_write(posted, ep->send_slot(slot), block, where.addr, where.rkey) < 0) return -ECONNRESET;
      ++posted;
      return 0;
    };
    for (uint32_t i = 0; i < kWindow; ++i)
      if (post() < 0) return ctx.fail("writer: %s", rd::last_verbs_error().c_str());
    res.bytes_per_op = block;
    measure::run_timed_loop(
        [&]() -> int {
          ibv_wc wc;
          if (int rc = next_completion(*ep, ep->send_cq(), cfg.poll_us, &wc); rc < 0) return rc;
          return post();
        },
        cfg.loop, res);
    if (res.error < 0) return ctx.fail("writer: %s", strerror(-res.error));
    for (uint32_t i = 0; i < kWindow; ++i) {  // the ones still in flight, before the QP goes
      ibv_wc wc;
      if (next_completion(*ep, ep->send_cq(), cfg.poll_us, &wc) < 0) return ctx.fail("writer: a WRITE failed");
    }
    const uint8_t done = 1;
    return rd::write_exact(sv[0], &done, 1, dl) < 0 ? ctx.fail("writer: the reader is gone") : 0;
  };
  return measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    close(sv[0]);
    close(sv[1]);
  });
}

}  // namespace dvs::baselines
