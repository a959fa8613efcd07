#include "transports/rdma/rdma_handshake.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "dvs/errors.h"

namespace dvs::transport::rdma {

namespace {

constexpr uint8_t kHelloMagic[4] = {'D', 'V', 'R', 'H'};
constexpr uint16_t kHelloVersion = 2;

void put32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(std::to_integer<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Waits for fd to become ready for `events` until the deadline: 0, EDVSTIMEDOUT or EDVSNOTCONN.
int wait_fd(int fd, short events, const tcp::Deadline& dl) {
  for (;;) {
    pollfd p{fd, events, 0};
    int pr = ::poll(&p, 1, dl.remaining_ms());
    if (pr > 0) return 0;
    if (pr == 0) return EDVSTIMEDOUT;
    if (errno != EINTR) return EDVSNOTCONN;
  }
}

}  // namespace

void encode_hello(const Hello& h, std::byte out[kHelloBytes]) {
  std::memset(out, 0, kHelloBytes);
  for (int i = 0; i < 4; ++i) out[i] = std::byte{kHelloMagic[i]};
  out[4] = std::byte{kHelloVersion & 0xff};
  out[5] = std::byte{kHelloVersion >> 8};
  put32(out + 8, h.qp.qpn);
  put32(out + 12, h.qp.psn);
  std::memcpy(out + 16, h.qp.gid.raw, 16);
  put32(out + 32, static_cast<uint32_t>(h.qp.mtu));
  put32(out + 36, h.data_slots);
  put32(out + 40, h.ctrl_slots);
  put32(out + 44, h.slot_bytes);
  put32(out + 48, h.max_frame);
  put32(out + 52, static_cast<uint32_t>(h.landing_addr));
  put32(out + 56, static_cast<uint32_t>(h.landing_addr >> 32));
  put32(out + 60, h.landing_rkey);
  put32(out + 64, h.landing_bytes);
}

bool decode_hello(const std::byte in[kHelloBytes], Hello* h) {
  for (int i = 0; i < 4; ++i)
    if (in[i] != std::byte{kHelloMagic[i]}) return false;
  if (std::to_integer<uint8_t>(in[4]) != (kHelloVersion & 0xff) || std::to_integer<uint8_t>(in[5]) != (kHelloVersion >> 8))
    return false;
  for (size_t i : {size_t{6}, size_t{7}})
    if (in[i] != std::byte{0}) return false;
  for (size_t i = 68; i < kHelloBytes; ++i)
    if (in[i] != std::byte{0}) return false;
  Hello x;
  x.qp.qpn = get32(in + 8);
  x.qp.psn = get32(in + 12);
  std::memcpy(x.qp.gid.raw, in + 16, 16);
  const uint32_t mtu = get32(in + 32);
  x.data_slots = get32(in + 36);
  x.ctrl_slots = get32(in + 40);
  x.slot_bytes = get32(in + 44);
  x.max_frame = get32(in + 48);
  x.landing_addr = uint64_t{get32(in + 52)} | (uint64_t{get32(in + 56)} << 32);
  x.landing_rkey = get32(in + 60);
  x.landing_bytes = get32(in + 64);
  if (x.landing_bytes > (64u << 20) || (x.landing_bytes > 0 && x.landing_addr == 0)) return false;
  if (x.qp.qpn == 0 || x.qp.qpn >= (1u << 24) || x.qp.psn >= (1u << 24)) return false;
  if (mtu < IBV_MTU_256 || mtu > IBV_MTU_4096) return false;
  x.qp.mtu = static_cast<ibv_mtu>(mtu);
  if (x.data_slots == 0 || x.data_slots > 4096 || x.ctrl_slots == 0 || x.ctrl_slots > 4096) return false;
  if (x.slot_bytes < 64 || x.slot_bytes > (1u << 20) || x.max_frame == 0) return false;
  *h = x;
  return true;
}

int write_exact(int fd, const void* data, size_t n, const tcp::Deadline& dl) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (int rc = wait_fd(fd, POLLOUT, dl); rc < 0) return rc;
      continue;
    }
    return EDVSNOTCONN;
  }
  return 0;
}

int read_exact(int fd, void* data, size_t n, const tcp::Deadline& dl) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, MSG_DONTWAIT);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return EDVSNOTCONN;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return EDVSNOTCONN;
    if (int rc = wait_fd(fd, POLLIN, dl); rc < 0) return rc;
  }
  return 0;
}

}  // namespace dvs::transport::rdma
