// The link inboxes of a node's processes (the direct remote path, docs/REMOTE_PATHS.md): a
// process that reads its endpoints' remote traffic itself gives dvsd a control connection as its
// inbox (core::Op::LinkInbox); the proxies send it, with SCM_RIGHTS, each link a peer's process
// dialed to one of its endpoints (core::LinkHandover). Thread-safe: the control server adds and
// drops inboxes, the proxies' accept threads hand links over.
#pragma once

#include <sys/types.h>

#include <map>
#include <mutex>

#include "core/ipc/control.hpp"

namespace dvs::dvsd {

class LinkInboxes {
 public:
  LinkInboxes() = default;
  ~LinkInboxes();  // closes every inbox
  LinkInboxes(const LinkInboxes&) = delete;
  LinkInboxes& operator=(const LinkInboxes&) = delete;

  // pid's inbox is fd from now on (taken; a previous inbox of pid is closed). fd becomes
  // non-blocking: a process that does not read its inbox makes hand-overs fail, never dvsd wait.
  void add(pid_t pid, int fd);
  // Forgets (and closes) pid's inbox, if any.
  void drop(pid_t pid);
  // Sends link_fd (a copy: the caller keeps its own) with h to pid's inbox. True if the process
  // has it now; false if pid has no inbox or it is full or gone (a gone one is dropped).
  bool hand_over(pid_t pid, const core::LinkHandover& h, int link_fd);

 private:
  std::mutex mu_;
  std::map<pid_t, int> fds_;
};

}  // namespace dvs::dvsd
