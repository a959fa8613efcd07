// Sample commands of the wire codec, for the programs that exercise it rather than carry traffic:
// its tests, the fuzz seed corpus, the microbenchmarks and the CI gate's instruction counts.
// Header-only: it needs nothing but wire.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/dvsd/wire/wire.hpp"
#include "dvs/dvs.h"
#include "dvs/errors.h"

namespace dvs::wire {

// Every command kind: the requests, then their acks.
inline constexpr uint16_t kAllCommands[] = {
    CMD_SEND_MSG,     CMD_NTFY_MSG,     CMD_SNDREC_MSG,   CMD_REPLY_MSG,   CMD_COPYIN_DATA,  CMD_COPYOUT_RQST,
    CMD_COPYLCL_RQST, CMD_COPYRMT_RQST, CMD_COPYIN_RQST,  CMD_HELLO,       CMD_SHUTDOWN,     CMD_BIND,
    CMD_UNBIND,       CMD_SEND_ACK,     CMD_NTFY_ACK,     CMD_SNDREC_ACK,  CMD_REPLY_ACK,    CMD_COPYIN_ACK,
    CMD_COPYOUT_DATA, CMD_COPYLCL_ACK,  CMD_COPYRMT_ACK,  CMD_HELLO_ACK,   CMD_BIND_ACK,     CMD_UNBIND_ACK,
};

// A valid command of kind cmd from node 1 to node 2, its fields derived from n (seq 1000 + n, ...)
// and set as decode_frame requires of that kind: a link-level command carries no DC and no
// endpoints, BIND/UNBIND and their acks no destination, a SNDREC_ACK an error rcode. A message
// command carries a message of type n; a vcopy command a descriptor of a chunk of `chunk` bytes;
// a data command the first `chunk` bytes of `data` as its payload (data must outlive the
// command; chunk <= data.size()). An opaque payload (HELLO) is left empty.
inline Command sample_command(uint16_t cmd, uint32_t chunk, uint64_t n, std::span<const std::byte> data) {
  Command c;
  const CommandInfo info = command_info(cmd);
  c.hdr.command = cmd;
  c.hdr.dcid = static_cast<uint8_t>(n % 32);
  c.hdr.src_node = 1;
  c.hdr.dst_node = 2;
  c.hdr.src_ep = DVS_ENDPOINT(static_cast<int>(n % 3), 40);
  c.hdr.dst_ep = static_cast<int32_t>(n % 29) - 5;
  c.hdr.seq = 1000 + n;
  c.hdr.ack_seq = 500 + n;
  c.hdr.timestamp_ns = 1'700'000'000'000'000'000ull + n;
  if (info.link_level) {
    c.hdr.dcid = 0;
    c.hdr.src_ep = c.hdr.dst_ep = DVS_NONE;
  }
  if (base_of(cmd) == CMD_BIND || base_of(cmd) == CMD_UNBIND) c.hdr.dst_ep = DVS_NONE;
  if (cmd == CMD_SNDREC_ACK) c.hdr.rcode = EDVSDSTDIED;
  if (info.body == Body::kMessage) {
    c.msg.m_source = c.hdr.src_ep;
    c.msg.m_type = static_cast<int32_t>(n);
    for (int i = 0; i < DVS_MSG_PAYLOAD; ++i) c.msg.m_u.raw[i] = static_cast<uint8_t>(i * (n + 1));
  }
  if (info.body == Body::kVcopy) c.vcopy = VcopyDesc{1, 2, 3, chunk, 0x1000, 0x2000, uint64_t{chunk} * 3, chunk};
  if (info.payload == PayloadKind::kData) c.payload = data.first(chunk);
  return c;
}

// A message command of kind cmd (SEND, NOTIFY, ...) as a proxy sends one in DC 0 from node 0 to
// node 1: sequence number n, a message of type n with a payload derived from n.
inline Command message_command(uint16_t cmd, uint64_t n) {
  Command c;
  c.hdr.command = cmd;
  c.hdr.dcid = 0;
  c.hdr.src_node = 0;
  c.hdr.dst_node = 1;
  c.hdr.src_ep = DVS_ENDPOINT(1, 40);
  c.hdr.dst_ep = 3;
  c.hdr.seq = n;
  c.hdr.timestamp_ns = n * 1000;
  c.msg.m_type = static_cast<int32_t>(n);
  for (int i = 0; i < DVS_MSG_PAYLOAD; ++i) c.msg.m_u.raw[i] = static_cast<uint8_t>(i + n);
  return c;
}

}  // namespace dvs::wire
