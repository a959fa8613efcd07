#include "transports/conformance/listen_uris.hpp"

#include <unistd.h>

#include <atomic>

namespace dvs::transport::conformance {

std::string listen_uri_for(std::string_view scheme) {
  static std::atomic<int> counter{0};
  const std::string pid = std::to_string(getpid());
  const std::string n = std::to_string(counter++);
  // scheme -> listen URI. Port 0 / fresh names: the listener's uri() says what to dial.
  if (scheme == "tcp") return "tcp://127.0.0.1:0";
  if (scheme == "shm") return "shm://conf-" + pid + "-" + n;
  // Instance 0: the listener picks a free one (its uri() names it). Node scope: the suite's
  // services stay on this node even inside a lab cluster.
  if (scheme == "tipc") return "tipc://18888:0?scope=node";
  // No host: the first IPv4 address of an RDMA device (the lab's rxe0: 10.89.0.1); port 0.
  if (scheme == "rdma") return "rdma://:0";
  // Add new transports here.
  return "";
}

}  // namespace dvs::transport::conformance
