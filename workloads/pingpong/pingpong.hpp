// dvs ping-pong loops per primitive, as the original's loops (the loops/ programs of PabloPessolani/MOL-IPC), timed with the
// harness's shared loop (measure/timed_loop.hpp) so they compare 1:1 with the raw baselines.
//
// Two fork()ed processes bind to two *system* slots of one DC of a running dvsd (rcvrqst, reply
// and vcopy need system slots; every loop uses them so the primitives compare fairly), set the
// wait strategy on their endpoints, and run:
//   SendReceive    client send/receive      <-> server receive/send
//   SendrecReply   client sendrec           <-> server receive/reply
//   NotifyReceive  client notify/receive    <-> server receive/notify
//   RcvrqstReply   client sendrec           <-> server rcvrqst/reply
//   Vcopy          client (requester = destination) vcopy of vcopy_bytes from the server's buffer,
//                  the server blocked in receive the whole time (M3-IPC: parties other than the
//                  requester must be blocked receiving)
// The client is the timing side: one sample = one round trip (Vcopy: one copy). After its loop
// the client sends a stop message (m_type kStop) through the loop's request primitive; the
// server answers as usual and exits 0. Both unbind and close (dvs_close) before exiting.
#ifndef DVS_WORKLOADS_PINGPONG_PINGPONG_HPP
#define DVS_WORKLOADS_PINGPONG_PINGPONG_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dvs/dvs.h"
#include "workloads/measure/placement.hpp"
#include "workloads/measure/timed_loop.hpp"
#include "workloads/measure/two_process.hpp"

namespace dvs::workloads {

enum class Primitive { SendReceive, SendrecReply, NotifyReceive, RcvrqstReply, Vcopy };
inline constexpr Primitive kAllPrimitives[] = {Primitive::SendReceive, Primitive::SendrecReply,
                                               Primitive::NotifyReceive, Primitive::RcvrqstReply,
                                               Primitive::Vcopy};

const char* primitive_id(Primitive p);     // "send_receive", "sendrec_reply", ... , "vcopy"
const char* primitive_label(Primitive p);  // "send/receive <-> receive/send", ...
std::optional<Primitive> parse_primitive(const std::string& id);

const char* wait_name(dvs_wait_mode_t w);  // "spin" | "spin-then-block" | "block"
std::optional<dvs_wait_mode_t> parse_wait(const std::string& s);
// The names of the three wait strategies (wait_name of each), in the order they are run and listed.
inline const std::vector<std::string> kWaitNames = {"spin", "spin-then-block", "block"};

inline constexpr int32_t kPing = 1;
inline constexpr int32_t kStop = 2;

struct PingpongConfig {
  std::string socket_path;  // dvsd's socket
  int dc = 0;
  int server_p_nr = 10;  // both must be system slots (p_nr + nr_tasks < nr_sysprocs)
  int client_p_nr = 11;
  dvs_wait_mode_t wait = DVS_WAIT_SPIN;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;  // spin budget of DVS_WAIT_SPIN_THEN_BLOCK
  measure::LoopConfig loop;
  measure::CpuPair cpus;
  int timeout_ms = 60'000;
  size_t vcopy_bytes = 65536;
  int setup_timeout_ms = 10'000;  // bind retries, waiting for the peer's bind
};

// Run one loop; the result's samples are RTTs (Vcopy: per-copy times, bytes_per_op = bytes).
measure::TwoProcessOutcome run_pingpong(Primitive p, const PingpongConfig& cfg);

}  // namespace dvs::workloads

#endif
