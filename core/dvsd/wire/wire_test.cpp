// Tests of the wire codec: round trips, exact little-endian bytes, every validation error,
// batching and LZ4.
#include "core/dvsd/wire/wire.hpp"
#include "core/dvsd/wire/wire_samples.hpp"

#include <gtest/gtest.h>
#include <lz4.h>

#include <cstring>
#include <random>
#include <set>
#include <string>

#include "dvs/dvs.h"
#include "dvs/errors.h"

namespace dvs::wire {
namespace {

using E = WireError;
using Bytes = std::vector<std::byte>;

const Bytes& data_block() {
  static const Bytes d = [] {
    Bytes b(size_t{kMaxPayload});
    for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(static_cast<uint8_t>(i * 7 + (i >> 9)));
    return b;
  }();
  return d;
}

Bytes bytes_of(std::string_view s) {
  Bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

// A valid command of the given kind with every field set to something recognizable.
Command make(uint16_t cmd, uint32_t chunk = 100, uint64_t n = 0) {
  Command c = sample_command(cmd, chunk, n, data_block());
  if (command_info(cmd).payload == PayloadKind::kOpaque) {
    static const Bytes hello = bytes_of("node 1 hello, caps=batch,lz4");
    c.payload = hello;
  }
  return c;
}

Bytes encode(const Command& c, const EncodeOptions& o = {}) {
  Bytes f;
  EXPECT_EQ(encode_frame(c, f, o), E::kOk) << command_info(c.hdr.command).name;
  return f;
}

E dec(std::span<const std::byte> f, const DecodeOptions& o = {}) {
  DecodedFrame d;
  const E e = decode_frame(f, &d, o);
  if (e != E::kOk) {
    EXPECT_TRUE(d.commands.empty());
  }
  return e;
}

template <class F>
Bytes patched(Bytes f, F fn) {
  WireHeader h = read_header(std::span<const std::byte, kHeaderSize>(f.data(), kHeaderSize));
  fn(h);
  encode_header(h, std::span<std::byte, kHeaderSize>(f.data(), kHeaderSize));
  return f;
}

void expect_same(const Command& a, const Command& b) {
  const WireHeader& x = a.hdr;
  const WireHeader& y = b.hdr;
  EXPECT_EQ(x.command, y.command);
  EXPECT_EQ(x.dcid, y.dcid);
  EXPECT_EQ(x.src_node, y.src_node);
  EXPECT_EQ(x.dst_node, y.dst_node);
  EXPECT_EQ(x.src_ep, y.src_ep);
  EXPECT_EQ(x.dst_ep, y.dst_ep);
  EXPECT_EQ(x.seq, y.seq);
  EXPECT_EQ(x.ack_seq, y.ack_seq);
  EXPECT_EQ(x.rcode, y.rcode);
  EXPECT_EQ(x.timestamp_ns, y.timestamp_ns);
  const CommandInfo info = command_info(x.command);
  if (info.body == Body::kMessage) {
    EXPECT_EQ(0, std::memcmp(&a.msg, &b.msg, sizeof a.msg));
  }
  if (info.body == Body::kVcopy) {
    EXPECT_EQ(a.vcopy.src_ep, b.vcopy.src_ep);
    EXPECT_EQ(a.vcopy.dst_ep, b.vcopy.dst_ep);
    EXPECT_EQ(a.vcopy.rqtr_ep, b.vcopy.rqtr_ep);
    EXPECT_EQ(a.vcopy.chunk_len, b.vcopy.chunk_len);
    EXPECT_EQ(a.vcopy.src_addr, b.vcopy.src_addr);
    EXPECT_EQ(a.vcopy.dst_addr, b.vcopy.dst_addr);
    EXPECT_EQ(a.vcopy.bytes, b.vcopy.bytes);
    EXPECT_EQ(a.vcopy.offset, b.vcopy.offset);
  }
  ASSERT_EQ(a.payload.size(), b.payload.size());
  if (!a.payload.empty()) {
    EXPECT_EQ(0, std::memcmp(a.payload.data(), b.payload.data(), a.payload.size()));
  }
}

Bytes hex(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(std::byte(static_cast<uint8_t>(x)));
  return b;
}

// ---- command table ---------------------------------------------------------------------------

TEST(WireCommands, TableMatchesTheOriginal) {
  EXPECT_EQ(CMD_SEND_ACK, 0x2001);
  EXPECT_EQ(CMD_COPYOUT_DATA, 0x2006);
  EXPECT_EQ(CMD_COPYRMT_ACK, 0x2008);
  EXPECT_EQ(ack_of(CMD_REPLY_MSG), CMD_REPLY_ACK);
  EXPECT_EQ(base_of(CMD_REPLY_ACK), CMD_REPLY_MSG);
  EXPECT_STREQ(command_info(CMD_SEND_MSG).name, "SEND_MSG");
  EXPECT_STREQ(command_info(CMD_COPYOUT_DATA).name, "COPYOUT_DATA");
  EXPECT_EQ(body_size(CMD_SEND_MSG), 64u);
  EXPECT_EQ(body_size(CMD_NTFY_MSG), 64u);
  EXPECT_EQ(body_size(CMD_SEND_ACK), 0u);
  EXPECT_EQ(body_size(CMD_COPYOUT_RQST), 48u);
  EXPECT_EQ(body_size(CMD_HELLO), 0u);
  std::set<std::string> names;
  for (uint16_t c : kAllCommands) {
    EXPECT_TRUE(command_info(c).known) << c;
    EXPECT_EQ(command_info(c).is_ack, is_ack(c));
    names.insert(command_info(c).name);
  }
  EXPECT_EQ(names.size(), std::size(kAllCommands));
  for (uint16_t c : {0, 14, 15, 0x2000, 0x2009, 0x200b, 0x4001, 0x1001, 0xffff}) {
    EXPECT_FALSE(command_info(static_cast<uint16_t>(c)).known) << c;
  }
}

TEST(WireCommands, PlausibleEndpoints) {
  EXPECT_TRUE(plausible_endpoint(0));
  EXPECT_TRUE(plausible_endpoint(-35));  // a task
  EXPECT_TRUE(plausible_endpoint(511));
  EXPECT_TRUE(plausible_endpoint(DVS_ENDPOINT(60000, 100)));
  EXPECT_FALSE(plausible_endpoint(-36));
  EXPECT_FALSE(plausible_endpoint(512));
  EXPECT_FALSE(plausible_endpoint(DVS_ANY));
  EXPECT_FALSE(plausible_endpoint(DVS_NONE));
  EXPECT_FALSE(plausible_endpoint(INT32_MIN));
  // INT32_MAX = 60373 * 35570 + 25037 - 35: p_nr far above the table.
  EXPECT_FALSE(plausible_endpoint(INT32_MAX));
}

TEST(WireErrors, EveryErrorHasAReasonAndAName) {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(E::kBadCompression); ++i) {
    const E e = static_cast<E>(i);
    ASSERT_NE(reason(e), nullptr);
    EXPECT_GT(std::strlen(reason(e)), 1u);
    names.insert(error_name(e));
    EXPECT_EQ(to_dvs_error(e), e == E::kOk ? 0 : EDVSBADVALUE);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(E::kBadCompression) + 1);
}

TEST(WireCrc, KnownVector) {
  const Bytes b = bytes_of("123456789");
  EXPECT_EQ(crc32c(b), 0xE3069283u);
  EXPECT_EQ(crc32c({}), 0u);
  // Chaining equals one pass.
  EXPECT_EQ(crc32c(std::span(b).subspan(4), crc32c(std::span(b).first(4))), 0xE3069283u);
  const auto& d = data_block();
  EXPECT_EQ(crc32c(std::span(d).subspan(1000), crc32c(std::span(d).first(1000))), crc32c(d));
  // The hardware and the table implementations agree at every length and alignment.
  EXPECT_EQ(crc32c_portable(b), 0xE3069283u);
  for (size_t off = 0; off < 9; ++off) {
    for (size_t len : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{63}, size_t{64}, size_t{1000}}) {
      const auto s = std::span(d).subspan(off, len);
      EXPECT_EQ(crc32c(s, 0x1234u), crc32c_portable(s, 0x1234u)) << off << " " << len;
    }
  }
}

// ---- exact bytes -----------------------------------------------------------------------------

TEST(WireBytes, SendMsgFrameIsLittleEndianFieldByField) {
  Command c;
  c.hdr.command = CMD_SEND_MSG;
  c.hdr.dcid = 3;
  c.hdr.src_node = 1;
  c.hdr.dst_node = 2;
  c.hdr.src_ep = DVS_ENDPOINT(2, 40);  // 71180 = 0x0001160C
  c.hdr.dst_ep = -2;                   // SYSTEM
  c.hdr.seq = 0x0102030405060708ull;
  c.hdr.ack_seq = 0x1112131415161718ull;
  c.hdr.timestamp_ns = 0x2122232425262728ull;
  c.msg.m_source = 71180;
  c.msg.m_type = 0x1234;
  for (int i = 0; i < DVS_MSG_PAYLOAD; ++i) c.msg.m_u.raw[i] = static_cast<uint8_t>(i);
  const Bytes f = encode(c);
  Bytes expected = hex({
      0x44, 0x56, 0x53, 0x57,  //  0 magic "DVSW"
      0x01, 0x40,              //  4 version 1, header size 64
      0x00, 0x00,              //  6 flags
      0x01, 0x00,              //  8 command SEND_MSG
      0x00, 0x00,              // 10 batch_count
      0x03, 0x01, 0x02, 0x00,  // 12 dcid, src_node, dst_node, reserved
      0x0C, 0x16, 0x01, 0x00,  // 16 src_ep 71180
      0xFE, 0xFF, 0xFF, 0xFF,  // 20 dst_ep -2
      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // 24 seq
      0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,  // 32 ack_seq
      0x00, 0x00, 0x00, 0x00,  // 40 rcode
      0x00, 0x00, 0x00, 0x00,  // 44 payload_len
      0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,  // 48 timestamp_ns
      0x00, 0x00, 0x00, 0x00,  // 56 raw_len
      0x00, 0x00, 0x00, 0x00,  // 60 checksum
      0x0C, 0x16, 0x01, 0x00,  // 64 m_source
      0x34, 0x12, 0x00, 0x00,  // 68 m_type
  });
  for (int i = 0; i < DVS_MSG_PAYLOAD; ++i) expected.push_back(std::byte(static_cast<uint8_t>(i)));  // 72..127
  ASSERT_EQ(f.size(), 128u);
  EXPECT_EQ(f, expected);
}

TEST(WireBytes, AckWithNegativeRcodeAndVcopyDescriptor) {
  Command a;
  a.hdr.command = CMD_SEND_ACK;
  a.hdr.src_node = 31;
  a.hdr.dst_node = 0;
  a.hdr.src_ep = 5;
  a.hdr.dst_ep = -35;
  a.hdr.rcode = EDVSDSTDIED;  // -109
  const Bytes f = encode(a);
  ASSERT_EQ(f.size(), 64u);
  EXPECT_EQ(Bytes(f.begin() + 8, f.begin() + 10), hex({0x01, 0x20}));
  EXPECT_EQ(Bytes(f.begin() + 12, f.begin() + 16), hex({0x00, 0x1F, 0x00, 0x00}));
  EXPECT_EQ(Bytes(f.begin() + 20, f.begin() + 24), hex({0xDD, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(Bytes(f.begin() + 40, f.begin() + 44), hex({0x93, 0xFF, 0xFF, 0xFF}));

  Command v;
  v.hdr.command = CMD_COPYIN_DATA;
  v.hdr.src_node = 1;
  v.hdr.dst_node = 2;
  v.hdr.src_ep = 9;
  v.hdr.dst_ep = 10;
  v.vcopy = VcopyDesc{9, 10, -2, 4, 0x1122334455667788ull, 0x0000700000001000ull, 0x100000, 0x20000};
  const Bytes data = bytes_of("abcd");
  v.payload = data;
  const Bytes g = encode(v);
  ASSERT_EQ(g.size(), 64u + 48u + 4u);
  EXPECT_EQ(Bytes(g.begin() + 44, g.begin() + 48), hex({4, 0, 0, 0}));  // payload_len
  EXPECT_EQ(Bytes(g.begin() + 56, g.begin() + 60), hex({4, 0, 0, 0}));  // raw_len
  const Bytes desc = hex({
      0x09, 0x00, 0x00, 0x00,  // src_ep
      0x0A, 0x00, 0x00, 0x00,  // dst_ep
      0xFE, 0xFF, 0xFF, 0xFF,  // rqtr_ep
      0x04, 0x00, 0x00, 0x00,  // chunk_len
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  // src_addr
      0x00, 0x10, 0x00, 0x00, 0x00, 0x70, 0x00, 0x00,  // dst_addr
      0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,  // bytes
      0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,  // offset
      'a', 'b', 'c', 'd',
  });
  EXPECT_EQ(Bytes(g.begin() + 64, g.end()), desc);
}

TEST(WireBytes, ChecksumCoversTheFrameWithTheFieldZeroed) {
  const Bytes f = encode(make(CMD_SEND_MSG), EncodeOptions{.checksum = true});
  Bytes z = f;
  for (int i = 60; i < 64; ++i) z[static_cast<size_t>(i)] = std::byte{0};
  const uint32_t crc = crc32c(z);
  EXPECT_EQ(Bytes(f.begin() + 60, f.end() - 64),
            hex({int(crc & 0xff), int((crc >> 8) & 0xff), int((crc >> 16) & 0xff), int(crc >> 24)}));
  EXPECT_EQ(std::to_integer<int>(f[6]), FLAG_CHECKSUM);
}

// ---- round trips -----------------------------------------------------------------------------

TEST(WireRoundTrip, EveryCommand) {
  for (uint16_t cmd : kAllCommands) {
    for (bool checksum : {false, true}) {
      SCOPED_TRACE(command_info(cmd).name);
      const Command c = make(cmd);
      const Bytes f = encode(c, EncodeOptions{.checksum = checksum});
      EXPECT_EQ(f.size(), frame_size(c));
      WireHeader h;
      size_t fs = 0;
      ASSERT_EQ(decode_header(f, &h, &fs), E::kOk);
      EXPECT_EQ(fs, f.size());
      DecodedFrame d;
      ASSERT_EQ(decode_frame(f, &d), E::kOk);
      ASSERT_EQ(d.commands.size(), 1u);
      expect_same(c, d.commands[0]);
      EXPECT_EQ(d.flags, checksum ? FLAG_CHECKSUM : 0);
      EXPECT_EQ(d.commands[0].hdr.magic, kMagic);
      EXPECT_EQ(d.commands[0].hdr.version, kVersion);
      // Re-encoding the decoded command reproduces the frame byte for byte.
      EXPECT_EQ(encode(d.commands[0], EncodeOptions{.checksum = checksum}), f);
    }
  }
}

TEST(WireRoundTrip, ErrorAcksAndEdgeValues) {
  for (uint16_t cmd : kAllCommands) {
    if (!is_ack(cmd)) continue;
    Command c = make(cmd);
    c.hdr.rcode = EDVSNOTCONN;
    if (command_info(cmd).payload == PayloadKind::kData) c.payload = {};  // an error carries no data
    DecodedFrame d;
    const Bytes f = encode(c);  // payload views point into f: keep it alive
    ASSERT_EQ(decode_frame(f, &d), E::kOk) << command_info(cmd).name;
    expect_same(c, d.commands[0]);
  }
  Command c = make(CMD_SEND_MSG);
  c.hdr.dcid = 31;
  c.hdr.src_node = 31;
  c.hdr.dst_node = 0;
  c.hdr.src_ep = -35;
  c.hdr.dst_ep = DVS_ENDPOINT(60000, 511);
  c.hdr.seq = UINT64_MAX;
  c.hdr.ack_seq = UINT64_MAX;
  c.hdr.timestamp_ns = UINT64_MAX;
  c.msg.m_source = INT32_MIN;
  c.msg.m_type = -1;
  DecodedFrame d;
  const Bytes fc = encode(c);
  ASSERT_EQ(decode_frame(fc, &d), E::kOk);
  expect_same(c, d.commands[0]);
  // A vcopy chunk at the very end of the copy, the largest payload.
  Command v = make(CMD_COPYIN_DATA, kMaxPayload);
  Bytes big(kMaxPayload, std::byte{0x5a});
  v.payload = big;
  v.vcopy.bytes = UINT64_MAX;
  v.vcopy.offset = UINT64_MAX - kMaxPayload;
  const Bytes fv = encode(v);
  ASSERT_EQ(decode_frame(fv, &d), E::kOk);
  expect_same(v, d.commands[0]);
  EXPECT_EQ(d.commands[0].payload.size(), size_t{kMaxPayload});
}

TEST(WireRoundTrip, PayloadViewsPointIntoTheFrame) {
  const Bytes f = encode(make(CMD_COPYOUT_DATA, 300));
  DecodedFrame d;
  ASSERT_EQ(decode_frame(f, &d), E::kOk);
  EXPECT_EQ(d.commands[0].payload.data(), f.data() + 64 + 48);
  EXPECT_EQ(d.commands[0].payload.size(), 300u);
}

// encode_frame_head + its payload is byte for byte the frame encode_frame makes, with and
// without LZ4 and the checksum; with a payload, the plain case points at the caller's bytes.
TEST(WireRoundTrip, GatherHeadPlusPayloadIsTheSameFrame) {
  for (uint16_t cmd : std::initializer_list<uint16_t>{CMD_COPYIN_DATA, CMD_COPYOUT_DATA, CMD_SEND_MSG, CMD_HELLO}) {
    for (bool lz4 : {false, true}) {
      for (bool crc : {false, true}) {
        Command c = make(cmd, 4096);
        EncodeOptions o;
        o.lz4 = lz4;
        o.checksum = crc;
        const Bytes whole = encode(c, o);
        Bytes head;
        std::span<const std::byte> payload;
        ASSERT_EQ(encode_frame_head(c, head, &payload, o), E::kOk);
        Bytes joined = head;
        joined.insert(joined.end(), payload.begin(), payload.end());
        EXPECT_EQ(joined, whole) << command_info(cmd).name << " lz4=" << lz4 << " crc=" << crc;
        if (!lz4 && !c.payload.empty()) {
          EXPECT_EQ(payload.data(), c.payload.data());
        }
        DecodedFrame d;
        EXPECT_EQ(decode_frame(joined, &d), E::kOk);
      }
    }
  }
  Command bad = make(CMD_COPYIN_DATA, 4096);
  bad.vcopy.chunk_len = 1;  // disagrees with the payload
  Bytes head = bytes_of("stale");
  std::span<const std::byte> payload;
  EXPECT_NE(encode_frame_head(bad, head, &payload), E::kOk);
  EXPECT_TRUE(head.empty());
}

// ---- validation: every error -----------------------------------------------------------------

TEST(WireValidate, HeaderFields) {
  const Bytes ok = encode(make(CMD_SEND_MSG));
  ASSERT_EQ(dec(ok), E::kOk);
  EXPECT_EQ(dec(std::span(ok).first(63)), E::kTruncated);
  EXPECT_EQ(dec({}), E::kTruncated);
  EXPECT_EQ(decode_header(std::span(ok).first(10), nullptr, nullptr), E::kTruncated);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.magic = 0x57535645; })), E::kBadMagic);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.version = 2; })), E::kBadVersion);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.version = 0; })), E::kBadVersion);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.header_size = 88; })), E::kBadHeaderSize);
  for (uint16_t bad : {0, 14, 0x2009, 0x200b, 0x2000, 0x4001, 0x8001, 0x1002}) {
    EXPECT_EQ(dec(patched(ok, [&](WireHeader& h) { h.command = bad; })), E::kBadCommand) << bad;
  }
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.flags = 0x8; })), E::kBadFlags);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.flags = 0x8000; })), E::kBadFlags);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.dcid = 32; })), E::kBadDcid);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.dcid = 255; })), E::kBadDcid);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.src_node = 32; })), E::kBadNode);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.dst_node = 200; })), E::kBadNode);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.dst_node = h.src_node; })), E::kBadNode);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.reserved = 1; })), E::kBadReserved);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.checksum = 1; })), E::kBadReserved);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.dst_ep = DVS_ANY; })), E::kBadEndpoint);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.src_ep = -36; })), E::kBadEndpoint);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.dst_ep = DVS_NONE; })), E::kBadEndpoint);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.rcode = -1; })), E::kBadRcode);
  EXPECT_EQ(dec(patched(ok, [](WireHeader& h) { h.rcode = 1; })), E::kBadRcode);
}

