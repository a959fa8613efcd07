#include "core/testkit/dvsd_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/dvsd/proxy/cluster_key.hpp"
#include "core/testkit/child_wait.hpp"

namespace dvs::testing {

const std::string& test_cluster_key() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/dvst-key-XXXXXX";
    const std::string dir = mkdtemp(tmpl) ? tmpl : "/tmp";
    const std::string file = dir + "/cluster.key";
    if (auto err = linkauth::generate_cluster_key(file); !err.empty()) std::fprintf(stderr, "test key: %s\n", err.c_str());
    static const std::string remove_dir = dir;
    std::atexit([] { std::filesystem::remove_all(remove_dir); });
    return file;
  }();
  return path;
}

namespace {

std::string describe_status(int status) {
  std::ostringstream o;
  if (WIFEXITED(status))
    o << "exited with code " << WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    o << "killed by signal " << WTERMSIG(status) << " (" << strsignal(WTERMSIG(status)) << ")";
  else
    o << "wait status " << status;
  return o.str();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<char*> make_argv(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (auto& a : args) v.push_back(a.data());
  v.push_back(nullptr);
  return v;
}

[[noreturn]] void exec_or_die(std::vector<std::string>& args) {
  auto v = make_argv(args);
  execv(v[0], v.data());
  dprintf(2, "dvs_testing: execv %s failed: %s\n", v[0], strerror(errno));
  _exit(127);
}

}  // namespace

std::string dvsd_binary() {
  const char* p = std::getenv("DVSD_BIN");
  return p ? std::string(p) : std::string();
}

// ---------------------------------------------------------------------------------------------
// DvsdProcess

DvsdProcess::DvsdProcess() = default;
DvsdProcess::DvsdProcess(DvsdOptions opts) : opts_(std::move(opts)) {}

DvsdProcess::~DvsdProcess() {
  if (pid_ > 0) stop(Millis(3000));
  if (::testing::Test::HasFailure() && !stderr_path_.empty()) {
    std::string err = stderr_output();
    if (!err.empty())
      fprintf(stderr, "---- dvsd stderr (%s) ----\n%s---- end dvsd stderr ----\n",
              command_line().c_str(), err.c_str());
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string DvsdProcess::command_line() const {
  std::string s;
  for (const auto& a : argv_) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

::testing::AssertionResult DvsdProcess::start() {
  if (pid_ > 0) return ::testing::AssertionFailure() << "dvsd already started";
  const std::string bin = dvsd_binary();
  if (bin.empty())
    return ::testing::AssertionFailure()
           << "DVSD_BIN is not set (ctest sets it; run the test through ctest or export "
              "DVSD_BIN=/path/to/build/bin/dvsd)";
  if (access(bin.c_str(), X_OK) != 0)
    return ::testing::AssertionFailure() << "DVSD_BIN=" << bin << " is not executable";

  if (dir_.empty()) {
    char tmpl[] = "/tmp/dvst-XXXXXX";
    if (!mkdtemp(tmpl)) return ::testing::AssertionFailure() << "mkdtemp: " << strerror(errno);
    dir_ = tmpl;
  }
  socket_path_ = dir_ + "/dvsd.sock";
  stderr_path_ = dir_ + "/dvsd.stderr";

  argv_ = {bin, "--node", std::to_string(opts_.node), "--socket", socket_path_};
  for (const auto& dc : opts_.dcs) {
    argv_.push_back("--dc");
    argv_.push_back(dc);
  }
  if (!opts_.config.empty()) {
    argv_.push_back("--config");
    argv_.push_back(opts_.config);
  }
  for (const auto& a : opts_.extra_args) argv_.push_back(a);
  auto has = [&](const char* flag) { return std::find(argv_.begin(), argv_.end(), flag) != argv_.end(); };
  if ((has("--peer") || has("--listen")) && !has("--cluster-key") && !has("--no-auth")) {
    argv_.push_back("--cluster-key");  // every dvsd of this test process holds the same key
    argv_.push_back(test_cluster_key());
  }

  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return ::testing::AssertionFailure() << "pipe2: " << strerror(errno);
  const pid_t parent = getpid();
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return ::testing::AssertionFailure() << "fork: " << strerror(errno);
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    dup2(p[1], 1);
    int e = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (e >= 0) dup2(e, 2);
    int n = open("/dev/null", O_RDONLY);
    if (n >= 0) dup2(n, 0);
    std::vector<std::string> args = argv_;
    exec_or_die(args);
  }
  close(p[1]);
  pid_ = pid;
  out_fd_ = p[0];
  (void)fcntl(out_fd_, F_SETPIPE_SZ, 1 << 20);  // dvsd must never block on a full stdout

  const std::string expected = "dvsd: node " + std::to_string(opts_.node) + " ready on " + socket_path_;
  const auto deadline = Clock::now() + opts_.ready_timeout;
  std::string buf;
  for (;;) {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      stdout_ += line + "\n";
      if (line == expected) {
        (void)fcntl(out_fd_, F_SETFL, fcntl(out_fd_, F_GETFL) | O_NONBLOCK);
        stdout_ += buf;
        return ::testing::AssertionSuccess();
      }
      if (line.rfind("dvsd: node", 0) == 0 && line.find("ready") != std::string::npos) {
        kill9();
        return ::testing::AssertionFailure() << "dvsd ready line is\n  '" << line << "'\nexpected\n  '"
                                             << expected << "'";
      }
    }
    auto now = Clock::now();
    if (now >= deadline) {
      std::string err = stderr_output();
      kill9();
      return ::testing::AssertionFailure()
             << "dvsd did not print its ready line within " << opts_.ready_timeout.count()
             << " ms (" << command_line() << ")\nstdout: " << stdout_ << buf << "\nstderr: " << err;
    }
    pollfd pf{out_fd_, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<Millis>(deadline - now).count()) + 1;
    int r = poll(&pf, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char tmp[4096];
    ssize_t n = read(out_fd_, tmp, sizeof tmp);
    if (n > 0) {
      buf.append(tmp, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // EOF: dvsd exited (or closed stdout) before becoming ready.
    int pidfd = open_pidfd(pid_);
    auto st = wait_pid(pid_, pidfd, Millis(2000));
    if (pidfd >= 0) close(pidfd);
    std::string how = st ? describe_status(*st) : std::string("closed its stdout");
    if (st) pid_ = -1;
    else kill9();
    return ::testing::AssertionFailure() << "dvsd " << how << " before it was ready ("
                                         << command_line() << ")\nstdout: " << stdout_ << buf
                                         << "\nstderr: " << stderr_output();
  }
}

std::string DvsdProcess::listen_uri() const {
  auto all = listen_uris();
  return all.empty() ? "" : all.front();
}

std::vector<std::string> DvsdProcess::listen_uris() const {
  const std::string key = " listening on ";
  std::vector<std::string> out;
  for (size_t at = stdout_.find(key); at != std::string::npos; at = stdout_.find(key, at + key.size())) {
    size_t end = stdout_.find('\n', at);
    out.push_back(stdout_.substr(at + key.size(), end == std::string::npos ? std::string::npos : end - at - key.size()));
  }
  return out;
}

void DvsdProcess::drain_stdout() {
  if (out_fd_ < 0) return;
  char tmp[4096];
  for (;;) {
    ssize_t n = read(out_fd_, tmp, sizeof tmp);
    if (n > 0) {
      if (stdout_.size() < (1u << 20)) stdout_.append(tmp, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
}

bool DvsdProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int DvsdProcess::reap(Millis timeout) {
  int pidfd = open_pidfd(pid_);
  auto st = wait_pid(pid_, pidfd, timeout);
  if (pidfd >= 0) close(pidfd);
  if (!st) return -1;
  pid_ = -1;
  return *st;
}

int DvsdProcess::stop(Millis grace) {
  needed_sigkill_ = false;
  if (pid_ <= 0) return -1;
  drain_stdout();
  kill(pid_, SIGTERM);
  int st = reap(grace);
  if (st == -1) {
    needed_sigkill_ = true;
    kill(pid_, SIGKILL);
    st = reap(Millis(5000));
  }
  drain_stdout();
  return st;
}

void DvsdProcess::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  (void)reap(Millis(5000));
}

std::string DvsdProcess::stderr_output() const {
  if (stderr_path_.empty()) return {};
  return read_file(stderr_path_);
}

// ---------------------------------------------------------------------------------------------
// run_dvsd

bool RunResult::exited() const { return !timed_out && WIFEXITED(status); }
int RunResult::exit_code() const { return exited() ? WEXITSTATUS(status) : -1; }

RunResult run_dvsd(const std::vector<std::string>& args, Millis timeout) {
  RunResult res;
  const std::string bin = dvsd_binary();
  if (bin.empty()) {
    res.err = "DVSD_BIN is not set";
    return res;
  }
  int o[2], e[2];
  if (pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0) {
    res.err = "pipe2 failed";
    return res;
  }
  std::vector<std::string> argv = {bin};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t parent = getpid();
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    dup2(o[1], 1);
    dup2(e[1], 2);
    int n = open("/dev/null", O_RDONLY);
    if (n >= 0) dup2(n, 0);
    exec_or_die(argv);
  }
  close(o[1]);
  close(e[1]);
  if (pid < 0) {
    close(o[0]);
    close(e[0]);
    res.err = "fork failed";
    return res;
  }
  const auto deadline = Clock::now() + timeout;
  bool o_open = true, e_open = true;
  while (o_open || e_open) {
    auto now = Clock::now();
    if (now >= deadline) break;
    pollfd p[2] = {{o_open ? o[0] : -1, POLLIN, 0}, {e_open ? e[0] : -1, POLLIN, 0}};
    int left = static_cast<int>(std::chrono::duration_cast<Millis>(deadline - now).count()) + 1;
    int r = poll(p, 2, left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char tmp[4096];
    for (int i = 0; i < 2; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(i == 0 ? o[0] : e[0], tmp, sizeof tmp);
      if (n > 0)
        (i == 0 ? res.out : res.err).append(tmp, static_cast<size_t>(n));
      else if (n == 0 || errno != EINTR)
        (i == 0 ? o_open : e_open) = false;
    }
  }
  close(o[0]);
  close(e[0]);
  int pidfd = open_pidfd(pid);
  auto left = std::max<long>(0, std::chrono::duration_cast<Millis>(deadline - Clock::now()).count());
  auto st = wait_pid(pid, pidfd, Millis(left));
  if (!st) {
    res.timed_out = true;
    kill(pid, SIGKILL);
    st = wait_pid(pid, pidfd, Millis(5000));
  }
  if (pidfd >= 0) close(pidfd);
  res.status = st ? *st : -1;
  return res;
}

}  // namespace dvs::testing
