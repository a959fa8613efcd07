// Wire format of one tcp frame: an 8-byte header, then the payload (the caller's bytes).
//   bytes 0..3  magic and version: 'D' 'V' 'T' 0x01
//   bytes 4..7  payload length, little-endian uint32, 1 .. max_frame
// A receiver validates every header; a wrong magic/version or a length outside 1..max_frame means
// the byte stream is not ours (or lost sync) and the link is closed (EDVSBADVALUE).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dvs/errors.h"

namespace dvs::transport::tcp {

inline constexpr size_t kHeaderSize = 8;
inline constexpr uint8_t kMagic[4] = {'D', 'V', 'T', 0x01};
// Largest payload the tcp transport accepts (Capabilities::max_frame): 16 MiB.
inline constexpr size_t kMaxFrame = size_t{16} << 20;

// Writes the header for a payload of `len` bytes (caller checked 1 <= len <= max_frame).
inline void encode_header(uint32_t len, std::byte out[kHeaderSize]) {
  for (int i = 0; i < 4; ++i) out[i] = std::byte{kMagic[i]};
  for (int i = 0; i < 4; ++i) out[4 + i] = std::byte(static_cast<uint8_t>(len >> (8 * i)));
}

// The payload length a header announces, or EDVSBADVALUE if the magic/version is wrong or the
// length is 0 or larger than max_frame. `in` holds kHeaderSize bytes.
inline long decode_header(const std::byte in[kHeaderSize], size_t max_frame) {
  for (int i = 0; i < 4; ++i)
    if (in[i] != std::byte{kMagic[i]}) return EDVSBADVALUE;
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len |= uint32_t(std::to_integer<uint8_t>(in[4 + i])) << (8 * i);
  if (len == 0 || len > max_frame) return EDVSBADVALUE;
  return static_cast<long>(len);
}

}  // namespace dvs::transport::tcp
