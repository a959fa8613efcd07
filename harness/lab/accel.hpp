// KVM or TCG for a lab VM. KVM guests fail on some hosts in ways that differ by CPU vendor
// (docs/LAB.md): on Intel hosts of this project's kind the guest hangs in the firmware, on AMD EPYC
// hosts qemu aborts at once (`-cpu host` asks for an MSR the nested KVM refuses). `auto` tries KVM
// and, on any failure before the guest reports "booted" (abort, non-zero exit, boot time-out),
// boots the same VM again with TCG; the outcome is remembered per host (kernel, qemu binary, CPU
// model) so only the first run on a host pays for a failing KVM attempt.
#pragma once

#include <string>

#include "harness/lab/vm.hpp"

namespace dvs::lab {

struct AccelPlan {
  std::string accel = "auto";      // auto, kvm, tcg
  bool kvm_usable = false;         // /dev/kvm can be opened read-write
  int kvm_boot_timeout_ms = 10'000;  // auto: a KVM guest not booted by then is given up
  std::string state_file;          // where the last KVM outcome on this host is remembered
  std::string host_key;            // host_key(): a remembered outcome counts only for this key
  bool verbose = false;            // print each qemu command line on stderr
};

struct BootOutcome {
  VmResult vm;               // the run that counts (the TCG one after a fallback)
  bool kvm = false;          // vm ran under KVM
  std::string kvm_failure;   // why KVM was not used: this run's failure, or the remembered one
                             // ("" when KVM was used or never considered)
};

// Runs c (its kvm field is set here) as plan says, within deadline_ms (cluster::now_ms()).
// Writes plan.state_file after a KVM attempt under auto; prints one line on stderr when it falls
// back. With accel = kvm a failing KVM run is returned as it is (no fallback).
BootOutcome boot_vm(VmConfig c, const AccelPlan& plan, long long deadline_ms);

// One line saying why a KVM run that did not boot failed: qemu's first line of complaint and how
// it ended (exit status or signal), or the boot time-out.
std::string kvm_failure_reason(const VmResult& r, int boot_timeout_ms);

// Host kernel release, qemu binary (size, mtime) and CPU model: what a remembered KVM outcome
// depends on.
std::string host_key(const std::string& qemu);

// "model name" of the first CPU in /proc/cpuinfo ("unknown CPU" if none).
std::string cpu_model();

}  // namespace dvs::lab
