// tipc_pingpong / tipc_stream over one TIPC SOCK_STREAM connection made by service name
// (TIPC_NODELAY on both ends: what the tipc transport uses), on this node or between two network
// namespaces that are TIPC nodes of one cluster (the lab's ns0/ns1). See baseline.hpp.
#include <errno.h>
#include <fcntl.h>
#include <linux/tipc.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/baselines/fd_pingpong.hpp"
#include "workloads/baselines/fd_stream.hpp"
#include "workloads/baselines/scoped_netns.hpp"

namespace dvs::baselines {

namespace {

constexpr uint32_t kServiceType = 18901;
constexpr int kBoundMs = 5000;  // name propagation across the cluster, connection completion

// Listens on {kServiceType, the listener's own port number} in server_netns, connects from a
// socket made in client_netns, accepts. Between namespaces the name is published with cluster
// scope and the connect is retried until the client's node has learnt it (bounded). TIPC
// completes a connection only at accept(), so the connect is non-blocking and finished
// afterwards. 0 and two connected blocking fds, or -errno and *err.
int make_tipc_pair(const std::string& client_netns, const std::string& server_netns, int* client, int* server,
                   std::string* err) {
  int fds[3] = {-1, -1, -1};  // listener, client, server
  auto fail = [&](const std::string& what, int e) {
    *err = e == EAFNOSUPPORT ? "AF_TIPC not supported by this kernel (EAFNOSUPPORT)"
                             : fmt::format("tipc: {}: {}", what, std::strerror(e));
    for (int i = 0; i < 3; ++i)
      if (fds[i] >= 0) close(fds[i]);
    return -e;
  };
  const bool across = client_netns != server_netns;
  {
    ScopedNetns in(server_netns);
    if (!in.error().empty()) return fail(in.error(), EINVAL);
    fds[0] = socket(AF_TIPC, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  if (fds[0] < 0) return fail("socket", errno);
  sockaddr_tipc self{};
  socklen_t len = sizeof self;
  if (getsockname(fds[0], reinterpret_cast<sockaddr*>(&self), &len) != 0) return fail("getsockname", errno);
  sockaddr_tipc name{};
  name.family = AF_TIPC;
  name.addrtype = TIPC_SERVICE_RANGE;
  name.scope = across ? TIPC_CLUSTER_SCOPE : TIPC_NODE_SCOPE;
  name.addr.nameseq = {kServiceType, self.addr.id.ref, self.addr.id.ref};
  if (bind(fds[0], reinterpret_cast<sockaddr*>(&name), sizeof name) != 0 || listen(fds[0], 1) != 0)
    return fail("bind/listen", errno);
  {
    ScopedNetns in(client_netns);
    if (!in.error().empty()) return fail(in.error(), EINVAL);
    fds[1] = socket(AF_TIPC, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  }
  if (fds[1] < 0) return fail("socket", errno);
  sockaddr_tipc to{};
  to.family = AF_TIPC;
  to.addrtype = TIPC_SERVICE_ADDR;
  to.addr.name.name = {kServiceType, self.addr.id.ref};
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBoundMs);
  while (connect(fds[1], reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
    // Not known yet on the client's node (the name table update crosses the link): retry.
    if ((errno != ENOENT && errno != EHOSTUNREACH && errno != ECONNREFUSED) || std::chrono::steady_clock::now() > until)
      return fail(fmt::format("connect to {{{}, {}}}", kServiceType, self.addr.id.ref), errno);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pollfd lp{fds[0], POLLIN, 0};
  if (poll(&lp, 1, kBoundMs) != 1) return fail("accept (no connection arrived)", ETIMEDOUT);
  fds[2] = accept4(fds[0], nullptr, nullptr, SOCK_CLOEXEC);
  if (fds[2] < 0) return fail("accept", errno);
  pollfd p{fds[1], POLLOUT, 0};
  const int ready = poll(&p, 1, kBoundMs);
  if (ready != 1) return fail("connect (completion)", ready == 0 ? ETIMEDOUT : errno);
  if (fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) & ~O_NONBLOCK) != 0) return fail("fcntl", errno);
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
  if (make_tipc_pair(cfg.tcp_client_netns, cfg.tcp_server_netns, &c, &s, &err) != 0) return measure::failed_outcome(err);
  // A socket is both read and write end: dup so each side owns two fds (as tcp_pingpong).
  return fd_pingpong(cfg, c, dup(c), s, dup(s));
}

measure::TwoProcessOutcome tipc_pingpong_pairs(const BaselineConfig& cfg, int n) {
  std::vector<FdPair> pairs;
  std::string err;
  for (int k = 0; k < n && err.empty(); ++k) {
    int c = -1, s = -1;
    if (make_tipc_pair(cfg.tcp_client_netns, cfg.tcp_server_netns, &c, &s, &err) == 0)
      pairs.push_back({c, dup(c), s, dup(s)});
  }
  if (!err.empty()) {
    for (const auto& p : pairs)
      for (int fd : {p.client_rd, p.client_wr, p.server_rd, p.server_wr}) close(fd);
    return measure::failed_outcome(err);
  }
  return fd_pingpong_pairs(cfg, pairs);
}

measure::TwoProcessOutcome tipc_stream(const BaselineConfig& cfg) {
  int c = -1, s = -1;
  std::string err;
  if (make_tipc_pair(cfg.tcp_client_netns, cfg.tcp_server_netns, &c, &s, &err) != 0) return measure::failed_outcome(err);
  return fd_stream(cfg, c, s);
}

}  // namespace dvs::baselines
