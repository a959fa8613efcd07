// One direction of an shm link: the producer and consumer ends of an SPSC byte ring (see
// shm_layout.hpp for the shared layout and the head/tail protocol). No waiting and no syscalls
// here: these calls never block; shm_link.cpp adds spinning, sleeping and doorbells.
//
// Trust: the peer may be malicious or dead. Each end keeps its own counter privately; the peer's
// counter is re-read from shared memory and validated (0 <= head - tail <= capacity, never moving
// backwards). A bad value makes the call return EDVSBADVALUE; no byte outside the data area is
// ever touched, whatever the shared memory holds.
//
// Threading: one thread at a time per end (the link serializes senders; recv is single-caller).
#pragma once

#include <cstddef>
#include <cstdint>

#include "transports/shm/shm_layout.hpp"

namespace dvs::transport::shm {

class RingWriter {
 public:
  RingWriter() = default;
  // ctl/data: the ring's control block and data area (capacity bytes, a valid_capacity()).
  // start: our head (0 on a new link).
  RingWriter(RingCtl* ctl, std::byte* data, uint64_t capacity, uint64_t start = 0);

  // Copies up to n bytes into the ring (as many as fit), without publishing them. Returns the
  // count (0: full), or EDVSBADVALUE if the consumer's tail is invalid. Re-reads the tail only
  // when the space known from the last read is short of n.
  long write_some(const void* p, size_t n);
  // Free space, re-reading the tail; EDVSBADVALUE if it is invalid.
  long refresh_free();
  // Makes the written bytes visible (seq_cst store of head). Returns true if the consumer had
  // armed its doorbell and we took it: the caller must then send exactly one doorbell.
  bool publish();
  bool has_unpublished() const { return head_ != published_; }
  uint64_t head() const { return head_; }
  RingCtl* ctl() const { return ctl_; }

 private:
  RingCtl* ctl_ = nullptr;
  std::byte* data_ = nullptr;
  uint64_t cap_ = 0, mask_ = 0;
  uint64_t head_ = 0;        // ours: bytes written
  uint64_t published_ = 0;   // head last stored to shared memory
  uint64_t tail_seen_ = 0;   // consumer's tail as last validated
};

class RingReader {
 public:
  RingReader() = default;
  RingReader(RingCtl* ctl, const std::byte* data, uint64_t capacity, uint64_t start = 0);

  // Unread bytes, re-reading the producer's head (acquire); EDVSBADVALUE if it is invalid.
  long available();
  // Cheap check for the spin loop (relaxed load, no validation): has head moved?
  bool maybe_nonempty() const {
    return ctl_->head.load(std::memory_order_relaxed) != tail_;
  }
  // Copies out up to n of the bytes that the last available() reported. Returns the count.
  size_t read_some(void* p, size_t n);
  // Stores our tail (seq_cst) if it moved. Returns true if the producer waited for space and we
  // took its flag: the caller must then wake it (space_seq += 1, futex wake).
  bool publish();
  uint64_t tail() const { return tail_; }
  RingCtl* ctl() const { return ctl_; }

 private:
  RingCtl* ctl_ = nullptr;
  const std::byte* data_ = nullptr;
  uint64_t cap_ = 0, mask_ = 0;
  uint64_t tail_ = 0;        // ours: bytes consumed
  uint64_t published_ = 0;   // tail last stored to shared memory
  uint64_t head_seen_ = 0;   // producer's head as last validated
};

}  // namespace dvs::transport::shm
