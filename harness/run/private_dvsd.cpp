// PrivateDvsd: see private_dvsd.hpp.
#include "harness/run/private_dvsd.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "harness/cluster/cluster.hpp"
#include "workloads/measure/clock.hpp"

namespace dvs::cli {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

void sleep_ms(int ms) {
  const timespec ts{ms / 1000, long(ms % 1000) * 1'000'000};
  nanosleep(&ts, nullptr);
}

}  // namespace

std::string find_dvsd(const std::string& explicit_path, std::string* tried) {
  return cluster::find_dvsd_binary(explicit_path, tried);
}

bool PrivateDvsd::start(const std::string& bin, int node, const std::string& log_path,
                        std::string* err, int timeout_ms) {
  return start(bin, node, log_path, {}, err, timeout_ms);
}

bool PrivateDvsd::start(const std::string& bin, int node, const std::string& log_path,
                        const std::vector<std::string>& extra_args, std::string* err,
                        int timeout_ms) {
  stop();
  listen_uri_.clear();
  char tmpl[] = "/tmp/dvs-run-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    *err = fmt::format("mkdtemp: {}", strerror(errno));
    return false;
  }
  dir_ = tmpl;
  socket_ = dir_ + "/dvsd.sock";
  const int logfd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logfd < 0) {
    *err = fmt::format("open {}: {}", log_path, strerror(errno));
    return false;
  }
  std::error_code size_ec;
  const auto log_size = std::filesystem::file_size(log_path, size_ec);
  const size_t run_start = size_ec ? 0 : static_cast<size_t>(log_size);
  const std::string node_s = std::to_string(node);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    *err = fmt::format("fork: {}", strerror(errno));
    close(logfd);
    return false;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive `dvs run`
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    std::vector<const char*> argv = {bin.c_str(), "--node", node_s.c_str(), "--socket",
                                     socket_.c_str()};
    for (const auto& a : extra_args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    execv(bin.c_str(), const_cast<char* const*>(argv.data()));
    dprintf(STDERR_FILENO, "exec %s: %s\n", bin.c_str(), strerror(errno));
    _exit(127);
  }
  close(logfd);
  pid_ = pid;
  const std::string ready = fmt::format("dvsd: node {} ready on {}", node, socket_);
  const uint64_t deadline = measure::now_ns() + uint64_t(timeout_ms) * 1'000'000u;
  for (;;) {
    const std::string log = read_file(log_path);
    if (log.find(ready) != std::string::npos) {
      const std::string listening = fmt::format("dvsd: node {} listening on ", node);
      // This run's first line (the log is appended to across runs; one line per --listen).
      if (const auto at = log.find(listening, std::min(run_start, log.size())); at != std::string::npos) {
        const auto b = at + listening.size();
        listen_uri_ = log.substr(b, log.find('\n', b) - b);
      }
      return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *err = fmt::format("dvsd exited ({}) before it was ready; last log line: {}",
                         WIFEXITED(status) ? fmt::format("status {}", WEXITSTATUS(status))
                                           : fmt::format("signal {}", WTERMSIG(status)),
                         last_line(log));
      stop();
      return false;
    }
    if (measure::now_ns() > deadline) {
      *err = fmt::format("dvsd not ready after {} ms (expected \"{}\"); last log line: {}",
                         timeout_ms, ready, last_line(log));
      stop();
      return false;
    }
    sleep_ms(10);
  }
}

void PrivateDvsd::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) gone = true;
      else sleep_ms(10);
    }
    if (!gone) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    unlink(socket_.c_str());
    rmdir(dir_.c_str());
    dir_.clear();
  }
}

}  // namespace dvs::cli
