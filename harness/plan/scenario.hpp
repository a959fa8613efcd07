// Scenario files of `dvs bench` (TOML): a matrix run over transport x primitive x size x
// placement x wait strategy with its counts (or durations), warm-up and repetitions. Every key
// is in docs/BENCH.md. Parsing never guesses: an unknown key, a wrong type or value, an empty
// list is an error "FILE:LINE: what, which key" (one line), and `dvs bench` exits 2 with it.
#ifndef DVS_HARNESS_BENCH_SCENARIO_HPP
#define DVS_HARNESS_BENCH_SCENARIO_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dvs/dvs.h"

namespace dvs::bench {

// What a [defaults] table sets and a [[matrix]] may override.
struct Settings {
  int repetitions = 1;         // each a separate row with "rep"; interleaved by repetition
  uint64_t warmup = 10;        // untimed iterations before each loop
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;   // spin budget of spin-then-block
  double cell_budget_s = 15;   // a counted loop stops early (truncated) after this long
  // Sample counts (timed iterations) when run by count:
  uint64_t samples = 500'000;         // local ping-pongs under spin / spin-then-block (and their baselines)
  uint64_t block_samples = 10'000;    // local ping-pongs under block (and pipe, ... baselines)
  uint64_t copy_samples = 5'000;      // local vcopy blocks (and pipe/FIFO/SysV MQ stream blocks)
  uint64_t remote_samples = 5'000;    // cross-node round trips (and raw TCP ping-pong)
  uint64_t remote_copy_samples = 500; // cross-node vcopy blocks (and raw TCP stream blocks)
  uint64_t remote_pair_samples = 8'000;  // cross-node sendrec pairs cells: all pairs' round trips together
  double duration_s = 0;              // > 0: every loop runs this long instead (counts unused)
  std::string cross_node_pinning = "cross";  // measuring processes of cross-node cells: cross|same|none
};

// One vcopy size: bytes = base + perturbation.
struct SizePoint {
  uint64_t bytes = 0;
  uint64_t base = 0;
  int64_t perturbation = 0;
};

struct MatrixSpec {
  std::string name;
  int line = 0;                          // where its [[matrix]] starts
  std::vector<std::string> transports;   // scenario_transports(): local or a registered transport (`dvs transports`)
  std::vector<std::string> primitives;   // send_receive sendrec_reply notify_receive rcvrqst_reply vcopy vcopy_push
  std::vector<std::string> waits;        // spin | spin-then-block | block
  std::vector<std::string> placements;   // same-core | cross-core | unpinned | cross-node
  std::vector<SizePoint> sizes;          // vcopy (and stream baseline) sizes, ascending, unique
  std::vector<std::string> extra_baselines;
  std::vector<std::string> remote_paths;  // proxy | direct: cross-node cells on each (docs/REMOTE_PATHS.md)
  // authenticated | open | sealed: cross-node cells with the nodes' links so (docs/SECURITY.md):
  // the cluster key's handshake (the default), dvsd --no-auth, or every frame sealed (--seal).
  std::vector<std::string> link_security;
  // Concurrent sendrec pairs (1..8, unique, ascending): each sendrec_reply cell runs once per
  // count, all pairs on one dvsd node (local: workloads/pingpong/local_pairs.hpp) or from node 0
  // to node 1 (cross-node: workloads/remote run_remote_pairs). Empty: one pair per cell, with
  // the cell ids of a matrix without the key.
  std::vector<int> pairs;
  // dvsd --batch of the two nodes of cross-node cells (1..4096, unique, in the given order):
  // each cross-node cell runs once per value. Empty: the nodes' default, with the cell ids of a
  // matrix without the key.
  std::vector<int> dvsd_batch;
  Settings settings;                     // [defaults] with this matrix's overrides
};

struct Scenario {
  std::string source;       // the file (or the name given to parse_scenario_text)
  std::string name;
  std::string description;
  std::vector<MatrixSpec> matrices;
};

inline constexpr uint64_t kMaxCopyBytes = uint64_t{64} << 20;

// The accepted values (canonical spellings), for messages and docs.
extern const std::vector<std::string> kPrimitives, kWaits, kPlacements, kExtraBaselines, kRemotePaths,
    kLinkSecurity;

// The transports a matrix may name: "local" (one dvsd node), then every registered transport.
std::vector<std::string> scenario_transports();

// "" on success, else one line "FILE:LINE: problem".
std::string parse_scenario_file(const std::string& path, Scenario* out);
std::string parse_scenario_text(std::string_view text, const std::string& source, Scenario* out);

// --quick: cap every count at dvs run's --quick counts (5000 / 200 / 200 / 200 / 20), durations
// at 0.2 s and the cell budget at 5 s. Repetitions are kept.
void apply_quick(Scenario* s);

}  // namespace dvs::bench

#endif
