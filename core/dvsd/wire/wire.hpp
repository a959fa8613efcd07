// The dvs wire codec: how one node's proxy tells another what to do (docs/WIRE_PROTOCOL.md).
//
// A frame is   header (64 bytes) + body (the command's fixed part) + payload (payload_len bytes):
//   * header: explicit little-endian, written and read field by field (never a struct memcpy);
//   * body:   the 64-byte message for message commands (SEND, NTFY, SNDREC, REPLY), a 48-byte
//             vcopy descriptor for vcopy commands, nothing otherwise;
//   * payload: vcopy data (COPYIN_DATA, COPYOUT_DATA, COPYIN_RQST), an opaque HELLO blob, or the
//             batched commands of a BATCH frame; LZ4-compressed when the LZ4 flag is set.
//
// This library is pure: no sockets, no threads, no globals beyond constant tables. Every function
// is safe on any input (decode never reads outside the given span, never trusts a length it has
// not checked against the frame size and the limits, never allocates more than max_payload).
//
// Ownership: a decoded Command's payload is a view into the frame given to decode_frame() or into
// DecodedFrame::scratch (after LZ4); it is valid while both are alive and unchanged.
#ifndef DVS_CORE_PROXY_WIRE_HPP
#define DVS_CORE_PROXY_WIRE_HPP

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dvs/message.h"

