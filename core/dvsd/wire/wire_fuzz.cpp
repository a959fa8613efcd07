// libFuzzer target: decode_frame on bytes as a proxy receives them from a link (docs/FUZZING.md).
// Seeds: fuzz-corpus/dvs_wire_fuzz/ (frames written by the codec, dvs_wire_fuzz_seeds).
//
// Decoding never crashes or reads outside the frame (ASan), and whatever it decides obeys the
// codec's contract (wire.hpp; the same invariants as wire_fuzz_test.cpp):
//   * a rejected frame leaves no commands, and the header-only decode_header() agrees with it on
//     every header error;
//   * an accepted frame's commands are known, their ids in range, their payload views inside the
//     frame or the scratch buffer, vcopy descriptors consistent;
//   * an accepted frame re-encodes to the very same bytes (uncompressed frames), or to a frame that
//     decodes to the same commands (LZ4 frames: another compressor's stream need not be ours);
//   * tighter DecodeOptions never accept what the defaults refuse, and decoding again into the
//     same DecodedFrame (as a proxy reuses it) gives the same answer;
//   * the HELLO payload of a direct process link (parse_direct_hello) parses only to ids in range.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "core/dvsd/wire/wire.hpp"
#include "core/testkit/fuzz_check.hpp"

namespace {

using namespace dvs::wire;

// The fields a caller sets (the codec fills the others: magic, version, sizes, flags, checksum).
bool same_command(const Command& a, const Command& b) {
  const WireHeader &x = a.hdr, &y = b.hdr;
  if (x.command != y.command || x.dcid != y.dcid || x.src_node != y.src_node || x.dst_node != y.dst_node ||
      x.reserved != y.reserved || x.src_ep != y.src_ep || x.dst_ep != y.dst_ep || x.seq != y.seq ||
      x.ack_seq != y.ack_seq || x.rcode != y.rcode || x.timestamp_ns != y.timestamp_ns)
    return false;
  const CommandInfo info = command_info(x.command);
  if (info.body == Body::kMessage) {
    std::byte ma[kMessageSize], mb[kMessageSize];
    encode_message(a.msg, ma);
    encode_message(b.msg, mb);
    if (std::memcmp(ma, mb, kMessageSize) != 0) return false;
  }
  if (info.body == Body::kVcopy) {
    std::byte va[kVcopyDescSize], vb[kVcopyDescSize];
    encode_vcopy(a.vcopy, va);
    encode_vcopy(b.vcopy, vb);
    if (std::memcmp(va, vb, kVcopyDescSize) != 0) return false;
  }
  return std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
}

bool inside(std::span<const std::byte> view, const std::byte* base, size_t size) {
  if (view.empty()) return true;
  const auto v = reinterpret_cast<uintptr_t>(view.data()), b = reinterpret_cast<uintptr_t>(base);
  return v >= b && view.size() <= size && v - b <= size - view.size();
}

void check_accepted(std::span<const std::byte> frame, const DecodedFrame& d) {
  DVS_FUZZ_CHECK(!d.commands.empty());
  const WireHeader& lead = d.commands[0].hdr;
  DVS_FUZZ_CHECK(d.commands.size() == size_t{lead.batch_count} + 1);
  DVS_FUZZ_CHECK(d.flags == lead.flags);
  DVS_FUZZ_CHECK((lead.flags & ~kKnownFlags) == 0);
  unsigned sum = 0;
  for (const Command& c : d.commands) {
    const CommandInfo info = command_info(c.hdr.command);
    DVS_FUZZ_CHECK(info.known);
    DVS_FUZZ_CHECK(c.hdr.dcid < kNrDcs);
    DVS_FUZZ_CHECK(c.hdr.src_node < kNrNodes && c.hdr.dst_node < kNrNodes && c.hdr.src_node != c.hdr.dst_node);
    DVS_FUZZ_CHECK(c.hdr.src_node == lead.src_node && c.hdr.dst_node == lead.dst_node);
    DVS_FUZZ_CHECK(c.payload.size() <= kMaxPayload);
    if (&c != &d.commands[0]) DVS_FUZZ_CHECK(c.payload.empty() && c.hdr.flags == 0);
    if (info.body == Body::kVcopy) {
      DVS_FUZZ_CHECK(c.vcopy.chunk_len > 0);
      DVS_FUZZ_CHECK(c.vcopy.offset <= c.vcopy.bytes && c.vcopy.chunk_len <= c.vcopy.bytes - c.vcopy.offset);
    }
    if (info.payload == PayloadKind::kData && c.hdr.rcode == 0 && lead.batch_count == 0)
      DVS_FUZZ_CHECK(c.payload.size() == c.vcopy.chunk_len);
    if (info.payload == PayloadKind::kNone) DVS_FUZZ_CHECK(c.payload.empty());
    if (info.payload == PayloadKind::kOpaque) DVS_FUZZ_CHECK(c.payload.size() <= info.max_opaque);
    DVS_FUZZ_CHECK(inside(c.payload, frame.data(), frame.size()) ||
                   inside(c.payload, d.scratch.data(), d.scratch.size()));
    for (std::byte b : c.payload) sum += std::to_integer<unsigned>(b);  // ASan: every byte readable
  }
  (void)sum;

  // Re-encoding. Uncompressed: the accepted bytes are the codec's one encoding of these commands.
  const EncodeOptions plain{.checksum = (lead.flags & FLAG_CHECKSUM) != 0};
  std::vector<std::byte> again;
  WireError e = lead.batch_count == 0 ? encode_frame(d.commands[0], again, plain) : encode_batch(d.commands, again, plain);
  DVS_FUZZ_CHECK(e == WireError::kOk);
  if ((lead.flags & FLAG_LZ4) == 0) {
    DVS_FUZZ_CHECK(std::equal(again.begin(), again.end(), frame.begin(), frame.end()));
    return;
  }
  // LZ4: the uncompressed re-encoding, and our own compression of it, decode to the same commands.
  DecodedFrame d2;
  DVS_FUZZ_CHECK(decode_frame(again, &d2) == WireError::kOk);
  DVS_FUZZ_CHECK(d2.commands.size() == d.commands.size());
  for (size_t i = 0; i < d.commands.size(); ++i) DVS_FUZZ_CHECK(same_command(d.commands[i], d2.commands[i]));
  const EncodeOptions z{.lz4 = true, .lz4_min_bytes = 1, .checksum = plain.checksum};
  std::vector<std::byte> packed;
  e = lead.batch_count == 0 ? encode_frame(d.commands[0], packed, z) : encode_batch(d.commands, packed, z);
  DVS_FUZZ_CHECK(e == WireError::kOk);
  DecodedFrame d3;
  DVS_FUZZ_CHECK(decode_frame(packed, &d3) == WireError::kOk);
  DVS_FUZZ_CHECK(d3.commands.size() == d.commands.size());
  for (size_t i = 0; i < d.commands.size(); ++i) DVS_FUZZ_CHECK(same_command(d.commands[i], d3.commands[i]));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly-sized copy: ASan reports a read one byte past the frame (libFuzzer's own buffer
  // is exactly sized too, but this keeps the property if the harness changes).
  std::vector<std::byte> buf(reinterpret_cast<const std::byte*>(data), reinterpret_cast<const std::byte*>(data) + size);
  const std::span<const std::byte> frame(buf);

  DecodedFrame d;  // the proxies' options: the defaults
  const WireError e = decode_frame(frame, &d);
  DVS_FUZZ_CHECK(reason(e) != nullptr && error_name(e) != nullptr);
  DVS_FUZZ_CHECK((e == WireError::kOk) == !d.commands.empty());

  // decode_header (stream readers: the header, then the rest) agrees on every header error.
  WireHeader h;
  size_t frame_size = 0;
  const WireError he = decode_header(frame, &h, &frame_size);
  if (he != WireError::kOk) DVS_FUZZ_CHECK(he == e);
  if (e == WireError::kOk) {
    DVS_FUZZ_CHECK(he == WireError::kOk && frame_size == size);
    check_accepted(frame, d);
  }

  // Tighter limits never accept more; decoding again into the used DecodedFrame is the same.
  DecodedFrame tight;
  const DecodeOptions strict{.max_payload = 4096, .max_batch = 16, .require_checksum = true};
  if (decode_frame(frame, &tight, strict) == WireError::kOk) {
    DVS_FUZZ_CHECK(e == WireError::kOk && tight.commands.size() == d.commands.size());
    DVS_FUZZ_CHECK((tight.flags & FLAG_CHECKSUM) != 0);
  }
  DVS_FUZZ_CHECK(decode_frame(frame, &tight) == e && tight.commands.size() == d.commands.size());

  // A HELLO is how a process link introduces itself (dvsd's accept_thread parses its payload).
  if (e == WireError::kOk && base_of(d.commands[0].hdr.command) == CMD_HELLO) {
    const auto& p = d.commands[0].payload;
    int dcid = -1;
    int32_t ep = 0;
    if (parse_direct_hello(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()), &dcid, &ep))
      DVS_FUZZ_CHECK(dcid >= 0 && dcid < static_cast<int>(kNrDcs));
  }
  return 0;
}
