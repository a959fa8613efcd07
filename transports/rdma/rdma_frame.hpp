// Wire format of the rdma transport: every SEND on the QP carries a 16-byte header, then up to
// (slot_bytes - 16) payload bytes. A frame travels as one FIRST message, followed by MORE
// messages when it is larger than one slot (RC delivers them in order; the sender's send mutex
// keeps the chunks of one frame together) — or, when it is larger than one slot and fits the
// peer's landing area, as one RDMA WRITE into that area followed by a LANDED message (RC places
// the WRITE's bytes before the LANDED message completes). CREDIT messages carry only credits.
//   bytes 0..3    'D' 'V' 'R' 0x02 (magic and version)
//   byte  4       kind: 1 FIRST, 2 MORE, 3 CREDIT, 4 LANDED (header only)
//   byte  5       control credits returned (CREDIT messages the sender consumed since the last return)
//   bytes 6..7    data credits returned (data slots the sender re-posted since the last return), LE
//   bytes 8..11   FIRST and LANDED: the frame's length (1 .. max_frame); MORE: this chunk's offset
//                 in the frame; CREDIT: 0. LE.
//   byte  12      landing credit returned: 1 when the sender is done with the frame last written
//                 into its landing area (the peer may write the next), else 0
//   bytes 13..15  zero
// decode_message() checks everything that does not need the link's state; the link checks the
// rest (credit bounds, chunk order and lengths). Anything wrong closes the link: EDVSBADVALUE.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dvs::transport::rdma {

inline constexpr size_t kMsgHeader = 16;
inline constexpr uint8_t kMsgMagic[4] = {'D', 'V', 'R', 0x02};

enum class MsgKind : uint8_t { First = 1, More = 2, Credit = 3, Landed = 4 };

struct MsgHeader {
  MsgKind kind = MsgKind::First;
  uint8_t ctrl_credits = 0;
  uint16_t data_credits = 0;
  uint32_t value = 0;  // FIRST, LANDED: frame length; MORE: offset; CREDIT: 0
  uint8_t landing_credits = 0;  // 0 or 1
};

inline void encode_message_header(const MsgHeader& h, std::byte out[kMsgHeader]) {
  for (int i = 0; i < 4; ++i) out[i] = std::byte{kMsgMagic[i]};
  out[4] = std::byte{static_cast<uint8_t>(h.kind)};
  out[5] = std::byte{h.ctrl_credits};
  out[6] = std::byte(static_cast<uint8_t>(h.data_credits));
  out[7] = std::byte(static_cast<uint8_t>(h.data_credits >> 8));
  for (int i = 0; i < 4; ++i) out[8 + i] = std::byte(static_cast<uint8_t>(h.value >> (8 * i)));
  out[12] = std::byte{h.landing_credits};
  for (int i = 13; i < 16; ++i) out[i] = std::byte{0};
}

// Overwrites the returned credits of an encoded header (filled in just before posting).
inline void set_returned_credits(uint8_t ctrl, uint16_t data, uint8_t landing, std::byte msg[kMsgHeader]) {
  msg[5] = std::byte{ctrl};
  msg[6] = std::byte(static_cast<uint8_t>(data));
  msg[7] = std::byte(static_cast<uint8_t>(data >> 8));
  msg[12] = std::byte{landing};
}

// Decodes the header of a received message of `len` bytes. False if it is not one of ours: too
// short, wrong magic/version, unknown kind, reserved bytes set, a landing credit above 1, a
// CREDIT with a payload or a value, a LANDED with a payload or length 0.
inline bool decode_message(const std::byte* in, size_t len, MsgHeader* h) {
  if (len < kMsgHeader) return false;
  for (int i = 0; i < 4; ++i)
    if (in[i] != std::byte{kMsgMagic[i]}) return false;
  const auto kind = std::to_integer<uint8_t>(in[4]);
  if (kind < 1 || kind > 4) return false;
  for (int i = 13; i < 16; ++i)
    if (in[i] != std::byte{0}) return false;
  h->landing_credits = std::to_integer<uint8_t>(in[12]);
  if (h->landing_credits > 1) return false;
  h->kind = static_cast<MsgKind>(kind);
  h->ctrl_credits = std::to_integer<uint8_t>(in[5]);
  h->data_credits = static_cast<uint16_t>(std::to_integer<uint8_t>(in[6]) | (std::to_integer<uint8_t>(in[7]) << 8));
  h->value = 0;
  for (int i = 0; i < 4; ++i) h->value |= uint32_t(std::to_integer<uint8_t>(in[8 + i])) << (8 * i);
  if (h->kind == MsgKind::Credit && (len != kMsgHeader || h->value != 0)) return false;
  if (h->kind == MsgKind::Landed && (len != kMsgHeader || h->value == 0)) return false;
  if ((h->kind == MsgKind::First || h->kind == MsgKind::More) && len == kMsgHeader)
    return false;  // a data message carries >= 1 byte
  return true;
}

}  // namespace dvs::transport::rdma
