// Run one measurement as two fork()ed processes: a server (echo side) and a client (timing side),
// each pinned per a CpuPair. The calling process only forks, waits and collects; it never sits
// on the measured path.
//
// Contract:
//  - Resources both sides need (pipes, shared pages, buffers at a common address) are created by
//    the caller before run_two_process and captured by the two functions; after fork each child
//    owns its copy. parent_after_fork (if given) runs in the calling process once both children
//    exist: close the parent's copies of descriptors there, so a child's exit gives its peer
//    EOF/EPIPE instead of a hang.
//  - server(ctx) and client(ctx, result) run in the children after pinning; their return value
//    is the child's exit status (0 = success). ctx.fail() records a one-line reason that the
//    parent reports. client fills `result` (usually via run_timed_loop) in shared memory.
//  - The client runs first-class: when it exits, the server gets `server_grace_ms` to exit on
//    its own (it should have been told to stop by the protocol), then SIGKILL. The whole run is
//    bounded by timeout_ms; on expiry both children are killed and the outcome says "timeout".
//  - Children leave with _exit (no atexit handlers or stdio flush of the parent's state).
#ifndef DVS_HARNESS_MEASURE_TWO_PROCESS_HPP
#define DVS_HARNESS_MEASURE_TWO_PROCESS_HPP

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <sys/prctl.h>
#include <unistd.h>

#include "workloads/measure/placement.hpp"
#include "workloads/measure/timed_loop.hpp"

namespace dvs::measure {

// Error channel of a child: a fixed buffer in shared memory.
class ChildCtx {
 public:
  ChildCtx(char* buf, size_t len, int cpu) : buf_(buf), len_(len), cpu_(cpu) {}
  // Record a reason (printf-style; first call wins) and return 1 (a convenient exit status).
  int fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  int cpu() const { return cpu_; }

 private:
  char* buf_;
  size_t len_;
  int cpu_;
};

using ServerFn = std::function<int(ChildCtx&)>;
using ClientFn = std::function<int(ChildCtx&, LoopResult&)>;

struct TwoProcessOutcome {
  std::unique_ptr<LoopResult> result;  // the client's result (always allocated)
  bool ok = false;                     // both children exited 0 and the loop completed
  std::string error;                   // why not, one line
};
// An outcome that failed before anything was measured (set-up failed): empty result, `why`.
TwoProcessOutcome failed_outcome(std::string why);

// Forks a measuring child that dies with its parent (PR_SET_PDEATHSIG), pins itself to `cpu`
// (-1: unpinned), runs fn(ctx) and leaves with _exit(fn's result); an exception or a failed pin
// becomes exit status 1 with its reason in err (errlen bytes of shared memory, first reason wins).
// Returns the child's pid, or -errno if fork failed. Used by every runner that forks children
// to measure (run_two_process, the remote pairs, dvs reproduce's local pairs).
template <class Fn>
pid_t spawn_measuring_child(int cpu, char* err, size_t errlen, Fn&& fn);

// For a child about to be killed for running too long: " (state S, in <wait channel>, syscall
// <nr> <arg1> <arg2> <arg3>)" from /proc (a futex wait shows its address and expected value), or
// "" if /proc tells nothing.
std::string describe_stuck(pid_t pid);

TwoProcessOutcome run_two_process(const CpuPair& cpus, const ServerFn& server,
                                  const ClientFn& client, int timeout_ms = 60'000,
                                  int server_grace_ms = 3'000,
                                  const std::function<void()>& parent_after_fork = {});

template <class Fn>
pid_t spawn_measuring_child(int cpu, char* err, size_t errlen, Fn&& fn) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid > 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the runner
  ChildCtx ctx(err, errlen, cpu);
  const int prc = pin_to_cpu(cpu);
  if (prc < 0) _exit(ctx.fail("pin to cpu%d: %s", cpu, strerror(-prc)));
  int rc = 1;
  try {
    rc = fn(ctx);
  } catch (const std::exception& e) {
    rc = ctx.fail("exception: %s", e.what());
  } catch (...) {
    rc = ctx.fail("unknown exception");
  }
  _exit(rc & 0xff);
}

}  // namespace dvs::measure

#endif
