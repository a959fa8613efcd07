// NodePair: see node_pair.hpp.
#include "cli/node_pair.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dvs::cli {

std::string NodePair::ensure(const std::string& transport) {
  if (bin_.empty()) return "no dvsd binary";
  if (transport == cur_) return "";
  stop();
  const std::string listen = transport == "shm"
                                 ? fmt::format("shm://dvs-pair-{}-{}", getpid(), ++seq_)
                                 : std::string("tcp://127.0.0.1:0");
  std::string err;
  const std::string log1 = fmt::format("{}/dvsd-{}-node1.log", dir_, transport);
  const std::string log0 = fmt::format("{}/dvsd-{}-node0.log", dir_, transport);
  std::vector<std::string> a1 = {"--listen", listen, "--peer", "0"};
  a1.insert(a1.end(), extra_.begin(), extra_.end());
  if (!n1_.start(bin_, 1, log1, a1, &err)) return "dvsd node 1 did not start: " + err;
  if (n1_.listen_uri().empty()) {
    n1_.stop();
    return "dvsd node 1 printed no listening URI (see " + log1 + ")";
  }
  std::vector<std::string> a0 = {"--peer", "1=" + n1_.listen_uri()};
  a0.insert(a0.end(), extra_.begin(), extra_.end());
  if (!n0_.start(bin_, 0, log0, a0, &err)) {
    n1_.stop();
    return "dvsd node 0 did not start: " + err;
  }
  cur_ = transport;
  const std::string more = extra_.empty() ? "" : fmt::format(" {}", fmt::join(extra_, " "));
  lines_.push_back(fmt::format("{}: node 1 {} --node 1 --listen {} --peer 0{} (listening on {}); "
                               "node 0 {} --node 0 --peer 1={}{} (dvsd defaults otherwise)",
                               transport, bin_, listen, more, n1_.listen_uri(), bin_,
                               n1_.listen_uri(), more));
  return "";
}

void NodePair::stop() {
  n0_.stop();
  n1_.stop();
  cur_.clear();
}

}  // namespace dvs::cli
