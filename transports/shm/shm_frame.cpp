#include "transports/shm/shm_frame.hpp"

#include <cstring>

#include "dvs/errors.h"

namespace dvs::transport::shm {

long FrameReader::poll(RingReader& r) {
  const long avail = r.available();
  if (avail < 0) return avail;
  if (hdr_got_ < sizeof(FrameHeader)) {
    hdr_got_ += r.read_some(hdr_ + hdr_got_, sizeof(FrameHeader) - hdr_got_);
    if (hdr_got_ < sizeof(FrameHeader)) return 0;
    FrameHeader h;
    std::memcpy(&h, hdr_, sizeof h);
    if (h.magic != kFrameMagic || h.length == 0 || h.length > max_frame_) return EDVSBADVALUE;
    len_ = h.length;
    got_ = 0;
    if (buf_cap_ < len_) {
      // Grow to the frame size (at least 4 KiB) so typical traffic allocates once.
      size_t cap = len_ < 4096 ? 4096 : len_;
      buf_ = std::make_unique_for_overwrite<std::byte[]>(cap);
      buf_cap_ = cap;
    }
  }
  got_ += r.read_some(buf_.get() + got_, len_ - got_);
  if (got_ < len_) return 0;
  hdr_got_ = 0;
  return static_cast<long>(len_);
}

}  // namespace dvs::transport::shm
