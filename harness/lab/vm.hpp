// One qemu run of a lab VM (see guest_scripts.hpp for the ports): starts qemu-system-x86_64,
// streams the command's output port to stdout, watches the status port, and bounds everything.
#pragma once

#include <string>
#include <vector>

#include "harness/lab/image.hpp"

namespace dvs::lab {

struct VmConfig {
  std::string qemu;     // the qemu-system-x86_64 binary
  Image image;
  std::string run_dir;  // console.log, status.log, qemu.stderr go here
  std::string job;      // the job script's path (in the host's file system, seen by the guest)
  bool kvm = false;     // else TCG
  int memory_mb = 2048;
  int cpus = 2;
};

struct VmResult {
  bool started = false;      // qemu ran
  bool booted = false;       // the init reported "booted"
  bool timed_out = false;    // killed at the deadline
  bool boot_timed_out = false;  // killed because it had not booted by boot_timeout_ms
  std::string setup_error;   // "setup-failed ..." from the guest (empty if none)
  bool exited = false;       // the command ran and reported its status
  int exit_code = -1;
  double boot_s = 0, total_s = 0;
  int wait_status = -1;      // qemu's waitpid() status (-1: not reaped)
  std::string detail;        // why qemu could not start / ended early (qemu's stderr)
};

// Runs the VM until it powers off, the deadline (monotonic ms, cluster::now_ms()) passes, or —
// if boot_timeout_ms >= 0 — it has not booted within that long. qemu is SIGKILLed on a time-out
// and also if this process dies (PR_SET_PDEATHSIG).
VmResult run_vm(const VmConfig& c, long long deadline_ms, int boot_timeout_ms);

// The qemu command line (for --verbose and the tests).
std::vector<std::string> qemu_argv(const VmConfig& c);

}  // namespace dvs::lab
