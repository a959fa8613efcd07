// A real dvsd child process for tests: started on a fresh temporary socket path, waited for
// (bounded) until ready, stopped with SIGTERM then SIGKILL; dvsd run to completion for command-line
// tests; the geometry of its default DC; a fixture with a fresh dvsd per test. No mocks.
#ifndef DVS_TESTING_DVSD_PROCESS_HPP
#define DVS_TESTING_DVSD_PROCESS_HPP

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "core/testkit/test_time.hpp"

namespace dvs::testing {

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

#endif
