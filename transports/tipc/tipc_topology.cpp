#include "transports/tipc/tipc_topology.hpp"

#include <errno.h>
#include <linux/tipc.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dvs/errors.h"
#include "transports/tcp/tcp_deadline.hpp"
#include "transports/tcp/tcp_socket.hpp"

namespace dvs::transport::tipc {

namespace {

using tcp::Deadline;
using tcp::errno_to_dvs;

// One connection to the topology server carrying one subscription. Fields are written in host
// byte order; the server notices (from the filter bits) and answers in the same order.
class Subscription {
 public:
  ~Subscription() {
    if (fd_ >= 0) ::close(fd_);
  }
  // 0 or an EDVS code.
  int open(uint32_t type, uint32_t instance, uint32_t timeout_ms, uint32_t filter) {
    fd_ = ::socket(AF_TIPC, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return errno_to_dvs(errno);
    sockaddr_tipc top{};
    top.family = AF_TIPC;
    top.addrtype = TIPC_SERVICE_ADDR;
    top.addr.name.name.type = TIPC_TOP_SRV;
    top.addr.name.name.instance = TIPC_TOP_SRV;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&top), sizeof top) < 0) return errno_to_dvs(errno);
    tipc_subscr s{};
    s.seq.type = type;
    s.seq.lower = instance;
    s.seq.upper = instance;
    s.timeout = timeout_ms;
    s.filter = filter;
    for (;;) {
      ssize_t n = ::send(fd_, &s, sizeof s, MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(sizeof s)) return 0;
      if (n < 0 && errno == EINTR) continue;
      return n < 0 ? errno_to_dvs(errno) : EDVSIO;
    }
  }
  // The next event: 0, EDVSTIMEDOUT at the deadline, or an EDVS code.
  int next(const Deadline& dl, tipc_event* ev) {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      int pr = ::poll(&p, 1, dl.remaining_ms());
      if (pr < 0 && errno == EINTR) continue;
      if (pr < 0) return errno_to_dvs(errno);
      if (pr == 0) return EDVSTIMEDOUT;
      ssize_t n = ::recv(fd_, ev, sizeof *ev, MSG_DONTWAIT);
      if (n == static_cast<ssize_t>(sizeof *ev)) return 0;
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return n < 0 ? errno_to_dvs(errno) : EDVSIO;  // the server closed or sent something odd
    }
  }

 private:
  int fd_ = -1;
};

// The subscription timeout of count_publications(): existing publications are reported at once,
// before the timeout event, so a short one is enough.
constexpr uint32_t kSnapshotMs = 10;

}  // namespace

int count_publications(uint32_t type, uint32_t instance) {
  Subscription sub;
  if (int rc = sub.open(type, instance, kSnapshotMs, TIPC_SUB_PORTS); rc < 0) return rc;
  Deadline dl(2000);
  int count = 0;
  for (;;) {
    tipc_event ev{};
    if (int rc = sub.next(dl, &ev); rc < 0) return rc;
    if (ev.event == TIPC_PUBLISHED) ++count;
    else if (ev.event == TIPC_WITHDRAWN && count > 0) --count;
    else if (ev.event == TIPC_SUBSCR_TIMEOUT) return count;
  }
}

int wait_published(uint32_t type, uint32_t instance, int timeout_ms) {
  Subscription sub;
  if (int rc = sub.open(type, instance, static_cast<uint32_t>(timeout_ms), TIPC_SUB_SERVICE); rc < 0) return rc;
  Deadline dl(timeout_ms + 1000);  // the server's timeout event normally ends it first
  for (;;) {
    tipc_event ev{};
    if (int rc = sub.next(dl, &ev); rc < 0) return rc;
    if (ev.event == TIPC_PUBLISHED) return 0;
    if (ev.event == TIPC_SUBSCR_TIMEOUT) return EDVSTIMEDOUT;
  }
}

}  // namespace dvs::transport::tipc
