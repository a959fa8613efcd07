// `dvs lab`: a throw-away VM that gives any Linux machine the kernel features the host lacks
// (TIPC, Soft-RoCE RDMA) and runs one command inside it (docs/LAB.md).
//
// It boots Debian's stock kernel (fetched with apt-get download, cached) under qemu with a tiny
// busybox initramfs, shares the host's root file system read-only over virtio-9p (an overlay
// with a RAM upper layer makes it writable in the guest), chroots into it, loads the modules,
// optionally builds a two-node TIPC cluster of network namespaces and a Soft-RoCE device, runs
// the command with the caller's working directory and environment, and powers off. The guest
// command's output is streamed to stdout; its exit status becomes ours.
#pragma once

#include <string>
#include <vector>

namespace dvs::lab {

// Exit statuses of `dvs lab` besides the guest command's own.
inline constexpr int kExitTimeout = 124;  // the run did not finish within --timeout (qemu killed)
inline constexpr int kExitLabError = 125;  // the lab itself failed (boot, setup, missing pieces)

struct LabOptions {
  std::vector<std::string> command;  // run inside the guest (argv; argv[0] searched in PATH)
  bool tipc = false;                 // namespaces ns0/ns1 joined by a veth pair, a TIPC cluster
  bool rdma = false;                 // a Soft-RoCE device rxe0 on a veth pair in the root namespace
  std::string ns;                    // run the command inside this namespace (ns0, ns1; "" = root)
  std::string cache_dir;             // "" = $DVS_LAB_CACHE, else /var/cache/dvs-lab
  std::string accel = "auto";        // auto (KVM if it boots, else TCG), kvm, tcg
  int timeout_s = 600;               // the whole VM run, boot and KVM attempt included
  int kvm_boot_timeout_s = 10;       // a KVM guest that has not booted by then is given up
  int memory_mb = 2048;
  int cpus = 2;
  int unavailable_exit = kExitLabError;  // exit status when the lab cannot run on this machine
  bool verbose = false;              // progress and the guest's kernel console on stderr
  bool keep = false;                 // keep the run directory (job script, console log)
};

// The cache directory in effect for o (see LabOptions::cache_dir).
std::string cache_dir(const LabOptions& o);

// Fetches (or, unless refresh, finds in the cache) the kernel, the modules and busybox, and
// builds the initramfs; prints what it has. 0, or kExitLabError / o.unavailable_exit with the
// reason on stderr.
int prepare(const LabOptions& o, bool refresh);

// prepare() + boot + run o.command. Returns the guest command's exit status, kExitTimeout, or
// kExitLabError / o.unavailable_exit (with the reason on stderr).
int run(const LabOptions& o);

}  // namespace dvs::lab
