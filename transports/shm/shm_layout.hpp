// The shared memory of one shm:// link: a sealed memfd created by the dialer and passed to the
// listener with SCM_RIGHTS. Layout (all offsets fixed by this header, version kVersion):
//
//   [0, kHeaderBytes)                   ShmHeader: identity, close flags, two ring control blocks
//   [kHeaderBytes, +capacity)           ring 0 data: dialer -> listener
//   [kHeaderBytes + capacity, +capacity) ring 1 data: listener -> dialer
//
// Each ring is a single-producer/single-consumer byte stream. head and tail are 64-bit byte
// counters that only grow (position in data = counter & (capacity - 1)); head - tail is the
// number of unread bytes and is always in [0, capacity]. The producer alone writes head, the
// consumer alone writes tail. Each side keeps its own counter privately and only *publishes* it,
// so a peer that scribbles on the shared copy can never move our position; what we read from the
// peer is validated before use (see shm_ring.hpp).
//
// Identity fields (magic, version, capacity, total_size) are read once by the listener, checked,
// and copied; the shared copies are never read again.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dvs::transport::shm {

inline constexpr uint64_t kMagic = 0x31304d4853535644ULL;  // "DVSSHM01" little-endian
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderBytes = 4096;
inline constexpr uint64_t kMinRing = 4096;
inline constexpr uint64_t kMaxRing = 1ULL << 30;
inline constexpr uint64_t kDefaultRing = 4ULL << 20;
inline constexpr size_t kMaxFrame = 16u << 20;  // independent of the ring size (frames stream)
inline constexpr size_t kLine = 128;            // two cache lines: defeats the adjacent-line prefetch

// Sides of a link. Ring r is written by side r and read by the other side.
enum Side : int { kDialer = 0, kListener = 1 };

// Control block of one ring; every field written by a different party sits on its own line.
struct RingCtl {
  // Bytes ever written; stored (seq_cst) by the producer after the bytes are in place.
  alignas(kLine) std::atomic<uint64_t> head;
  // Bytes ever consumed; stored (seq_cst) by the consumer after it copied them out.
  alignas(kLine) std::atomic<uint64_t> tail;
  // 1: the consumer is (about to be) asleep and wants a doorbell on the UNIX socket for the next
  // publish. Set by the consumer, taken (exchanged to 0) by the producer, who then sends exactly
  // one doorbell byte. Dekker pairing: producer stores head then loads this; consumer stores this
  // then loads head (both seq_cst), so a publish is never missed.
  alignas(kLine) std::atomic<uint32_t> reader_sleeping;
  // 1: the producer waits for space in futex(space_seq). Taken by the consumer after it stored
  // tail; it then increments space_seq and futex-wakes it (process-shared futex).
  alignas(kLine) std::atomic<uint32_t> writer_sleeping;
  std::atomic<uint32_t> space_seq;
};

struct ShmHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t reserved;
  uint64_t capacity;    // bytes per ring, a power of two in [kMinRing, kMaxRing]
  uint64_t total_size;  // kHeaderBytes + 2 * capacity == size of the memfd
  // closed[s] = 1: side s closed its end (stored after its last publish). A crash leaves it 0;
  // the UNIX socket (EOF/HUP) is the authority on liveness, this flag only makes a clean close
  // visible without a syscall.
  alignas(kLine) std::atomic<uint32_t> closed[2];
  RingCtl ring[2];
};

static_assert(sizeof(ShmHeader) <= kHeaderBytes);
static_assert(std::atomic<uint64_t>::is_always_lock_free);  // address-free: usable across processes
static_assert(std::atomic<uint32_t>::is_always_lock_free);

inline constexpr uint64_t total_size_for(uint64_t capacity) { return kHeaderBytes + 2 * capacity; }

inline bool valid_capacity(uint64_t c) {
  return c >= kMinRing && c <= kMaxRing && (c & (c - 1)) == 0;
}

// Frame header inside the byte stream: then `length` bytes of frame, no padding.
struct FrameHeader {
  uint32_t magic;
  uint32_t length;  // 1 .. kMaxFrame
};
inline constexpr uint32_t kFrameMagic = 0x46535644u;  // "DVSF"
static_assert(sizeof(FrameHeader) == 8);

}  // namespace dvs::transport::shm
