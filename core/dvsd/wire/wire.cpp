// The dvs wire codec (see wire.hpp and docs/WIRE_PROTOCOL.md).
#include "core/dvsd/wire/wire.hpp"

#include <lz4.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <type_traits>

#include "dvs/dvs.h"
#include "dvs/errors.h"

namespace dvs::wire {
namespace {

// ---- little-endian field access (shifts, so the result does not depend on the host) --------

// The integer v of type T at p, in sizeof(T) bytes: what the field tables below visit, and what
// the named widths after them are.
template <class T>
void put_field(std::byte* p, T v) {
  const auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = std::byte(static_cast<uint8_t>(u >> (8 * i)));
}
template <class T>
void get_field(const std::byte* p, T& v) {
  std::make_unsigned_t<T> u = 0;
  for (size_t i = sizeof(T); i-- > 0;)
    u = static_cast<std::make_unsigned_t<T>>((u << 8) | std::to_integer<std::make_unsigned_t<T>>(p[i]));
  v = static_cast<T>(u);
}
template <class T>
T get_le(const std::byte* p) {
  T v;
  get_field(p, v);
  return v;
}

inline void put32(std::byte* p, uint32_t v) { put_field(p, v); }
inline void puti32(std::byte* p, int32_t v) { put_field(p, v); }
inline uint32_t get32(const std::byte* p) { return get_le<uint32_t>(p); }
inline int32_t geti32(const std::byte* p) { return get_le<int32_t>(p); }

constexpr size_t kChecksumOffset = 60;

// The wire layout of the header and of the vcopy descriptor: each field at its byte offset, the
// one table both the encoder and the reader walk (visit(offset, field) once per field, in order).
template <class Header, class Visit>
void header_fields(Header& h, Visit&& visit) {
  visit(0, h.magic);
  visit(4, h.version);
  visit(5, h.header_size);
  visit(6, h.flags);
  visit(8, h.command);
  visit(10, h.batch_count);
  visit(12, h.dcid);
  visit(13, h.src_node);
  visit(14, h.dst_node);
  visit(15, h.reserved);
  visit(16, h.src_ep);
  visit(20, h.dst_ep);
  visit(24, h.seq);
  visit(32, h.ack_seq);
  visit(40, h.rcode);
  visit(44, h.payload_len);
  visit(48, h.timestamp_ns);
  visit(56, h.raw_len);
  visit(kChecksumOffset, h.checksum);
}
template <class Desc, class Visit>
void vcopy_fields(Desc& v, Visit&& visit) {
  visit(0, v.src_ep);
  visit(4, v.dst_ep);
  visit(8, v.rqtr_ep);
  visit(12, v.chunk_len);
  visit(16, v.src_addr);
  visit(24, v.dst_addr);
  visit(32, v.bytes);
  visit(40, v.offset);
}


// ---- the command table ---------------------------------------------------------------------

struct Entry {
  uint16_t command;
  CommandInfo info;
};

constexpr CommandInfo msg(const char* name) {
  return CommandInfo{true, name, Body::kMessage, PayloadKind::kNone, 0, false, false};
}
constexpr CommandInfo vc(const char* name, PayloadKind p, bool ack) {
  return CommandInfo{true, name, Body::kVcopy, p, 0, ack, false};
}
constexpr CommandInfo plain(const char* name, bool ack) {
  return CommandInfo{true, name, Body::kNone, PayloadKind::kNone, 0, ack, false};
}

constexpr Entry kTable[] = {
    {CMD_SEND_MSG, msg("SEND_MSG")},
    {CMD_NTFY_MSG, msg("NTFY_MSG")},
    {CMD_SNDREC_MSG, msg("SNDREC_MSG")},
    {CMD_REPLY_MSG, msg("REPLY_MSG")},
    {CMD_COPYIN_DATA, vc("COPYIN_DATA", PayloadKind::kData, false)},
    {CMD_COPYOUT_RQST, vc("COPYOUT_RQST", PayloadKind::kNone, false)},
    {CMD_COPYLCL_RQST, vc("COPYLCL_RQST", PayloadKind::kNone, false)},
    {CMD_COPYRMT_RQST, vc("COPYRMT_RQST", PayloadKind::kNone, false)},
    {CMD_COPYIN_RQST, vc("COPYIN_RQST", PayloadKind::kData, false)},
    {CMD_HELLO, CommandInfo{true, "HELLO", Body::kNone, PayloadKind::kOpaque, kMaxHelloPayload, false, true}},
    {CMD_SHUTDOWN, CommandInfo{true, "SHUTDOWN", Body::kNone, PayloadKind::kNone, 0, false, true}},
    {CMD_BIND, plain("BIND", false)},
    {CMD_UNBIND, plain("UNBIND", false)},
    {CMD_SEND_ACK, plain("SEND_ACK", true)},
    {CMD_NTFY_ACK, plain("NTFY_ACK", true)},
    {CMD_SNDREC_ACK, plain("SNDREC_ACK", true)},
    {CMD_REPLY_ACK, plain("REPLY_ACK", true)},
    {CMD_COPYIN_ACK, vc("COPYIN_ACK", PayloadKind::kNone, true)},
    {CMD_COPYOUT_DATA, vc("COPYOUT_DATA", PayloadKind::kData, true)},
    {CMD_COPYLCL_ACK, vc("COPYLCL_ACK", PayloadKind::kNone, true)},
    {CMD_COPYRMT_ACK, vc("COPYRMT_ACK", PayloadKind::kNone, true)},
    {CMD_HELLO_ACK, CommandInfo{true, "HELLO_ACK", Body::kNone, PayloadKind::kOpaque, kMaxHelloPayload, true, true}},
    {CMD_BIND_ACK, plain("BIND_ACK", true)},
    {CMD_UNBIND_ACK, plain("UNBIND_ACK", true)},
};

// Dense lookup: index by (base command, ack bit).
struct Lookup {
  std::array<CommandInfo, 32> v{};  // [ack * 16 + base]
};
constexpr Lookup make_lookup() {
  Lookup l{};
  for (const auto& e : kTable) {
    const unsigned idx = (is_ack(e.command) ? 16u : 0u) + base_of(e.command);
    l.v[idx] = e.info;
  }
  return l;
}
constexpr Lookup kLookup = make_lookup();

constexpr size_t body_bytes(Body b) {
  return b == Body::kMessage ? kMessageSize : b == Body::kVcopy ? kVcopyDescSize : 0;
}

uint32_t limit(uint32_t asked) { return std::min(asked, kMaxPayload); }

// ---- validation shared by encode and decode -----------------------------------------------

// Checks the header fields that need nothing else. `inner`: a command inside a batch payload.
// For a BATCH frame, the leading command is checked as having no payload of its own.
WireError check_header(const WireHeader& h, uint32_t max_payload, uint32_t max_batch, bool inner) {
  if (h.magic != kMagic) return WireError::kBadMagic;
  if (h.version != kVersion) return WireError::kBadVersion;
  if (h.header_size != kHeaderSize) return WireError::kBadHeaderSize;
  const CommandInfo info = command_info(h.command);
  if (!info.known) return WireError::kBadCommand;
  if ((h.flags & ~kKnownFlags) != 0) return WireError::kBadFlags;
  if (inner && h.flags != 0) return WireError::kBadFlags;
  if (h.reserved != 0) return WireError::kBadReserved;
  if ((h.flags & FLAG_CHECKSUM) == 0 && h.checksum != 0) return WireError::kBadReserved;

  if (h.dcid >= kNrDcs) return WireError::kBadDcid;
  if (h.src_node >= kNrNodes || h.dst_node >= kNrNodes || h.src_node == h.dst_node) {
    return WireError::kBadNode;
  }
  if (info.link_level) {
    if (h.dcid != 0) return WireError::kBadDcid;
    if (h.src_ep != DVS_NONE || h.dst_ep != DVS_NONE) return WireError::kBadEndpoint;
  } else if (base_of(h.command) == CMD_BIND || base_of(h.command) == CMD_UNBIND) {
    if (!plausible_endpoint(h.src_ep) || h.dst_ep != DVS_NONE) return WireError::kBadEndpoint;
  } else {
    if (!plausible_endpoint(h.src_ep) || !plausible_endpoint(h.dst_ep)) return WireError::kBadEndpoint;
  }

  if (!info.is_ack) {
    if (h.rcode != 0) return WireError::kBadRcode;
  } else {
    if (h.rcode > 0) return WireError::kBadRcode;
    if (h.command == CMD_SNDREC_ACK && h.rcode == 0) return WireError::kBadRcode;
  }

  // Lengths.
  const uint32_t maxp = limit(max_payload);
  const bool batch = (h.flags & FLAG_BATCH) != 0;
  const bool lz4 = (h.flags & FLAG_LZ4) != 0;
  if (h.raw_len > maxp || h.payload_len > maxp) return WireError::kPayloadTooLarge;
  if (lz4) {
    if (h.payload_len == 0 || h.payload_len >= h.raw_len) return WireError::kBadCompression;
  } else if (h.raw_len != h.payload_len) {
    return WireError::kLengthMismatch;
  }
  if (inner && h.payload_len != 0) return WireError::kUnexpectedPayload;
  if (inner && h.batch_count != 0) return WireError::kBadBatch;

  if (batch) {
    if (h.batch_count == 0 || h.batch_count > std::min(max_batch, kMaxBatch)) return WireError::kBadBatch;
    if (uint64_t{h.batch_count} * kHeaderSize > h.raw_len) return WireError::kBadBatch;
  } else if (h.batch_count != 0) {
    return WireError::kBadBatch;
  }

  // The command's own payload (none when the payload is a batch).
  const uint32_t own = batch ? 0 : h.raw_len;
  switch (info.payload) {
    case PayloadKind::kNone:
      if (own != 0) return WireError::kUnexpectedPayload;
      break;
    case PayloadKind::kOpaque:
      if (own > info.max_opaque) return WireError::kPayloadTooLarge;
      break;
    case PayloadKind::kData:
      if (h.rcode == 0 && own == 0) return WireError::kMissingPayload;
      if (h.rcode != 0 && own != 0) return WireError::kUnexpectedPayload;
      break;
  }
  return WireError::kOk;
}

WireError check_vcopy(const VcopyDesc& v, const WireHeader& h, uint32_t max_payload, bool batch) {
  if (!plausible_endpoint(v.src_ep) || !plausible_endpoint(v.dst_ep) || !plausible_endpoint(v.rqtr_ep)) {
    return WireError::kBadEndpoint;
  }
  if (v.chunk_len == 0 || v.chunk_len > limit(max_payload)) return WireError::kBadVcopy;
  if (v.offset > v.bytes || v.chunk_len > v.bytes - v.offset) return WireError::kBadVcopy;
  const CommandInfo info = command_info(h.command);
  if (info.payload == PayloadKind::kData && h.rcode == 0 && !batch && h.raw_len != v.chunk_len) {
    return WireError::kBadVcopy;
  }
  return WireError::kOk;
}

// ---- CRC32C ----------------------------------------------------------------------------------

struct CrcTable {
  std::array<std::array<uint32_t, 256>, 8> t{};
};
constexpr CrcTable make_crc_table() {
  CrcTable c{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t r = i;
    for (int k = 0; k < 8; ++k) r = (r >> 1) ^ ((r & 1u) ? 0x82F63B78u : 0u);
    c.t[0][i] = r;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) c.t[s][i] = (c.t[s - 1][i] >> 8) ^ c.t[0][c.t[s - 1][i] & 0xff];
  }
  return c;
}
constexpr CrcTable kCrc = make_crc_table();

uint32_t crc32c_raw(const std::byte* p, size_t n, uint32_t c) {  // c is the inverted register
  while (n >= 8) {
    const uint32_t lo = get32(p) ^ c;
    const uint32_t hi = get32(p + 4);
    c = kCrc.t[7][lo & 0xff] ^ kCrc.t[6][(lo >> 8) & 0xff] ^ kCrc.t[5][(lo >> 16) & 0xff] ^
        kCrc.t[4][lo >> 24] ^ kCrc.t[3][hi & 0xff] ^ kCrc.t[2][(hi >> 8) & 0xff] ^
        kCrc.t[1][(hi >> 16) & 0xff] ^ kCrc.t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = kCrc.t[0][(c ^ std::to_integer<uint32_t>(*p++)) & 0xff] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
// SSE4.2 crc32 instruction (x86-64 only, so loading 8 bytes in host order is little-endian).
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(const std::byte* p, size_t n, uint32_t c) {
  uint64_t c64 = c;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = __builtin_ia32_crc32di(c64, v);
    p += 8;
    n -= 8;
  }
  c = static_cast<uint32_t>(c64);
  while (n-- > 0) c = __builtin_ia32_crc32qi(c, std::to_integer<unsigned char>(*p++));
  return c;
}
const bool kHaveSse42 = [] {
  __builtin_cpu_init();  // we may run before libgcc's own constructor
  return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

// CRC32C of a whole frame whose checksum field counts as 0.
uint32_t frame_crc(std::span<const std::byte> f) {
  static constexpr std::byte kZero[4] = {};
  uint32_t c = crc32c(f.first(kChecksumOffset));
  c = crc32c(std::span<const std::byte>(kZero, 4), c);
  return crc32c(f.subspan(kChecksumOffset + 4), c);
}

// ---- frame writing -------------------------------------------------------------------------

void write_body(const Command& c, Body b, std::byte* p) {
  if (b == Body::kMessage) {
    encode_message(c.msg, std::span<std::byte, kMessageSize>(p, kMessageSize));
  } else if (b == Body::kVcopy) {
    encode_vcopy(c.vcopy, std::span<std::byte, kVcopyDescSize>(p, kVcopyDescSize));
  }
}

// The header of c as encoded (codec fields reset) for a frame with `raw` payload bytes.
WireHeader base_header(const Command& c) {
  WireHeader h = c.hdr;
  h.magic = kMagic;
  h.version = kVersion;
  h.header_size = kHeaderSize;
  h.flags = 0;
  h.batch_count = 0;
  h.payload_len = 0;
  h.raw_len = 0;
  h.checksum = 0;
  return h;
}

// Validates a command as a batched record (inner) or as a plain frame (payload = c.payload).
WireError check_command(const Command& c, bool inner, uint32_t max_payload) {
  if (c.payload.size() > limit(max_payload)) return WireError::kPayloadTooLarge;
  WireHeader h = base_header(c);
  h.raw_len = h.payload_len = static_cast<uint32_t>(c.payload.size());
  if (inner && !c.payload.empty()) return WireError::kBadBatch;
  WireError e = check_header(h, max_payload, kMaxBatch, inner);
  if (e != WireError::kOk) return e;
  if (command_info(h.command).body == Body::kVcopy) return check_vcopy(c.vcopy, h, max_payload, false);
  return WireError::kOk;
}

// Writes the frame: header h (flags/batch_count set by the caller), the body of lead, and the
// raw payload (compressed if asked and worthwhile). h is validated first.
// Header + body into head; *wire_payload = what follows them on the wire (raw itself, or the
// LZ4 form in a thread-local buffer valid until this thread's next call).
WireError write_head(WireHeader h, const Command& lead, std::span<const std::byte> raw, std::vector<std::byte>& head,
                     std::span<const std::byte>* wire_payload, const EncodeOptions& opt) {
  thread_local std::vector<std::byte> z;
  head.clear();
  if (raw.size() > limit(opt.max_payload)) return WireError::kPayloadTooLarge;
  *wire_payload = raw;
  h.raw_len = static_cast<uint32_t>(raw.size());
  if (opt.lz4 && raw.size() >= std::max<uint32_t>(opt.lz4_min_bytes, 1) && lz4_compress_if_smaller(raw, z)) {
    h.flags |= FLAG_LZ4;
    *wire_payload = z;
  }
  h.payload_len = static_cast<uint32_t>(wire_payload->size());
  if (opt.checksum) h.flags |= FLAG_CHECKSUM;
  h.checksum = 0;
  WireError e = check_header(h, opt.max_payload, kMaxBatch, false);
  if (e != WireError::kOk) return e;
  const Body b = command_info(h.command).body;
  if (b == Body::kVcopy) {
    e = check_vcopy(lead.vcopy, h, opt.max_payload, (h.flags & FLAG_BATCH) != 0);
    if (e != WireError::kOk) return e;
  }
  head.resize(kHeaderSize + body_bytes(b));
  encode_header(h, std::span<std::byte, kHeaderSize>(head.data(), kHeaderSize));
  write_body(lead, b, head.data() + kHeaderSize);
  if (opt.checksum) put32(head.data() + kChecksumOffset, crc32c(*wire_payload, frame_crc(head)));
  return WireError::kOk;
}

WireError write_frame(WireHeader h, const Command& lead, std::span<const std::byte> raw,
                      std::vector<std::byte>& out, const EncodeOptions& opt) {
  std::span<const std::byte> wire_payload;
  const WireError e = write_head(h, lead, raw, out, &wire_payload, opt);
  if (e != WireError::kOk) {
    out.clear();
    return e;
  }
  const size_t head = out.size();
  out.resize(head + wire_payload.size());
  if (!wire_payload.empty()) std::memcpy(out.data() + head, wire_payload.data(), wire_payload.size());
  return WireError::kOk;
}

}  // namespace

// ---- errors ------------------------------------------------------------------------------------

const char* reason(WireError e) {
  switch (e) {
    case WireError::kOk: return "ok";
    case WireError::kTruncated: return "frame shorter than the 64-byte header";
    case WireError::kBadMagic: return "bad magic (not a dvs frame)";
    case WireError::kBadVersion: return "unsupported wire protocol version";
    case WireError::kBadHeaderSize: return "header size field is not 64";
    case WireError::kBadCommand: return "unknown command or acknowledgement";
    case WireError::kBadFlags: return "unknown flag bit, or a flag this frame cannot have";
    case WireError::kBadDcid: return "dcid out of range (0..31; 0 for link commands)";
    case WireError::kBadNode: return "node id out of range (0..31) or source == destination";
    case WireError::kBadEndpoint: return "endpoint not plausible for this command";
    case WireError::kBadReserved: return "reserved field (or checksum without its flag) not zero";
    case WireError::kBadRcode: return "return code not allowed for this command";
    case WireError::kMissingBody: return "command carries a message/descriptor that is missing";
    case WireError::kUnexpectedBody: return "message present on a command that carries none";
    case WireError::kLengthMismatch: return "frame size does not match header + body + payload";
    case WireError::kPayloadTooLarge: return "payload larger than allowed";
    case WireError::kUnexpectedPayload: return "payload on a command that takes none";
    case WireError::kMissingPayload: return "data command without its data";
    case WireError::kBadVcopy: return "vcopy descriptor inconsistent (chunk, offset, bytes or data size)";
    case WireError::kBadBatch: return "batch count, records or link inconsistent";
    case WireError::kBadChecksum: return "checksum mismatch (or checksum required and absent)";
    case WireError::kBadCompression: return "LZ4 payload corrupt, wrong size or not smaller";
  }
  return "unknown wire error";
}

const char* error_name(WireError e) {
  switch (e) {
    case WireError::kOk: return "ok";
    case WireError::kTruncated: return "truncated";
    case WireError::kBadMagic: return "bad_magic";
    case WireError::kBadVersion: return "bad_version";
    case WireError::kBadHeaderSize: return "bad_header_size";
    case WireError::kBadCommand: return "bad_command";
    case WireError::kBadFlags: return "bad_flags";
    case WireError::kBadDcid: return "bad_dcid";
    case WireError::kBadNode: return "bad_node";
    case WireError::kBadEndpoint: return "bad_endpoint";
    case WireError::kBadReserved: return "bad_reserved";
    case WireError::kBadRcode: return "bad_rcode";
    case WireError::kMissingBody: return "missing_body";
    case WireError::kUnexpectedBody: return "unexpected_body";
    case WireError::kLengthMismatch: return "length_mismatch";
    case WireError::kPayloadTooLarge: return "payload_too_large";
    case WireError::kUnexpectedPayload: return "unexpected_payload";
    case WireError::kMissingPayload: return "missing_payload";
    case WireError::kBadVcopy: return "bad_vcopy";
    case WireError::kBadBatch: return "bad_batch";
    case WireError::kBadChecksum: return "bad_checksum";
    case WireError::kBadCompression: return "bad_compression";
  }
  return "unknown";
}

int to_dvs_error(WireError e) { return e == WireError::kOk ? DVS_OK : EDVSBADVALUE; }

// ---- command table -------------------------------------------------------------------------

CommandInfo command_info(uint16_t command) {
  if ((command & ~(kAckBit | 0x0f)) != 0) return CommandInfo{};
  return kLookup.v[(is_ack(command) ? 16u : 0u) + base_of(command)];
}

size_t body_size(uint16_t command) { return body_bytes(command_info(command).body); }

bool plausible_endpoint(int32_t e) {
  const int64_t x = int64_t{e} + DVS_NR_TASKS_MAX;
  if (x < 0) return false;
  const int64_t p_nr = (x % DVS_GEN_SIZE) - DVS_NR_TASKS_MAX;
  return p_nr < DVS_MAX_SLOTS;
}

// ---- header / body codecs ------------------------------------------------------------------

void encode_header(const WireHeader& h, std::span<std::byte, kHeaderSize> out) {
  std::byte* p = out.data();
  header_fields(h, [p](size_t at, auto v) { put_field(p + at, v); });
}

WireHeader read_header(std::span<const std::byte, kHeaderSize> in) {
  const std::byte* p = in.data();
  WireHeader h;
  header_fields(h, [p](size_t at, auto& v) { get_field(p + at, v); });
  return h;
}

void encode_message(const dvs_message_t& m, std::span<std::byte, kMessageSize> out) {
  puti32(out.data(), m.m_source);
  puti32(out.data() + 4, m.m_type);
  // The payload union's layout is the host's (all dvs hosts are little-endian); it is carried
  // as the 56 bytes it is, uninterpreted.
  std::memcpy(out.data() + 8, m.m_u.raw, DVS_MSG_PAYLOAD);
}

dvs_message_t read_message(std::span<const std::byte, kMessageSize> in) {
  dvs_message_t m{};
  m.m_source = geti32(in.data());
  m.m_type = geti32(in.data() + 4);
  std::memcpy(m.m_u.raw, in.data() + 8, DVS_MSG_PAYLOAD);
  return m;
}

void encode_vcopy(const VcopyDesc& v, std::span<std::byte, kVcopyDescSize> out) {
  std::byte* p = out.data();
  vcopy_fields(v, [p](size_t at, auto f) { put_field(p + at, f); });
}

VcopyDesc read_vcopy(std::span<const std::byte, kVcopyDescSize> in) {
  const std::byte* p = in.data();
  VcopyDesc v;
  vcopy_fields(v, [p](size_t at, auto& f) { get_field(p + at, f); });
  return v;
}

uint32_t crc32c(std::span<const std::byte> data, uint32_t crc) {
#if defined(__x86_64__)
  if (kHaveSse42) return ~crc32c_hw(data.data(), data.size(), ~crc);
#endif
  return ~crc32c_raw(data.data(), data.size(), ~crc);
}

uint32_t crc32c_portable(std::span<const std::byte> data, uint32_t crc) {
  return ~crc32c_raw(data.data(), data.size(), ~crc);
}

WireError decode_header(std::span<const std::byte> in, WireHeader* out, size_t* frame_size,
                        uint32_t max_payload) {
  if (in.size() < kHeaderSize) return WireError::kTruncated;
  const WireHeader h = read_header(in.first<kHeaderSize>());
  const WireError e = check_header(h, max_payload, kMaxBatch, false);
  if (e != WireError::kOk) return e;
  if (out != nullptr) *out = h;
  if (frame_size != nullptr) *frame_size = kHeaderSize + body_size(h.command) + h.payload_len;
  return WireError::kOk;
}

// ---- frames ----------------------------------------------------------------------------------

size_t frame_size(const Command& c) { return kHeaderSize + body_size(c.hdr.command) + c.payload.size(); }

WireError encode_frame(const Command& c, std::vector<std::byte>& out, const EncodeOptions& opt) {
  if (c.payload.size() > limit(opt.max_payload)) {
    out.clear();
    return WireError::kPayloadTooLarge;
  }
  return write_frame(base_header(c), c, c.payload, out, opt);
}

WireError encode_frame_head(const Command& c, std::vector<std::byte>& head, std::span<const std::byte>* payload,
                            const EncodeOptions& opt) {
  if (c.payload.size() > limit(opt.max_payload)) {
    head.clear();
    return WireError::kPayloadTooLarge;
  }
  const WireError e = write_head(base_header(c), c, c.payload, head, payload, opt);
  if (e != WireError::kOk) head.clear();
  return e;
}

WireError encode_batch(std::span<const Command> cmds, std::vector<std::byte>& out, const EncodeOptions& opt) {
  out.clear();
  if (cmds.empty()) return WireError::kBadBatch;
  if (cmds.size() == 1) return encode_frame(cmds[0], out, opt);
  if (cmds.size() - 1 > kMaxBatch) return WireError::kBadBatch;
  const Command& lead = cmds[0];
  if (!lead.payload.empty()) return WireError::kBadBatch;
  thread_local std::vector<std::byte> recs;
  recs.clear();
  for (size_t i = 1; i < cmds.size(); ++i) {
    const Command& c = cmds[i];
    if (!c.payload.empty()) return WireError::kBadBatch;
    if (c.hdr.src_node != lead.hdr.src_node || c.hdr.dst_node != lead.hdr.dst_node) return WireError::kBadBatch;
    const WireError e = check_command(c, true, opt.max_payload);
    if (e != WireError::kOk) return e;
    const Body b = command_info(c.hdr.command).body;
    const size_t at = recs.size();
    if (at + kHeaderSize + body_bytes(b) > limit(opt.max_payload)) return WireError::kPayloadTooLarge;
    recs.resize(at + kHeaderSize + body_bytes(b));
    encode_header(base_header(c), std::span<std::byte, kHeaderSize>(recs.data() + at, kHeaderSize));
    write_body(c, b, recs.data() + at + kHeaderSize);
  }
  WireHeader h = base_header(lead);
  h.flags = FLAG_BATCH;
  h.batch_count = static_cast<uint16_t>(cmds.size() - 1);
  return write_frame(h, lead, recs, out, opt);
}

WireError decode_frame(std::span<const std::byte> frame, DecodedFrame* out, const DecodeOptions& opt) {
  out->commands.clear();
  out->flags = 0;
  if (frame.size() < kHeaderSize) return WireError::kTruncated;
  const WireHeader h = read_header(frame.first<kHeaderSize>());
  WireError e = check_header(h, opt.max_payload, opt.max_batch, false);
  if (e != WireError::kOk) return e;

  const CommandInfo info = command_info(h.command);
  const size_t bsz = body_bytes(info.body);
  const size_t expect = kHeaderSize + bsz + h.payload_len;
  if (frame.size() != expect) {
    if (bsz > 0 && frame.size() == kHeaderSize + size_t{h.payload_len}) return WireError::kMissingBody;
    if (bsz == 0 && frame.size() == kHeaderSize + kMessageSize + h.payload_len) return WireError::kUnexpectedBody;
    return WireError::kLengthMismatch;
  }
  if ((h.flags & FLAG_CHECKSUM) != 0) {
    if (frame_crc(frame) != h.checksum) return WireError::kBadChecksum;
  } else if (opt.require_checksum) {
    return WireError::kBadChecksum;
  }

  const bool batch = (h.flags & FLAG_BATCH) != 0;
  Command lead;
  lead.hdr = h;
  const std::byte* body = frame.data() + kHeaderSize;
  if (info.body == Body::kMessage) {
    lead.msg = read_message(std::span<const std::byte, kMessageSize>(body, kMessageSize));
  } else if (info.body == Body::kVcopy) {
    lead.vcopy = read_vcopy(std::span<const std::byte, kVcopyDescSize>(body, kVcopyDescSize));
    e = check_vcopy(lead.vcopy, h, opt.max_payload, batch);
    if (e != WireError::kOk) return e;
  }

  std::span<const std::byte> payload = frame.subspan(kHeaderSize + bsz);
  if ((h.flags & FLAG_LZ4) != 0) {
    e = lz4_decompress(payload, h.raw_len, out->scratch, limit(opt.max_payload));
    if (e != WireError::kOk) return e;
    payload = std::span<const std::byte>(out->scratch.data(), h.raw_len);
  }

  if (!batch) {
    lead.payload = payload;
    out->commands.push_back(lead);
    out->flags = h.flags;
    return WireError::kOk;
  }

  // Batched records: header (+ body) each, exactly batch_count of them, filling the payload.
  out->commands.reserve(size_t{h.batch_count} + 1);
  out->commands.push_back(lead);
  size_t at = 0;
  for (uint32_t i = 0; i < h.batch_count; ++i) {
    if (payload.size() - at < kHeaderSize) {
      out->commands.clear();
      return WireError::kBadBatch;
    }
    Command c;
    c.hdr = read_header(std::span<const std::byte, kHeaderSize>(payload.data() + at, kHeaderSize));
    at += kHeaderSize;
    e = check_header(c.hdr, opt.max_payload, opt.max_batch, true);
    if (e == WireError::kOk && (c.hdr.src_node != h.src_node || c.hdr.dst_node != h.dst_node)) {
      e = WireError::kBadBatch;
    }
    const CommandInfo ci = command_info(c.hdr.command);
    const size_t rb = body_bytes(ci.body);
    if (e == WireError::kOk && payload.size() - at < rb) e = WireError::kBadBatch;
    if (e == WireError::kOk && ci.body == Body::kMessage) {
      c.msg = read_message(std::span<const std::byte, kMessageSize>(payload.data() + at, kMessageSize));
    } else if (e == WireError::kOk && ci.body == Body::kVcopy) {
      c.vcopy = read_vcopy(std::span<const std::byte, kVcopyDescSize>(payload.data() + at, kVcopyDescSize));
      e = check_vcopy(c.vcopy, c.hdr, opt.max_payload, false);
    }
    if (e != WireError::kOk) {
      out->commands.clear();
      return e;
    }
    at += rb;
    out->commands.push_back(c);
  }
  if (at != payload.size()) {
    out->commands.clear();
    return WireError::kBadBatch;
  }
  out->flags = h.flags;
  return WireError::kOk;
}

// ---- batching a queue ----------------------------------------------------------------------

PackResult pack_next(std::span<const Command> pending, std::vector<std::byte>& out, const BatchOptions& opt) {
  PackResult r;
  out.clear();
  if (pending.empty()) return r;
  const Command& lead = pending[0];
  const uint32_t maxp = limit(opt.encode.max_payload);
  if (!lead.payload.empty() || opt.max_commands <= 1) {
    r.error = encode_frame(lead, out, opt.encode);
    r.consumed = r.error == WireError::kOk ? 1 : 0;
    return r;
  }
  r.error = check_command(lead, false, maxp);
  if (r.error != WireError::kOk) return r;
  size_t n = 1;
  size_t size = frame_size(lead);
  size_t recs = 0;
  const size_t max_cmds = std::min<size_t>(opt.max_commands, size_t{kMaxBatch} + 1);
  while (n < pending.size() && n < max_cmds) {
    const Command& c = pending[n];
    if (!c.payload.empty()) break;  // data goes in its own frame
    if (c.hdr.src_node != lead.hdr.src_node || c.hdr.dst_node != lead.hdr.dst_node) break;
    if (check_command(c, true, maxp) != WireError::kOk) break;  // reported when it leads
    const size_t rec = kHeaderSize + body_size(c.hdr.command);
    if (size + rec > opt.max_frame || recs + rec > maxp) break;
    size += rec;
    recs += rec;
    ++n;
  }
  r.error = encode_batch(pending.first(n), out, opt.encode);
  r.consumed = r.error == WireError::kOk ? n : 0;
  return r;
}

WireError drain_queue(std::deque<Command>& queue, std::vector<std::vector<std::byte>>& frames,
                      const BatchOptions& opt) {
  thread_local std::vector<Command> window;
  const size_t max_cmds = std::clamp<size_t>(opt.max_commands, 1, size_t{kMaxBatch} + 1);
  while (!queue.empty()) {
    const size_t w = std::min(queue.size(), max_cmds);
    window.assign(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(w));
    std::vector<std::byte> f;
    const PackResult r = pack_next(window, f, opt);
    if (r.error != WireError::kOk) return r.error;
    frames.push_back(std::move(f));
    queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(r.consumed));
  }
  return WireError::kOk;
}

// ---- LZ4 -------------------------------------------------------------------------------------

bool lz4_compress_if_smaller(std::span<const std::byte> src, std::vector<std::byte>& dst) {
  if (src.size() < 2 || src.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return false;
  const int cap = static_cast<int>(src.size() - 1);  // anything not strictly smaller is useless
  dst.resize(static_cast<size_t>(cap));
  const int n = LZ4_compress_default(reinterpret_cast<const char*>(src.data()), reinterpret_cast<char*>(dst.data()),
                                     static_cast<int>(src.size()), cap);
  if (n <= 0) return false;
  dst.resize(static_cast<size_t>(n));
  return true;
}

WireError lz4_decompress(std::span<const std::byte> src, size_t raw_len, std::vector<std::byte>& dst,
                         size_t max_out) {
  if (src.empty() || raw_len == 0 || raw_len > max_out || raw_len > kMaxPayload) return WireError::kBadCompression;
  if (src.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return WireError::kBadCompression;
  dst.resize(raw_len);
  const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(src.data()), reinterpret_cast<char*>(dst.data()),
                                    static_cast<int>(src.size()), static_cast<int>(raw_len));
  if (n < 0 || static_cast<size_t>(n) != raw_len) return WireError::kBadCompression;
  return WireError::kOk;
}

std::string direct_hello_payload(int dcid, int32_t ep) {
  return std::string(kDirectHelloPayload) + " dcid=" + std::to_string(dcid) + " ep=" + std::to_string(ep);
}

bool parse_direct_hello(std::string_view payload, int* dcid, int32_t* ep) {
  // Exactly the text direct_hello_payload() writes, nothing else: a DC id in range and a plausible
  // endpoint, each in its one decimal spelling (no sign, padding or leading zeros, no overflow).
  // The payload comes off the network from a dialer not yet known.
  constexpr std::string_view kDcid = " dcid=", kEp = " ep=";
  std::string_view s = payload;
  const auto take = [&s](std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
  };
  const auto number = [&s](int32_t* v) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
    if (ec != std::errc()) return false;
    s.remove_prefix(static_cast<size_t>(end - s.data()));
    return true;
  };
  int32_t d = -1;
  int32_t e = 0;
  if (!take(kDirectHelloPayload) || !take(kDcid) || !number(&d) || !take(kEp) || !number(&e) || !s.empty())
    return false;
  if (d < 0 || d >= static_cast<int32_t>(kNrDcs) || !plausible_endpoint(e)) return false;
  if (direct_hello_payload(d, e) != payload) return false;  // "01", "-0": another spelling
  *dcid = d;
  *ep = e;
  return true;
}

}  // namespace dvs::wire
