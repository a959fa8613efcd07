#include "core/testkit/forked_child.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <utility>

#include "core/testkit/child_wait.hpp"

namespace dvs::testing {

std::string ChildStatus::describe() const {
  std::ostringstream o;
  if (timed_out) o << "did not exit in time (SIGKILLed); ";
  if (exited)
    o << "exited with code " << exit_code;
  else if (term_signal)
    o << "killed by signal " << term_signal << " (" << strsignal(term_signal) << ")";
  else
    o << "status unknown";
  return o.str();
}

ForkedChild::ForkedChild(std::string name, std::function<int()> fn) : name_(std::move(name)) {
  const pid_t parent = getpid();
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    int rc = 13;
    try {
      rc = fn();
    } catch (const std::exception& e) {
      fprintf(stderr, "[child %s pid %d] exception: %s\n", name_.c_str(), getpid(), e.what());
      rc = 14;
    } catch (...) {
      fprintf(stderr, "[child %s pid %d] unknown exception\n", name_.c_str(), getpid());
      rc = 14;
    }
    fflush(nullptr);
    _exit(rc & 0xff);
  }
  if (pid < 0) {
    fprintf(stderr, "dvs_testing: fork failed: %s\n", strerror(errno));
    return;
  }
  pid_ = pid;
  pidfd_ = open_pidfd(pid);
}

ForkedChild::~ForkedChild() {
  if (pid_ > 0 && !status_) kill9();
  if (pidfd_ >= 0) close(pidfd_);
}

ForkedChild::ForkedChild(ForkedChild&& o) noexcept
    : name_(std::move(o.name_)), pid_(o.pid_), pidfd_(o.pidfd_), status_(std::move(o.status_)) {
  o.pid_ = -1;
  o.pidfd_ = -1;
  o.status_.reset();
}

ForkedChild& ForkedChild::operator=(ForkedChild&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0 && !status_) kill9();
    if (pidfd_ >= 0) close(pidfd_);
    name_ = std::move(o.name_);
    pid_ = o.pid_;
    pidfd_ = o.pidfd_;
    status_ = std::move(o.status_);
    o.pid_ = -1;
    o.pidfd_ = -1;
    o.status_.reset();
  }
  return *this;
}

bool ForkedChild::running() {
  if (pid_ <= 0 || status_) return false;
  auto st = wait_pid(pid_, -1, Millis(0));
  if (!st) return true;
  ChildStatus cs;
  cs.exited = WIFEXITED(*st);
  cs.exit_code = cs.exited ? WEXITSTATUS(*st) : -1;
  cs.term_signal = WIFSIGNALED(*st) ? WTERMSIG(*st) : 0;
  status_ = cs;
  return false;
}

ChildStatus ForkedChild::wait(Millis timeout) {
  if (status_) return *status_;
  ChildStatus cs;
  if (pid_ <= 0) {
    cs.timed_out = false;
    return cs;
  }
  auto st = wait_pid(pid_, pidfd_, timeout);
  if (!st) {
    cs.timed_out = true;
    kill(pid_, SIGKILL);
    st = wait_pid(pid_, pidfd_, Millis(5000));
  }
  if (st) {
    cs.exited = WIFEXITED(*st);
    cs.exit_code = cs.exited ? WEXITSTATUS(*st) : -1;
    cs.term_signal = WIFSIGNALED(*st) ? WTERMSIG(*st) : 0;
  }
  status_ = cs;
  return cs;
}

::testing::AssertionResult ForkedChild::wait_ok(Millis timeout, int code) {
  ChildStatus cs = wait(timeout);
  if (!cs.timed_out && cs.exited && cs.exit_code == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "child '" << name_ << "' (pid " << pid_ << ") "
                                       << cs.describe() << ", expected exit code " << code
                                       << " within " << timeout.count() << " ms";
}

void ForkedChild::signal(int sig) {
  if (pid_ > 0 && !status_) kill(pid_, sig);
}

void ForkedChild::kill9() {
  if (pid_ <= 0 || status_) return;
  kill(pid_, SIGKILL);
  ChildStatus cs;
  auto st = wait_pid(pid_, pidfd_, Millis(5000));
  if (st) {
    cs.exited = WIFEXITED(*st);
    cs.exit_code = cs.exited ? WEXITSTATUS(*st) : -1;
    cs.term_signal = WIFSIGNALED(*st) ? WTERMSIG(*st) : 0;
  } else {
    cs.timed_out = true;
  }
  status_ = cs;
}

ForkedChild run_in_child(std::string name, std::function<int()> fn) {
  return ForkedChild(std::move(name), std::move(fn));
}
ForkedChild run_in_child(std::function<int()> fn) { return ForkedChild("child", std::move(fn)); }

void child_fail(const char* file, int line, const std::string& what) {
  fprintf(stderr, "[child pid %d] %s:%d: %s\n", getpid(), file, line, what.c_str());
  fflush(stderr);
}

}  // namespace dvs::testing
