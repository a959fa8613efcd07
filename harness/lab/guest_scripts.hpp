// The two shell scripts of a lab VM, as text (pure functions, unit-tested):
//  * init: PID 1 of the initramfs (busybox sh). Loads the modules listed in /modules.order,
//    mounts the host's root over virtio-9p (read-only) under an overlay with a tmpfs upper layer,
//    mounts proc/sys/dev/run/dev/shm inside it, reports "booted" on the status port, runs the
//    job script (its path is on the kernel command line: dvslab.job=PATH) chrooted, powers off.
//  * job: runs inside the chroot with the host's /bin/sh. Sets up what was asked (namespaces,
//    TIPC cluster, Soft-RoCE), reports "setup-ok" or "setup-failed WHAT", runs the command with
//    the caller's environment and working directory, and reports "exit N".
// Ports: ttyS0 kernel console (a log file on the host), ttyS1 the command's stdout+stderr
// (streamed to dvs lab's stdout), ttyS2 status lines (a file the host watches).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dvs::lab {

// 'text' quoted for a POSIX shell (single quotes; embedded ones as '\'').
std::string sh_quote(const std::string& text);

std::string init_script();

struct JobSpec {
  std::vector<std::string> command;
  bool tipc = false;
  bool rdma = false;
  bool namespaces = false;  // ns0/ns1 + veth (implied by tipc and by a non-empty ns)
  std::string ns;
  std::string cwd;
  std::string modules_dir;  // the kernel's lib/modules/VERSION in the cache: bound to /lib/modules
                            // so that modprobe works in the guest ("" = not)
  std::vector<std::pair<std::string, std::string>> env;  // exported before the command
};

std::string job_script(const JobSpec& j);

// The environment variables of this process worth passing to the guest (valid shell names, not
// the shell's own bookkeeping such as PWD or SHLVL).
std::vector<std::pair<std::string, std::string>> forwarded_environment();

}  // namespace dvs::lab
