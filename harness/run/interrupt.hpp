// Ctrl-C for `dvs run` and `dvs bench`: stop after the loop in progress, keep what was measured.
//
// The constructor blocks SIGINT in the calling thread and starts a thread that takes it with
// sigtimedwait. Every process forked from now on (the measuring children, dvsd) inherits the
// blocked SIGINT, so the terminal's Ctrl-C - sent to the whole foreground process group - does
// not kill the loop in progress: only this process notices, the loop completes, the runner
// stops before the next one, stops its dvsd (SIGTERM) and writes the rows measured so far with
// meta.json "interrupted": true. A second SIGINT abandons the loop in progress: the process
// exits 130 at once (its children die with it: PR_SET_PDEATHSIG), the rows already written stay
// and meta.json says "finished": false.
//
// Construct it before the first fork; keep it alive until the results are written. One at a time.
#ifndef DVS_HARNESS_BENCH_INTERRUPT_HPP
#define DVS_HARNESS_BENCH_INTERRUPT_HPP

#include <atomic>
#include <thread>

#include <signal.h>

namespace dvs::bench {

// The exit status of a run stopped by Ctrl-C (128 + SIGINT, as a shell reports it).
inline constexpr int kExitInterrupted = 130;

class InterruptWatch {
 public:
  InterruptWatch();
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // A SIGINT arrived.
  bool requested() const { return count_.load(std::memory_order_acquire) > 0; }

 private:
  void watch();
  std::atomic<int> count_{0};
  std::atomic<bool> stop_{false};
  sigset_t old_mask_;
  std::thread thread_;
};

}  // namespace dvs::bench

#endif
