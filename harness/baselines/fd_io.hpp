// Whole-buffer read/write on blocking file descriptors (pipes, stream sockets).
#ifndef DVS_HARNESS_BASELINES_FD_IO_HPP
#define DVS_HARNESS_BASELINES_FD_IO_HPP

#include <cstddef>

namespace dvs::baselines {

// Read exactly len bytes. 0 on success, -errno on error, -EPIPE on end of file.
int read_full(int fd, void* buf, size_t len);
// Write exactly len bytes. 0 on success, -errno on error.
int write_full(int fd, const void* buf, size_t len);

}  // namespace dvs::baselines

#endif
