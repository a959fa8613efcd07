// The KVM-or-TCG choice of a lab VM, run for real against fake qemu binaries (shell scripts that
// take qemu's command line): one aborts under KVM the way qemu does on AMD EPYC hosts of this
// project's kind, one hangs under KVM as on the Intel ones; both "boot" and run the job under TCG
// by writing the status port the way the guest's init and job script do.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/testkit/test_temp_dir.hpp"
#include "harness/cluster/exec.hpp"
#include "harness/lab/accel.hpp"

namespace dvs::lab {
namespace {

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fake qemu-system-x86_64. Every invocation appends its accelerator to CALLS; under KVM it does
// what kvm_behaviour says ("abort": qemu's MSR assertion on stderr, then SIGABRT; "hang": never
// boots; "boot": like TCG); otherwise it reports "booted" and "exit 0" on the status port and
// writes a line to the command's output port (its stdout).
std::string fake_qemu(const testing::TempDir& dir, const std::string& kvm_behaviour) {
  const std::string path = (dir / ("qemu-" + kvm_behaviour)).string();
  std::ofstream out(path);
  out << "#!/bin/sh\n"
         "status=''; accel=''\n"
         "prev=''\n"
         "for a in \"$@\"; do\n"
         "  case \"$a\" in file:*/status.log) status=${a#file:} ;; esac\n"
         "  [ \"$prev\" = -accel ] && accel=$a\n"
         "  prev=$a\n"
         "done\n"
         "echo \"$accel\" >> '"
      << (dir / "calls").string()
      << "'\n"
         "if [ \"$accel\" = kvm ]; then\n"
         "  case '"
      << kvm_behaviour
      << "' in\n"
         "  abort)\n"
         "    echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2\n"
         "    echo 'qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion "
         "`ret == cpu->kvm_msr_buf->nmsrs'\\'' failed.' >&2\n"
         "    kill -ABRT $$ ;;\n"
         "  hang) exec sleep 60 ;;\n"
         "  esac\n"
         "fi\n"
         "echo booted >> \"$status\"\n"
         "echo \"job ran under $accel\"\n"
         "echo setup-ok >> \"$status\"\n"
         "echo 'exit 0' >> \"$status\"\n";
  out.close();
  chmod(path.c_str(), 0755);
  return path;
}

struct FakeLab {
  testing::TempDir dir;
  VmConfig vm;
  AccelPlan plan;

