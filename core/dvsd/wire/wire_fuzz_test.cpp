// Fuzz-style test of decode_frame: 100k random and mutated frames must never crash, never read
// out of bounds (run it under ASan/UBSan: -DDVS_SANITIZE=address), and every frame that is
// accepted must satisfy the codec's invariants and re-encode to the very same bytes.
// DVS_WIRE_FUZZ_ITERS / DVS_WIRE_FUZZ_SEED override the iteration count and the seed.
// Runs in every build (g++, ASan, ...); the coverage-guided counterpart, a libFuzzer target with the
// same invariants, is dvs_wire_fuzz (wire_fuzz.cpp, docs/FUZZING.md).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "core/dvsd/wire/wire.hpp"
#include "core/dvsd/wire/wire_samples.hpp"
#include "dvs/dvs.h"
#include "dvs/errors.h"

namespace dvs::wire {
namespace {

using Bytes = std::vector<std::byte>;

uint64_t env_u64(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != 0 ? std::strtoull(v, nullptr, 0) : dflt;
}

struct Corpus {
  Bytes data;
  std::vector<Bytes> frames;
};

Command make(uint16_t cmd, const Bytes& data, uint32_t chunk, uint64_t n) {
  Command c = sample_command(cmd, chunk, n, data);
  if (command_info(cmd).payload == PayloadKind::kOpaque) c.payload = std::span(data).first(n % 64);
  return c;
}

Corpus build_corpus() {
  Corpus k;
  k.data.resize(16384);
  for (size_t i = 0; i < k.data.size(); ++i) k.data[i] = std::byte(static_cast<uint8_t>((i % 97) < 60 ? 'a' + i % 7 : i * 13));
  uint64_t n = 1;
  for (uint16_t cmd : kAllCommands) {
    for (uint32_t chunk : {1u, 200u, 8192u}) {
      for (int opt = 0; opt < 3; ++opt) {
        Bytes f;
        EncodeOptions o{.lz4 = opt == 1, .checksum = opt == 2};
        EXPECT_EQ(encode_frame(make(cmd, k.data, chunk, n++), f, o), WireError::kOk);
        k.frames.push_back(std::move(f));
      }
    }
  }
  // Batches: small and large, plain, compressed, checksummed.
  const uint16_t small[] = {CMD_SEND_MSG, CMD_SEND_ACK, CMD_COPYOUT_RQST, CMD_REPLY_MSG, CMD_REPLY_ACK, CMD_BIND, CMD_NTFY_MSG};
  for (size_t count : {2u, 5u, 33u, 200u}) {
    std::vector<Command> cmds;
    for (size_t i = 0; i < count; ++i) cmds.push_back(make(small[i % std::size(small)], k.data, 64, n++));
    for (int opt = 0; opt < 3; ++opt) {
      Bytes f;
      EXPECT_EQ(encode_batch(cmds, f, EncodeOptions{.lz4 = opt == 1, .checksum = opt == 2}), WireError::kOk);
      k.frames.push_back(std::move(f));
    }
  }
  return k;
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}
  uint64_t r(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool coin(int pct) { return r(100) < static_cast<uint64_t>(pct); }

  uint64_t interesting() {
    static const uint64_t v[] = {0,          1,          2,          31,         32,         63,         64,
                                 127,        128,        255,        256,        0x7ace,     0x6ace,     0xffff,
                                 0x10000,    0x2001,     4096,       65536,      1u << 20,   (1u << 20) + 1,
                                 0x7fffffff, 0x80000000, 0xffffffff, UINT64_MAX, UINT64_MAX - 1};
    return v[r(std::size(v))];
  }

  void put(Bytes& f, size_t at, uint64_t v, int width) {
    for (int i = 0; i < width && at + static_cast<size_t>(i) < f.size(); ++i) {
      f[at + static_cast<size_t>(i)] = std::byte(static_cast<uint8_t>(v >> (8 * i)));
    }
  }

  void mutate(Bytes& f, const Corpus& k) {
    switch (r(11)) {
      case 0:  // bit flips
        for (uint64_t i = 0, n = 1 + r(8); i < n && !f.empty(); ++i) f[r(f.size())] ^= std::byte(1u << r(8));
        break;
      case 1:  // an interesting byte
        if (!f.empty()) f[r(f.size())] = std::byte(static_cast<uint8_t>(interesting()));
        break;
      case 2: {  // a header field set to an interesting value
        static const std::pair<int, int> fields[] = {{0, 4},  {4, 1},  {5, 1},  {6, 2},  {8, 2},  {10, 2}, {12, 1},
                                                     {13, 1}, {14, 1}, {15, 1}, {16, 4}, {20, 4}, {24, 8}, {32, 8},
                                                     {40, 4}, {44, 4}, {48, 8}, {56, 4}, {60, 4}};
        const auto [at, w] = fields[r(std::size(fields))];
        put(f, static_cast<size_t>(at), interesting(), w);
        break;
      }
      case 3: {  // a body / batched-record field
        if (f.size() > 64) put(f, 64 + r(f.size() - 64), interesting(), 1 << r(4));
        break;
      }
      case 4:  // truncate
        f.resize(r(f.size() + 1));
        break;
      case 5:  // extend
        for (uint64_t i = 0, n = 1 + r(200); i < n; ++i) f.push_back(std::byte(static_cast<uint8_t>(rng_())));
        break;
      case 6: {  // splice the head of this frame with the tail of another
        const Bytes& g = k.frames[r(k.frames.size())];
        const size_t cut = r(std::min(f.size(), g.size()) + 1);
        f.resize(cut);
        f.insert(f.end(), g.begin() + static_cast<std::ptrdiff_t>(cut), g.end());
        break;
      }
      case 7:  // garbage over the payload (an LZ4 stream, batched records or data)
        if (f.size() > 112) {
          const size_t at = 64 + r(f.size() - 64);
          for (size_t i = at, n = std::min(f.size(), at + 1 + r(32)); i < n; ++i) f[i] = std::byte(static_cast<uint8_t>(rng_()));
        }
        break;
      case 8:  // inflate raw_len (a decompression-bomb claim)
        put(f, 56, interesting(), 4);
        break;
      case 9:  // fully random buffer
        f.resize(r(600));
        for (auto& b : f) b = std::byte(static_cast<uint8_t>(rng_()));
        break;
      default:  // random body behind a valid-looking header prefix
        f.resize(64 + r(400));
        for (size_t i = 6; i < f.size(); ++i) f[i] = std::byte(static_cast<uint8_t>(rng_()));
        put(f, 0, kMagic, 4);
        put(f, 4, kVersion, 1);
        put(f, 5, kHeaderSize, 1);
        break;
    }
  }

  // Makes the frame's length fields agree with its size (so decoding gets past them) and, if
  // it claims a checksum, recomputes it: this drives the fuzzer into the deeper checks.
  void fix_up(Bytes& f) {
    if (f.size() < 64) return;
    WireHeader h = read_header(std::span<const std::byte, 64>(f.data(), 64));
    const size_t body = body_size(h.command);
    if (f.size() >= 64 + body) {
      h.payload_len = static_cast<uint32_t>(f.size() - 64 - body);
      if ((h.flags & FLAG_LZ4) == 0 || coin(30)) h.raw_len = h.payload_len;
    }
    encode_header(h, std::span<std::byte, 64>(f.data(), 64));
    if (h.flags & FLAG_CHECKSUM) {
      put(f, 60, 0, 4);
      put(f, 60, crc32c(f), 4);
    }
  }

 private:
  std::mt19937_64 rng_;
};

// Touches every byte of every view (ASan reports an out-of-bounds view) and checks invariants.
void check_accepted(std::span<const std::byte> frame, const DecodedFrame& d, const DecodeOptions& opt) {
  ASSERT_FALSE(d.commands.empty());
  const WireHeader& lead = d.commands[0].hdr;
  ASSERT_EQ(d.commands.size(), size_t{lead.batch_count} + 1);
  EXPECT_EQ(d.flags, lead.flags);
  unsigned sum = 0;
  for (const Command& c : d.commands) {
    const CommandInfo info = command_info(c.hdr.command);
    ASSERT_TRUE(info.known);
    EXPECT_LT(c.hdr.dcid, kNrDcs);
    EXPECT_LT(c.hdr.src_node, kNrNodes);
    EXPECT_LT(c.hdr.dst_node, kNrNodes);
    EXPECT_NE(c.hdr.src_node, c.hdr.dst_node);
    EXPECT_LE(c.payload.size(), std::min(opt.max_payload, kMaxPayload));
    if (info.body == Body::kVcopy) {
      EXPECT_GT(c.vcopy.chunk_len, 0u);
      EXPECT_LE(c.vcopy.offset + c.vcopy.chunk_len, c.vcopy.bytes);
      EXPECT_GE(c.vcopy.offset + c.vcopy.chunk_len, c.vcopy.offset);  // no wrap
    }
    if (info.payload == PayloadKind::kData && c.hdr.rcode == 0 && lead.batch_count == 0) {
      EXPECT_EQ(c.payload.size(), c.vcopy.chunk_len);
    }
    const bool in_frame = c.payload.empty() || (c.payload.data() >= frame.data() &&
                                                c.payload.data() + c.payload.size() <= frame.data() + frame.size());
    const bool in_scratch = c.payload.empty() || (c.payload.data() >= d.scratch.data() &&
                                                  c.payload.data() + c.payload.size() <= d.scratch.data() + d.scratch.size());
    EXPECT_TRUE(in_frame || in_scratch);
    for (std::byte b : c.payload) sum += std::to_integer<unsigned>(b);
  }
  (void)sum;
  // Canonical encoding: what was accepted re-encodes to the same bytes (LZ4 streams of another
  // compressor need not match ours, so only uncompressed frames are compared).
  if ((lead.flags & FLAG_LZ4) == 0) {
    Bytes again;
    const EncodeOptions eo{.checksum = (lead.flags & FLAG_CHECKSUM) != 0};
    const WireError e = lead.batch_count == 0 ? encode_frame(d.commands[0], again, eo) : encode_batch(d.commands, again, eo);
    ASSERT_EQ(e, WireError::kOk) << reason(e);
    EXPECT_TRUE(std::equal(again.begin(), again.end(), frame.begin(), frame.end()));
  }
}

// The seed corpus of the libFuzzer target dvs_wire_fuzz (docs/FUZZING.md) is written by
// dvs_wire_fuzz_seeds: its ok-* frames must still decode (and keep the invariants) and its bad-*
// frames must not, so a protocol change that leaves the seeds behind fails here, not silently in
// a fuzz run that never gets past the header.
TEST(WireFuzz, SeedCorpusStillDecodes) {
  size_t ok = 0, bad = 0;
  for (const auto& entry : std::filesystem::directory_iterator(DVS_WIRE_SEEDS_DIR)) {
    const std::string name = entry.path().filename().string();
    const bool want_ok = name.starts_with("ok-");
    if (!want_ok && !name.starts_with("bad-")) continue;  // fuzzer findings and merged inputs: any outcome
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Bytes f(text.size());
    if (!text.empty()) std::memcpy(f.data(), text.data(), text.size());
    DecodedFrame d;
    const WireError e = decode_frame(f, &d);
    if (want_ok) {
      ++ok;
      ASSERT_EQ(e, WireError::kOk) << name << ": " << reason(e) << " (regenerate: docs/FUZZING.md)";
      check_accepted(f, d, {});
    } else {
      ++bad;
      EXPECT_NE(e, WireError::kOk) << name;
    }
  }
  EXPECT_GE(ok, 30u);
  EXPECT_GE(bad, 5u);
}

TEST(WireFuzz, HundredThousandFramesNeverCrash) {
  const uint64_t iters = env_u64("DVS_WIRE_FUZZ_ITERS", 100000);
  const uint64_t seed = env_u64("DVS_WIRE_FUZZ_SEED", 0xD5'2024);
  const Corpus k = build_corpus();
  ASSERT_GT(k.frames.size(), 200u);
  for (const Bytes& f : k.frames) {
    DecodedFrame d;
    ASSERT_EQ(decode_frame(f, &d), WireError::kOk);
    check_accepted(f, d, {});
  }

  Mutator m(seed);
  std::map<WireError, uint64_t> seen;
  DecodedFrame d;  // reused, as a proxy would
  for (uint64_t i = 0; i < iters; ++i) {
    Bytes f = k.frames[m.r(k.frames.size())];
    for (uint64_t j = 0, n = 1 + m.r(3); j < n; ++j) m.mutate(f, k);
    if (m.coin(50)) m.fix_up(f);
    DecodeOptions opt;
    if (m.coin(10)) opt.max_payload = static_cast<uint32_t>(m.r(20000));
    if (m.coin(5)) opt.max_batch = static_cast<uint32_t>(m.r(50));
    if (m.coin(5)) opt.require_checksum = true;
    // Decode from an exactly-sized heap copy so ASan sees any read past the end.
    std::unique_ptr<std::byte[]> exact(new std::byte[f.size() + 0]);
    if (!f.empty()) std::memcpy(exact.get(), f.data(), f.size());
    const std::span<const std::byte> view(exact.get(), f.size());
    const WireError e = decode_frame(view, &d, opt);
    ++seen[e];
    if (e == WireError::kOk) {
      check_accepted(view, d, opt);
    } else {
      ASSERT_TRUE(d.commands.empty());
      ASSERT_NE(reason(e), nullptr);
    }
    // The header-only path must agree with the full decode on header errors.
    WireHeader h;
    size_t fs = 0;
    const WireError he = decode_header(view, &h, &fs, opt.max_payload);
    if (he == WireError::kOk && e == WireError::kOk) {
      EXPECT_EQ(fs, f.size());
    }
    if (HasFatalFailure()) {
      ADD_FAILURE() << "iteration " << i << " seed " << seed;
      return;
    }
  }
  std::string summary;
  for (const auto& [e, n] : seen) summary += std::string(error_name(e)) + "=" + std::to_string(n) + " ";
  RecordProperty("outcomes", summary);
  std::printf("wire fuzz: %llu frames, seed %llu: %s\n", static_cast<unsigned long long>(iters),
              static_cast<unsigned long long>(seed), summary.c_str());
  if (iters >= 100000) {
    // The fuzzer reaches deep: some mutated frames are still valid, and most error kinds occur.
    EXPECT_GT(seen[WireError::kOk], iters / 100);
    EXPECT_GE(seen.size(), 18u) << summary;
  }
}

}  // namespace
}  // namespace dvs::wire
