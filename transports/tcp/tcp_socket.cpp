#include "transports/tcp/tcp_socket.hpp"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "dvs/errors.h"
#include "transports/tcp/tcp_deadline.hpp"
#include "transports/tcp/tcp_uri.hpp"

namespace dvs::transport::tcp {

int errno_to_dvs(int e) {
  switch (e) {
    case ECONNREFUSED: return EDVSCONNREFUSED;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN: return EDVSDSTNOTRCH;
    case EADDRINUSE: return EDVSADDRINUSE;
    case EADDRNOTAVAIL: return EDVSADDRNOTAVAIL;
    case EAFNOSUPPORT: return EDVSAFNOSUPPORT;
    case ETIMEDOUT: return EDVSTIMEDOUT;
    case EACCES:
    case EPERM: return EDVSACCES;
    case EMFILE: return EDVSMFILE;
    case ENFILE: return EDVSNFILE;
    case ENOMEM:
    case ENOBUFS: return EDVSNOMEM;
    case EINVAL: return EDVSINVAL;
    case EPIPE:
    case ECONNRESET:
    case ECONNABORTED:
    case ENOTCONN:
    case ESHUTDOWN: return EDVSNOTCONN;
    default: return EDVSIO;
  }
}

int gai_to_dvs(int g) {
  switch (g) {
    case EAI_NONAME:
    case EAI_AGAIN:
    case EAI_FAIL:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
      return EDVSDSTNOTRCH;
    case EAI_MEMORY: return EDVSNOMEM;
    case EAI_SYSTEM: return errno_to_dvs(errno);
    default: return EDVSINVAL;
  }
}

int apply_link_options(int fd, const TcpOptions& o) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) return errno_to_dvs(errno);
  if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) < 0) return errno_to_dvs(errno);
  if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o.keepidle_s, sizeof o.keepidle_s) < 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &o.keepintvl_s, sizeof o.keepintvl_s) < 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o.keepcnt, sizeof o.keepcnt) < 0)
    return errno_to_dvs(errno);
  if (o.user_timeout_ms > 0) {
    unsigned ut = static_cast<unsigned>(o.user_timeout_ms);
    if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut) < 0) return errno_to_dvs(errno);
  }
  return 0;
}

int write_all(int fd, iovec* iov, size_t n) {
  while (n > 0) {
    if (iov->iov_len == 0) {  // empty pieces of a gather list
      ++iov;
      --n;
      continue;
    }
    msghdr m{};
    m.msg_iov = iov;
    m.msg_iovlen = std::min<size_t>(n, IOV_MAX);
    ssize_t w = ::sendmsg(fd, &m, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {  // only if someone made the fd non-blocking
        pollfd p{fd, POLLOUT, 0};
        (void)::poll(&p, 1, -1);
        continue;
      }
      return errno_to_dvs(errno);
    }
    // Partial write: skip the pieces fully written, trim the one written in part.
    size_t done = static_cast<size_t>(w);
    while (done > 0) {
      if (done >= iov->iov_len) {
        done -= iov->iov_len;
        ++iov;
        --n;
      } else {
        iov->iov_base = static_cast<char*>(iov->iov_base) + done;
        iov->iov_len -= done;
        done = 0;
      }
    }
  }
  return 0;
}

int connect_with_timeout(const addrinfo* ai, int timeout_ms, int* fd_out) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0) return errno_to_dvs(errno);
  Deadline dl(timeout_ms);
  int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc < 0 && errno != EINPROGRESS && errno != EINTR) {
    int e = errno_to_dvs(errno);
    ::close(fd);
    return e;
  }
  if (rc < 0) {  // in progress (EINTR also leaves the connect running asynchronously)
    // Done when the socket has a peer. A refused or aborted connect wakes poll() with POLLERR or
    // POLLHUP, sometimes with no SO_ERROR set (a TIPC socket goes to DISCONNECTING): refused. Any
    // other wake-up with no peer yet (not seen, but not excluded by TIPC's poll) keeps waiting.
    for (;;) {
      pollfd p{fd, POLLOUT, 0};
      int pr = ::poll(&p, 1, dl.remaining_ms());
      if (pr < 0 && errno == EINTR) continue;
      if (pr <= 0) {
        ::close(fd);
        return pr == 0 ? EDVSTIMEDOUT : errno_to_dvs(errno);
      }
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
      sockaddr_storage peer{};
      socklen_t plen = sizeof peer;
      if (soerr == 0 && getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) break;
      if (soerr == 0 && !(p.revents & (POLLERR | POLLHUP))) {
        ::poll(nullptr, 0, 1);  // woken without a peer: look again shortly
        continue;
      }
      ::close(fd);
      return errno_to_dvs(soerr != 0 ? soerr : ECONNREFUSED);
    }
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    int e = errno_to_dvs(errno);
    ::close(fd);
    return e;
  }
  *fd_out = fd;
  return 0;
}

std::string peer_uri(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return "tcp://?";
  return format_tcp_uri(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace dvs::transport::tcp
