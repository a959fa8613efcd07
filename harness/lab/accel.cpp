// KVM or TCG for a lab VM: see accel.hpp.
#include "harness/lab/accel.hpp"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace dvs::lab {

namespace {

// The remembered outcome: line 1 "works KEY" or "fails KEY", line 2 the failure's reason.
struct Remembered {
  std::string verdict, key, reason;
};

Remembered read_state(const std::string& path) {
  std::ifstream in(path);
  Remembered m;
  std::string first;
  std::getline(in, first);
  const size_t sp = first.find(' ');
  if (sp == std::string::npos) return m;
  m.verdict = first.substr(0, sp);
  m.key = first.substr(sp + 1);
  std::getline(in, m.reason);
  return m;
}

void write_state(const std::string& path, const std::string& verdict, const std::string& key,
                 const std::string& reason) {
  std::ofstream out(path, std::ios::trunc);
  out << verdict << " " << key << "\n" << reason << "\n";
}

std::string first_nonempty_line(const std::string& text) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l))
    if (l.find_first_not_of(" \t\r") != std::string::npos) return l;
  return "";
}

void print_argv(const VmConfig& c) {
  std::fprintf(stderr, "dvs lab: booting with %s: %s\n", c.kvm ? "KVM" : "TCG",
               fmt::format("{}", fmt::join(qemu_argv(c), " ")).c_str());
}

}  // namespace

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string l;
  while (std::getline(in, l)) {
    if (l.rfind("model name", 0) != 0) continue;
    const size_t colon = l.find(':');
    if (colon == std::string::npos) break;
    const size_t start = l.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown CPU" : l.substr(start);
  }
  return "unknown CPU";
}

std::string host_key(const std::string& qemu) {
  utsname u{};
  uname(&u);
  struct stat st {};
  stat(qemu.c_str(), &st);
  return fmt::format("{} {} {} {}", u.release, st.st_size, static_cast<long long>(st.st_mtime), cpu_model());
}

std::string kvm_failure_reason(const VmResult& r, int boot_timeout_ms) {
  if (!r.started) return "qemu did not start: " + r.detail;
  if (r.boot_timed_out) return fmt::format("the guest did not boot within {:g} s", boot_timeout_ms / 1000.0);
  if (r.timed_out) return "the run's deadline passed before the guest booted";
  std::string how = "qemu ended";
  const int ws = r.wait_status;
  if (ws != -1 && WIFSIGNALED(ws)) how = fmt::format("qemu died of signal {} ({})", WTERMSIG(ws), strsignal(WTERMSIG(ws)));
  else if (ws != -1 && WIFEXITED(ws)) how = fmt::format("qemu exited {}", WEXITSTATUS(ws));
  const std::string said = first_nonempty_line(r.detail);
  return said.empty() ? how + " before the guest booted" : how + " before the guest booted: " + said;
}

BootOutcome boot_vm(VmConfig c, const AccelPlan& plan, long long deadline_ms) {
  BootOutcome out;
  bool try_kvm = plan.accel == "kvm";
  if (plan.accel == "auto" && plan.kvm_usable) {
    const Remembered m = read_state(plan.state_file);
    if (m.verdict == "fails" && m.key == plan.host_key) {
      out.kvm_failure = "KVM failed on this host before (" + m.reason + ")";
      if (plan.verbose)
        std::fprintf(stderr, "dvs lab: %s; using TCG (delete %s to try KVM again)\n", out.kvm_failure.c_str(),
                     plan.state_file.c_str());
    } else {
      try_kvm = true;
    }
  }
  if (try_kvm) {
    c.kvm = true;
    if (plan.verbose) print_argv(c);
    const bool fallback = plan.accel == "auto";
    out.vm = run_vm(c, deadline_ms, fallback ? plan.kvm_boot_timeout_ms : -1);
    out.kvm = true;
    if (out.vm.booted) {
      if (fallback) write_state(plan.state_file, "works", plan.host_key, "");
      return out;
    }
    if (!fallback) return out;
    const std::string reason = kvm_failure_reason(out.vm, plan.kvm_boot_timeout_ms);
    write_state(plan.state_file, "fails", plan.host_key, reason);
    out.kvm_failure = "KVM failed: " + reason;
    std::fprintf(stderr, "dvs lab: %s; using TCG (remembered in %s)\n", out.kvm_failure.c_str(),
                 plan.state_file.c_str());
  }
  c.kvm = false;
  if (plan.verbose) print_argv(c);
  out.vm = run_vm(c, deadline_ms, -1);
  out.kvm = false;
  return out;
}

}  // namespace dvs::lab
