#include "transports/shm/shm_transport.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

#include "dvs/errors.h"
#include "transports/registry.hpp"
#include "transports/shm/shm_link.hpp"
#include "transports/shm/shm_socket.hpp"
#include "transports/shm/shm_uri.hpp"
#include "transports/shm/shm_wait.hpp"

namespace dvs::transport::shm {

namespace {

std::string describe_peer(int sock, const std::string& name) {
  ucred cr{};
  socklen_t len = sizeof cr;
  std::string s = "shm://" + name;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.pid > 0)
    s += " (pid " + std::to_string(cr.pid) + ")";
  return s;
}

std::string unique_name() {
  static std::atomic<unsigned> counter{0};
  return "auto-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(now_ns() % 1000000007);
}

class ShmListener final : public Listener {
 public:
  ShmListener(int fd, int wake_fd, ShmUri u) : fd_(fd), wake_fd_(wake_fd), u_(std::move(u)) {}
  ~ShmListener() override {
    close();
    ::close(fd_);
    ::close(wake_fd_);
  }

  std::unique_ptr<Link> accept(int timeout_ms, int* err) override {
    const Deadline deadline = Deadline::after_ms(timeout_ms);
    for (;;) {
      if (closed_.load(std::memory_order_acquire)) {
        *err = EDVSNOTCONN;
        return nullptr;
      }
      pollfd p[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      int n = ::poll(p, 2, deadline.poll_ms());
      if (n < 0 && errno != EINTR) {
        *err = EDVSNOTCONN;
        return nullptr;
      }
      if (closed_.load(std::memory_order_acquire)) continue;
      if (n > 0 && (p[0].revents & POLLIN)) {
        int c = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) {
          auto link = handshake(c, deadline);
          if (link) return link;
          continue;  // a bad or silent dialer: keep waiting for a good one
        }
      }
      if (deadline.passed()) {
        *err = EDVSTIMEDOUT;
        return nullptr;
      }
    }
  }

  std::string uri() const override { return "shm://" + u_.name; }
  int poll_fd() const override { return fd_; }

  void close() override {
    if (closed_.exchange(true)) return;
    ::shutdown(fd_, SHUT_RDWR);  // refuse new dialers
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);  // wake a blocked accept()
  }

 private:
  // Receives and checks the dialer's Hello and region. Takes ownership of c.
  std::unique_ptr<Link> handshake(int c, const Deadline& deadline) {
    const Deadline hello_by = Deadline::after_ms(kHelloTimeoutMs).min(deadline);
    int memfd = -1, rc = EDVSTIMEDOUT;
    for (;;) {
      rc = recv_hello(c, &memfd);
      if (rc != EDVSTIMEDOUT || hello_by.passed() || closed_.load()) break;
      pollfd p{c, POLLIN, 0};
      ::poll(&p, 1, hello_by.poll_ms());
    }
    Region region;
    if (rc == 0) {
      rc = Region::map(memfd, &region);
      ::close(memfd);
    }
    if (rc != 0) {
      ::close(c);
      return nullptr;
    }
    int err = 0;
    return ShmLink::make(c, std::move(region), kListener, u_.spin_ns, describe_peer(c, u_.name), &err);
  }

  int fd_;
  int wake_fd_;
  ShmUri u_;
  std::atomic<bool> closed_{false};
};

class ShmTransport final : public Transport {
 public:
  std::string_view scheme() const override { return "shm"; }

  Capabilities capabilities() const override {
    Capabilities c;
    c.reliable = true;
    c.ordered = true;
    c.message_boundaries = true;
    c.max_frame = kMaxFrame;
    c.rma = false;
    c.same_host_only = true;
    return c;
  }

  Availability probe() const override {
    int m = memfd_create("dvs-shm-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (m < 0) return {false, std::string("memfd_create failed: ") + strerror(errno)};
    ::close(m);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) return {false, std::string("AF_UNIX SOCK_SEQPACKET: ") + strerror(errno)};
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    // Autobind: the kernel picks a free abstract name, which proves the namespace works.
    int rc = bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(sa_family_t));
    int e = errno;
    ::close(s);
    if (rc != 0) return {false, std::string("abstract UNIX sockets unavailable: ") + strerror(e)};
    return {true, ""};
  }

  std::unique_ptr<Listener> listen(const std::string& uri, int* err) override {
    ShmUri u;
    if ((*err = parse_shm_uri(uri, true, &u)) != 0) return nullptr;
    if (u.name.empty()) u.name = unique_name();
    sockaddr_un a;
    socklen_t alen;
    if (!abstract_address(u.name, &a, &alen)) {
      *err = EDVSINVAL;
      return nullptr;
    }
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *err = EDVSAFNOSUPPORT;
      return nullptr;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), alen) != 0 || ::listen(fd, 128) != 0) {
      *err = errno == EADDRINUSE ? EDVSADDRINUSE : EDVSADDRNOTAVAIL;
      ::close(fd);
      return nullptr;
    }
    int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0) {
      *err = EDVSMFILE;
      ::close(fd);
      return nullptr;
    }
    *err = 0;
    return std::make_unique<ShmListener>(fd, wake, std::move(u));
  }

  std::unique_ptr<Link> dial(const std::string& uri, int timeout_ms, int* err) override {
    ShmUri u;
    if ((*err = parse_shm_uri(uri, false, &u)) != 0) return nullptr;
    sockaddr_un a;
    socklen_t alen;
    if (!abstract_address(u.name, &a, &alen)) {
      *err = EDVSINVAL;
      return nullptr;
    }
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
      *err = EDVSAFNOSUPPORT;
      return nullptr;
    }
    const Deadline deadline = Deadline::after_ms(timeout_ms);
    for (;;) {
      if (connect(s, reinterpret_cast<sockaddr*>(&a), alen) == 0) break;
      const int e = errno;
      if (e == EINTR) continue;
      if ((e == EAGAIN || e == EWOULDBLOCK) && !deadline.passed()) {
        // The listener's backlog is full: retry until the deadline.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      ::close(s);
      *err = (e == EAGAIN || e == EWOULDBLOCK) ? EDVSTIMEDOUT
             : (e == ECONNREFUSED || e == ENOENT) ? EDVSCONNREFUSED
                                                  : EDVSDSTNOTRCH;
      return nullptr;
    }
    Region region;
    int memfd = -1;
    if ((*err = Region::create(u.ring, &region, &memfd)) != 0) {
      ::close(s);
      return nullptr;
    }
    *err = send_hello(s, memfd);
    ::close(memfd);
    if (*err != 0) {
      ::close(s);
      *err = EDVSCONNREFUSED;
      return nullptr;
    }
    return ShmLink::make(s, std::move(region), kDialer, u.spin_ns, describe_peer(s, u.name), err);
  }
};

}  // namespace

std::unique_ptr<Transport> make_shm_transport() { return std::make_unique<ShmTransport>(); }

}  // namespace dvs::transport::shm

namespace dvs::transport {
void register_shm() {
  // No raw mechanism links two dvsd nodes the way the shm link does: its cells get no ratio.
  register_transport(shm::make_shm_transport(), {.listen_uri = [](const ListenPlace& at) { return "shm://" + at.name; },
                                                 .network = "the shm link between two dvsd nodes",
                                                 .label = "shared memory"});
}
}  // namespace dvs::transport
