#include "transports/shm/shm_ring.hpp"

#include <algorithm>
#include <cstring>

#include "dvs/errors.h"

namespace dvs::transport::shm {

RingWriter::RingWriter(RingCtl* ctl, std::byte* data, uint64_t capacity, uint64_t start)
    : ctl_(ctl), data_(data), cap_(capacity), mask_(capacity - 1), head_(start),
      published_(start), tail_seen_(start) {}

long RingWriter::refresh_free() {
  const uint64_t t = ctl_->tail.load(std::memory_order_acquire);
  // Valid: tail_seen_ <= t <= head_ (in wrapping arithmetic) and head_ - t <= capacity.
  if (t - tail_seen_ > head_ - tail_seen_ || head_ - t > cap_) return EDVSBADVALUE;
  tail_seen_ = t;
  return static_cast<long>(cap_ - (head_ - t));
}

long RingWriter::write_some(const void* p, size_t n) {
  uint64_t free = cap_ - (head_ - tail_seen_);
  if (free < n) {
    long f = refresh_free();
    if (f < 0) return f;
    free = static_cast<uint64_t>(f);
  }
  const size_t k = static_cast<size_t>(std::min<uint64_t>(n, free));
  if (k == 0) return 0;
  const size_t off = static_cast<size_t>(head_ & mask_);
  const size_t first = std::min<size_t>(k, static_cast<size_t>(cap_) - off);
  const auto* src = static_cast<const std::byte*>(p);
  std::memcpy(data_ + off, src, first);
  if (k > first) std::memcpy(data_, src + first, k - first);
  head_ += k;
  return static_cast<long>(k);
}

bool RingWriter::publish() {
  if (head_ != published_) {
    ctl_->head.store(head_, std::memory_order_seq_cst);
    published_ = head_;
  }
  // Dekker with the consumer's arm (store reader_sleeping; load head): one of us sees the other.
  if (ctl_->reader_sleeping.load(std::memory_order_seq_cst) == 0) return false;
  return ctl_->reader_sleeping.exchange(0, std::memory_order_seq_cst) != 0;
}

RingReader::RingReader(RingCtl* ctl, const std::byte* data, uint64_t capacity, uint64_t start)
    : ctl_(ctl), data_(data), cap_(capacity), mask_(capacity - 1), tail_(start),
      published_(start), head_seen_(start) {}

long RingReader::available() {
  const uint64_t h = ctl_->head.load(std::memory_order_seq_cst);
  // Valid: head never moves backwards and never runs more than capacity ahead of our tail.
  if (h - tail_ > cap_ || h - head_seen_ > cap_) return EDVSBADVALUE;
  head_seen_ = h;
  return static_cast<long>(h - tail_);
}

size_t RingReader::read_some(void* p, size_t n) {
  const size_t k = static_cast<size_t>(std::min<uint64_t>(n, head_seen_ - tail_));
  if (k == 0) return 0;
  const size_t off = static_cast<size_t>(tail_ & mask_);
  const size_t first = std::min<size_t>(k, static_cast<size_t>(cap_) - off);
  auto* dst = static_cast<std::byte*>(p);
  std::memcpy(dst, data_ + off, first);
  if (k > first) std::memcpy(dst + first, data_, k - first);
  tail_ += k;
  return k;
}

bool RingReader::publish() {
  if (tail_ == published_) return false;
  ctl_->tail.store(tail_, std::memory_order_seq_cst);
  published_ = tail_;
  if (ctl_->writer_sleeping.load(std::memory_order_seq_cst) == 0) return false;
  return ctl_->writer_sleeping.exchange(0, std::memory_order_seq_cst) != 0;
}

}  // namespace dvs::transport::shm
