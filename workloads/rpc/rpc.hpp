// RPC load: many client endpoints issuing sendrec to a pool of server endpoints, on one dvsd node
// or across two (docs/RPC.md).
//
// Processes (all fork()ed by run_rpc; the caller only forks, releases and waits):
//   servers  `servers` processes, each bound to system slot server_p_nr + k of the server node;
//            loop: rcvrqst (from anyone) -> pull the request payload (vcopy) -> service time ->
//            push the reply payload (vcopy) -> reply. Notifications are ignored (link probes).
//   clients  `clients` processes of `outstanding` threads each; every thread binds its own user
//            slot (dvs_tbind, DVS_ANY) on the client node, so a client has up to `outstanding`
//            requests in flight, one sendrec per thread. Request i of a thread goes to server
//            (client * outstanding + thread + i) mod servers.
//
// Protocol (one 64-byte message each way; Header below):
//   request  m_type kRequest; hdr = {seq, request_bytes, reply_bytes, request_addr, reply_addr}.
//            request_bytes <= kInlineBytes: the payload is in the message after the header.
//            Larger: it stays in the client's buffer at request_addr and the server pulls it with
//            dvs_vcopy(client, request_addr, SELF, buf, n) while the client is blocked in its
//            sendrec (M3-IPC: the party other than the requester must be blocked receiving).
//   reply    m_type kReplyOk (or kReplyBad: the server found the request payload corrupt, or
//            kReplyErr: a vcopy failed, hdr.seq = the error). reply_bytes <= kInlineBytes: inline;
//            larger: the server pushes it with dvs_vcopy(SELF, buf, client, reply_addr, n)
//            before dvs_reply.
//   payload  byte i of request seq is pattern_byte(seq, i); of its reply pattern_byte(~seq, i);
//            both ends check every byte (verify = true).
//
// Loops:
//   closed   each client thread sends its next request as soon as its previous reply arrived;
//            latency = reply time - send time.
//   open     each client process draws arrival times for rate / clients requests/s (fixed
//            spacing or Poisson) from one schedule its threads share: a free thread takes the
//            next arrival, sleeps until its *intended* time and sends. Latency = reply time -
//            intended time, so time a request spent waiting for a free thread (a stalled
//            server holds every thread) counts: no coordinated omission. Arrivals due before the
//            end but still unsent drain_s after it are recorded with latency = (give-up time -
//            intended time), a lower bound, and counted as `unsent`.
//
// Service time: fixed or exponential (mean service_ns), as a busy wait (CPU-bound work);
// a stall: each selected server, on its first request at or after stall_at_ns from the start,
// sleeps until stall_at_ns + stall_ns (for tests of the open loop).
#ifndef DVS_WORKLOADS_RPC_RPC_HPP
#define DVS_WORKLOADS_RPC_RPC_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dvs/dvs.h"
#include "workloads/measure/histogram.hpp"

namespace dvs::workloads::rpc {

enum class Loop { Closed, Open };
enum class Arrivals { Fixed, Poisson };
enum class Service { None, Fixed, Exponential };

const char* loop_name(Loop l);          // "closed" | "open"
const char* arrivals_name(Arrivals a);  // "fixed" | "poisson"
const char* service_name(Service s);    // "none" | "fixed" | "exp"
std::optional<Loop> parse_loop(const std::string& s);
std::optional<Arrivals> parse_arrivals(const std::string& s);
std::optional<Service> parse_service(const std::string& s);

inline constexpr int32_t kRequest = 0x5201;
inline constexpr int32_t kReplyOk = 0x5202;
inline constexpr int32_t kReplyBad = 0x5203;
inline constexpr int32_t kReplyErr = 0x5204;

// Message layout (over dvs_message_t.m_u.raw).
struct Header {
  uint64_t seq;
  uint32_t request_bytes;
  uint32_t reply_bytes;
  uint64_t request_addr;
  uint64_t reply_addr;
};
inline constexpr size_t kInlineBytes = DVS_MSG_PAYLOAD - sizeof(Header);  // 24
static_assert(sizeof(Header) == 32);

inline uint8_t pattern_byte(uint64_t seq, size_t i) {
  return uint8_t((seq * 0x9E3779B1u) >> 7) ^ uint8_t(i * 31u + (i >> 8));
}

// Limits checked by validate().
inline constexpr int kMaxServers = 20;    // system slots 1..20 of DC 0 (29 with dvsd's defaults)
inline constexpr int kMaxClients = 64;
inline constexpr int kMaxOutstanding = 64;
inline constexpr int kMaxEndpoints = 160;  // clients * outstanding (user slots of the node)
inline constexpr double kMaxDurationS = 600;
inline constexpr size_t kMaxPayload = size_t{64} << 20;

struct RpcConfig {
  std::string client_socket;  // dvsd of the clients' node
  std::string server_socket;  // dvsd of the servers' node (= client_socket: one node)
  int server_node = -1;       // node id of the servers' dvsd when it is another node, else -1
  int dc = 0;
  int server_p_nr = 1;  // servers bind system slots server_p_nr .. server_p_nr + servers - 1
  int servers = 1;
  int clients = 2;
  int outstanding = 1;  // threads (endpoints, requests in flight) per client process
  Loop loop = Loop::Closed;
  Arrivals arrivals = Arrivals::Poisson;
  double rate = 1000;       // open loop: requests/s offered, all clients together
  double duration_s = 2;    // measured window (from the common release)
  double drain_s = 1;       // open loop: how long past the end late arrivals may still be sent
  size_t request_bytes = 0;
  size_t reply_bytes = 0;
  Service service = Service::None;
  uint64_t service_ns = 0;  // fixed: this; exp: the mean
  uint64_t stall_at_ns = 0;
  uint64_t stall_ns = 0;    // 0: no stall
  int stall_server = -1;    // which server stalls (index), -1: all
  dvs_wait_mode_t wait = DVS_WAIT_BLOCK;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;
  bool verify = true;
  uint64_t seed = 1;
  int request_timeout_ms = 10'000;  // one sendrec (a stall adds to it)
  int setup_timeout_ms = 10'000;    // binds, links, first round trips
};

// "" or why the configuration cannot run (one line).
std::string validate(const RpcConfig& c);

struct SecondRow {
  double t_s = 0;           // start of the second, from the release
  uint64_t completed = 0;   // replies received in this second
  stats::Summary latency;   // of those replies
};

struct RpcResult {
  bool ok = false;
  std::string error;                     // one line, if !ok
  std::unique_ptr<stats::Histogram> latency;  // every recorded request (ns)
  std::vector<SecondRow> seconds;        // by completion second
  uint64_t completed = 0;                // replies received and recorded
  uint64_t unsent = 0;                   // open loop: arrivals never sent (recorded as lower bounds)
  uint64_t failed = 0;                   // sendrec errors (each stops its thread)
  uint64_t verify_failures = 0;          // payload mismatches seen by clients or servers
  uint64_t request_payload_bytes = 0;    // verified bytes that went client -> server
  uint64_t reply_payload_bytes = 0;      // and server -> client
  uint64_t vcopies = 0;                  // vcopy calls made by the servers
  uint64_t stalls = 0;                   // servers that stalled
  uint64_t elapsed_ns = 0;               // release to the last reply
  double offered_rps = 0;                // open loop: rate; closed: 0
  double throughput_rps = 0;             // completed / elapsed
  std::vector<uint64_t> served;          // requests answered per server
};

RpcResult run_rpc(const RpcConfig& cfg);

}  // namespace dvs::workloads::rpc

#endif
