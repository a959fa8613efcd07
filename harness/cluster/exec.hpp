// Small process helpers of the cluster runtime: run a command to completion with a time bound,
// `ip` (iproute2) calls, liveness of a pid that may not be our child.
#ifndef DVS_HARNESS_CLUSTER_EXEC_HPP
#define DVS_HARNESS_CLUSTER_EXEC_HPP

#include <sys/types.h>

#include <string>
#include <vector>

namespace dvs::cluster {

struct ExecResult {
  bool started = false;
  bool timed_out = false;
  int exit_code = -1;  // -1 unless it exited normally
  std::string output;  // stdout and stderr together
  bool ok() const { return started && !timed_out && exit_code == 0; }
  // First non-empty output line, or a description of how it ended.
  std::string reason() const;
};

// Runs argv (argv[0] a path or a name searched in PATH) with stdin from /dev/null; SIGKILL after
// timeout_ms.
ExecResult run_command(const std::vector<std::string>& argv, int timeout_ms);

// The iproute2 binary, or "" if none is installed.
const std::string& ip_binary();
// `ip ARGS...` bounded by 5 s. "" on success, else one line "ip ARGS: reason".
std::string ip(const std::vector<std::string>& args, int timeout_ms = 5000);

// Start time of pid in clock ticks since boot (/proc/PID/stat field 22); -1 if no such process.
long long process_starttime(pid_t pid);
// True if pid runs (not a zombie) and, when starttime >= 0, started at that time (no pid reuse).
bool process_alive(pid_t pid, long long starttime);
// Reaps pid if it is our child and has exited (no-op otherwise).
void reap_if_child(pid_t pid);

// Monotonic milliseconds.
long long now_ms();
void sleep_ms(int ms);

}  // namespace dvs::cluster

#endif