TEST(WireValidate, PerCommandRules) {
  const Bytes hello = encode(make(CMD_HELLO));
  EXPECT_EQ(dec(patched(hello, [](WireHeader& h) { h.dcid = 1; })), E::kBadDcid);
  EXPECT_EQ(dec(patched(hello, [](WireHeader& h) { h.src_ep = 5; })), E::kBadEndpoint);
  const Bytes bind = encode(make(CMD_BIND));
  EXPECT_EQ(dec(patched(bind, [](WireHeader& h) { h.dst_ep = 5; })), E::kBadEndpoint);
  EXPECT_EQ(dec(patched(bind, [](WireHeader& h) { h.src_ep = DVS_NONE; })), E::kBadEndpoint);
  const Bytes ack = encode(make(CMD_SEND_ACK));
  EXPECT_EQ(dec(patched(ack, [](WireHeader& h) { h.rcode = 3; })), E::kBadRcode);
  EXPECT_EQ(dec(patched(ack, [](WireHeader& h) { h.rcode = EDVSDSTDIED; })), E::kOk);
  const Bytes sack = encode(make(CMD_SNDREC_ACK));
  EXPECT_EQ(dec(patched(sack, [](WireHeader& h) { h.rcode = 0; })), E::kBadRcode);
  // HELLO's opaque payload is bounded.
  Command big = make(CMD_HELLO);
  Bytes blob(kMaxHelloPayload + 1, std::byte{1});
  big.payload = blob;
  Bytes out;
  EXPECT_EQ(encode_frame(big, out), E::kPayloadTooLarge);
  EXPECT_TRUE(out.empty());
  big.payload = std::span(blob).first(kMaxHelloPayload);
  EXPECT_EQ(encode_frame(big, out), E::kOk);
}

