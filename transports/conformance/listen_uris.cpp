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
  // Add new transports here, e.g.
  //   tipc: "tipc://<type>:<instance>" with an instance unique per pid and call;
  //   rdma: "rdma://<device>/127.0.0.1:0".
  return "";
}

}  // namespace dvs::transport::conformance
