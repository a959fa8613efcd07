// Connection set-up of the rdma transport, over the link's TCP control connection:
//   dialer   -> listener  Hello (80 bytes): QP number, PSN, GID, MTU, slot geometry, max_frame,
//                         the landing area for bulk frames (address, rkey, size)
//   listener -> dialer    Hello, sent once the listener's QP is in RTS with its receives posted
//   dialer   -> listener  one byte 'R', sent once the dialer's QP is in RTS with its receives posted
// After that the control connection carries nothing: its end (EOF, reset, keepalive failure)
// is how each side learns that the other is gone or closed the link. The raw verbs baseline
// uses the same Hello over a socketpair.
#pragma once

#include <cstddef>
#include <cstdint>

#include "transports/rdma/rdma_verbs.hpp"
#include "transports/tcp/tcp_deadline.hpp"

namespace dvs::transport::rdma {

inline constexpr size_t kHelloBytes = 80;
inline constexpr uint8_t kReadyByte = 'R';

struct Hello {
  QpInfo qp;
  uint32_t data_slots = 0;  // receive slots for the peer's data messages (its credits)
  uint32_t ctrl_slots = 0;  // receive slots for the peer's CREDIT messages
  uint32_t slot_bytes = 0;  // size of one receive slot (header + payload)
  uint32_t max_frame = 0;
  // Where the peer may RDMA WRITE bulk frames to us (0 bytes: send everything as SENDs).
  uint64_t landing_addr = 0;
  uint32_t landing_rkey = 0;
  uint32_t landing_bytes = 0;
};

void encode_hello(const Hello& h, std::byte out[kHelloBytes]);
// False if the bytes are not a version-2 Hello or a value is out of range (QP number 0 or above
// 2^24, PSN above 2^24, unknown MTU, slots 0 or above 4096, slot_bytes below 64 or above 1 MiB,
// max_frame 0, a landing area above 64 MiB or without an address).
bool decode_hello(const std::byte in[kHelloBytes], Hello* h);

// Writes / reads exactly n bytes on a connected socket within the deadline. 0, EDVSTIMEDOUT, or
// EDVSNOTCONN (the peer closed or reset the connection, or another socket error).
int write_exact(int fd, const void* data, size_t n, const tcp::Deadline& dl);
int read_exact(int fd, void* data, size_t n, const tcp::Deadline& dl);

}  // namespace dvs::transport::rdma