TEST(WireValidate, BodyAndLengths) {
  const Bytes ok = encode(make(CMD_SEND_MSG));
  // The message is missing / present on a command without one.
  EXPECT_EQ(dec(std::span(ok).first(64)), E::kMissingBody);
  Bytes ack = encode(make(CMD_SEND_ACK));
  Bytes ack_plus = ack;
  ack_plus.resize(128);
  EXPECT_EQ(dec(ack_plus), E::kUnexpectedBody);
  // Anything else that does not add up.
  Bytes longer = ok;
  longer.push_back(std::byte{0});
  EXPECT_EQ(dec(longer), E::kLengthMismatch);
  EXPECT_EQ(dec(std::span(ok).first(127)), E::kLengthMismatch);
  const Bytes vc = encode(make(CMD_COPYOUT_RQST));
  EXPECT_EQ(dec(std::span(vc).first(64)), E::kMissingBody);
  EXPECT_EQ(dec(std::span(vc).first(100)), E::kLengthMismatch);
  // raw_len must equal payload_len without LZ4.
  const Bytes data = encode(make(CMD_COPYIN_DATA, 100));
  EXPECT_EQ(dec(patched(data, [](WireHeader& h) { h.raw_len = 99; })), E::kLengthMismatch);
  EXPECT_EQ(dec(patched(data, [](WireHeader& h) { h.payload_len = 101; })), E::kLengthMismatch);
  // Limits.
  EXPECT_EQ(dec(patched(data, [](WireHeader& h) { h.payload_len = h.raw_len = kMaxPayload + 1; })),
            E::kPayloadTooLarge);
  EXPECT_EQ(dec(patched(data, [](WireHeader& h) { h.payload_len = h.raw_len = UINT32_MAX; })), E::kPayloadTooLarge);
  EXPECT_EQ(dec(data, DecodeOptions{.max_payload = 99}), E::kPayloadTooLarge);
  EXPECT_EQ(dec(data, DecodeOptions{.max_payload = 100}), E::kOk);
  // A payload where none may be, none where one must be.
  Bytes sp = ok;
  sp.insert(sp.end(), 10, std::byte{0});
  EXPECT_EQ(dec(patched(sp, [](WireHeader& h) { h.payload_len = h.raw_len = 10; })), E::kUnexpectedPayload);
  Command nodata = make(CMD_COPYIN_DATA);
  nodata.payload = {};
  Bytes out;
  EXPECT_EQ(encode_frame(nodata, out), E::kMissingPayload);
  Bytes stripped(data.begin(), data.begin() + 64 + 48);
  EXPECT_EQ(dec(patched(stripped, [](WireHeader& h) { h.payload_len = h.raw_len = 0; })), E::kMissingPayload);
  Command errdata = make(CMD_COPYOUT_DATA);
  errdata.hdr.rcode = EDVSFAULT;
  EXPECT_EQ(encode_frame(errdata, out), E::kUnexpectedPayload);
}

