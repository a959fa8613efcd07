// A dvsd child process owned by `dvs run`: found, started on a private temp socket with its
// output in a log file, waited for ("dvsd: node N ready on PATH"), stopped with SIGTERM.
#ifndef DVS_HARNESS_CLI_DVSD_PROCESS_HPP
#define DVS_HARNESS_CLI_DVSD_PROCESS_HPP

#include <string>
#include <vector>
#include <sys/types.h>

namespace dvs::cli {

// The dvsd binary: `explicit_path` if non-empty, else $DVSD_BIN, else <dir of this
// executable>/dvsd (build/bin in the build tree, <prefix>/bin installed). "" if none is executable.
// The same finder as cluster::find_dvsd_binary (harness/cluster/cluster.hpp), which it calls.
std::string find_dvsd(const std::string& explicit_path, std::string* tried);

class PrivateDvsd {
 public:
  PrivateDvsd() = default;
  PrivateDvsd(const PrivateDvsd&) = delete;
  PrivateDvsd& operator=(const PrivateDvsd&) = delete;
  ~PrivateDvsd() { stop(); }

  // Start `bin --node node --socket <tmpdir>/dvsd.sock`, stdout+stderr appended to log_path.
  // Returns true once the ready line appeared; false with *err set if it exited or did not
  // become ready within timeout_ms (the process is then stopped).
  bool start(const std::string& bin, int node, const std::string& log_path, std::string* err,
             int timeout_ms = 10'000);
  // The same with more dvsd arguments after --socket (e.g. --listen URI --peer ID=URI --batch N).
  bool start(const std::string& bin, int node, const std::string& log_path,
             const std::vector<std::string>& extra_args, std::string* err, int timeout_ms = 10'000);
  // The URI of dvsd's "dvsd: node N listening on URI" line (port 0 resolved); "" if none.
  const std::string& listen_uri() const { return listen_uri_; }
  // SIGTERM, up to 5 s for exit, then SIGKILL; removes the temp socket directory. Idempotent.
  void stop();

  const std::string& socket_path() const { return socket_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string dir_;
  std::string socket_;
  std::string listen_uri_;
};

}  // namespace dvs::cli

#endif
