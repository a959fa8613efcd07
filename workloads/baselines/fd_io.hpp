// Whole-buffer read/write on blocking file descriptors (pipes, stream sockets).
#ifndef DVS_HARNESS_BASELINES_FD_IO_HPP
#define DVS_HARNESS_BASELINES_FD_IO_HPP

#include <cstddef>

namespace dvs::baselines {

// Read exactly len bytes. 0 on success, -errno on error, -EPIPE on end of file.
int read_full(int fd, void* buf, size_t len);
// As read_full, but on a socket first polls (non-blocking recv, sched_yield between tries) for up
// to poll_us microseconds, then blocks: the wait strategy of dvsd's --poll-us proxies, for a
// like-for-like raw baseline. poll_us == 0 is read_full.
int read_full_polling(int fd, void* buf, size_t len, int poll_us);
// Write exactly len bytes. 0 on success, -errno on error.
int write_full(int fd, const void* buf, size_t len);

}  // namespace dvs::baselines

#endif
