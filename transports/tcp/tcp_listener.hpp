// A listening tcp socket. accept() waits with poll() (bounded by its timeout), then accepts one
// connection and applies the listener's TcpOptions to it. close() shuts the socket down so an
// accept() blocked in another thread returns EDVSNOTCONN; the fd is closed by the destructor.
// The second constructor serves any listening stream socket (the tipc transport uses it): an
// `adopt` function turns each accepted fd into a Link (nullptr: drop it, accept the next).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "transports/tcp/tcp_options.hpp"
#include "transports/transport.hpp"

namespace dvs::transport::tcp {

class TcpListener final : public Listener {
 public:
  // Takes ownership of fd: a bound, listening, non-blocking socket. uri is what peers dial.
  TcpListener(int fd, std::string uri, TcpOptions options, size_t max_frame);
  using Adopt = std::function<std::unique_ptr<Link>(int accepted_fd)>;  // owns the fd from then on
  TcpListener(int fd, std::string uri, Adopt adopt);
  ~TcpListener() override;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::unique_ptr<Link> accept(int timeout_ms, int* err) override;
  std::string uri() const override { return uri_; }
  int poll_fd() const override { return fd_; }
  void close() override;

 private:
  const int fd_;
  const std::string uri_;
  const Adopt adopt_;
  std::atomic<bool> closed_{false};
};

}  // namespace dvs::transport::tcp
