// make_tcp_pair: see tcp_pair.hpp.
#include "workloads/baselines/scoped_netns.hpp"
#include "workloads/baselines/tcp_pair.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

namespace dvs::baselines {

int make_tcp_pair(const std::string& host, int* client_fd, int* server_fd, std::string* err,
                  const std::string& client_netns, const std::string& server_netns) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    *err = fmt::format("tcp: '{}' is not an IPv4 address", host);
    return -EINVAL;
  }
  int lfd = -1, cfd = -1, sfd = -1;
  auto fail = [&](const char* what) {
    const int e = errno;
    *err = fmt::format("tcp {} {}: {}", what, host, strerror(e));
    for (int fd : {lfd, cfd, sfd})
      if (fd >= 0) close(fd);
    return -e;
  };
  {
    ScopedNetns in(server_netns);
    if (!in.error().empty()) {
      *err = "tcp: " + in.error();
      return -EINVAL;
    }
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  if (lfd < 0) return fail("socket");
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("bind");
  if (listen(lfd, 1) != 0) return fail("listen");
  socklen_t len = sizeof addr;
  if (getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return fail("getsockname");
  {
    ScopedNetns in(client_netns);
    if (!in.error().empty()) {
      close(lfd);
      *err = "tcp: " + in.error();
      return -EINVAL;
    }
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  if (cfd < 0) return fail("socket");
  // A local connect completes through the listen backlog: no second thread needed.
  if (connect(cfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("connect");
  sfd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  if (sfd < 0) return fail("accept");
  close(lfd);
  lfd = -1;
  const int one = 1;
  if (setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
      setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    return fail("setsockopt TCP_NODELAY");
  *client_fd = cfd;
  *server_fd = sfd;
  return 0;
}

}  // namespace dvs::baselines
