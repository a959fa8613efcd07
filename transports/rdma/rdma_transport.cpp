#include "transports/rdma/rdma_transport.hpp"

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dvs/errors.h"
#include "transports/rdma/rdma_handshake.hpp"
#include "transports/rdma/rdma_link.hpp"
#include "transports/rdma/rdma_uri.hpp"
#include "transports/rdma/rdma_verbs.hpp"
#include "transports/registry.hpp"
#include "transports/tcp/tcp_listener.hpp"
#include "transports/tcp/tcp_socket.hpp"
#include "transports/transport_util.hpp"

namespace dvs::transport {

namespace rdma {
namespace {

// Bound on the listener's side of the set-up (inside accept(); a dialer that stalls costs this).
constexpr int kAcceptHandshakeMs = 5000;

std::string sock_name(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len)) < 0) return "rdma://?";
  return format_rdma_uri(sa, len);
}

Hello our_hello(const Endpoint& ep, const LinkGeometry& g) {
  Hello h;
  h.qp = ep.local_info();
  h.data_slots = g.data_slots;
  h.ctrl_slots = g.ctrl_slots;
  h.slot_bytes = g.slot_bytes;
  h.max_frame = static_cast<uint32_t>(kMaxFrame);
  if (ep.landing() != nullptr) {
    h.landing_addr = reinterpret_cast<uintptr_t>(ep.landing());
    h.landing_rkey = ep.landing_rkey();
    h.landing_bytes = ep.config().landing_bytes;
  }
  return h;
}

PeerLanding landing_of(const Hello& h) { return PeerLanding{h.landing_addr, h.landing_rkey, h.landing_bytes}; }

// Reads the peer's Hello: 0, EDVSTIMEDOUT, or EDVSCONNREFUSED (closed, or not a peer of ours:
// another protocol, another version, another link geometry).
int read_hello(int fd, const LinkGeometry& g, const tcp::Deadline& dl, Hello* out) {
  std::byte buf[kHelloBytes];
  if (int rc = read_exact(fd, buf, sizeof buf, dl); rc < 0) return rc == EDVSTIMEDOUT ? rc : EDVSCONNREFUSED;
  if (!decode_hello(buf, out) || out->data_slots != g.data_slots || out->ctrl_slots != g.ctrl_slots ||
      out->slot_bytes != g.slot_bytes || out->max_frame != kMaxFrame)
    return EDVSCONNREFUSED;
  return 0;
}

int write_hello(int fd, const Hello& h, const tcp::Deadline& dl) {
  std::byte buf[kHelloBytes];
  encode_hello(h, buf);
  return write_exact(fd, buf, sizeof buf, dl);
}

// The endpoint for a connected control socket: on the device that owns the socket's local
// address (the route to the peer picked it). 0 or an EDVS code.
int endpoint_for(int fd, const LinkGeometry& g, std::unique_ptr<Endpoint>* out) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return tcp::errno_to_dvs(errno);
  ibv_context* ctx = nullptr;
  PortAddress pa;
  if (int rc = open_device_for(reinterpret_cast<sockaddr*>(&ss), &ctx, &pa); rc < 0) return rc;
  EndpointConfig c;
  c.recv_slots = g.data_slots + g.ctrl_slots;
  c.send_slots = g.data_slots;
  c.ctrl_slots = g.ctrl_slots;
  c.slot_bytes = g.slot_bytes;
  c.landing_bytes = g.landing_bytes;
  return Endpoint::create(ctx, pa, c, out);
}

// The listener's side of the set-up on an accepted control socket (owned from here on).
std::unique_ptr<Link> accept_link(int afd, const LinkOptions& opt) {
  OwnedFd s(afd);
  const LinkGeometry g;
  const tcp::Deadline dl(kAcceptHandshakeMs);
  if (tcp::apply_link_options(s.fd, tcp::TcpOptions{}) < 0) return nullptr;
  Hello peer;
  std::unique_ptr<Endpoint> ep;
  if (read_hello(s.fd, g, dl, &peer) < 0 || endpoint_for(s.fd, g, &ep) < 0 || ep->connect(peer.qp) < 0) return nullptr;
  const Hello mine = our_hello(*ep, g);
  const std::string name = sock_name(s.fd, true) + " via " + ep->address().device;
  const int fd = s.release();
  auto link = std::make_unique<RdmaLink>(std::move(ep), fd, g, opt, name, landing_of(peer));
  if (link->start() < 0) return nullptr;
  // Our receives are posted: the dialer may send once it has our Hello. Its 'R' says that its
  // own are posted too.
  uint8_t ready = 0;
  if (write_hello(fd, mine, dl) < 0 || read_exact(fd, &ready, 1, dl) < 0 || ready != kReadyByte) return nullptr;
  return link;
}

class RdmaTransport final : public Transport {
 public:
  std::string_view scheme() const override { return "rdma"; }

