// The dvsd processes of a `dvs bench` run, started by the first cell that needs them: one local
// node (node 0, DC 0, for the local dvs cells) and a pair of nodes linked over tcp or shm
// (cli/node_pair.hpp, for the cross-node cells). When a local cell runs, the pair is stopped so
// its idle threads and heartbeats do not share the CPUs with the local loops; it restarts on the
// next cross-node cell.
#ifndef DVS_HARNESS_BENCH_NODES_HPP
#define DVS_HARNESS_BENCH_NODES_HPP

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/run/node_pair.hpp"
#include "harness/run/private_dvsd.hpp"

namespace dvs::bench {

// DC 0's default max_copylen: larger vcopy sizes start dvsd with --dc 0,copylen=N.
inline constexpr uint64_t kDefaultCopylen = uint64_t{1} << 20;

class BenchNodes {
 public:
  // bin "": every request fails with skip_reason.
  BenchNodes(std::string bin, std::string run_dir, std::string skip_reason);
  BenchNodes(const BenchNodes&) = delete;
  BenchNodes& operator=(const BenchNodes&) = delete;

  // Largest vcopy of the local cells / of the cross-node cells (0: none).
  void set_copylen(uint64_t local_bytes, uint64_t remote_bytes);
  // The local node is up: "" and *socket, else why not (the first failure is kept).
  std::string local(std::string* socket);
  // Nodes 0 and 1 linked over `transport`, with dvsd --remote-path `path`, are up: "" (sockets:
  // node_socket), else why not.
  // security: the link's (scenario.hpp MatrixSpec::link_security); batch: dvsd --batch (0: the
  // default).
  std::string remote(const std::string& transport, const std::string& path = "proxy",
                     const std::string& security = "authenticated", int batch = 0);
  std::string node_socket(int node) const { return pair_.socket(node); }
  void stop();
  // For meta.json: binary, error, local node, pairs started.
  nlohmann::json describe() const;

 private:
  std::string bin_, dir_, skip_;
  cli::PrivateDvsd local_;
  bool local_started_ = false;
  std::string local_error_;
  std::string local_args_;
  cli::NodePair pair_;
};

}  // namespace dvs::bench

#endif
