// The one timing loop shared by every dvs primitive loop and every raw baseline.
//
// Contract of run_timed_loop(op, cfg, out):
//  - calls op() cfg.warmup times untimed (the original used 10), then up to cfg.iterations times
//    timed; op returns 0 on success or a negative error code, which stops the loop (out.error).
//  - sample i = now_ns() after iteration i minus now_ns() after iteration i-1 (the first one is
//    measured from a timestamp taken just before the loop). One clock read and one
//    Histogram::record per iteration are therefore inside every sample; they are the same for
//    every mechanism, and the samples add up exactly to out.elapsed_ns.
//  - if cfg.budget_ns > 0 and the timed part runs longer, the loop stops early with
//    out.truncated = true (a safety net, not a measurement mode: results say so).
// One round trip per op() for ping-pong loops, so the samples are RTTs; for copy/stream loops
// one op() moves out.bytes_per_op bytes and the samples are per-operation times.
#ifndef DVS_HARNESS_MEASURE_TIMED_LOOP_HPP
#define DVS_HARNESS_MEASURE_TIMED_LOOP_HPP

#include <cstdint>
#include <type_traits>

#include "workloads/measure/clock.hpp"
#include "workloads/measure/histogram.hpp"

namespace dvs::measure {

struct LoopConfig {
  uint64_t warmup = 10;
  uint64_t iterations = 100'000;
  uint64_t budget_ns = 0;  // 0: no time cap
};

// Outcome of one timed loop. Trivially copyable: it is written by a forked child into shared
// memory and read by the parent.
struct LoopResult {
  stats::Histogram samples;   // per-iteration times, ns
  uint64_t iterations = 0;    // timed iterations completed
  uint64_t elapsed_ns = 0;    // wall time of the timed part (sum of the samples)
  uint64_t bytes_per_op = 0;  // payload bytes moved per op (64 for ping-pong, block for streams)
  int32_t error = 0;          // first negative return of op(), 0 if none
  bool truncated = false;     // stopped by the time budget before cfg.iterations
  bool completed = false;     // run_timed_loop returned (set last)
};
static_assert(std::is_trivially_copyable_v<LoopResult>);

template <class Op>
void run_timed_loop(Op&& op, const LoopConfig& cfg, LoopResult& out) {
  out.samples.reset();
  out.iterations = 0;
  out.elapsed_ns = 0;
  out.error = 0;
  out.truncated = false;
  out.completed = false;
  for (uint64_t i = 0; i < cfg.warmup; ++i) {
    const int rc = op();
    if (rc < 0) {
      out.error = rc;
      out.completed = true;
      return;
    }
  }
  const uint64_t start = now_ns();
  uint64_t prev = start;
  uint64_t i = 0;
  for (; i < cfg.iterations; ++i) {
    const int rc = op();
    const uint64_t t = now_ns();
    if (rc < 0) {
      out.error = rc;
      break;
    }
    out.samples.record(t - prev);
    prev = t;
    if (cfg.budget_ns != 0 && t - start > cfg.budget_ns) {
      ++i;
      out.truncated = i < cfg.iterations;
      break;
    }
  }
  out.iterations = out.samples.count();
  out.elapsed_ns = prev - start;
  out.completed = true;
}

}  // namespace dvs::measure

#endif
