#include "core/testkit/pipe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dvs::testing {

Pipe::Pipe() {
  if (pipe2(fd_, O_CLOEXEC) != 0) {
    fd_[0] = fd_[1] = -1;
    fprintf(stderr, "dvs_testing: pipe2 failed: %s\n", strerror(errno));
  }
}

Pipe::~Pipe() {
  if (fd_[0] >= 0) close(fd_[0]);
  if (fd_[1] >= 0) close(fd_[1]);
}

bool Pipe::send(int64_t v) {
  for (;;) {
    ssize_t n = write(fd_[1], &v, sizeof v);
    if (n == static_cast<ssize_t>(sizeof v)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

std::optional<int64_t> Pipe::recv(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto now = Clock::now();
    int left = now >= deadline
                   ? 0
                   : static_cast<int>(std::chrono::duration_cast<Millis>(deadline - now).count()) + 1;
    pollfd p{fd_[0], POLLIN, 0};
    int r = poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    int64_t v = 0;
    ssize_t n = read(fd_[0], &v, sizeof v);
    if (n == static_cast<ssize_t>(sizeof v)) return v;
    if (n < 0 && errno == EINTR) continue;
    return std::nullopt;
  }
}

bool Pipe::readable() {
  pollfd p{fd_[0], POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

}  // namespace dvs::testing