  explicit FakeLab(const std::string& kvm_behaviour) : dir("dvs-lab-accel-" + kvm_behaviour) {
    vm.qemu = fake_qemu(dir, kvm_behaviour);
    vm.image = {"/none/vmlinuz", "/none/init.cpio", "6.1"};
    vm.run_dir = dir.path().string();
    vm.job = (dir / "job.sh").string();
    plan.accel = "auto";
    plan.kvm_usable = true;
    plan.kvm_boot_timeout_ms = 1500;
    plan.state_file = (dir / "kvm-state").string();
    plan.host_key = "6.1.0 1234 5678 AMD EPYC";
  }
  BootOutcome boot() { return boot_vm(vm, plan, cluster::now_ms() + 30'000); }
  std::string calls() const { return slurp(dir / "calls"); }
  std::string state() const { return slurp(dir / "kvm-state"); }
};

TEST(LabAccel, AutoFallsBackToTcgWhenQemuAbortsUnderKvm) {
  FakeLab lab("abort");
  const long long t0 = cluster::now_ms();
  const BootOutcome b = lab.boot();
  EXPECT_LT(cluster::now_ms() - t0, 1500) << "an abort must not wait out the boot time-out";
  EXPECT_FALSE(b.kvm);
  EXPECT_TRUE(b.vm.booted);
  EXPECT_TRUE(b.vm.exited);
  EXPECT_EQ(b.vm.exit_code, 0);
  EXPECT_EQ(lab.calls(), "kvm\ntcg,thread=multi\n");
  EXPECT_TRUE(contains(b.kvm_failure, "signal 6")) << b.kvm_failure;
  EXPECT_TRUE(contains(b.kvm_failure, "failed to set MSR 0x10a")) << b.kvm_failure;
  EXPECT_EQ(lab.state().rfind("fails 6.1.0 1234 5678 AMD EPYC\n", 0), 0u) << lab.state();

  // Remembered: the next run on this host goes straight to TCG and says why when asked.
  const BootOutcome again = lab.boot();
  EXPECT_FALSE(again.kvm);
  EXPECT_TRUE(again.vm.exited);
  EXPECT_EQ(lab.calls(), "kvm\ntcg,thread=multi\ntcg,thread=multi\n");
  EXPECT_TRUE(contains(again.kvm_failure, "failed to set MSR")) << again.kvm_failure;
}

TEST(LabAccel, AutoFallsBackToTcgWhenTheKvmGuestDoesNotBoot) {
  FakeLab lab("hang");
  const long long t0 = cluster::now_ms();
  const BootOutcome b = lab.boot();
  const long long took = cluster::now_ms() - t0;
  EXPECT_GE(took, 1500);
  EXPECT_LT(took, 15'000);
  EXPECT_FALSE(b.kvm);
  EXPECT_TRUE(b.vm.exited);
  EXPECT_EQ(b.vm.exit_code, 0);
  EXPECT_EQ(lab.calls(), "kvm\ntcg,thread=multi\n");
  EXPECT_TRUE(contains(b.kvm_failure, "did not boot within 1.5 s")) << b.kvm_failure;
  EXPECT_EQ(lab.state().rfind("fails ", 0), 0u);
}

TEST(LabAccel, AnOutcomeRememberedOnAnotherCpuIsNotTrusted) {
  FakeLab lab("abort");
  // "works" from an Intel host with the same kernel and qemu: KVM is tried again, fails, TCG runs.
  std::ofstream(lab.plan.state_file) << "works 6.1.0 1234 5678 Intel(R) Xeon(R) Processor\n\n";
  BootOutcome b = lab.boot();
  EXPECT_FALSE(b.kvm);
  EXPECT_TRUE(b.vm.exited);
  EXPECT_EQ(lab.calls(), "kvm\ntcg,thread=multi\n");
  // And a "fails" from another CPU does not keep a host whose KVM works from trying it.
  FakeLab good("boot");
  std::ofstream(good.plan.state_file) << "fails 6.1.0 1234 5678 Intel(R) Xeon(R) Processor\nhung\n";
  b = good.boot();
  EXPECT_TRUE(b.kvm);
  EXPECT_TRUE(b.vm.exited);
  EXPECT_EQ(good.calls(), "kvm\n");
  EXPECT_EQ(good.state(), "works 6.1.0 1234 5678 AMD EPYC\n\n");
}

TEST(LabAccel, ExplicitKvmDoesNotFallBackAndSaysWhy) {
  FakeLab lab("abort");
  lab.plan.accel = "kvm";
  const BootOutcome b = lab.boot();
  EXPECT_TRUE(b.kvm);
  EXPECT_FALSE(b.vm.booted);
  EXPECT_EQ(lab.calls(), "kvm\n");
  const std::string why = kvm_failure_reason(b.vm, lab.plan.kvm_boot_timeout_ms);
  EXPECT_TRUE(contains(why, "qemu died of signal 6")) << why;
  EXPECT_TRUE(contains(why, "failed to set MSR 0x10a to 0x69")) << why;
  EXPECT_FALSE(std::filesystem::exists(lab.plan.state_file)) << "only auto remembers";
}

TEST(LabAccel, TcgAndUnusableKvmNeverTryKvm) {
  FakeLab lab("abort");
  lab.plan.accel = "tcg";
  EXPECT_TRUE(lab.boot().vm.exited);
  lab.plan.accel = "auto";
  lab.plan.kvm_usable = false;
  EXPECT_TRUE(lab.boot().vm.exited);
  EXPECT_EQ(lab.calls(), "tcg,thread=multi\ntcg,thread=multi\n");
}

TEST(LabAccel, HostKeyNamesTheCpuModel) {
  const std::string model = cpu_model();
  EXPECT_FALSE(model.empty());
  EXPECT_TRUE(contains(host_key("/bin/sh"), model));
}

}  // namespace
}  // namespace dvs::lab
