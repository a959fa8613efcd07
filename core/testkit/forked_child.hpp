// Real forked client processes for tests: a function run in a child (its return value is the exit
// status, via _exit), waited for with a bound, SIGKILLed and reported if it does not exit in time.
//
// A child must call dvs_open(socket) itself (the test process never opens dvs, so children never
// inherit a libdvs connection). gtest assertions do not work inside a child: use the CHILD_*
// macros below, which print the failure to stderr and return a non-zero exit code that the parent
// asserts (ASSERT_TRUE(child.wait_ok())).
#ifndef DVS_TESTING_FORKED_CHILD_HPP
#define DVS_TESTING_FORKED_CHILD_HPP

#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "core/testkit/rc_str.hpp"
#include "core/testkit/test_time.hpp"

namespace dvs::testing {

// How a child ended.
struct ChildStatus {
  bool timed_out = false;  // did not exit in time (was SIGKILLed)
  bool exited = false;
  int exit_code = -1;
  int term_signal = 0;
  std::string describe() const;
};

// A function run in a forked child process; its return value is the exit status.
class ForkedChild {
 public:
  ForkedChild() = default;
  ForkedChild(std::string name, std::function<int()> fn);
  ~ForkedChild();
  ForkedChild(ForkedChild&& o) noexcept;
  ForkedChild& operator=(ForkedChild&& o) noexcept;
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  bool started() const { return pid_ > 0; }
  // Still running (not reaped)?
  bool running();
  // Wait up to timeout; on timeout SIGKILL it and report timed_out.
  ChildStatus wait(Millis timeout = Millis(10000));
  // ASSERT_TRUE(c.wait_ok()) : exited with exit code `code` within timeout.
  ::testing::AssertionResult wait_ok(Millis timeout = Millis(10000), int code = 0);
  void signal(int sig);
  // SIGKILL and reap (bounded); the status is kept.
  void kill9();
  const std::optional<ChildStatus>& status() const { return status_; }

 private:
  std::string name_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<ChildStatus> status_;
};

ForkedChild run_in_child(std::string name, std::function<int()> fn);
ForkedChild run_in_child(std::function<int()> fn);

// Prints a child-side check's failure (file:line: what) to stderr, tagged with the child's pid.
void child_fail(const char* file, int line, const std::string& what);

}  // namespace dvs::testing

// Child-side checks: print the failure and return a non-zero exit status from the child body.
#define CHILD_CHECK(cond)                                                               \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      ::dvs::testing::child_fail(__FILE__, __LINE__, std::string("check failed: ") + #cond); \
      return 10;                                                                        \
    }                                                                                   \
  } while (0)

#define CHILD_CHECK_EQ(expected, actual)                                                  \
  do {                                                                                    \
    const long child_e_ = static_cast<long>(expected);                                    \
    const long child_a_ = static_cast<long>(actual);                                      \
    if (child_e_ != child_a_) {                                                           \
      ::dvs::testing::child_fail(__FILE__, __LINE__,                                      \
                                 std::string(#actual) + " == " +                          \
                                     ::dvs::testing::rc_str(child_a_) + ", expected " +   \
                                     #expected + " == " + ::dvs::testing::rc_str(child_e_)); \
      return 11;                                                                          \
    }                                                                                     \
  } while (0)

// rc >= 0 (a dvs call succeeded).
#define CHILD_CHECK_OK(rc_expr)                                                             \
  do {                                                                                      \
    const long child_r_ = static_cast<long>(rc_expr);                                       \
    if (child_r_ < 0) {                                                                     \
      ::dvs::testing::child_fail(__FILE__, __LINE__,                                        \
                                 std::string(#rc_expr) + " failed: " +                      \
                                     ::dvs::testing::rc_str(child_r_));                     \
      return 12;                                                                            \
    }                                                                                       \
  } while (0)

#endif
