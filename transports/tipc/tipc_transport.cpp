#include "transports/tipc/tipc_transport.hpp"

#include <errno.h>
#include <linux/tipc.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dvs/errors.h"
#include "transports/registry.hpp"
#include "transports/tcp/tcp_deadline.hpp"
#include "transports/tcp/tcp_frame.hpp"
#include "transports/tcp/tcp_link.hpp"
#include "transports/tcp/tcp_listener.hpp"
#include "transports/tcp/tcp_socket.hpp"
#include "transports/tipc/tipc_topology.hpp"
#include "transports/tipc/tipc_uri.hpp"
#include "transports/transport_util.hpp"

namespace dvs::transport {

namespace tipc {
namespace {

using tcp::Deadline;
using tcp::errno_to_dvs;
using tcp::kMaxFrame;
using tcp::TcpLink;
using tcp::TcpListener;

// How many instances listen() tries before giving up when asked to pick one (instance 0).
constexpr int kPickAttempts = 16;

// The other end of a connected socket, for logs: "tipc-port://NODE:PORT" (NODE in hex).
std::string port_string(int fd) {
  sockaddr_tipc sa{};
  socklen_t len = sizeof sa;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0 || sa.family != AF_TIPC) return "tipc-port://?";
  char buf[64];
  snprintf(buf, sizeof buf, "tipc-port://%08x:%u", sa.addr.id.node, sa.addr.id.ref);
  return buf;
}

// A link over a connected TIPC stream socket. TIPC_NODELAY switches TIPC's "smart Nagle" off
// (frames are latency-sensitive and leave in one sendmsg() anyway, as with TCP_NODELAY in tcp);
// kernels older than 5.6 lack the option, which only saves latency: its failure is ignored.
std::unique_ptr<Link> make_link(int fd, std::string peer) {
  int one = 1;
  (void)setsockopt(fd, SOL_TIPC, TIPC_NODELAY, &one, sizeof one);
  return std::make_unique<TcpLink>(fd, kMaxFrame, std::move(peer));
}

// Binds fd to {type, instance}, listens, and checks through the topology service that ours is the
// only publication of that name (TIPC lets several sockets bind one name and spreads connections
// over them; two dvs listeners on one name would be a configuration error). 0 or an EDVS code
// (EDVSADDRINUSE if someone else publishes it too).
int bind_exclusive(int fd, const TipcAddress& a, uint32_t instance) {
  sockaddr_tipc sa{};
  sa.family = AF_TIPC;
  sa.addrtype = TIPC_SERVICE_RANGE;
  sa.scope = a.node_scope ? TIPC_NODE_SCOPE : TIPC_CLUSTER_SCOPE;
  sa.addr.nameseq.type = a.type;
  sa.addr.nameseq.lower = instance;
  sa.addr.nameseq.upper = instance;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return errno_to_dvs(errno);
  if (::listen(fd, SOMAXCONN) < 0) return errno_to_dvs(errno);
  int n = count_publications(a.type, instance);
  if (n < 0) return n;
  return n == 1 ? 0 : EDVSADDRINUSE;
}

int new_socket(int extra_flags, OwnedFd* out) {
  out->fd = ::socket(AF_TIPC, SOCK_STREAM | SOCK_CLOEXEC | extra_flags, 0);
  return out->fd < 0 ? errno_to_dvs(errno) : 0;
}

class TipcTransport final : public Transport {
 public:
  std::string_view scheme() const override { return "tipc"; }

  // Those of the tcp link (the TIPC cluster may span hosts).
  Capabilities capabilities() const override { return tcp::link_capabilities(); }

  Availability probe() const override {
    int fd = ::socket(AF_TIPC, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      ::close(fd);
      return {true, ""};
    }
    const int e = errno;
    if (e == EAFNOSUPPORT)
      return {false,
              "AF_TIPC not supported by this kernel (EAFNOSUPPORT); load the tipc module, or run "
              "in the VM lab: dvs lab run --tipc -- COMMAND (docs/LAB.md)"};
    return {false, std::string("cannot create a TIPC socket: ") + strerror(e)};
  }

