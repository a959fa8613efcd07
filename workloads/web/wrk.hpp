// wrk (Debian's HTTP load generator) as a child process: one bounded run against a URL, its
// printed summary parsed, and optionally wrk's whole latency record through a Lua export script.
// The load generator of `dvs web bench` (docs/WEB.md).
#ifndef DVS_WORKLOADS_WEB_WRK_HPP
#define DVS_WORKLOADS_WEB_WRK_HPP

#include <cstdint>
#include <memory>
#include <string>

#include "workloads/measure/timed_loop.hpp"

namespace dvs::workloads::web {

// What one wrk run offers: wrk -t threads -c connections -d duration_s.
struct WrkLoad {
  int threads = 2, connections = 16;
  double duration_s = 5;
};

struct WrkResult {
  double rps = -1, mib_s = -1;  // -1: wrk printed none (it failed; text says why)
  int64_t p50_ns = -1, p90_ns = -1, p99_ns = -1;
  uint64_t requests = 0, non_2xx = 0, socket_errors = 0;
  std::string text;  // wrk's whole output
  // wrk's whole latency record (1 us resolution, with wrk's own correction for coordinated
  // omission, so its count may exceed `requests`), when the run had the export script.
  std::unique_ptr<measure::LoopResult> latency;
};

// wrk's "123.45us" / "1.20ms" / "2.00s" in ns; -1 if not a duration.
int64_t wrk_ns(const std::string& v);

// One wrk run against url, killed (timeout) 20 s after its duration; blocks until it ends. With
// latency_dir, wrk also writes its latency record there (wrk-latency.lua, wrk-latency.txt).
WrkResult run_wrk(const WrkLoad& load, const std::string& url, const std::string& latency_dir = "");

}  // namespace dvs::workloads::web

#endif
