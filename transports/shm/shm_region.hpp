// The shared region of one link: create it (dialer) or validate and map a received one
// (listener). The region is a memfd sealed against shrinking and growing, so the peer can never
// make our mapping fault (SIGBUS) by truncating it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "transports/shm/shm_layout.hpp"

namespace dvs::transport::shm {

// An owned mapping of a link's region; unmapped on destruction. Move-only.
class Region {
 public:
  Region() = default;
  ~Region();
  Region(Region&& o) noexcept;
  Region& operator=(Region&& o) noexcept;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  // Creates a sealed memfd holding a fresh, zeroed region with two rings of `capacity` bytes
  // (valid_capacity()). On success returns 0, fills *out and *memfd (close-on-exec; the caller
  // passes it to the peer and closes it). Otherwise a negative EDVS code (EDVSNOMEM, EDVSINVAL).
  static int create(uint64_t capacity, Region* out, int* memfd);
  // Validates a region received from a peer and maps it: the fd must be a memfd sealed against
  // shrink and grow, of the size its header announces, with our magic, version and a valid
  // capacity. 0, or EDVSBADVALUE (the fd is not closed either way).
  static int map(int memfd, Region* out);

  bool valid() const { return base_ != nullptr; }
  ShmHeader* header() const { return static_cast<ShmHeader*>(base_); }
  // Validated copy: never re-read from shared memory.
  uint64_t capacity() const { return capacity_; }
  std::byte* ring_data(int r) const {
    return static_cast<std::byte*>(base_) + kHeaderBytes + static_cast<size_t>(r) * capacity_;
  }

 private:
  void reset();
  void* base_ = nullptr;
  size_t size_ = 0;
  uint64_t capacity_ = 0;
};

}  // namespace dvs::transport::shm