  std::unique_ptr<Listener> listen(const std::string& uri, int* err) override {
    TipcAddress a;
    if (int rc = parse_tipc_uri(uri, &a); rc < 0) return fail_with<Listener>(err, rc);
    if (a.wait_ms != 0) return fail_with<Listener>(err, EDVSINVAL);  // a dial option
    for (int attempt = 0; attempt < (a.instance == 0 ? kPickAttempts : 1); ++attempt) {
      OwnedFd s;
      if (int rc = new_socket(SOCK_NONBLOCK, &s); rc < 0) return fail_with<Listener>(err, rc);
      uint32_t instance = a.instance;
      if (instance == 0) {
        // Our own port number is unique on this node: a good first guess for a free instance
        // cluster-wide (the check below catches the rare clash with another node's service).
        sockaddr_tipc self{};
        socklen_t len = sizeof self;
        if (getsockname(s.fd, reinterpret_cast<sockaddr*>(&self), &len) < 0) return fail_with<Listener>(err, errno_to_dvs(errno));
        instance = self.addr.id.ref != 0 ? self.addr.id.ref : static_cast<uint32_t>(attempt + 1);
      }
      int n = count_publications(a.type, instance);
      if (n < 0) return fail_with<Listener>(err, n);
      int rc = n == 0 ? bind_exclusive(s.fd, a, instance) : EDVSADDRINUSE;
      if (rc == EDVSADDRINUSE && a.instance == 0) continue;  // taken: try another
      if (rc < 0) return fail_with<Listener>(err, rc);
      const std::string bound = format_tipc_uri(a.type, instance, a.query);
      return std::make_unique<TcpListener>(s.release(), bound,
                                           [](int afd) { return make_link(afd, port_string(afd)); });
    }
    return fail_with<Listener>(err, EDVSADDRINUSE);
  }

  std::unique_ptr<Link> adopt(int fd, int* /*err*/) override { return make_link(fd, port_string(fd)); }

  std::unique_ptr<Link> dial(const std::string& uri, int timeout_ms, int* err) override {
    TipcAddress a;
    if (int rc = parse_tipc_uri(uri, &a); rc < 0) return fail_with<Link>(err, rc);
    // Instance 0 is listen-only ("pick one"); scope is a listen option, ignored here so that a
    // listener's uri() can be dialed as it is.
    if (a.instance == 0) return fail_with<Link>(err, EDVSINVAL);
    Deadline dl(timeout_ms);
    if (a.wait_ms > 0) {
      // Node discovery: the peer's node may not be in the cluster yet; the topology service
      // tells us when its service is published.
      int left = dl.remaining_ms();
      int rc = wait_published(a.type, a.instance, left < 0 ? a.wait_ms : std::min(left, a.wait_ms));
      if (rc == EDVSTIMEDOUT) return fail_with<Link>(err, EDVSCONNREFUSED);
      if (rc < 0) return fail_with<Link>(err, rc);
    }
    sockaddr_tipc sa{};
    sa.family = AF_TIPC;
    sa.addrtype = TIPC_SERVICE_ADDR;
    sa.addr.name.name.type = a.type;
    sa.addr.name.name.instance = a.instance;
    sa.addr.name.domain = 0;  // look the name up cluster-wide
    addrinfo ai{};
    ai.ai_family = AF_TIPC;
    ai.ai_socktype = SOCK_STREAM;
    ai.ai_addr = reinterpret_cast<sockaddr*>(&sa);
    ai.ai_addrlen = sizeof sa;
    int fd = -1;
    int rc = tcp::connect_with_timeout(&ai, dl.remaining_ms(), &fd);
    // TIPC answers a connect to a name nobody publishes with EHOSTUNREACH: nobody listens.
    if (rc == EDVSDSTNOTRCH) rc = EDVSCONNREFUSED;
    if (rc < 0) return fail_with<Link>(err, rc);
    return make_link(fd, format_tipc_uri(a.type, a.instance) + " (" + port_string(fd) + ")");
  }
};

}  // namespace
}  // namespace tipc

void register_tipc() {
  register_transport(std::make_unique<tipc::TipcTransport>(),
                     {// A cluster node listens on the service {18700, its port} (port 0: a free instance).
                      .listen_uri = [](const ListenPlace& at) { return "tipc://18700:" + std::to_string(at.port); },
                      .pingpong_baseline = "tipc",
                      .stream_baseline = "tipc_stream",
                      .network = "tipc between two endpoints of this host",
                      .lab = "dvs lab --tipc: the kernel's AF_TIPC (module tipc)",
                      .label = "TIPC"});
}

}  // namespace dvs::transport
