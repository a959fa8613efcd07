// `dvs lab`: see lab.hpp.
#include "harness/lab/lab.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "harness/cluster/exec.hpp"
#include "harness/lab/accel.hpp"
#include "harness/lab/guest_scripts.hpp"
#include "harness/lab/image.hpp"
#include "harness/lab/vm.hpp"

namespace fs = std::filesystem;

namespace dvs::lab {

namespace {

std::string find_on_path(const std::string& tool) {
  const char* path = getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string d;
  while (std::getline(dirs, d, ':'))
    if (!d.empty() && access((d + "/" + tool).c_str(), X_OK) == 0) return d + "/" + tool;
  return "";
}

// The lab cannot run on this machine: say why, exit with o.unavailable_exit.
int unavailable(const LabOptions& o, const std::string& why) {
  std::fprintf(stderr, "dvs lab: unavailable: %s\n", why.c_str());
  return o.unavailable_exit;
}

int lab_error(const std::string& why) {
  std::fprintf(stderr, "dvs lab: error: %s\n", why.c_str());
  return kExitLabError;
}

std::string tail_lines(const std::string& path, size_t n) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += "  | " + lines[i] + "\n";
  return out;
}

}  // namespace

std::string cache_dir(const LabOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir;
  if (const char* e = getenv("DVS_LAB_CACHE"); e && *e) return e;
  return "/var/cache/dvs-lab";
}

namespace {
int prepare_into(const LabOptions& o, Image* img, bool refresh) {
  std::string err;
  bool unavail = false;
  if (!prepare_image(cache_dir(o), refresh, o.verbose, img, &err, &unavail))
    return unavail ? unavailable(o, err) : lab_error(err);
  return 0;
}
}  // namespace

int prepare(const LabOptions& o, bool refresh) {
  Image img;
  int rc = prepare_into(o, &img, refresh);
  if (rc == 0) std::printf("dvs lab: kernel %s\n  %s\n  %s\n", img.version.c_str(), img.kernel.c_str(), img.initramfs.c_str());
  return rc;
}

int run(const LabOptions& o) {
  if (o.command.empty()) return lab_error("no command to run (dvs lab run [OPTIONS] -- COMMAND [ARGS...])");
  if (!o.ns.empty() && o.ns != "ns0" && o.ns != "ns1") return lab_error("--ns must be ns0 or ns1, not '" + o.ns + "'");
  const std::string cache = cache_dir(o);
  if (cache.find(',') != std::string::npos) return lab_error("the cache path may not contain ',' (qemu options): " + cache);
  const std::string qemu = find_on_path("qemu-system-x86_64");
  if (qemu.empty())
    return unavailable(o, "qemu-system-x86_64 not found: install the Debian package qemu-system-x86 "
                          "(harness/scripts/install-deps.sh)");
  const bool kvm_usable = access("/dev/kvm", R_OK | W_OK) == 0;
  if (o.accel == "kvm" && !kvm_usable) return unavailable(o, "--accel kvm: /dev/kvm is not usable here");

  VmConfig c;
  c.qemu = qemu;
  if (int rc = prepare_into(o, &c.image, false); rc != 0) return rc;
  c.memory_mb = o.memory_mb;
  c.cpus = o.cpus;

  // The run directory: the job script (the guest reads it through the shared root) and logs.
  const fs::path run_dir = fs::path(cache) / "runs" / fmt::format("{}-{}", getpid(), cluster::now_ms());
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) return lab_error("cannot create " + run_dir.string() + ": " + ec.message());
  c.run_dir = run_dir.string();
  c.job = (run_dir / "job.sh").string();
  JobSpec j;
  j.command = o.command;
  j.tipc = o.tipc;
  j.rdma = o.rdma;
  j.ns = o.ns;
  j.cwd = fs::current_path(ec).string();
  j.modules_dir = (fs::path(c.image.kernel).parent_path().parent_path() / "lib/modules" / c.image.version).string();
  j.env = forwarded_environment();
  // The command's output port is a tty in the guest; if ours is not, say so (no colours).
  if (!isatty(1)) j.env.emplace_back("TERM", "dumb");
  {
    std::ofstream out(c.job, std::ios::trunc);
    out << job_script(j);
    if (!out.flush()) return lab_error("cannot write " + c.job);
  }

  const long long deadline = cluster::now_ms() + static_cast<long long>(o.timeout_s) * 1000;
  AccelPlan plan;
  plan.accel = o.accel;
  plan.kvm_usable = kvm_usable;
  plan.kvm_boot_timeout_ms = o.kvm_boot_timeout_s * 1000;
  plan.state_file = (fs::path(cache) / "kvm-state").string();
  plan.host_key = host_key(qemu);
  plan.verbose = o.verbose;
  const BootOutcome b = boot_vm(c, plan, deadline);
  const VmResult& r = b.vm;

  const std::string accel = b.kvm ? "kvm" : "tcg";
  const std::string console = (run_dir / "console.log").string();
  if (o.verbose) std::fprintf(stderr, "dvs lab: guest console:\n%s", tail_lines(console, 200).c_str());
  auto keep_for_diagnosis = [&](const std::string& what) {
    std::fprintf(stderr, "dvs lab: %s\n  guest console (last lines, all in %s):\n%s", what.c_str(), console.c_str(),
                 tail_lines(console, 15).c_str());
    if (!r.detail.empty()) std::fprintf(stderr, "  qemu said: %s\n", r.detail.c_str());
  };
  int rc;
  if (!r.started) {
    rc = lab_error("cannot start qemu: " + r.detail +
                   " (is the Debian package qemu-system-x86 installed? harness/scripts/install-deps.sh installs it)");
  } else if (r.timed_out) {
    keep_for_diagnosis(fmt::format("timed out after {} s (--timeout); qemu killed. Give it longer with --timeout "
                                   "SECONDS (under TCG the guest runs several times slower than the host)",
                                   o.timeout_s));
    rc = kExitTimeout;
  } else if (!r.setup_error.empty()) {
    keep_for_diagnosis("guest setup failed: " + r.setup_error +
                       ". --verbose prints the guest's kernel console; --keep keeps job.sh to read");
    rc = kExitLabError;
  } else if (!r.exited && !r.booted) {
    keep_for_diagnosis(
        b.kvm ? "the VM stopped before it booted under KVM (" + kvm_failure_reason(r, plan.kvm_boot_timeout_ms) +
                    "). Use --accel tcg (or --accel auto, which falls back to TCG by itself)"
              : "the VM stopped before it booted. `dvs lab fetch --refresh` fetches the kernel and rebuilds the "
                "initramfs; --verbose prints the guest's kernel console");
    rc = kExitLabError;
  } else if (!r.exited) {
    keep_for_diagnosis(
        "the VM stopped before the command reported its status (a guest kernel panic or out of memory shows in "
        "the console above; --memory MB gives the guest more)");
    rc = kExitLabError;
  } else {
    std::fprintf(stderr, "dvs lab: command exited %d (%s, boot %.1f s, total %.1f s)\n", r.exit_code,
                 accel.c_str(), r.boot_s, r.total_s);
    rc = r.exit_code;
  }
  if (o.keep || (rc == kExitLabError || rc == kExitTimeout)) {
    std::fprintf(stderr, "dvs lab: run directory kept: %s\n", run_dir.c_str());
  } else {
    fs::remove_all(run_dir, ec);
  }
  return rc;
}

}  // namespace dvs::lab