TEST(WireValidate, VcopyDescriptor) {
  auto bad = [](auto fn, uint16_t cmd = CMD_COPYIN_DATA) {
    Command c = make(cmd, 100);
    fn(c.vcopy);
    Bytes out;
    const E enc = encode_frame(c, out);
    // Encode with a valid descriptor, then write the bad one in: decode must refuse it too.
    Command good = make(cmd, 100);
    Bytes f = encode(good);
    encode_vcopy(c.vcopy, std::span<std::byte, kVcopyDescSize>(f.data() + 64, kVcopyDescSize));
    const E d = dec(f);
    EXPECT_EQ(enc, d);
    return d;
  };
  EXPECT_EQ(bad([](VcopyDesc& v) { v.chunk_len = 0; }), E::kBadVcopy);
  EXPECT_EQ(bad([](VcopyDesc& v) { v.chunk_len = 99; }), E::kBadVcopy);  // data size != chunk
  EXPECT_EQ(bad([](VcopyDesc& v) { v.offset = v.bytes - 99; }), E::kBadVcopy);
  EXPECT_EQ(bad([](VcopyDesc& v) { v.offset = v.bytes + 1; }), E::kBadVcopy);
  EXPECT_EQ(bad([](VcopyDesc& v) { v.offset = UINT64_MAX; v.bytes = UINT64_MAX; }), E::kBadVcopy);  // no wrap
  EXPECT_EQ(bad([](VcopyDesc& v) { v.bytes = 50; v.offset = 0; }), E::kBadVcopy);
  EXPECT_EQ(bad([](VcopyDesc& v) { v.rqtr_ep = DVS_ANY; }), E::kBadEndpoint);
  EXPECT_EQ(bad([](VcopyDesc& v) { v.src_ep = -100; }), E::kBadEndpoint);
  EXPECT_EQ(bad([](VcopyDesc& v) { v.chunk_len = kMaxPayload + 1; v.bytes = UINT64_MAX; }, CMD_COPYOUT_RQST),
            E::kBadVcopy);
  EXPECT_EQ(bad([](VcopyDesc& v) { v.chunk_len = 5000; v.bytes = 1u << 20; v.offset = 0; }, CMD_COPYOUT_RQST),
            E::kOk);  // a request names the chunk it wants
}

