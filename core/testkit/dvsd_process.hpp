// Test helpers for the core suite: a real dvsd child process, real forked client processes,
// pipes for parent/child hand-shakes, and bounded polling. No mocks.
//
// Rules the helpers follow (and tests using them should follow):
//  * every wait is bounded; a child that does not exit in time is SIGKILLed and reported;
//  * a forked child runs a std::function<int()>; its return value is its exit status (via _exit);
//    it must call dvs_open(socket) itself (the test process itself never opens dvs, so children
//    never inherit a libdvs connection);
//  * gtest assertions do not work inside a child: use the CHILD_* macros below, which print the
//    failure to stderr and return a non-zero exit code that the parent asserts.
#ifndef DVS_TESTING_DVSD_PROCESS_HPP
#define DVS_TESTING_DVSD_PROCESS_HPP

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dvs/dvs.h"

namespace dvs::testing {

using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Path of the dvsd binary from $DVSD_BIN (set by ctest); empty if unset.
std::string dvsd_binary();

// A cluster key file made once per test process (removed at exit): DvsdProcess passes it as
// --cluster-key to every dvsd with links unless the options say --cluster-key or --no-auth.
const std::string& test_cluster_key();

struct DvsdOptions {
  int node = 0;
  std::vector<std::string> dcs;         // one --dc SPEC each; empty: dvsd's default DC 0
  std::string config;                   // --config FILE; empty: none
  std::vector<std::string> extra_args;  // appended verbatim
  Millis ready_timeout{10000};
};

// A real dvsd child process on a fresh temporary socket path.
class DvsdProcess {
 public:
  DvsdProcess();
  explicit DvsdProcess(DvsdOptions opts);
  ~DvsdProcess();
  DvsdProcess(const DvsdProcess&) = delete;
  DvsdProcess& operator=(const DvsdProcess&) = delete;

  // Fork/exec dvsd and wait (bounded) for "dvsd: node N ready on PATH" on its stdout.
  // Use as ASSERT_TRUE(d.start()).
  ::testing::AssertionResult start();

  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, wait up to grace, then SIGKILL. Returns the wait status, or -1 if not running.
  int stop(Millis grace = Millis(5000));
  // SIGKILL and reap.
  void kill9();
  // True if the last stop() had to escalate to SIGKILL.
  bool stop_needed_sigkill() const { return needed_sigkill_; }
  // dvsd's stderr so far (it goes to a file in the temp directory).
  std::string stderr_output() const;
  // The URI from dvsd's "listening on URI" line (empty if it printed none before ready).
  std::string listen_uri() const;
  // The URIs of every such line, in order (dvsd prints one per --listen).
  std::vector<std::string> listen_uris() const;
  // The command line used.
  std::string command_line() const;
  const std::string& temp_dir() const { return dir_; }

 private:
  int reap(Millis timeout);  // wait status, or -1 on timeout
  void drain_stdout();

  DvsdOptions opts_;
  std::string dir_;
  std::string socket_path_;
  std::string stderr_path_;
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string stdout_;
  bool needed_sigkill_ = false;
};

// Run dvsd with raw arguments to completion (command-line tests).
struct RunResult {
  bool timed_out = false;
  int status = -1;  // wait status
  std::string out, err;
  bool exited() const;
  int exit_code() const;  // -1 unless exited normally
};
RunResult run_dvsd(const std::vector<std::string>& args, Millis timeout = Millis(10000));

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

// A pipe carrying 64-bit values (atomic writes, several writers allowed). Create it before
// forking; both sides keep both ends.
class Pipe {
 public:
  Pipe();
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool send(int64_t v);
  // Next value, or nullopt after timeout.
  std::optional<int64_t> recv(Millis timeout = Millis(10000));
  // Is a value available right now (non-consuming)?
  bool readable();

 private:
  int fd_[2] = {-1, -1};
};

// A start line for several children: each binds, then arrive_and_wait(); the parent's
// open(n) waits until n children arrived and lets them all go.
class StartGate {
 public:
  void arrive_and_wait(Millis timeout = Millis(10000)) {
    arrived_.send(1);
    (void)go_.recv(timeout);
  }
  bool open(int n, Millis timeout = Millis(10000)) {
    for (int i = 0; i < n; ++i)
      if (!arrived_.recv(timeout)) return false;
    for (int i = 0; i < n; ++i) go_.send(1);
    return true;
  }

 private:
  Pipe arrived_, go_;
};

// Poll pred() until it is true or timeout elapses (bounded polling, 200 µs .. 2 ms steps).
bool poll_until(const std::function<bool()>& pred, Millis timeout = Millis(5000));

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// ---- helpers for children (callers bound to dvs) ----

// "EDVSTIMEDOUT(-61)" or "42".
std::string rc_str(long rc);

// dvs_open(sock) + dvs_bind(dc, p_nr); returns the endpoint or a negative code (message printed).
int open_and_bind(const std::string& sock, int dc, int p_nr);

// Poll dvs_getprocinfo(dc, p_nr) until pred(info) holds. 0 when it does, a negative code
// from getprocinfo if that fails, EDVSTIMEDOUT after timeout.
int wait_procinfo(int dc, int p_nr, const std::function<bool(const dvs_procinfo_t&)>& pred,
                  Millis timeout = Millis(5000));
// p_nr is blocked sending to dst_ep (p_rts_flags has DVS_SENDING and p_sendto == dst_ep;
// dst_ep < 0 skips the p_sendto check... use DVS_NONE to skip).
int wait_sending(int dc, int p_nr, int dst_ep, Millis timeout = Millis(5000));
// p_nr is blocked receiving (DVS_RECEIVING).
int wait_receiving(int dc, int p_nr, Millis timeout = Millis(5000));

void child_fail(const char* file, int line, const std::string& what);

// Endpoint of p_nr from dvs_getprocinfo (a negative code on error or if the slot is free).
int proc_ep(int dc, int p_nr);

// A message with m_type and a recognizable payload (raw[i] = seed + i).
dvs_message_t make_msg(int type, int seed = 0);
// Does m carry the payload make_msg(_, seed) wrote?
bool payload_ok(const dvs_message_t& m, int seed);

// Geometry of dvsd's default DC 0 (procs=221 tasks=35 sysprocs=64).
inline constexpr int kDefTasks = 35;
inline constexpr int kDefProcs = 221;
inline constexpr int kDefSysprocs = 64;
inline constexpr int kFirstUser = kDefSysprocs - kDefTasks;  // 29
inline constexpr long kDefCopylen = 1048576;

// Fixture: a fresh dvsd per test (override options() for other command lines).
class DvsdTest : public ::testing::Test {
 protected:
  virtual DvsdOptions options() { return {}; }
  void SetUp() override {
    dvsd_ = std::make_unique<DvsdProcess>(options());
    ASSERT_TRUE(dvsd_->start());
    sock_ = dvsd_->socket_path();
  }
  void TearDown() override {
    if (dvsd_) {
      EXPECT_TRUE(dvsd_->running()) << "dvsd died during the test";
    }
  }
  std::unique_ptr<DvsdProcess> dvsd_;
  std::string sock_;
};

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

// Assert on a dvs return code in the parent with readable names.
#define EXPECT_RC(expected, actual) \
  EXPECT_EQ(::dvs::testing::rc_str(expected), ::dvs::testing::rc_str(actual))
#define ASSERT_RC(expected, actual) \
  ASSERT_EQ(::dvs::testing::rc_str(expected), ::dvs::testing::rc_str(actual))

#endif
