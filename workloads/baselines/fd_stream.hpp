// The one-way block stream over a pair of descriptors, shared by pipe_stream, fifo_stream and
// tcp_stream: the server writes blocks of cfg.block_bytes as fast as it can, the client times one
// block received per iteration.
#ifndef DVS_HARNESS_BASELINES_FD_STREAM_HPP
#define DVS_HARNESS_BASELINES_FD_STREAM_HPP

#include "workloads/baselines/baseline.hpp"

namespace dvs::baselines {

// reader_fd: the client's end; writer_fd: the server's end (both closed in the calling process
// once the children exist; each child closes the end it does not use). The writer's normal end
// is EPIPE / ECONNRESET once the reader closed its end.
measure::TwoProcessOutcome fd_stream(const BaselineConfig& cfg, int reader_fd, int writer_fd);

}  // namespace dvs::baselines

#endif