  Capabilities capabilities() const override {
    return Capabilities{.reliable = true, .ordered = true, .message_boundaries = true, .max_frame = kMaxFrame,
                        .rma = false, .same_host_only = false};
  }

  Availability probe() const override {
    std::string why = devices_unavailable_reason();
    if (why.empty()) return {true, ""};
    return {false, why};
  }

  std::unique_ptr<Listener> listen(const std::string& uri, int* err) override {
    RdmaAddress a;
    if (int rc = parse_rdma_uri(uri, &a); rc < 0) return fail_with<Listener>(err, rc);
    if (a.host.empty()) {  // the first address of an RDMA device
      auto addrs = rdma_ipv4_addresses();
      if (addrs.empty()) return fail_with<Listener>(err, probe().available ? EDVSADDRNOTAVAIL : EDVSAFNOSUPPORT);
      a.host = addrs.front();
    }
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!to_sockaddr(a.host, a.port, &ss, &len)) return fail_with<Listener>(err, EDVSINVAL);
    {  // The address must select a device, or no dialer could ever connect.
      ibv_context* ctx = nullptr;
      PortAddress pa;
      if (int rc = open_device_for(reinterpret_cast<sockaddr*>(&ss), &ctx, &pa); rc < 0) return fail_with<Listener>(err, rc);
      ibv_close_device(ctx);
    }
    OwnedFd s(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (s.fd < 0) return fail_with<Listener>(err, tcp::errno_to_dvs(errno));
    int one = 1;
    (void)setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s.fd, reinterpret_cast<sockaddr*>(&ss), len) < 0 || ::listen(s.fd, SOMAXCONN) < 0)
      return fail_with<Listener>(err, tcp::errno_to_dvs(errno));
    const std::string bound = sock_name(s.fd, false) + a.query;
    const LinkOptions opt = a.options;
    return std::make_unique<tcp::TcpListener>(s.release(), bound, [opt](int afd) { return accept_link(afd, opt); });
  }

  std::unique_ptr<Link> dial(const std::string& uri, int timeout_ms, int* err) override {
    RdmaAddress a;
    if (int rc = parse_rdma_uri(uri, &a); rc < 0) return fail_with<Link>(err, rc);
    if (a.host.empty() || a.port == 0) return fail_with<Link>(err, EDVSINVAL);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!to_sockaddr(a.host, a.port, &ss, &len)) return fail_with<Link>(err, EDVSINVAL);
    const tcp::Deadline dl(timeout_ms);
    addrinfo ai{};
    ai.ai_family = ss.ss_family;
    ai.ai_socktype = SOCK_STREAM;
    ai.ai_addr = reinterpret_cast<sockaddr*>(&ss);
    ai.ai_addrlen = len;
    OwnedFd s;
    if (int rc = tcp::connect_with_timeout(&ai, dl.remaining_ms(), &s.fd); rc < 0) return fail_with<Link>(err, rc);
    if (int rc = tcp::apply_link_options(s.fd, tcp::TcpOptions{}); rc < 0) return fail_with<Link>(err, rc);
    const LinkGeometry g;
    std::unique_ptr<Endpoint> ep;
    if (int rc = endpoint_for(s.fd, g, &ep); rc < 0) return fail_with<Link>(err, rc);
    if (int rc = write_hello(s.fd, our_hello(*ep, g), dl); rc < 0) return fail_with<Link>(err, rc == EDVSTIMEDOUT ? rc : EDVSCONNREFUSED);
    // The listener answers once its QP is ready for ours (it accept()s first: dial waits for that).
    Hello peer;
    if (int rc = read_hello(s.fd, g, dl, &peer); rc < 0) return fail_with<Link>(err, rc);
    if (int rc = ep->connect(peer.qp); rc < 0) return fail_with<Link>(err, rc);
    const std::string name = sock_name(s.fd, true) + " via " + ep->address().device;
    const int fd = s.release();
    auto link = std::make_unique<RdmaLink>(std::move(ep), fd, g, a.options, name, landing_of(peer));
    if (int rc = link->start(); rc < 0) return fail_with<Link>(err, rc);
    const uint8_t ready = kReadyByte;
    if (int rc = write_exact(fd, &ready, 1, dl); rc < 0) return fail_with<Link>(err, rc == EDVSTIMEDOUT ? rc : EDVSCONNREFUSED);
    return link;
  }
};

}  // namespace
}  // namespace rdma

void register_rdma() {
  register_transport(std::make_unique<rdma::RdmaTransport>(),
                     {// No host: the first RDMA device's address (the lab's Soft-RoCE), not the node's.
                      .listen_uri = [](const ListenPlace& at) { return "rdma://:" + std::to_string(at.port); },
                      .pingpong_baseline = "rdma",
                      .stream_baseline = "rdma_write",
                      .network = "rdma between two endpoints of this host",
                      .lab = "dvs lab --rdma: an RDMA device (Soft-RoCE rxe0)",
                      .label = "RDMA"});
}

}  // namespace dvs::transport