TEST(WireValidate, Checksum) {
  const Bytes f = encode(make(CMD_COPYIN_DATA, 500), EncodeOptions{.checksum = true});
  ASSERT_EQ(dec(f), E::kOk);
  for (size_t i : {size_t{0} + 16, size_t{30}, size_t{61}, size_t{70}, size_t{200}, f.size() - 1}) {
    Bytes g = f;
    g[i] ^= std::byte{0x10};
    EXPECT_NE(dec(g), E::kOk) << i;
  }
  Bytes g = f;
  g[200] ^= std::byte{0x01};  // inside the data: only the checksum can tell
  EXPECT_EQ(dec(g), E::kBadChecksum);
  EXPECT_EQ(dec(encode(make(CMD_SEND_MSG)), DecodeOptions{.require_checksum = true}), E::kBadChecksum);
  EXPECT_EQ(dec(f, DecodeOptions{.require_checksum = true}), E::kOk);
}

// ---- batching --------------------------------------------------------------------------------

std::vector<Command> small_mix(size_t n) {
  const uint16_t kinds[] = {CMD_SEND_MSG, CMD_SEND_ACK, CMD_SNDREC_MSG, CMD_REPLY_MSG, CMD_REPLY_ACK,
                            CMD_NTFY_MSG, CMD_COPYOUT_RQST, CMD_COPYLCL_ACK, CMD_BIND, CMD_SNDREC_ACK};
  std::vector<Command> v;
  for (size_t i = 0; i < n; ++i) {
    Command c = make(kinds[i % std::size(kinds)], 64, i);
    c.hdr.dcid = static_cast<uint8_t>(command_info(c.hdr.command).link_level ? 0 : i % 32);
    v.push_back(c);
  }
  return v;
}

