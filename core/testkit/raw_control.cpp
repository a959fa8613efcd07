#include "core/testkit/raw_control.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace dvs::testing {

int raw_connect(const std::string& path, bool nonblocking_connect) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (nonblocking_connect ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

core::Request make_request(core::Op op, int dcid) {
  core::Request rq;
  rq.op = static_cast<uint32_t>(op);
  rq.dcid = dcid;
  return rq;
}

short wait_for(int fd, short events, Millis timeout) {
  pollfd p{fd, events, 0};
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
    int r = poll(&p, 1, static_cast<int>(std::max<long>(left, 0)));
    if (r > 0) return p.revents;
    if (r == 0 || errno != EINTR) return 0;
  }
}

int recv_reply(int fd, core::Reply* rp, Millis timeout) {
  if (!(wait_for(fd, POLLIN, timeout) & POLLIN)) return 1;
  int in_fd = -1;
  long n = core::recv_record(fd, rp, sizeof *rp, &in_fd);
  if (in_fd >= 0) close(in_fd);
  return n == static_cast<long>(sizeof *rp) ? rp->rc : 1;
}

int raw_call(int fd, core::Request rq, core::Reply* rp) {
  if (core::send_record(fd, &rq, sizeof rq, -1) != 0) return 1;
  return recv_reply(fd, rp);
}

}  // namespace dvs::testing
