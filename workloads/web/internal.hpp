// Pieces of the web workload shared by its processes (internal to workloads/web).
#ifndef DVS_WORKLOADS_WEB_INTERNAL_HPP
#define DVS_WORKLOADS_WEB_INTERNAL_HPP

#include <atomic>
#include <cstdint>
#include <string>

#include "workloads/web/web.hpp"

namespace dvs::workloads::web {

// Read at most len bytes of root/path at offset into dst. status 0 or -errno; size = file size.
ReadReply read_local(const std::string& root, const std::string& path, uint64_t offset, uint32_t len, void* dst);

// One fetch through endpoint ep: sendrec a ReadRequest. status < 0: -errno or a dvs error.
ReadReply read_remote(int ep, const std::string& path, uint64_t offset, uint32_t len, void* dst, long timeout_ms);

// dvs_rmtbind(dc, ep, node) (already declared is fine) and wait until deadline_ns for the link.
int declare_remote(int dc, int ep, int node, uint64_t deadline_ns, const char** what);

// The HTTP front end on listen_fd until stop != 0. 0 or a failure (reason in err).
int front_main(const WebConfig& cfg, int listen_fd, std::atomic<uint32_t>& ready, std::atomic<uint32_t>& stop,
               char* err, size_t errlen);

}  // namespace dvs::workloads::web

#endif