TEST(WireBatch, PackAndUnpack) {
  for (bool lz4 : {false, true}) {
    for (bool checksum : {false, true}) {
      const auto cmds = small_mix(32);
      Bytes f;
      ASSERT_EQ(encode_batch(cmds, f, EncodeOptions{.lz4 = lz4, .checksum = checksum}), E::kOk);
      WireHeader h = read_header(std::span<const std::byte, 64>(f.data(), 64));
      EXPECT_EQ(h.batch_count, 31);
      EXPECT_TRUE(h.flags & FLAG_BATCH);
      EXPECT_EQ((h.flags & FLAG_LZ4) != 0, lz4);  // headers of a batch compress well
      DecodedFrame d;
      ASSERT_EQ(decode_frame(f, &d), E::kOk);
      ASSERT_EQ(d.commands.size(), 32u);
      for (size_t i = 0; i < 32; ++i) expect_same(cmds[i], d.commands[i]);
      // Re-encoding the decoded batch gives the same bytes.
      Bytes g;
      ASSERT_EQ(encode_batch(d.commands, g, EncodeOptions{.lz4 = lz4, .checksum = checksum}), E::kOk);
      EXPECT_EQ(f, g);
    }
  }
  // One command is a plain frame.
  Bytes f;
  ASSERT_EQ(encode_batch(small_mix(1), f), E::kOk);
  EXPECT_EQ(f, encode(small_mix(1)[0]));
  EXPECT_EQ(encode_batch({}, f), E::kBadBatch);
}

TEST(WireBatch, EncodeRefusesWhatCannotBeBatched) {
  auto cmds = small_mix(4);
  Bytes f;
  auto with_data = cmds;
  with_data[2] = make(CMD_COPYIN_DATA);
  EXPECT_EQ(encode_batch(with_data, f), E::kBadBatch);
  with_data = cmds;
  with_data[0] = make(CMD_COPYIN_DATA);
  EXPECT_EQ(encode_batch(with_data, f), E::kBadBatch);
  auto other_link = cmds;
  other_link[3].hdr.dst_node = 5;
  EXPECT_EQ(encode_batch(other_link, f), E::kBadBatch);
  auto invalid = cmds;
  invalid[1].hdr.dcid = 40;
  EXPECT_EQ(encode_batch(invalid, f), E::kBadDcid);
  EXPECT_TRUE(f.empty());
}

TEST(WireBatch, DecodeValidatesEveryRecord) {
  const auto cmds = small_mix(5);  // SEND_MSG, SEND_ACK, SNDREC_MSG, REPLY_MSG, REPLY_ACK
  Bytes f;
  ASSERT_EQ(encode_batch(cmds, f), E::kOk);
  // Records start at 128 (lead = SEND_MSG): SEND_ACK@128 (64), SNDREC@192 (128), REPLY@320 (128), REPLY_ACK@448.
  ASSERT_EQ(f.size(), 128u + 64 + 128 + 128 + 64);
  ASSERT_EQ(dec(f), E::kOk);
  EXPECT_EQ(dec(patched(f, [](WireHeader& h) { h.batch_count = 5; })), E::kBadBatch);  // runs out
  EXPECT_EQ(dec(patched(f, [](WireHeader& h) { h.batch_count = 3; })), E::kBadBatch);  // leftover
  EXPECT_EQ(dec(patched(f, [](WireHeader& h) { h.batch_count = 0; })), E::kBadBatch);
  EXPECT_EQ(dec(patched(f, [](WireHeader& h) { h.batch_count = 40; })), E::kBadBatch);  // > raw/64
  EXPECT_EQ(dec(f, DecodeOptions{.max_batch = 3}), E::kBadBatch);
  EXPECT_EQ(dec(patched(f, [](WireHeader& h) { h.flags = 0; })), E::kBadBatch);  // count without flag
  auto inner = [&](size_t at, auto fn) {
    Bytes g = f;
    WireHeader h = read_header(std::span<const std::byte, 64>(g.data() + at, 64));
    fn(h);
    encode_header(h, std::span<std::byte, 64>(g.data() + at, 64));
    return dec(g);
  };
  EXPECT_EQ(inner(128, [](WireHeader&) {}), E::kOk);
  EXPECT_EQ(inner(128, [](WireHeader& h) { h.flags = FLAG_BATCH; }), E::kBadFlags);
  EXPECT_EQ(inner(128, [](WireHeader& h) { h.flags = FLAG_LZ4; }), E::kBadFlags);
  EXPECT_EQ(inner(192, [](WireHeader& h) { h.magic = 0; }), E::kBadMagic);
  EXPECT_EQ(inner(192, [](WireHeader& h) { h.command = 77; }), E::kBadCommand);
  EXPECT_EQ(inner(192, [](WireHeader& h) { h.dcid = 33; }), E::kBadDcid);
  EXPECT_EQ(inner(192, [](WireHeader& h) { h.dst_node = 9; }), E::kBadBatch);  // another link
  EXPECT_EQ(inner(320, [](WireHeader& h) { h.payload_len = h.raw_len = 4; }), E::kUnexpectedPayload);
  EXPECT_EQ(inner(320, [](WireHeader& h) { h.batch_count = 1; }), E::kBadBatch);
  EXPECT_EQ(inner(448, [](WireHeader& h) { h.command = CMD_REPLY_MSG; }), E::kBadBatch);  // body runs out
  EXPECT_EQ(inner(128, [](WireHeader& h) { h.command = CMD_SEND_MSG; }), E::kBadMagic);  // misparsed next
  // A batch cannot be led by a data command.
  Command lead = make(CMD_COPYIN_DATA);
  const Bytes lone = encode(lead);
  EXPECT_EQ(dec(patched(lone, [](WireHeader& h) {
              h.flags = FLAG_BATCH;
              h.batch_count = 1;
            })),
            E::kMissingPayload);
}

