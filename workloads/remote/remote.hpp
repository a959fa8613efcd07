// dvs loops across two nodes: the client on one dvsd node, the server on another, linked by
// their proxies (dvsd --listen/--peer). The nodes are started by the caller (harness/run/node_pair.hpp).
//
// Loops (the client is the timing side, as in workloads/pingpong; the message loops are
// pingpong's message_client/message_server, only the sessions differ):
//   SendrecReply   client sendrec           <-> server receive/reply
//   SendReceive    client send/receive      <-> server receive/send
//   NotifyReceive  client notify/receive    <-> server receive/notify
//   VcopyPull      client = requester = destination, pulls vcopy_bytes from the server's buffer
//   VcopyPush      client = requester = source, pushes vcopy_bytes into the server's buffer
// In both vcopy loops the server is blocked in receive the whole time (M3-IPC: a party other
// than the requester must be blocked receiving); data is verified after the timed loop.
//
// Session: the server binds system slot server_p_nr on its node and says so through shared
// memory; the client binds client_p_nr on its node, declares the server remote
// (dvs_rmtbind(dc, server_p_nr, server_node)), then probes the link with dvs_notify until it
// stops returning EDVSNOTCONN (the link comes up asynchronously; bounded by setup_timeout_ms).
// The server drains that probe notify before its loop. The client's slot on the server's node
// is bound automatically by its first message. System slots have generation 0: endpoint = p_nr.
#ifndef DVS_WORKLOADS_REMOTE_REMOTE_HPP
#define DVS_WORKLOADS_REMOTE_REMOTE_HPP

#include <cstddef>
#include <cstdint>
#include <string>

#include "dvs/dvs.h"
#include "workloads/measure/pairs.hpp"
#include "workloads/measure/placement.hpp"
#include "workloads/measure/timed_loop.hpp"
#include "workloads/measure/two_process.hpp"

namespace dvs::workloads::remote {

enum class RemoteLoop { SendrecReply, SendReceive, NotifyReceive, VcopyPull, VcopyPush };

const char* loop_id(RemoteLoop l);     // "sendrec_reply", ..., "vcopy_pull", "vcopy_push"
const char* loop_label(RemoteLoop l);  // "sendrec <-> receive/reply", ...

struct RemoteConfig {
  std::string client_socket;  // dvsd of the client's node
  std::string server_socket;  // dvsd of the server's node
  // The network namespace each side's processes run in, as a node's processes share its dvsd's
  // (/run/netns/NAME; "" = this one). On the direct remote path they dial the peer node from there.
  std::string client_netns, server_netns;
  int server_node = 1;        // node id of the server's dvsd (the client's rmtbind target)
  int dc = 0;
  int server_p_nr = 10;  // system slots; pair k uses server_p_nr + k and client_p_nr + k
  int client_p_nr = 20;
  dvs_wait_mode_t wait = DVS_WAIT_BLOCK;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;
  measure::LoopConfig loop;  // per client
  measure::CpuPair cpus;     // clients on client_cpu, servers on server_cpu
  int timeout_ms = 60'000;
  size_t vcopy_bytes = size_t{1} << 20;
  int setup_timeout_ms = 10'000;  // binds, the peer's readiness, the link coming up
};

// One client/server pair; samples are RTTs (vcopy: per-copy times, bytes_per_op = vcopy_bytes).
measure::TwoProcessOutcome run_remote(RemoteLoop l, const RemoteConfig& cfg);

// n concurrent sendrec <-> receive/reply pairs, all clients released together once every pair's
// link probe succeeded. Each client runs cfg.loop.iterations round trips. The result merges the
// clients' samples; iterations = all timed round trips; elapsed_ns = from the common release to
// the end of the last client (warm-ups and stop messages included, so the rate is not
// overstated even if the clients did not overlap), and 2 * iterations / elapsed is the
// aggregate msgs/s.
measure::TwoProcessOutcome run_remote_pairs(int n, const RemoteConfig& cfg);

inline constexpr int kMaxPairs = measure::kMaxPairs;

}  // namespace dvs::workloads::remote

#endif
