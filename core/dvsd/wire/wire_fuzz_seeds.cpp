// Writes the seed corpus of dvs_wire_fuzz (core/dvsd/wire/fuzz-corpus/dvs_wire_fuzz/): frames the
// codec itself encodes, one per command and per option (LZ4, checksum, batches), the HELLO
// payloads links really send, and broken frames one step from valid ones. "ok-*" files decode,
// "bad-*" files do not (wire_fuzz_test checks both, so a protocol change that leaves the corpus
// behind fails the suite). Regenerate after such a change (docs/FUZZING.md):
//   build/core/dvsd/wire/dvs_wire_fuzz_seeds core/dvsd/wire/fuzz-corpus/dvs_wire_fuzz
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "core/dvsd/wire/wire.hpp"
#include "core/dvsd/wire/wire_samples.hpp"
#include "dvs/dvs.h"
#include "dvs/errors.h"

namespace {

using namespace dvs::wire;
using Bytes = std::vector<std::byte>;

// Compressible data (text-like runs with some noise), as vcopy payloads often are.
const Bytes& data() {
  static const Bytes d = [] {
    Bytes b(8192);
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = std::byte(static_cast<uint8_t>((i % 97) < 60 ? 'a' + i % 7 : i * 13));
    return b;
  }();
  return d;
}

std::span<const std::byte> text(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

Command make(uint16_t cmd, uint32_t chunk, uint64_t n) { return sample_command(cmd, chunk, n, data()); }

std::string lower(const char* s) {
  std::string r(s);
  for (auto& ch : r) ch = static_cast<char>(ch == '_' ? '-' : std::tolower(static_cast<unsigned char>(ch)));
  return r;
}

struct Writer {
  std::filesystem::path dir;
  int failures = 0;
  void put(const std::string& name, const Bytes& f) {
    std::ofstream o(dir / name, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    if (!o) {
      std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
      ++failures;
    }
  }
  // An encoded frame that must decode ("ok-") or, mutated by the caller, must not ("bad-").
  Bytes frame(const Command& c, const EncodeOptions& o = {}) {
    Bytes f;
    if (encode_frame(c, f, o) != WireError::kOk) {
      std::fprintf(stderr, "encode_frame(%s) failed\n", command_info(c.hdr.command).name);
      ++failures;
    }
    return f;
  }
  Bytes batch(const std::vector<Command>& cmds, const EncodeOptions& o = {}) {
    Bytes f;
    if (encode_batch(cmds, f, o) != WireError::kOk) {
      std::fprintf(stderr, "encode_batch(%zu) failed\n", cmds.size());
      ++failures;
    }
    return f;
  }
};

void put32(Bytes& f, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) f[at + static_cast<size_t>(i)] = std::byte(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR  (writes the seed corpus of dvs_wire_fuzz into DIR)\n", argv[0]);
    return 2;
  }
  Writer w{argv[1]};
  std::filesystem::create_directories(w.dir);
  uint64_t n = 1;

  // Every command, plain; the data commands with a small chunk.
  for (uint16_t cmd : kAllCommands) w.put("ok-" + lower(command_info(cmd).name) + ".frame", w.frame(make(cmd, 16, n++)));
  // Options: LZ4 (compressible data), checksum, both.
  const EncodeOptions lz4{.lz4 = true}, crc{.checksum = true}, both{.lz4 = true, .checksum = true};
  w.put("ok-copyin-data-4k-lz4.frame", w.frame(make(CMD_COPYIN_DATA, 4096, n++), lz4));
  w.put("ok-copyout-data-8k-lz4-crc.frame", w.frame(make(CMD_COPYOUT_DATA, 8192, n++), both));
  w.put("ok-copyin-rqst-300-crc.frame", w.frame(make(CMD_COPYIN_RQST, 300, n++), crc));
  w.put("ok-send-msg-crc.frame", w.frame(make(CMD_SEND_MSG, 0, n++), crc));
  // Error answers: an ack with rcode < 0 (a data ack then carries no data).
  Command err = make(CMD_COPYOUT_DATA, 64, n++);
  err.hdr.rcode = EDVSNOENT;
  err.payload = {};
  w.put("ok-copyout-data-error.frame", w.frame(err));
  // The HELLO payloads links send: a node link announcing its direct URI, a process link.
  const std::string uri = std::string(kDirectUriPrefix) + "tcp://10.213.0.11:7000";
  Command hello = make(CMD_HELLO, 0, n++);
  hello.payload = text(uri);
  w.put("ok-hello-direct-uri.frame", w.frame(hello));
  const std::string proc = direct_hello_payload(3, DVS_ENDPOINT(1, 42));
  hello.payload = text(proc);
  w.put("ok-hello-process-link.frame", w.frame(hello));
  const std::string big(1024, 'h');
  hello.payload = text(big);
  w.put("ok-hello-1k-lz4-crc.frame", w.frame(hello, both));
  // Batches: message commands, acks, bind, a vcopy request (as the proxies pack them).
  const uint16_t small[] = {CMD_SEND_MSG, CMD_SEND_ACK, CMD_COPYOUT_RQST, CMD_REPLY_MSG, CMD_REPLY_ACK,
                            CMD_BIND, CMD_NTFY_MSG, CMD_UNBIND_ACK, CMD_SNDREC_ACK};
  for (size_t count : {2u, 9u, 40u}) {
    std::vector<Command> cmds;
    for (size_t i = 0; i < count; ++i) cmds.push_back(make(small[i % std::size(small)], 64, n++));
    const std::string base = "ok-batch-" + std::to_string(count);
    w.put(base + ".frame", w.batch(cmds));
    w.put(base + "-crc.frame", w.batch(cmds, crc));
    if (count == 40) w.put(base + "-lz4.frame", w.batch(cmds, lz4));
  }

  // One step from valid.
  Bytes f = w.frame(make(CMD_SEND_MSG, 0, n++));
  w.put("bad-truncated-header.frame", Bytes(f.begin(), f.begin() + 63));
  w.put("bad-truncated-body.frame", Bytes(f.begin(), f.end() - 1));
  Bytes g = f;
  g[0] = std::byte{'X'};
  w.put("bad-magic.frame", g);
  g = f;
  g[4] = std::byte{kVersion + 1};
  w.put("bad-version.frame", g);
  g = f;
  g.push_back(std::byte{0});
  w.put("bad-length.frame", g);
  g = w.frame(make(CMD_SEND_MSG, 0, n++), crc);
  g[100] ^= std::byte{1};
  w.put("bad-checksum.frame", g);
  g = w.frame(make(CMD_COPYIN_DATA, 4096, n++), lz4);
  for (size_t i = 64 + kVcopyDescSize; i < g.size(); ++i) g[i] = std::byte{0xff};
  w.put("bad-lz4-stream.frame", g);
  g = w.frame(make(CMD_COPYIN_DATA, 4096, n++), lz4);
  put32(g, 56, kMaxPayload);  // raw_len: a decompression-bomb claim
  w.put("bad-lz4-raw-len.frame", g);
  g = w.frame(make(CMD_COPYIN_DATA, 100, n++));
  put32(g, 64 + 12, 99);  // chunk_len != the data
  w.put("bad-vcopy-chunk.frame", g);
  std::vector<Command> two = {make(CMD_SEND_MSG, 0, n++), make(CMD_SEND_ACK, 0, n++)};
  g = w.batch(two);
  g[64 + 64 + 13] = std::byte{9};  // the batched command's src_node: another link's
  w.put("bad-batch-inner-node.frame", g);
  return w.failures == 0 ? 0 : 1;
}
