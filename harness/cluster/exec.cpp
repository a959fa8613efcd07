// Process helpers: see exec.hpp.
#include "harness/cluster/exec.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace dvs::cluster {

long long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void sleep_ms(int ms) {
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1'000'000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string ExecResult::reason() const {
  if (!started) return output.empty() ? "could not start" : output;
  std::istringstream in(output);
  std::string line, first;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      first = line;
      break;
    }
  if (timed_out) return "timed out" + (first.empty() ? "" : " (" + first + ")");
  if (!first.empty()) return first;
  return exit_code >= 0 ? "exit code " + std::to_string(exit_code) : "killed by a signal";
}

ExecResult run_command(const std::vector<std::string>& argv, int timeout_ms) {
  ExecResult r;
  int p[2];
  if (argv.empty() || pipe2(p, O_CLOEXEC) != 0) {
    r.output = "pipe2 failed";
    return r;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    int n = open("/dev/null", O_RDONLY);
    if (n >= 0) dup2(n, 0);
    execvp(args[0], args.data());
    dprintf(2, "cannot run %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    r.output = std::string("fork failed: ") + strerror(errno);
    return r;
  }
  r.started = true;
  const long long deadline = now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd pf{p[0], POLLIN, 0};
    int pr = poll(&pf, 1, static_cast<int>(left));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    char buf[4096];
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n > 0) {
      if (r.output.size() < (1u << 20)) r.output.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EOF
  }
  close(p[0]);
  if (r.timed_out) kill(pid, SIGKILL);
  int st = 0;
  // After EOF the child is exiting; bound the wait anyway.
  const long long reap_deadline = now_ms() + (r.timed_out ? 5000 : std::max<long long>(deadline - now_ms(), 0) + 2000);
  for (;;) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (now_ms() >= reap_deadline) {
      kill(pid, SIGKILL);
      r.timed_out = true;
      waitpid(pid, &st, 0);
      break;
    }
    sleep_ms(1);
  }
  if (!r.timed_out && WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

const std::string& ip_binary() {
  static const std::string path = [] {
    for (const char* c : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
      if (access(c, X_OK) == 0) return std::string(c);
    return std::string();
  }();
  return path;
}

std::string ip(const std::vector<std::string>& args, int timeout_ms) {
  std::string line = "ip";
  for (const auto& a : args) line += " " + a;
  if (ip_binary().empty()) return line + ": iproute2 (ip) is not installed";
  std::vector<std::string> argv = {ip_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  ExecResult r = run_command(argv, timeout_ms);
  if (r.ok()) return "";
  return line + ": " + r.reason();
}

long long process_starttime(pid_t pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream in(s.substr(rp + 2));
  std::string field;
  // Fields after the command: 3 state, 4 ppid, ... 22 starttime.
  for (int i = 3; i <= 22; ++i) {
    if (!(in >> field)) return -1;
    if (i == 3 && field == "Z") return -1;  // a zombie does not run
  }
  try {
    return std::stoll(field);
  } catch (...) {
    return -1;
  }
}

bool process_alive(pid_t pid, long long starttime) {
  reap_if_child(pid);
  long long st = process_starttime(pid);
  if (st < 0) return false;
  return starttime < 0 || st == starttime;
}

void reap_if_child(pid_t pid) {
  if (pid <= 0) return;
  int st = 0;
  (void)waitpid(pid, &st, WNOHANG);
}

}  // namespace dvs::cluster
