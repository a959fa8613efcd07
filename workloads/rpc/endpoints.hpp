// The two sides of the RPC workload (see rpc.hpp), run inside the fork()ed children, and the
// memory they share with the parent. Internal to workloads/rpc.
#ifndef DVS_WORKLOADS_RPC_ENDPOINTS_HPP
#define DVS_WORKLOADS_RPC_ENDPOINTS_HPP

#include <atomic>
#include <cstdint>

#include "workloads/measure/two_process.hpp"
#include "workloads/rpc/rpc.hpp"

namespace dvs::workloads::rpc {

// One MAP_SHARED page set, created by the parent before forking.
struct Control {
  std::atomic<uint32_t> servers_ready;
  std::atomic<uint32_t> clients_ready;  // client threads past setup
  std::atomic<uint32_t> links_ready;    // remote: client 0 rmtbound the servers, links up
  std::atomic<uint32_t> go;
  std::atomic<uint32_t> stop;   // servers: leave
  std::atomic<uint32_t> abort;  // a child failed during setup: the others stop waiting
  uint64_t go_ns;
  std::atomic<uint64_t> served[kMaxServers];
  std::atomic<uint64_t> vcopies[kMaxServers];
  std::atomic<uint64_t> server_verify_failures[kMaxServers];
  std::atomic<uint32_t> stalls;
  char err[kMaxServers + kMaxClients][200];  // servers first, then clients
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

// Per client process: its counters and histograms (whole run, then one per second).
struct ClientBlock {
  uint64_t completed;
  uint64_t unsent;
  uint64_t failed;
  uint64_t verify_failures;
  uint64_t request_bytes;  // request payload bytes the servers verified
  uint64_t reply_bytes;    // reply payload bytes this client verified
  uint64_t last_done_ns;
  int32_t first_error;
  stats::Histogram total;
  stats::Histogram* second(int i) { return reinterpret_cast<stats::Histogram*>(this + 1) + i; }
};

// Child bodies: return the exit status; reasons go to err (one line).
int server_main(const RpcConfig& cfg, Control& ctl, int k, measure::ChildCtx& ctx);
int client_main(const RpcConfig& cfg, Control& ctl, int c, ClientBlock& blk, int nsec,
                measure::ChildCtx& ctx);

}  // namespace dvs::workloads::rpc

#endif
