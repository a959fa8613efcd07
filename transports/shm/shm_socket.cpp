#include "transports/shm/shm_socket.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/ipc/control.hpp"
#include "dvs/errors.h"
#include "transports/shm/shm_layout.hpp"

namespace dvs::transport::shm {

bool abstract_address(std::string_view name, sockaddr_un* addr, socklen_t* len) {
  static constexpr std::string_view kPrefix = "dvs-shm/";
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (1 + kPrefix.size() + name.size() > sizeof addr->sun_path) return false;
  std::memcpy(addr->sun_path + 1, kPrefix.data(), kPrefix.size());
  std::memcpy(addr->sun_path + 1 + kPrefix.size(), name.data(), name.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + kPrefix.size() + name.size());
  return true;
}

int send_hello(int sock, int fd) {
  const Hello h{kMagic, kVersion, 0};
  return dvs::core::send_record(sock, &h, sizeof h, fd) == 0 ? 0 : EDVSNOTCONN;
}

int recv_hello(int sock, int* fd) {
  *fd = -1;
  Hello h{};
  iovec iov{&h, sizeof h};
  constexpr int kMaxFds = 8;  // room to receive (and close) a few surplus fds
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? EDVSTIMEDOUT : EDVSNOTCONN;
  if (n == 0) return EDVSNOTCONN;
  int got = -1, count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < nfds; ++i) {
      int f;
      std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
      if (count++ == 0)
        got = f;
      else
        ::close(f);
    }
  }
  const bool ok = n == static_cast<ssize_t>(sizeof h) && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
                  count == 1 && h.magic == kMagic && h.version == kVersion;
  if (!ok) {
    if (got >= 0) ::close(got);
    return EDVSBADVALUE;
  }
  *fd = got;
  return 0;
}

int send_doorbell(int sock) {
  const char b = 1;
  for (;;) {
    ssize_t n = send(sock, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == 1) return 0;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return EDVSNOTCONN;
  }
}

int drain_doorbells(int sock) {
  char buf[64];
  // Bounded: a peer flooding doorbells cannot keep us here (what is left stays readable).
  for (int i = 0; i < 1024; ++i) {
    ssize_t n = recv(sock, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return EDVSNOTCONN;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return EDVSNOTCONN;
  }
  return 0;
}

}  // namespace dvs::transport::shm
