// Forked children of a workload (used by workloads/rpc and workloads/web): fork one that runs a
// body and leaves with its status, reap, tell failures, kill what is left. Internal helpers.
#ifndef DVS_WORKLOADS_RPC_CHILDREN_HPP
#define DVS_WORKLOADS_RPC_CHILDREN_HPP

#include <cerrno>
#include <cstdio>
#include <exception>
#include <vector>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <time.h>

#include "dvs/dvs.h"
#include "workloads/measure/clock.hpp"
#include "workloads/measure/two_process.hpp"

namespace dvs::workloads::rpc {

// fork a child that runs body(ctx) and leaves with its status; -errno if fork failed.
template <class Body>
inline pid_t fork_child(char* err, size_t errlen, Body&& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid < 0 ? -errno : pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the caller
  measure::ChildCtx ctx(err, errlen, -1);
  int rc;
  try {
    rc = body(ctx);
  } catch (const std::exception& e) {
    rc = ctx.fail("exception: %s", e.what());
  }
  _exit(rc & 0xff);
}

struct Child {
  pid_t pid = -1;
  bool done = false, killed = false;
  int status = 0;
};

// Reap whatever exited; true if every child in [from, to) is done.
inline bool reap(std::vector<Child>& ch, size_t from, size_t to) {
  bool all = true;
  for (size_t i = from; i < to; ++i) {
    if (ch[i].done) continue;
    if (waitpid(ch[i].pid, &ch[i].status, WNOHANG) == ch[i].pid) ch[i].done = true;
    else all = false;
  }
  return all;
}

inline bool failed(const Child& c) {
  return c.killed || (c.done && !(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0));
}

inline void kill_all(std::vector<Child>& ch) {
  for (auto& c : ch)
    if (!c.done) {
      kill(c.pid, SIGKILL);
      waitpid(c.pid, &c.status, 0);
      c.done = c.killed = true;
    }
}

// Declare that endpoint ep of dc lives on node (dvs_rmtbind) and wait, until deadline_ns, for the
// link to it to come up (a notify answers EDVSNOTCONN until both proxies have it; servers ignore
// the notification). 0 or the dvs error; *what names the call that failed.
inline int rmtbind_and_probe(int dc, int ep, int node, uint64_t deadline_ns, const char** what) {
  *what = "dvs_rmtbind";
  int rc = dvs_rmtbind(dc, ep, node);
  if (rc < 0) return rc;
  *what = "link probe (notify)";
  while ((rc = dvs_notify(ep)) == EDVSNOTCONN && measure::now_ns() < deadline_ns) {
    const timespec ts{0, 10'000'000};
    nanosleep(&ts, nullptr);
  }
  return rc < 0 ? rc : 0;
}

}  // namespace dvs::workloads::rpc

#endif
