// One qemu run of a lab VM: see vm.hpp.
#include "harness/lab/vm.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "harness/cluster/exec.hpp"

namespace dvs::lab {

namespace {

using cluster::now_ms;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Applies the status lines seen so far ("booted", "setup-ok", "setup-failed WHY", "exit N").
void read_status(const std::string& path, long long t0, VmResult* r) {
  std::istringstream in(slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line == "booted" && !r->booted) {
      r->booted = true;
      r->boot_s = static_cast<double>(now_ms() - t0) / 1000.0;
    } else if (line.rfind("setup-failed", 0) == 0) {
      r->setup_error = line.size() > 13 ? line.substr(13) : "unknown step";
    } else if (line.rfind("exit ", 0) == 0) {
      r->exited = true;
      r->exit_code = std::atoi(line.c_str() + 5);
    }
  }
}

void write_all_out(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(1, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // stdout gone: keep running the VM, drop its output
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

std::vector<std::string> qemu_argv(const VmConfig& c) {
  std::vector<std::string> a = {c.qemu};
  if (c.kvm) a.insert(a.end(), {"-accel", "kvm", "-cpu", "host"});
  else a.insert(a.end(), {"-accel", "tcg,thread=multi", "-cpu", "max"});
  a.insert(a.end(), {"-m", std::to_string(c.memory_mb), "-smp", std::to_string(c.cpus), "-nodefaults",
                     "-no-user-config", "-display", "none", "-no-reboot", "-kernel", c.image.kernel, "-initrd",
                     c.image.initramfs, "-append", "console=ttyS0 quiet panic=-1 dvslab.job=" + c.job,
                     // ttyS0 kernel console, ttyS1 the command's output (our stdout), ttyS2 status
                     "-serial", "file:" + c.run_dir + "/console.log", "-serial", "stdio", "-serial",
                     "file:" + c.run_dir + "/status.log", "-virtfs",
                     "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"});
  return a;
}

VmResult run_vm(const VmConfig& c, long long deadline_ms, int boot_timeout_ms) {
  VmResult r;
  const std::string status = c.run_dir + "/status.log", err_path = c.run_dir + "/qemu.stderr";
  for (const std::string& f : {status, c.run_dir + "/console.log", err_path}) ::unlink(f.c_str());
  std::vector<std::string> argv = qemu_argv(c);
  std::vector<char*> args;
  for (auto& s : argv) args.push_back(s.data());
  args.push_back(nullptr);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    r.detail = std::string("pipe2: ") + std::strerror(errno);
    return r;
  }
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // dvs lab killed (e.g. by ctest's timeout): so is qemu
    if (getppid() != parent) _exit(127);
    int in = open("/dev/null", O_RDONLY);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || err < 0) _exit(127);
    dup2(in, 0);
    dup2(p[1], 1);
    dup2(err, 2);
    execv(args[0], args.data());
    dprintf(2, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  ::close(p[1]);
  if (pid < 0) {
    ::close(p[0]);
    r.detail = std::string("fork: ") + std::strerror(errno);
    return r;
  }
  r.started = true;
  const long long t0 = now_ms();
  char buf[16384];
  bool eof = false;
  while (!eof) {
    pollfd pf{p[0], POLLIN, 0};
    int pr = ::poll(&pf, 1, 100);
    if (pr > 0) {
      ssize_t n = ::read(p[0], buf, sizeof buf);
      if (n > 0) write_all_out(buf, static_cast<size_t>(n));
      else if (n == 0 || (errno != EINTR && errno != EAGAIN)) eof = true;
    }
    read_status(status, t0, &r);
    const long long now = now_ms();
    const bool boot_late = !r.booted && boot_timeout_ms >= 0 && now - t0 > boot_timeout_ms;
    if (!eof && (boot_late || now > deadline_ms)) {
      r.boot_timed_out = boot_late;
      r.timed_out = !boot_late;
      ::kill(pid, SIGKILL);
      break;
    }
  }
  ::close(p[0]);
  // qemu exits right after the guest powers off; bound the wait anyway.
  int ws = 0;
  const long long reap_until = now_ms() + 10'000;
  pid_t reaped;
  while ((reaped = ::waitpid(pid, &ws, WNOHANG)) == 0) {
    if (now_ms() > reap_until) {
      ::kill(pid, SIGKILL);
      reaped = ::waitpid(pid, &ws, 0);
      break;
    }
    cluster::sleep_ms(20);
  }
  if (reaped == pid) r.wait_status = ws;
  read_status(status, t0, &r);
  r.total_s = static_cast<double>(now_ms() - t0) / 1000.0;
  r.detail = slurp(err_path);
  return r;
}

}  // namespace dvs::lab
