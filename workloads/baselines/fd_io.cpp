// read_full / write_full: see fd_io.hpp.
#include "workloads/baselines/fd_io.hpp"

#include <cerrno>
#include <cstdint>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace dvs::baselines {

int read_full_polling(int fd, void* buf, size_t len, int poll_us) {
  if (poll_us <= 0) return read_full(fd, buf, len);
  auto* p = static_cast<unsigned char*>(buf);
  timespec t0{};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (len > 0) {
    const ssize_t r = ::recv(fd, p, len, MSG_DONTWAIT);
    if (r > 0) {
      p += r;
      len -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return -EPIPE;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const int64_t us = (now.tv_sec - t0.tv_sec) * 1'000'000 + (now.tv_nsec - t0.tv_nsec) / 1000;
    if (us < poll_us) {
      sched_yield();
      continue;
    }
    return read_full(fd, p, len);  // the poll window is over: block for the rest
  }
  return 0;
}

int read_full(int fd, void* buf, size_t len) {
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    const ssize_t r = ::read(fd, p, len);
    if (r > 0) {
      p += r;
      len -= size_t(r);
    } else if (r == 0) {
      return -EPIPE;
    } else if (errno != EINTR) {
      return -errno;
    }
  }
  return 0;
}

int write_full(int fd, const void* buf, size_t len) {
  auto* p = static_cast<const char*>(buf);
  while (len > 0) {
    const ssize_t r = ::write(fd, p, len);
    if (r >= 0) {
      p += r;
      len -= size_t(r);
    } else if (errno != EINTR) {
      return -errno;
    }
  }
  return 0;
}

}  // namespace dvs::baselines
