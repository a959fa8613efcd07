// Waiting for a child process with a bound (internal to the test helpers: ForkedChild and
// DvsdProcess both reap their children with it).
#ifndef DVS_TESTING_CHILD_WAIT_HPP
#define DVS_TESTING_CHILD_WAIT_HPP

#include <sys/types.h>

#include <optional>

#include "core/testkit/test_time.hpp"

namespace dvs::testing {

// A pidfd of pid (close-on-exec), or -1 where the kernel has none; the caller closes it.
int open_pidfd(pid_t pid);

// Waits for child pid to exit within timeout (sleeping in poll on pidfd if >= 0, else in short
// steps) and reaps it. Returns the wait status, or nullopt on timeout or if pid is not a child
// of this process (any more).
std::optional<int> wait_pid(pid_t pid, int pidfd, Millis timeout);

}  // namespace dvs::testing

#endif
