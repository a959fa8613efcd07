// Options of `dvs run` (filled by the CLI, read by the runner).
#ifndef DVS_HARNESS_CLI_RUN_OPTIONS_HPP
#define DVS_HARNESS_CLI_RUN_OPTIONS_HPP

#include <cstdint>
#include <string>
#include <vector>

#include "dvs/dvs.h"
#include "workloads/pingpong/pingpong.hpp"

namespace dvs::cli {

struct RunOptions {
  // Timed iterations of ping-pongs under spin and spin-then-block (and of the matching raw
  // baselines), of ping-pongs under block (blocking cross-core wake-ups cost ~50 us on the
  // project's VMs, so fewer), and of copy loops (vcopy and pipe stream).
  uint64_t iterations = 500'000;
  uint64_t block_iterations = 10'000;
  uint64_t copy_iterations = 5'000;
  uint64_t warmup = 10;           // untimed iterations first (the original used 10)
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;     // spin budget of spin-then-block
  std::string placement = "cross";
  std::vector<std::string> waits = workloads::kWaitNames;
  uint64_t vcopy_bytes = 65536;   // vcopy and pipe stream block size
  double cell_budget_s = 15;      // a loop stops early (marked truncated) after this long
  std::vector<std::string> only;  // run only cells whose id contains one of these ("" = all)
  bool quick = false;             // small counts: a smoke run, not a measurement
  std::string out_dir;            // results go to <out_dir>/<run-id>/
  std::string dvsd_path;          // "" = $DVSD_BIN, else beside this binary
  std::string argv_line;          // the command line as given (recorded in meta.json)
  int repeat = 1;                 // repetitions of every cell, interleaved (rows tagged "rep")
  bool fail_on_criteria = false;  // exit 1 when a remote criterion is MISSED (--fail-on-criteria)
  // The remote section: two dvsd nodes linked over tcp on loopback (harness/plan/remote_cells).
  bool no_remote = false;                   // skip it
  bool remote_only = false;                 // run only it
  std::string remote_wait = "block";        // wait strategy of the dvs endpoints there
  int proxy_poll_us = 0;                    // dvsd --poll-us of both nodes (0: proxies block)
  // Each node's dvsd pinned (dvsd --cpus) to the CPU of the measuring process on that node, so
  // the two emulated nodes have a CPU each; false: dvsd threads float over all CPUs.
  bool pin_nodes = true;
  // Where the two remote nodes (and the raw TCP rows) run: "auto" = in two network namespaces
  // joined by veth pairs when possible, else loopback; "netns"; "loopback".
  std::string remote_net = "auto";
  uint32_t proxy_copy_chunk = 0;            // dvsd --copy-chunk of both nodes (0: dvsd's default)
  uint64_t remote_iterations = 5'000;       // round trips of each RTT row (and raw TCP ping-pong)
  uint64_t remote_copy_iterations = 500;    // 1 MiB blocks of each vcopy row (and TCP stream)
  uint64_t remote_pair_iterations = 8'000;  // round trips of each pairs row, over all its pairs
  uint64_t remote_copy_bytes = 1u << 20;    // vcopy / TCP stream block
};

// Iteration counts --quick uses unless given explicitly.
inline constexpr uint64_t kQuickIterations = 5'000;
inline constexpr uint64_t kQuickBlockIterations = 200;
inline constexpr uint64_t kQuickCopyIterations = 200;
inline constexpr uint64_t kQuickRemoteIterations = 200;
inline constexpr uint64_t kQuickRemoteCopyIterations = 20;
inline constexpr uint64_t kQuickRemotePairIterations = 400;

}  // namespace dvs::cli

#endif
