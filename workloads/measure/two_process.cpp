// run_two_process: fork, pin, run, collect. Contract in two_process.hpp.
#include "workloads/measure/two_process.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

namespace dvs::measure {

namespace {

struct Shared {
  LoopResult result;
  char server_err[256];
  char client_err[256];
};

int pidfd_open_(pid_t pid) { return int(syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

// Best effort: whatever /proc does not show is left out.
std::string describe_stuck(pid_t pid) {
  auto first_line = [&](const char* what) {
    std::string s;
    if (FILE* f = std::fopen(fmt::format("/proc/{}/{}", pid, what).c_str(), "r")) {
      char buf[512];
      if (std::fgets(buf, sizeof buf, f)) s = buf;
      std::fclose(f);
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  std::string out;
  const std::string stat = first_line("stat");
  if (const auto rp = stat.rfind(')'); rp != std::string::npos && rp + 2 < stat.size())
    out = fmt::format("state {}", stat[rp + 2]);
  if (const std::string w = first_line("wchan"); !w.empty() && w != "0") out += ", in " + w;
  std::string sc = first_line("syscall");
  if (!sc.empty()) {
    // "nr arg1 .. arg6 sp pc": keep the number and the first three arguments.
    size_t at = 0;
    for (int field = 0; field < 4 && at != std::string::npos; ++field) at = sc.find(' ', at + 1);
    if (at != std::string::npos) sc.resize(at);
    out += ", syscall " + sc;
  }
  return out.empty() ? std::string() : " (" + out + ")";
}

namespace {

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {} ({})", WTERMSIG(status),
                                              strsignal(WTERMSIG(status)));
  return "unknown status";
}

}  // namespace

int ChildCtx::fail(const char* fmt, ...) {
  if (buf_ != nullptr && len_ > 0 && buf_[0] == '\0') {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf_, len_, fmt, ap);
    va_end(ap);
  }
  return 1;
}

TwoProcessOutcome run_two_process(const CpuPair& cpus, const ServerFn& server,
                                  const ClientFn& client, int timeout_ms, int server_grace_ms,
                                  const std::function<void()>& parent_after_fork) {
  TwoProcessOutcome out;
  out.result = std::make_unique<LoopResult>();
  void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  if (mem == MAP_FAILED) {
    out.error = fmt::format("mmap: {}", strerror(errno));
    return out;
  }
  auto* sh = new (mem) Shared{};

  const pid_t spid = spawn_measuring_child(cpus.server_cpu, sh->server_err, sizeof sh->server_err,
                           [&](ChildCtx& ctx) { return server(ctx); });
  if (spid < 0) {
    out.error = fmt::format("fork: {}", strerror(-spid));
    munmap(mem, sizeof(Shared));
    return out;
  }
  const pid_t cpid = spawn_measuring_child(cpus.client_cpu, sh->client_err, sizeof sh->client_err,
                           [&](ChildCtx& ctx) { return client(ctx, sh->result); });
  if (cpid < 0) {
    kill(spid, SIGKILL);
    waitpid(spid, nullptr, 0);
    out.error = fmt::format("fork: {}", strerror(-cpid));
    munmap(mem, sizeof(Shared));
    return out;
  }

  if (parent_after_fork) parent_after_fork();

  // Wait for both, bounded: the whole run by timeout_ms, the survivor by a grace period once
  // the other has exited.
  pid_t pids[2] = {cpid, spid};
  int status[2] = {0, 0};
  bool done[2] = {false, false};
  bool killed[2] = {false, false};
  std::string stuck[2];
  int pfd[2] = {pidfd_open_(cpid), pidfd_open_(spid)};
  const auto now_ms = [] { return int64_t(now_ns() / 1'000'000); };
  int64_t deadline = now_ms() + timeout_ms;
  bool timed_out = false;
  bool any_exited = false;
  while (!(done[0] && done[1])) {
    for (int i = 0; i < 2; ++i) {
      if (done[i]) continue;
      const pid_t r = waitpid(pids[i], &status[i], WNOHANG);
      if (r == pids[i]) {
        done[i] = true;
        any_exited = true;
        deadline = std::min<int64_t>(deadline, now_ms() + server_grace_ms);
      }
    }
    if (done[0] && done[1]) break;
    const int64_t left = deadline - now_ms();
    if (left <= 0) {
      for (int i = 0; i < 2; ++i) {
        if (!done[i]) {
          stuck[i] = describe_stuck(pids[i]);
          kill(pids[i], SIGKILL);
          killed[i] = true;
          waitpid(pids[i], &status[i], 0);
          done[i] = true;
        }
      }
      timed_out = !any_exited;
      break;
    }
    pollfd fds[2];
    nfds_t n = 0;
    for (int i = 0; i < 2; ++i)
      if (!done[i] && pfd[i] >= 0) fds[n++] = pollfd{pfd[i], POLLIN, 0};
    // Without pidfds (old kernel) fall back to a 20 ms poll.
    poll(fds, n, n == 0 ? int(std::min<int64_t>(left, 20)) : int(std::min<int64_t>(left, 1000)));
  }
  for (int fd : pfd)
    if (fd >= 0) close(fd);

  *out.result = sh->result;
  const bool client_ok = !killed[0] && WIFEXITED(status[0]) && WEXITSTATUS(status[0]) == 0;
  const bool server_ok = !killed[1] && WIFEXITED(status[1]) && WEXITSTATUS(status[1]) == 0;
  std::string err;
  if (!client_ok) {
    err = killed[0] ? (timed_out ? fmt::format("client timed out after {} ms{}", timeout_ms, stuck[0])
                                 : "client killed after the server exited" + stuck[0])
                    : "client " + describe_status(status[0]);
    if (sh->client_err[0]) err += std::string(": ") + sh->client_err;
  }
  if (!server_ok) {
    if (!err.empty()) err += "; ";
    err += killed[1] ? (timed_out ? fmt::format("server timed out after {} ms{}", timeout_ms, stuck[1])
                                  : "server did not exit after the client (killed)" + stuck[1])
                     : "server " + describe_status(status[1]);
    if (sh->server_err[0]) err += std::string(": ") + sh->server_err;
  }
  if (err.empty() && !out.result->completed) err = "client returned without completing its loop";
  if (err.empty() && out.result->error < 0)
    err = fmt::format("loop stopped by error {}", out.result->error);
  out.ok = err.empty();
  out.error = err;
  sh->~Shared();
  munmap(mem, sizeof(Shared));
  return out;
}

TwoProcessOutcome failed_outcome(std::string why) {
  TwoProcessOutcome o;
  o.result = std::make_unique<LoopResult>();
  o.error = std::move(why);
  return o;
}

}  // namespace dvs::measure
