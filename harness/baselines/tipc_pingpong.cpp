// tipc_pingpong: 64 bytes each way over one TIPC SOCK_STREAM connection made by service name on
// this node (TIPC_NODELAY on both ends: what the tipc transport uses). See baseline.hpp.
#include <errno.h>
#include <fcntl.h>
#include <linux/tipc.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "baselines/baseline.hpp"
#include "baselines/fd_pingpong.hpp"

namespace dvs::baselines {

namespace {

constexpr uint32_t kServiceType = 18901;

// Listens on {kServiceType, the listener's own port number} (unique on this node), connects,
// accepts. TIPC completes a connection only at accept(), so the connect is non-blocking and
// finished afterwards. 0 and two connected blocking fds, or -errno and *err.
int make_tipc_pair(int* client, int* server, std::string* err) {
  auto sys_fail = [&](const char* what, int fds[3]) {
    const int e = errno;
    *err = e == EAFNOSUPPORT ? "AF_TIPC not supported by this kernel (EAFNOSUPPORT)"
                             : fmt::format("tipc_pingpong: {}: {}", what, std::strerror(e));
    for (int i = 0; i < 3; ++i)
      if (fds[i] >= 0) close(fds[i]);
    return -e;
  };
  int fds[3] = {-1, -1, -1};  // listener, client, server
  fds[0] = socket(AF_TIPC, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fds[0] < 0) return sys_fail("socket", fds);
  sockaddr_tipc self{};
  socklen_t len = sizeof self;
  if (getsockname(fds[0], reinterpret_cast<sockaddr*>(&self), &len) != 0) return sys_fail("getsockname", fds);
  sockaddr_tipc name{};
  name.family = AF_TIPC;
  name.addrtype = TIPC_SERVICE_RANGE;
  name.scope = TIPC_NODE_SCOPE;
  name.addr.nameseq = {kServiceType, self.addr.id.ref, self.addr.id.ref};
  if (bind(fds[0], reinterpret_cast<sockaddr*>(&name), sizeof name) != 0 || listen(fds[0], 1) != 0)
    return sys_fail("bind/listen", fds);
  fds[1] = socket(AF_TIPC, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fds[1] < 0) return sys_fail("socket", fds);
  sockaddr_tipc to{};
  to.family = AF_TIPC;
  to.addrtype = TIPC_SERVICE_ADDR;
  to.addr.name.name = {kServiceType, self.addr.id.ref};
  if (connect(fds[1], reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
    return sys_fail("connect", fds);
  fds[2] = accept4(fds[0], nullptr, nullptr, SOCK_CLOEXEC);
  if (fds[2] < 0) return sys_fail("accept", fds);
  pollfd p{fds[1], POLLOUT, 0};
  const int ready = poll(&p, 1, 5000);
  if (ready == 0) errno = ETIMEDOUT;
  if (ready != 1 || fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) & ~O_NONBLOCK) != 0)
    return sys_fail("connect (completion)", fds);
  int one = 1;
  (void)setsockopt(fds[1], SOL_TIPC, TIPC_NODELAY, &one, sizeof one);
  (void)setsockopt(fds[2], SOL_TIPC, TIPC_NODELAY, &one, sizeof one);
  close(fds[0]);
  *client = fds[1];
  *server = fds[2];
  return 0;
}

}  // namespace

measure::TwoProcessOutcome tipc_pingpong(const BaselineConfig& cfg) {
  int c = -1, s = -1;
  std::string err;
  if (make_tipc_pair(&c, &s, &err) != 0) {
    measure::TwoProcessOutcome o;
    o.result = std::make_unique<measure::LoopResult>();
    o.error = err;
    return o;
  }
  // A socket is both read and write end: dup so each side owns two fds (as tcp_pingpong).
  return fd_pingpong(cfg, c, dup(c), s, dup(s));
}

}  // namespace dvs::baselines