namespace dvs::wire {

// ---------------------------------------------------------------------------------------------
// Constants

inline constexpr uint32_t kMagic = 0x57535644u;  // bytes 'D' 'V' 'S' 'W' on the wire
inline constexpr uint8_t kVersion = 1;           // bump on any layout or meaning change
inline constexpr size_t kHeaderSize = 64;        // fixed; also carried in the header itself
inline constexpr size_t kMessageSize = DVS_MSG_SIZE;  // 64
inline constexpr size_t kVcopyDescSize = 48;
// Hard caps. DecodeOptions/EncodeOptions may only lower them.
inline constexpr uint32_t kMaxPayload = 1u << 20;  // 1 MiB, the original's MAXCOPYLEN
inline constexpr uint32_t kMaxBatch = 4096;        // batched commands behind a leading one
inline constexpr uint32_t kMaxHelloPayload = 1024;
// The HELLO payload of a direct process link (docs/REMOTE_PATHS.md): a process, not a node,
// dialed this node's listener to put its own commands for one endpoint (named after this prefix,
// direct_hello_payload) on the wire. The receiving dvsd answers HELLO_ACK (the dialer sends nothing before it),
// then hands the link to the process bound to that endpoint, which reads it itself, or serves it
// with the node link's frame handling. The link carries only the dialer's commands and answers
// (never vcopy); whatever answers the receiving side owes go out on its own links.
inline constexpr std::string_view kDirectHelloPayload = "dvs direct process link 2";
// kDirectHelloPayload naming endpoint ep of DC dcid, and its parse: true only for exactly the text
// direct_hello_payload() writes for a dcid in range and a plausible endpoint (no other spelling).
std::string direct_hello_payload(int dcid, int32_t ep);
bool parse_direct_hello(std::string_view payload, int* dcid, int32_t* ep);
// On the direct path the dialer's first HELLO on a node link carries this prefix and the URI where
// the dialer listens for its peer's process links (the dialer's processes use the URI it dialed).
inline constexpr std::string_view kDirectUriPrefix = "dvs direct at ";
inline constexpr uint32_t kNrDcs = 32;    // dcid 0..31 (DVS_NR_DCS)
inline constexpr uint32_t kNrNodes = 32;  // node 0..31 (DVS_NR_NODES)

// Commands (values of the original's cmd.h) and the acknowledgement bit (CMD_ACKNOWLEDGE).
enum Cmd : uint16_t {
  CMD_SEND_MSG = 1,
  CMD_NTFY_MSG = 2,
  CMD_SNDREC_MSG = 3,
  CMD_REPLY_MSG = 4,
  CMD_COPYIN_DATA = 5,
  CMD_COPYOUT_RQST = 6,
  CMD_COPYLCL_RQST = 7,
  CMD_COPYRMT_RQST = 8,
  CMD_COPYIN_RQST = 9,
  CMD_HELLO = 10,
  CMD_SHUTDOWN = 11,
  CMD_BIND = 12,    // dvs extension (auto-bind): src_ep is now bound on src_node
  CMD_UNBIND = 13,  // dvs extension: src_ep is no longer bound on src_node
};
inline constexpr uint16_t kAckBit = 0x2000;
enum AckCmd : uint16_t {
  CMD_SEND_ACK = CMD_SEND_MSG | kAckBit,
  CMD_NTFY_ACK = CMD_NTFY_MSG | kAckBit,
  CMD_SNDREC_ACK = CMD_SNDREC_MSG | kAckBit,  // error answer to a SNDREC_MSG (rcode < 0)
  CMD_REPLY_ACK = CMD_REPLY_MSG | kAckBit,
  CMD_COPYIN_ACK = CMD_COPYIN_DATA | kAckBit,
  CMD_COPYOUT_DATA = CMD_COPYOUT_RQST | kAckBit,  // carries the data (if rcode == 0)
  CMD_COPYLCL_ACK = CMD_COPYLCL_RQST | kAckBit,
  CMD_COPYRMT_ACK = CMD_COPYRMT_RQST | kAckBit,
  CMD_HELLO_ACK = CMD_HELLO | kAckBit,
  CMD_BIND_ACK = CMD_BIND | kAckBit,
  CMD_UNBIND_ACK = CMD_UNBIND | kAckBit,
};

// Header flag bits (the original's c_flags bits 0..2).
inline constexpr uint16_t FLAG_BATCH = 1u << 0;     // payload = batch_count more commands
inline constexpr uint16_t FLAG_LZ4 = 1u << 1;       // payload is LZ4 block-compressed
inline constexpr uint16_t FLAG_CHECKSUM = 1u << 2;  // checksum = CRC32C of the whole frame
inline constexpr uint16_t kKnownFlags = FLAG_BATCH | FLAG_LZ4 | FLAG_CHECKSUM;

// ---------------------------------------------------------------------------------------------
// Host-form structures

// The 64-byte header in host form. Byte offsets on the wire are in docs/WIRE_PROTOCOL.md and
// in the comments. Fields marked (codec) are filled by encode_*() from the command and options;
// what the caller sets there is ignored.
struct WireHeader {
  uint32_t magic = kMagic;     //  0 u32 (codec)
  uint8_t version = kVersion;  //  4 u8  (codec)
  uint8_t header_size = kHeaderSize;  //  5 u8 (codec) always 64
  uint16_t flags = 0;          //  6 u16 (codec) FLAG_*
  uint16_t command = 0;        //  8 u16 Cmd or AckCmd
  uint16_t batch_count = 0;    // 10 u16 (codec) commands in the payload of a BATCH frame
  uint8_t dcid = 0;            // 12 u8  0..31
  uint8_t src_node = 0;        // 13 u8  0..31
  uint8_t dst_node = 0;        // 14 u8  0..31, != src_node
  uint8_t reserved = 0;        // 15 u8  must be 0
  int32_t src_ep = 0;          // 16 i32 endpoint (DVS_NONE for link commands)
  int32_t dst_ep = 0;          // 20 i32
  uint64_t seq = 0;            // 24 u64 sender's sequence number (owned by the proxies)
  uint64_t ack_seq = 0;        // 32 u64 last sequence received from the peer
  int32_t rcode = 0;           // 40 i32 0 in requests; OK or an EDVS code in acks
  uint32_t payload_len = 0;    // 44 u32 (codec) payload bytes on the wire (after compression)
  uint64_t timestamp_ns = 0;   // 48 u64 sender's clock, ns (opaque to the codec)
  uint32_t raw_len = 0;        // 56 u32 (codec) payload bytes before compression
  uint32_t checksum = 0;       // 60 u32 (codec) CRC32C of the frame with this field 0, or 0
};

// vcopy descriptor (body of the vcopy commands), 48 bytes on the wire.
struct VcopyDesc {
  int32_t src_ep = 0;    //  0 i32 process whose memory is read
  int32_t dst_ep = 0;    //  4 i32 process whose memory is written
  int32_t rqtr_ep = 0;   //  8 i32 the process that called vcopy
  uint32_t chunk_len = 0;  // 12 u32 bytes of this chunk (1..max_payload)
  uint64_t src_addr = 0;   // 16 u64 start of the whole copy in src (not of this chunk)
  uint64_t dst_addr = 0;   // 24 u64 start of the whole copy in dst
  uint64_t bytes = 0;      // 32 u64 total bytes of the whole copy
  uint64_t offset = 0;     // 40 u64 offset of this chunk; offset + chunk_len <= bytes
};

// One command, for encoding and as decoded. msg is meaningful for message commands, vcopy for
// vcopy commands (see command_info()); payload is the uncompressed payload.
struct Command {
  WireHeader hdr;
  dvs_message_t msg{};
  VcopyDesc vcopy{};
  std::span<const std::byte> payload;
};

// ---------------------------------------------------------------------------------------------
// Errors

enum class WireError : uint8_t {
  kOk = 0,
  kTruncated,          // shorter than a header
  kBadMagic,
  kBadVersion,
  kBadHeaderSize,
  kBadCommand,         // unknown command, or an acknowledgement that does not exist
  kBadFlags,           // unknown flag bit, or a flag the command/frame cannot have
  kBadDcid,
  kBadNode,
  kBadEndpoint,
  kBadReserved,        // a reserved field (or the checksum without FLAG_CHECKSUM) is not 0
  kBadRcode,           // a request with rcode != 0, an ack with rcode > 0, SNDREC_ACK with 0
  kMissingBody,        // the command carries a message/descriptor but the frame is too short
  kUnexpectedBody,     // a message-sized surplus on a command that carries none
  kLengthMismatch,     // frame size != header + body + payload_len
  kPayloadTooLarge,    // payload_len or raw_len above the limit
  kUnexpectedPayload,  // payload on a command that takes none
  kMissingPayload,     // a data command without its data
  kBadVcopy,           // descriptor inconsistent (chunk 0 / beyond bytes / data size != chunk)
  kBadBatch,           // count vs payload, a batched record invalid, or not batchable
  kBadChecksum,
  kBadCompression,     // LZ4 data corrupt, wrong size, or not smaller than raw
};

// One line, static storage, never null.
const char* reason(WireError e);
// Short identifier ("kBadMagic" → "bad_magic"), for logs and metrics labels.
const char* error_name(WireError e);
// What a caller failed by a bad frame should see (EDVSBADVALUE, as the transport contract says).
int to_dvs_error(WireError e);

// ---------------------------------------------------------------------------------------------
// Command table

enum class Body : uint8_t { kNone, kMessage, kVcopy };
enum class PayloadKind : uint8_t {
  kNone,     // never a payload
  kData,     // vcopy data: exactly vcopy.chunk_len bytes when rcode == 0, none when rcode < 0
  kOpaque,   // 0..max_opaque bytes, uninterpreted (HELLO)
};
struct CommandInfo {
  bool known = false;
  const char* name = "?";   // "SEND_MSG", "SEND_ACK", ...
  Body body = Body::kNone;
  PayloadKind payload = PayloadKind::kNone;
  uint32_t max_opaque = 0;
  bool is_ack = false;
  bool link_level = false;  // HELLO/SHUTDOWN: dcid 0, both endpoints DVS_NONE
};
CommandInfo command_info(uint16_t command);
constexpr bool is_ack(uint16_t command) { return (command & kAckBit) != 0; }
constexpr uint16_t ack_of(uint16_t command) { return uint16_t(command | kAckBit); }
constexpr uint16_t base_of(uint16_t command) { return uint16_t(command & ~kAckBit); }
// Bytes of the body of a (known) command: 64, 48 or 0.
size_t body_size(uint16_t command);

// True if e can name a process on the wire: p_nr in [-35, 512) for any generation >= 0.
bool plausible_endpoint(int32_t e);

// ---------------------------------------------------------------------------------------------
// Low level: the header alone

// Writes the 64 header bytes exactly as given (no field is computed).
void encode_header(const WireHeader& h, std::span<std::byte, kHeaderSize> out);
// Reads the 64 header bytes (no validation).
WireHeader read_header(std::span<const std::byte, kHeaderSize> in);
// Reads and validates the fields of a header that do not need the rest of the frame (magic,
// version, size, command, flags, ids, endpoints, rcode, limits). On kOk, *frame_size is the
// size the whole frame must have: for stream readers that read a header, then the rest.
WireError decode_header(std::span<const std::byte> in, WireHeader* out, size_t* frame_size,
                        uint32_t max_payload = kMaxPayload);

void encode_message(const dvs_message_t& m, std::span<std::byte, kMessageSize> out);
dvs_message_t read_message(std::span<const std::byte, kMessageSize> in);
void encode_vcopy(const VcopyDesc& v, std::span<std::byte, kVcopyDescSize> out);
VcopyDesc read_vcopy(std::span<const std::byte, kVcopyDescSize> in);

// CRC32C (Castagnoli), as used for FLAG_CHECKSUM. crc32c(data) of an empty span is 0.
// Uses the SSE4.2 instruction when the CPU has it, else crc32c_portable (table, slicing-by-8).
uint32_t crc32c(std::span<const std::byte> data, uint32_t crc = 0);
uint32_t crc32c_portable(std::span<const std::byte> data, uint32_t crc = 0);

// ---------------------------------------------------------------------------------------------
// Frames

struct EncodeOptions {
  bool lz4 = false;            // compress the payload if that makes it smaller
  uint32_t lz4_min_bytes = 256;  // do not try below this many payload bytes
  bool checksum = false;       // set FLAG_CHECKSUM and the CRC32C
  uint32_t max_payload = kMaxPayload;
};

struct DecodeOptions {
  uint32_t max_payload = kMaxPayload;  // uncompressed; min(this, kMaxPayload) applies
  uint32_t max_batch = kMaxBatch;
  bool require_checksum = false;       // refuse frames without FLAG_CHECKSUM
};

// Encodes one command into out (replaced). Fills magic, version, header_size, flags,
// batch_count (0), payload_len, raw_len, checksum. Validates the command as decode would
// (an invalid command is refused, nothing usable is left in out).
WireError encode_frame(const Command& c, std::vector<std::byte>& out, const EncodeOptions& opt = {});

// The same frame without copying the payload: head gets the header and body, *payload the bytes
// that follow them on the wire — c.payload itself, or its LZ4 form in a thread-local buffer
// valid until this thread encodes again. Send {head, *payload} as one gather list.
WireError encode_frame_head(const Command& c, std::vector<std::byte>& head, std::span<const std::byte>* payload,
                            const EncodeOptions& opt = {});

// Encodes cmds[0] as the leading command and cmds[1..] as its payload (FLAG_BATCH,
// batch_count = cmds.size() - 1, as the original's c_batch_nr). Every command must be batchable
// (no payload) and go over the same link (same src_node and dst_node). One command → a plain
// frame. LZ4 (if asked) compresses the batched records.
WireError encode_batch(std::span<const Command> cmds, std::vector<std::byte>& out,
                       const EncodeOptions& opt = {});

struct DecodedFrame {
  std::vector<Command> commands;  // the leading command first, then the batched ones
  std::vector<std::byte> scratch;  // decompressed payload (owned; payload views may point here)
  uint16_t flags = 0;              // flags of the frame (of its leading header)
};

// Validates and decodes a whole frame. On error out->commands is empty. Never reads outside
// frame; allocates at most max_payload for LZ4.
WireError decode_frame(std::span<const std::byte> frame, DecodedFrame* out,
                       const DecodeOptions& opt = {});

// ---------------------------------------------------------------------------------------------
// Batching of a queue of pending commands

struct BatchOptions {
  size_t max_frame = 64 * 1024;  // uncompressed frame size limit (header + body + payload)
  uint32_t max_commands = 256;   // commands per frame, leading one included (1 = no batching)
  EncodeOptions encode;
};

struct PackResult {
  size_t consumed = 0;  // commands taken from the front of pending (0 only on error or empty)
  WireError error = WireError::kOk;  // on error: pending[consumed] is the invalid command
};

// Packs the longest prefix of pending that fits one frame: batchable commands (no payload) are
// batched up to the limits; a command with a payload goes alone (and ends a batch before it,
// as the original sproxy did). The frame is written to out.
PackResult pack_next(std::span<const Command> pending, std::vector<std::byte>& out,
                     const BatchOptions& opt = {});

// Drains queue into frames (appended to frames). Stops at the first invalid command, which is
// left at the front of the queue, and returns its error; kOk when the queue is empty.
WireError drain_queue(std::deque<Command>& queue, std::vector<std::vector<std::byte>>& frames,
                      const BatchOptions& opt = {});

// Size of the frame encode_frame() would produce for c without compression.
size_t frame_size(const Command& c);

// ---------------------------------------------------------------------------------------------
// LZ4 (block format)

// Compresses src into dst (replaced) and returns true if the result is strictly smaller than
// src; otherwise returns false and dst is unspecified.
bool lz4_compress_if_smaller(std::span<const std::byte> src, std::vector<std::byte>& dst);
// Decompresses src, which must expand to exactly raw_len bytes (raw_len <= max_out), into dst
// (resized to raw_len). kBadCompression on garbage, truncation or any size mismatch.
WireError lz4_decompress(std::span<const std::byte> src, size_t raw_len, std::vector<std::byte>& dst,
                         size_t max_out = kMaxPayload);

}  // namespace dvs::wire

#endif
