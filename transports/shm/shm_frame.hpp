// Framing over a ring byte stream: a frame is a FrameHeader {kFrameMagic, length} followed by
// `length` bytes, wrapping at the end of the ring like any other bytes. Because the stream is
// consumed as it is read, a frame may be larger than the ring: the writer streams it through in
// pieces and FrameReader reassembles it into its own buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "transports/shm/shm_ring.hpp"

namespace dvs::transport::shm {

// Incremental reader: keeps a partially received frame across calls (a recv() that timed out in
// the middle of a large frame loses nothing).
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame = kMaxFrame) : max_frame_(max_frame) {}

  // Consumes whatever the ring holds, up to the end of the current frame. Returns the frame
  // length (>= 1) when a whole frame is in frame(), 0 if more bytes are needed, EDVSBADVALUE if
  // the ring state or the frame header is invalid (wrong magic, length 0 or > max_frame).
  // Does not publish the consumer's tail: the caller does (RingReader::publish()).
  long poll(RingReader& r);
  // The last complete frame; valid until the next poll().
  std::span<const std::byte> frame() const { return {buf_.get(), len_}; }
  // True while a frame header or body has been partly consumed.
  bool mid_frame() const { return hdr_got_ != 0; }

 private:
  size_t max_frame_;
  unsigned char hdr_[sizeof(FrameHeader)] = {};
  size_t hdr_got_ = 0;  // header bytes consumed; == sizeof(FrameHeader) while in the body
  size_t len_ = 0;      // body length of the current (or last) frame
  size_t got_ = 0;      // body bytes consumed
  std::unique_ptr<std::byte[]> buf_;
  size_t buf_cap_ = 0;
};

}  // namespace dvs::transport::shm
