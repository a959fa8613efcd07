// FIFO (named pipe) baselines: ping-pong over two FIFOs and a one-way block stream through one.
// See baseline.hpp. The FIFOs live in a private mkdtemp directory that is removed once both ends
// are open (the descriptors keep them alive), so nothing is left behind even if a child is killed.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/baselines/fd_io.hpp"
#include "workloads/baselines/fd_pingpong.hpp"
#include "workloads/baselines/fd_stream.hpp"

namespace dvs::baselines {

namespace {

// Create FIFO `name` in dir and open both ends without blocking: the read end first
// (O_NONBLOCK, then made blocking again), then the write end (which a present reader lets open).
// Returns "" or the reason; on success *rd / *wr are blocking, close-on-exec descriptors.
std::string open_fifo(const std::string& dir, const char* name, int* rd, int* wr) {
  const std::string path = dir + "/" + name;
  if (mkfifo(path.c_str(), 0600) != 0) return fmt::format("mkfifo {}: {}", path, strerror(errno));
  *rd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (*rd < 0) return fmt::format("open {} for reading: {}", path, strerror(errno));
  *wr = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (*wr < 0) {
    const int e = errno;
    close(*rd);
    return fmt::format("open {} for writing: {}", path, strerror(e));
  }
  fcntl(*rd, F_SETFL, fcntl(*rd, F_GETFL) & ~O_NONBLOCK);
  unlink(path.c_str());
  return "";
}

// A private directory for the FIFOs ("" and *err on failure).
std::string make_dir(std::string* err) {
  std::string tmpl = (std::getenv("TMPDIR") && *std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR"))
                                                                      : std::string("/tmp")) +
                     "/dvs-fifo-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    *err = fmt::format("mkdtemp {}: {}", tmpl, strerror(errno));
    return "";
  }
  return buf.data();
}

}  // namespace

measure::TwoProcessOutcome fifo_pingpong(const BaselineConfig& cfg) {
  std::string err;
  const std::string dir = make_dir(&err);
  if (dir.empty()) return measure::failed_outcome(err);
  int to_server[2] = {-1, -1}, to_client[2] = {-1, -1};
  err = open_fifo(dir, "to_server", &to_server[0], &to_server[1]);
  if (err.empty()) {
    err = open_fifo(dir, "to_client", &to_client[0], &to_client[1]);
    if (!err.empty()) {
      close(to_server[0]);
      close(to_server[1]);
    }
  }
  rmdir(dir.c_str());
  if (!err.empty()) return measure::failed_outcome(err);
  return fd_pingpong(cfg, to_client[0], to_server[1], to_server[0], to_client[1]);
}

measure::TwoProcessOutcome fifo_stream(const BaselineConfig& cfg) {
  std::string err;
  const std::string dir = make_dir(&err);
  if (dir.empty()) return measure::failed_outcome(err);
  int p[2] = {-1, -1};
  err = open_fifo(dir, "stream", &p[0], &p[1]);
  rmdir(dir.c_str());
  if (!err.empty()) return measure::failed_outcome(err);
  return fd_stream(cfg, p[0], p[1]);
}

}  // namespace dvs::baselines