TEST(WireBatch, PackNextRespectsLimitsAndPayloads) {
  std::vector<Command> q = small_mix(10);
  q.insert(q.begin() + 6, make(CMD_COPYIN_DATA, 1000));
  Bytes f;
  // The data command ends the first batch...
  PackResult r = pack_next(q, f);
  ASSERT_EQ(r.error, E::kOk);
  EXPECT_EQ(r.consumed, 6u);
  DecodedFrame d;
  ASSERT_EQ(decode_frame(f, &d), E::kOk);
  EXPECT_EQ(d.commands.size(), 6u);
  // ...and goes alone.
  r = pack_next(std::span(q).subspan(6), f);
  EXPECT_EQ(r.consumed, 1u);
  ASSERT_EQ(decode_frame(f, &d), E::kOk);
  EXPECT_EQ(d.commands[0].payload.size(), 1000u);
  // Frame size limit: at most 300 bytes of frame.
  r = pack_next(q, f, BatchOptions{.max_frame = 300});
  EXPECT_EQ(r.consumed, 2u);  // 128 + 64 = 192; + 128 > 300
  EXPECT_LE(f.size(), 300u);
  // Command count limit, and a limit below one frame still makes progress.
  EXPECT_EQ(pack_next(q, f, BatchOptions{.max_commands = 3}).consumed, 3u);
  EXPECT_EQ(pack_next(q, f, BatchOptions{.max_commands = 1}).consumed, 1u);
  EXPECT_EQ(pack_next(q, f, BatchOptions{.max_frame = 10}).consumed, 1u);
  EXPECT_EQ(pack_next({}, f).consumed, 0u);
  // An invalid command ends a batch before it, and is reported when it leads.
  q[3].hdr.src_node = 77;
  r = pack_next(q, f);
  EXPECT_EQ(r.consumed, 3u);
  r = pack_next(std::span(q).subspan(3), f);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(r.error, E::kBadNode);
  EXPECT_TRUE(f.empty());
}

TEST(WireBatch, DrainQueueKeepsOrder) {
  std::deque<Command> q;
  std::vector<Command> all;
  const std::vector<Command> mix = small_mix(300);
  for (size_t i = 0; i < 300; ++i) {
    Command c = (i % 37 == 5) ? make(CMD_COPYIN_DATA, 1 + uint32_t(i), i) : mix[i];
    q.push_back(c);
    all.push_back(c);
  }
  std::vector<Bytes> frames;
  ASSERT_EQ(drain_queue(q, frames, BatchOptions{.max_frame = 4096, .max_commands = 32}), E::kOk);
  EXPECT_TRUE(q.empty());
  std::vector<Command> got;
  std::vector<DecodedFrame> keep(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_LE(frames[i].size(), 4096u + 400);
    ASSERT_EQ(decode_frame(frames[i], &keep[i]), E::kOk);
    EXPECT_LE(keep[i].commands.size(), 32u);
    got.insert(got.end(), keep[i].commands.begin(), keep[i].commands.end());
  }
  ASSERT_EQ(got.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) expect_same(all[i], got[i]);
  EXPECT_LT(frames.size(), 40u);
  // An invalid command stops the drain and stays at the front.
  q.push_back(make(CMD_SEND_MSG));
  Command badc = make(CMD_SEND_MSG);
  badc.hdr.dst_ep = DVS_ANY;
  q.push_back(badc);
  q.push_back(make(CMD_SEND_MSG));
  frames.clear();
  EXPECT_EQ(drain_queue(q, frames), E::kBadEndpoint);
  EXPECT_EQ(frames.size(), 1u);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.front().hdr.dst_ep, DVS_ANY);
}

// ---- LZ4 -------------------------------------------------------------------------------------

TEST(WireLz4, CompressibleRoundTrip) {
  Bytes text;
  const std::string line = "GET /index.html HTTP/1.1 from web to fs through dvs endpoints\n";
  while (text.size() < 65536) text.insert(text.end(), reinterpret_cast<const std::byte*>(line.data()),
                                           reinterpret_cast<const std::byte*>(line.data() + line.size()));
  text.resize(65536);
  Command c = make(CMD_COPYIN_DATA, 65536);
  c.payload = text;
  const Bytes f = encode(c, EncodeOptions{.lz4 = true});
  EXPECT_LT(f.size(), 8000u);
  WireHeader h = read_header(std::span<const std::byte, 64>(f.data(), 64));
  EXPECT_TRUE(h.flags & FLAG_LZ4);
  EXPECT_EQ(h.raw_len, 65536u);
  EXPECT_EQ(h.payload_len, f.size() - 64 - 48);
  DecodedFrame d;
  ASSERT_EQ(decode_frame(f, &d), E::kOk);
  expect_same(c, d.commands[0]);
  EXPECT_EQ(d.commands[0].payload.data(), d.scratch.data());
  EXPECT_EQ(d.flags, FLAG_LZ4);
}

TEST(WireLz4, IncompressibleIsSentRaw) {
  std::mt19937_64 rng(7);
  Bytes rnd(65536);
  for (auto& b : rnd) b = std::byte(static_cast<uint8_t>(rng()));
  Command c = make(CMD_COPYIN_DATA, 65536);
  c.payload = rnd;
  const Bytes f = encode(c, EncodeOptions{.lz4 = true});
  EXPECT_EQ(f.size(), 64u + 48 + 65536);
  EXPECT_EQ(std::to_integer<int>(f[6]) & FLAG_LZ4, 0);
  Bytes z;
  EXPECT_FALSE(lz4_compress_if_smaller(rnd, z));
  // Too small to try.
  Command s = make(CMD_COPYIN_DATA, 100);
  s.payload = std::span(data_block()).first(100);
  EXPECT_EQ(encode(s, EncodeOptions{.lz4 = true}).size(), 64u + 48 + 100);
}

