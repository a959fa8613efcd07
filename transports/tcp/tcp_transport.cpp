#include "transports/tcp/tcp_transport.hpp"

#include <errno.h>
#include <netdb.h>
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
#include "transports/tcp/tcp_uri.hpp"
#include "transports/transport_util.hpp"

namespace dvs::transport {

namespace tcp {
namespace {

// getaddrinfo() for host:port; nullptr host means the wildcard address (listen only).
int resolve(const TcpAddress& a, bool passive, addrinfo** out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  const char* host = a.host.empty() ? "0.0.0.0" : a.host.c_str();
  std::string port = std::to_string(a.port);
  int g = getaddrinfo(host, port.c_str(), &hints, out);
  return g == 0 ? 0 : gai_to_dvs(g);
}

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(TcpOptions defaults) : defaults_(defaults) {}

  std::string_view scheme() const override { return "tcp"; }

  Capabilities capabilities() const override { return link_capabilities(); }

  Availability probe() const override {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      int e = errno;
      fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return {false, std::string("cannot create a TCP socket: ") + strerror(e)};
    }
    ::close(fd);
    return {true, ""};
  }

  std::unique_ptr<Listener> listen(const std::string& uri, int* err) override {
    TcpAddress a;
    if (int rc = parse_tcp_uri(uri, defaults_, &a); rc < 0) return fail_with<Listener>(err, rc);
    addrinfo* ais = nullptr;
    if (int rc = resolve(a, true, &ais); rc < 0)
      return fail_with<Listener>(err, rc == EDVSDSTNOTRCH ? EDVSADDRNOTAVAIL : rc);
    int last = EDVSADDRNOTAVAIL;
    for (addrinfo* ai = ais; ai; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
      if (fd < 0) {
        last = errno_to_dvs(errno);
        continue;
      }
      int one = 1;
      (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || ::listen(fd, SOMAXCONN) < 0 ||
          getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
        last = errno_to_dvs(errno);
        ::close(fd);
        continue;
      }
      freeaddrinfo(ais);
      std::string bound = format_tcp_uri(reinterpret_cast<sockaddr*>(&ss), len) + a.query;
      return std::make_unique<TcpListener>(fd, std::move(bound), a.options, kMaxFrame);
    }
    freeaddrinfo(ais);
    return fail_with<Listener>(err, last);
  }

  std::unique_ptr<Link> adopt(int fd, int* /*err*/) override {
    return std::make_unique<TcpLink>(fd, kMaxFrame);  // its options came with the socket
  }

  std::unique_ptr<Link> dial(const std::string& uri, int timeout_ms, int* err) override {
    TcpAddress a;
    if (int rc = parse_tcp_uri(uri, defaults_, &a); rc < 0) return fail_with<Link>(err, rc);
    if (a.host.empty() || a.port == 0) return fail_with<Link>(err, EDVSINVAL);
    addrinfo* ais = nullptr;
    if (int rc = resolve(a, false, &ais); rc < 0) return fail_with<Link>(err, rc);
    // Try each address in getaddrinfo's order, all within the one timeout.
    Deadline dl(timeout_ms);
    int last = EDVSDSTNOTRCH;
    for (addrinfo* ai = ais; ai; ai = ai->ai_next) {
      int fd = -1;
      int rc = connect_with_timeout(ai, dl.remaining_ms(), &fd);
      if (rc == 0) rc = apply_link_options(fd, a.options);
      if (rc == 0) {
        freeaddrinfo(ais);
        return std::make_unique<TcpLink>(fd, kMaxFrame);
      }
      if (fd >= 0) ::close(fd);
      last = rc;
      if (rc == EDVSTIMEDOUT) break;
    }
    freeaddrinfo(ais);
    return fail_with<Link>(err, last);
  }

 private:
  TcpOptions defaults_;
};

}  // namespace

std::unique_ptr<Transport> make_tcp_transport(TcpOptions defaults) {
  return std::make_unique<TcpTransport>(defaults);
}

}  // namespace tcp

void register_tcp() {
  register_transport(tcp::make_tcp_transport(),
                     {.listen_uri = [](const ListenPlace& at) { return "tcp://" + at.host + ":" + std::to_string(at.port); },
                      .crosses_network_namespaces = true,
                      .pingpong_baseline = "tcp",
                      .stream_baseline = "tcp_stream",
                      .network = "tcp over loopback",
                      .label = "TCP"});
}

}  // namespace dvs::transport
