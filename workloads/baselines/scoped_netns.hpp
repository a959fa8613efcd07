// Enters a named network namespace (/run/netns/NAME) for the calling thread until destroyed, so
// sockets created meanwhile belong to it (a socket keeps the namespace it was created in).
// "" = stays where it is. On failure error() says why and the thread did not move.
#ifndef DVS_HARNESS_BASELINES_SCOPED_NETNS_HPP
#define DVS_HARNESS_BASELINES_SCOPED_NETNS_HPP

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace dvs::baselines {

class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& name) {
    if (name.empty()) return;
    home_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (home_ < 0 || target < 0) {
      error_ = fmt::format("cannot open network namespace {}: {}", name, strerror(errno));
    } else if (setns(target, CLONE_NEWNET) != 0) {
      error_ = fmt::format("cannot enter network namespace {}: {}", name, strerror(errno));
    } else {
      entered_ = true;
    }
    if (target >= 0) close(target);
  }
  ~ScopedNetns() {
    if (entered_) (void)setns(home_, CLONE_NEWNET);
    if (home_ >= 0) close(home_);
  }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  const std::string& error() const { return error_; }

 private:
  int home_ = -1;
  bool entered_ = false;
  std::string error_;
};

}  // namespace dvs::baselines

#endif
