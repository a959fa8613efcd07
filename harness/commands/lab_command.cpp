// `dvs lab`: see lab_command.hpp.
#include "harness/commands/lab_command.hpp"

#include <memory>

#include <CLI/CLI.hpp>

#include "harness/lab/lab.hpp"

namespace dvs::lab {

namespace {

struct LabCommand {
  LabOptions o;
  bool refresh = false;
  CLI::App* fetch = nullptr;
};

void add_lab_options(CLI::App* lab, const std::shared_ptr<LabCommand>& state) {
  LabOptions* o = &state->o;
  lab->require_subcommand(1);
  auto add_cache = [o](CLI::App* sc) {
    sc->add_option("--cache", o->cache_dir,
                   "Cache of the kernel, busybox and initramfs (default $DVS_LAB_CACHE, else /var/cache/dvs-lab)");
    sc->add_flag("--verbose,-v", o->verbose, "Progress, the qemu command line and the guest's kernel console on stderr");
  };

  auto* run_cmd = lab->add_subcommand(
      "run", "Boot the VM, run COMMAND inside (host's file system read-only + RAM overlay, same working "
             "directory and environment), power off; exit with COMMAND's status (124 time-out, 125 lab error)");
  add_cache(run_cmd);
  run_cmd->add_flag("--tipc", o->tipc,
                "Make a two-node TIPC cluster: namespaces ns0 and ns1 joined by a veth pair, a bearer on each end");
  run_cmd->add_flag("--rdma", o->rdma, "Make a Soft-RoCE device rxe0 (on a veth pair in the root namespace)");
  run_cmd->add_option("--ns", o->ns, "Run COMMAND inside network namespace ns0 or ns1 (creates them)")
      ->check(CLI::IsMember({"ns0", "ns1"}));
  run_cmd->add_option("--accel", o->accel, "auto (KVM if it boots within --kvm-boot-timeout, else TCG), kvm, tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  run_cmd->add_option("--timeout", o->timeout_s, "Seconds for the whole VM run, boot included (default 600)")
      ->check(CLI::Range(5, 86400));
  run_cmd->add_option("--kvm-boot-timeout", o->kvm_boot_timeout_s, "Seconds a KVM guest gets to boot (default 10)")
      ->check(CLI::Range(1, 600));
  run_cmd->add_option("--memory", o->memory_mb, "Guest memory, MiB (default 2048)")->check(CLI::Range(256, 65536));
  run_cmd->add_option("--cpus", o->cpus, "Guest CPUs (default 2)")->check(CLI::Range(1, 64));
  run_cmd->add_option("--unavailable-exit", o->unavailable_exit,
                  "Exit status when the lab cannot run on this machine at all (default 125; tests use 77 = skip)")
      ->check(CLI::Range(0, 255));
  run_cmd->add_flag("--keep", o->keep, "Keep the run directory (job script, console log) under the cache");
  run_cmd->add_option("command", o->command, "The command to run in the guest (after --)")->required();

  auto* fetch = lab->add_subcommand("fetch", "Fetch the kernel and busybox (apt-get download) and build the initramfs");
  add_cache(fetch);
  fetch->add_flag("--refresh", state->refresh, "Fetch again even if the cache has them (a newer kernel)");
  state->fetch = fetch;
}

}  // namespace

cli::Command make_lab_command() {
  auto state = std::make_shared<LabCommand>();
  cli::Command c;
  c.name = "lab";
  c.help = "A qemu VM with Debian's stock kernel (TIPC, Soft-RoCE) that runs the binaries built here (docs/LAB.md)";
  c.add_options = [state](CLI::App* lab) { add_lab_options(lab, state); };
  c.run = [state] {
    if (state->fetch->parsed()) return prepare(state->o, state->refresh);
    return ::dvs::lab::run(state->o);
  };
  return c;
}

}  // namespace dvs::lab
