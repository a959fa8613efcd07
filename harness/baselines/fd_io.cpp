// read_full / write_full: see fd_io.hpp.
#include "baselines/fd_io.hpp"

#include <cerrno>
#include <unistd.h>

namespace dvs::baselines {

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