TEST(WireLz4, GarbageAndBombsAreRefused) {
  Bytes text(20000, std::byte{'x'});
  Bytes z, out;
  ASSERT_TRUE(lz4_compress_if_smaller(text, z));
  ASSERT_EQ(lz4_decompress(z, text.size(), out), E::kOk);
  EXPECT_EQ(out, text);
  EXPECT_EQ(lz4_decompress(z, text.size() - 1, out), E::kBadCompression);  // wrong size
  EXPECT_EQ(lz4_decompress(z, text.size() + 1, out), E::kBadCompression);
  EXPECT_EQ(lz4_decompress(std::span(z).first(z.size() - 3), text.size(), out), E::kBadCompression);
  EXPECT_EQ(lz4_decompress(z, text.size(), out, 10000), E::kBadCompression);  // above the cap
  EXPECT_EQ(lz4_decompress({}, 10, out), E::kBadCompression);
  EXPECT_EQ(lz4_decompress(z, 0, out), E::kBadCompression);
  Bytes garbage(300);
  std::mt19937 rng(1);
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    for (auto& b : garbage) b = std::byte(static_cast<uint8_t>(rng()));
    refused += lz4_decompress(garbage, 5000, out) != E::kOk;
  }
  EXPECT_EQ(refused, 200);

  // In a frame: a bomb claiming 1 MiB + 1 from a few bytes is refused before any work.
  Command c = make(CMD_COPYIN_DATA, 20000);
  c.payload = text;
  const Bytes f = encode(c, EncodeOptions{.lz4 = true});
  ASSERT_EQ(dec(f), E::kOk);
  EXPECT_EQ(dec(patched(f, [](WireHeader& h) { h.raw_len = kMaxPayload + 1; })), E::kPayloadTooLarge);
  // Claimed raw size that the stream does not produce (descriptor adjusted to match).
  Bytes g = patched(f, [](WireHeader& h) { h.raw_len = 30000; });
  VcopyDesc v = read_vcopy(std::span<const std::byte, 48>(g.data() + 64, 48));
  v.chunk_len = 30000;
  v.bytes = 1u << 20;
  encode_vcopy(v, std::span<std::byte, 48>(g.data() + 64, 48));
  EXPECT_EQ(dec(g), E::kBadCompression);
  // Corrupt compressed bytes.
  Bytes k = f;
  for (size_t i = 64 + 48; i < k.size(); ++i) k[i] = std::byte{0xff};
  EXPECT_EQ(dec(k), E::kBadCompression);
  // LZ4 flag on a payload that is not smaller, or empty.
  EXPECT_EQ(dec(patched(f, [](WireHeader& h) { h.raw_len = h.payload_len; })), E::kBadCompression);
  const Bytes plain = encode(make(CMD_SEND_MSG));
  EXPECT_EQ(dec(patched(plain, [](WireHeader& h) { h.flags = FLAG_LZ4; })), E::kBadCompression);
}

TEST(WireLz4, CompressedBatchBombIsRefused) {
  // A compressed batch whose records decompress fine but are not what the count says.
  const auto cmds = small_mix(64);
  Bytes f;
  ASSERT_EQ(encode_batch(cmds, f, EncodeOptions{.lz4 = true}), E::kOk);
  EXPECT_EQ(dec(f), E::kOk);
  EXPECT_EQ(dec(patched(f, [](WireHeader& h) { h.batch_count = 62; })), E::kBadBatch);
}

TEST(WireDirectHello, RoundTrips) {
  for (int dcid : {0, 3, 31}) {
    for (int32_t ep : {0, -35, 511, DVS_ENDPOINT(1, 42), DVS_ENDPOINT(60000, -3)}) {
      int d = -1;
      int32_t e = 0;
      ASSERT_TRUE(parse_direct_hello(direct_hello_payload(dcid, ep), &d, &e)) << direct_hello_payload(dcid, ep);
      EXPECT_EQ(d, dcid);
      EXPECT_EQ(e, ep);
    }
  }
}

// Found by dvs_direct_hello_fuzz (core/dvsd/wire/fuzz-corpus/dvs_direct_hello_fuzz/crash-*): the
// sscanf parse took other spellings ("  dcid=", "ep=0386258311"), an endpoint past int32 (whose
// %d conversion is undefined) and endpoints no process can have, all off the network.
TEST(WireDirectHello, OnlyTheOneSpellingOfAPlausibleEndpoint) {
  const std::string p(kDirectHelloPayload);
  for (const std::string& bad : {
           p + "  dcid=31 ep=-35",          // padding
           p + "dcid=1 ep=5",               // no separator
           p + " dcid=1 ep=5 ",             // trailing space
           p + " dcid=01 ep=5",             // leading zero
           p + " dcid=1 ep=0386258311",     // leading zero
           p + " dcid=1 ep=+5",             // sign
           p + " dcid=1 ep=-0",             // negative zero
           p + " dcid=7 ep=2947432550",     // past int32
           p + " dcid=1 ep=99999999999",    // past int64 too
           p + " dcid=7 ep=2147414880",     // p_nr 3455: no such slot
           p + " dcid=1 ep=27342",          // DVS_NONE
           p + " dcid=32 ep=1",             // no such DC
           p + " dcid=-1 ep=1",
           p + " dcid=1 ep=5" + std::string(1, '\0') + "x",
           std::string("dvs direct process link 1 dcid=3 ep=42"),
           std::string(kDirectUriPrefix) + "tcp://10.0.0.1:7000",
           std::string(),
       }) {
    int d = -7;
    int32_t e = -7;
    EXPECT_FALSE(parse_direct_hello(bad, &d, &e)) << bad;
    EXPECT_EQ(d, -7);  // untouched
    EXPECT_EQ(e, -7);
  }
}

}  // namespace
}  // namespace dvs::wire
