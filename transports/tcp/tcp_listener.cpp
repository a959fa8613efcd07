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
    : fd_(fd), uri_(std::move(uri)), options_(options), max_frame_(max_frame) {}

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
      int rc = apply_link_options(fd, options_);
      if (rc < 0) {  // e.g. the connection was reset before we got to it: take the next one
        ::close(fd);
        continue;
      }
      return std::make_unique<TcpLink>(fd, max_frame_);
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
