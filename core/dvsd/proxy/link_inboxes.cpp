#include "core/dvsd/proxy/link_inboxes.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace dvs::dvsd {

LinkInboxes::~LinkInboxes() {
  for (auto& [pid, fd] : fds_) close(fd);
}

void LinkInboxes::add(pid_t pid, int fd) {
  const int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  std::lock_guard<std::mutex> g(mu_);
  auto [it, fresh] = fds_.emplace(pid, fd);
  if (!fresh) {
    close(it->second);
    it->second = fd;
  }
}

void LinkInboxes::drop(pid_t pid) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = fds_.find(pid);
  if (it == fds_.end()) return;
  close(it->second);
  fds_.erase(it);
}

bool LinkInboxes::hand_over(pid_t pid, const core::LinkHandover& h, int link_fd) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = fds_.find(pid);
  if (it == fds_.end()) return false;
  const int rc = core::send_record(it->second, &h, sizeof h, link_fd);
  if (rc == 0) return true;
  if (rc != -EAGAIN) {  // the process closed it or died
    close(it->second);
    fds_.erase(it);
  }
  return false;
}

}  // namespace dvs::dvsd
