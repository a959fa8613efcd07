// The lab's pure parts: shell quoting, the job script for each option, the module load order
// from a modules.dep, the environment passed to the guest. The VM itself is tested by the
// ctest entries labelled lab (harness/lab/CMakeLists.txt).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>

#include "harness/lab/guest_scripts.hpp"
#include "harness/lab/image.hpp"
#include "harness/lab/vm.hpp"

namespace dvs::lab {
namespace {

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

TEST(LabScripts, QuotesAnythingForTheShell) {
  EXPECT_EQ(sh_quote("plain"), "'plain'");
  EXPECT_EQ(sh_quote(""), "''");
  EXPECT_EQ(sh_quote("it's $HOME `x` \"y\""), "'it'\\''s $HOME `x` \"y\"'");
}

TEST(LabScripts, JobRunsTheCommandWithWhatWasAsked) {
  JobSpec j;
  j.command = {"/b/test", "--gtest_filter=*/tipc", "a b"};
  j.cwd = "/work/main/build";
  j.env = {{"DVSD_BIN", "/b/dvsd"}, {"ODD", "x'y"}};
  std::string s = job_script(j);
  EXPECT_TRUE(contains(s, "'/b/test' '--gtest_filter=*/tipc' 'a b' < /dev/null > /dev/ttyS1 2>&1\n")) << s;
  EXPECT_TRUE(contains(s, "cd '/work/main/build'"));
  EXPECT_TRUE(contains(s, "export DVSD_BIN='/b/dvsd'\n"));
  EXPECT_TRUE(contains(s, "export ODD='x'\\''y'\n"));
  EXPECT_TRUE(contains(s, "status setup-ok\n"));
  EXPECT_TRUE(contains(s, "status \"exit $?\"\n"));
  EXPECT_FALSE(contains(s, "ip netns add"));
  EXPECT_FALSE(contains(s, "tipc bearer"));
  EXPECT_FALSE(contains(s, "rdma link add"));
  EXPECT_FALSE(contains(s, "mount --bind"));
  j.modules_dir = "/c/kernel/6.1/lib/modules/6.1";
  EXPECT_TRUE(contains(job_script(j), "step mount --bind '/c/kernel/6.1/lib/modules/6.1' /lib/modules/$(uname -r)\n"));

  j.tipc = true;
  s = job_script(j);
  EXPECT_TRUE(contains(s, "ip netns add ns1"));
  EXPECT_TRUE(contains(s, "tipc node set identity"));
  EXPECT_TRUE(contains(s, "tipc bearer enable media eth dev veth$i"));
  EXPECT_TRUE(contains(s, "export DVS_LAB_TIPC=1"));
  EXPECT_TRUE(contains(s, "did not come up within 20 s"));  // the wait for the link is bounded

  j.tipc = false;
  j.rdma = true;
  j.ns = "ns1";
  s = job_script(j);
  EXPECT_TRUE(contains(s, "ip netns add ns0"));  // --ns creates the namespaces
  EXPECT_FALSE(contains(s, "tipc bearer"));
  EXPECT_TRUE(contains(s, "rdma link add rxe0 type rxe netdev rxe-a"));
  EXPECT_TRUE(contains(s, "ip netns exec 'ns1' '/b/test'"));
}

TEST(LabScripts, InitMountsTheHostAndReportsBoot) {
  const std::string s = init_script();
  EXPECT_EQ(s.rfind("#!/bin/busybox sh\n", 0), 0u);
  EXPECT_TRUE(contains(s, "mount -t 9p -o trans=virtio"));
  EXPECT_TRUE(contains(s, "mount -t overlay"));
  EXPECT_TRUE(contains(s, "status booted"));
  EXPECT_TRUE(contains(s, "dvslab.job="));
  EXPECT_TRUE(contains(s, "poweroff -f"));
}

TEST(LabScripts, EnvironmentSkipsShellBookkeeping) {
  setenv("DVS_LAB_UNIT_X", "1", 1);
  auto env = forwarded_environment();
  auto has = [&](const std::string& k) {
    return std::any_of(env.begin(), env.end(), [&](const auto& kv) { return kv.first == k; });
  };
  EXPECT_TRUE(has("DVS_LAB_UNIT_X"));
  EXPECT_FALSE(has("PWD"));
  EXPECT_FALSE(has("SHLVL"));
}

TEST(LabImage, ModulesLoadAfterTheirDependencies) {
  const std::string dep =
      "kernel/drivers/virtio/virtio.ko:\n"
      "kernel/drivers/virtio/virtio_ring.ko:\n"
      "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko "
      "kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
      "kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
      "kernel/net/tipc/tipc.ko: kernel/net/ipv6/ip6_udp_tunnel.ko kernel/net/ipv4/udp_tunnel.ko\n"
      "kernel/net/ipv4/udp_tunnel.ko:\n"
      "kernel/net/ipv6/ip6_udp_tunnel.ko:\n"
      "kernel/drivers/infiniband/sw/rxe/rdma_rxe.ko: kernel/drivers/infiniband/core/ib_core.ko "
      "kernel/net/ipv6/ip6_udp_tunnel.ko kernel/net/ipv4/udp_tunnel.ko\n";
  std::vector<std::string> order;
  std::string missing;
  ASSERT_TRUE(module_load_order(dep, {"kernel/fs/overlayfs/overlay.ko"},
                                {"virtio_pci", "overlay", "tipc", "rdma-rxe"}, &order, &missing))
      << missing;
  const std::vector<std::string> want = {
      "kernel/drivers/virtio/virtio_ring.ko",          "kernel/drivers/virtio/virtio.ko",
      "kernel/drivers/virtio/virtio_pci_modern_dev.ko", "kernel/drivers/virtio/virtio_pci.ko",
      "kernel/net/ipv4/udp_tunnel.ko",                 "kernel/net/ipv6/ip6_udp_tunnel.ko",
      "kernel/net/tipc/tipc.ko",                       "kernel/drivers/infiniband/core/ib_core.ko",
      "kernel/drivers/infiniband/sw/rxe/rdma_rxe.ko"};
  EXPECT_EQ(order, want);
  EXPECT_FALSE(module_load_order(dep, {}, {"tipc", "nosuch"}, &order, &missing));
  EXPECT_EQ(missing, "nosuch");
}

TEST(LabVm, QemuCommandLineSharesTheRootReadOnlyAndSplitsThePorts) {
  VmConfig c;
  c.qemu = "/usr/bin/qemu-system-x86_64";
  c.image = {"/c/vmlinuz", "/c/init.cpio", "6.1"};
  c.run_dir = "/c/runs/1";
  c.job = "/c/runs/1/job.sh";
  std::string line;
  for (const auto& a : qemu_argv(c)) line += a + " ";
  EXPECT_TRUE(contains(line, "-accel tcg,thread=multi -cpu max")) << line;
  EXPECT_TRUE(contains(line, "dvslab.job=/c/runs/1/job.sh"));
  EXPECT_TRUE(contains(line, "-serial file:/c/runs/1/console.log -serial stdio -serial file:/c/runs/1/status.log"));
  EXPECT_TRUE(contains(line, "readonly=on"));
  c.kvm = true;
  line.clear();
  for (const auto& a : qemu_argv(c)) line += a + " ";
  EXPECT_TRUE(contains(line, "-accel kvm -cpu host"));
}

}  // namespace
}  // namespace dvs::lab
