#include "transports/tcp/tcp_listener.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dvs/errors.h"
#include "transports/tcp/tcp_deadline.hpp"
#include "transports/tcp/tcp_link.hpp"
#include "transports/tcp/tcp_socket.hpp"

namespace dvs::transport::tcp {

TcpListener::TcpListener(int fd, std::string uri, TcpOptions options, size_t max_frame)
    : TcpListener(fd, std::move(uri), [options, max_frame](int afd) -> std::unique_ptr<Link> {
        if (apply_link_options(afd, options) < 0) {  // e.g. reset before we got to it
          ::close(afd);
          return nullptr;
        }
        return std::make_unique<TcpLink>(afd, max_frame);
      }) {}

TcpListener::TcpListener(int fd, std::string uri, Adopt adopt)
    : fd_(fd), uri_(std::move(uri)), adopt_(std::move(adopt)) {}

TcpListener::~TcpListener() {
  close();
  ::close(fd_);
}

void TcpListener::close() {
  // On Linux, shutdown() of a listening socket wakes poll()/accept() sleeping on it.
  if (!closed_.exchange(true)) ::shutdown(fd_, SHUT_RDWR);
}

std::unique_ptr<Link> TcpListener::accept(int timeout_ms, int* err) {
  Deadline dl(timeout_ms);
  for (;;) {
    if (closed_.load()) {
      *err = EDVSNOTCONN;
      return nullptr;
    }
    // The listening socket is non-blocking; the accepted one is blocking (accept4 without
    // SOCK_NONBLOCK), as TcpLink expects.
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      if (auto link = adopt_(fd)) return link;
      continue;  // adopt_ dropped it: take the next one
    }
    switch (errno) {
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        continue;
      case EAGAIN: {
        int left = dl.remaining_ms();
        if (left == 0) {
          *err = EDVSTIMEDOUT;
          return nullptr;
        }
        pollfd p{fd_, POLLIN, 0};
        int pr = ::poll(&p, 1, left);
        if (pr == 0) {
          *err = EDVSTIMEDOUT;
          return nullptr;
        }
        continue;  // readable, EINTR, or woken by close(): look again
      }
      default:
        *err = closed_.load() ? EDVSNOTCONN : errno_to_dvs(errno);
        return nullptr;
    }
  }
}

}  // namespace dvs::transport::tcp
