// Microbenchmarks of the wire codec (not a test): build/core/dvsd/wire/dvs_wire_bench
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "core/dvsd/wire/wire.hpp"
#include "core/dvsd/wire/wire_samples.hpp"
#include "dvs/dvs.h"

namespace {

using namespace dvs::wire;

Command message_cmd(uint64_t n) { return message_command(CMD_SEND_MSG, n); }

void BM_MessageFrameEncodeDecode(benchmark::State& state) {
  const bool checksum = state.range(0) != 0;
  Command c = message_cmd(1);
  std::vector<std::byte> f;
  f.reserve(256);
  DecodedFrame d;
  const EncodeOptions eo{.checksum = checksum};
  for (auto _ : state) {
    ++c.hdr.seq;
    if (encode_frame(c, f, eo) != WireError::kOk) state.SkipWithError("encode");
    if (decode_frame(f, &d) != WireError::kOk) state.SkipWithError("decode");
    benchmark::DoNotOptimize(d.commands[0].msg.m_type);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(f.size()));
  state.SetLabel(checksum ? "crc32c" : "plain");
}
BENCHMARK(BM_MessageFrameEncodeDecode)->Arg(0)->Arg(1);

void BM_Batch32EncodeDecode(benchmark::State& state) {
  const bool lz4 = state.range(0) != 0;
  std::vector<Command> cmds;
  for (uint64_t i = 0; i < 32; ++i) cmds.push_back(message_cmd(i));
  std::vector<std::byte> f;
  DecodedFrame d;
  const EncodeOptions eo{.lz4 = lz4};
  for (auto _ : state) {
    if (encode_batch(cmds, f, eo) != WireError::kOk) state.SkipWithError("encode");
    if (decode_frame(f, &d) != WireError::kOk) state.SkipWithError("decode");
    benchmark::DoNotOptimize(d.commands.back().msg.m_type);
  }
  state.SetItemsProcessed(state.iterations() * 32);
  state.counters["frame_bytes"] = static_cast<double>(f.size());
  state.SetLabel(lz4 ? "lz4" : "plain");
}
BENCHMARK(BM_Batch32EncodeDecode)->Arg(0)->Arg(1);

std::vector<std::byte> payload(bool compressible) {
  std::vector<std::byte> p(64 * 1024);
  if (compressible) {
    const std::string line = "<tr><td>dvs</td><td>remote vcopy chunk</td><td>12345</td></tr>\n";
    for (size_t i = 0; i < p.size(); ++i) p[i] = std::byte(static_cast<uint8_t>(line[i % line.size()]));
  } else {
    std::mt19937_64 rng(42);
    for (auto& b : p) b = std::byte(static_cast<uint8_t>(rng()));
  }
  return p;
}

void BM_Lz4Payload64K(benchmark::State& state) {
  const bool compressible = state.range(0) != 0;
  const auto p = payload(compressible);
  std::vector<std::byte> z, out;
  bool smaller = false;
  for (auto _ : state) {
    smaller = lz4_compress_if_smaller(p, z);
    if (smaller && lz4_decompress(z, p.size(), out) != WireError::kOk) state.SkipWithError("decompress");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(p.size()));
  state.counters["ratio"] = smaller ? double(z.size()) / double(p.size()) : 1.0;
  state.SetLabel(compressible ? "compressible" : "random");
}
BENCHMARK(BM_Lz4Payload64K)->Arg(1)->Arg(0);

// A whole 64 KiB vcopy data frame through the codec, with LZ4 on (as a link with compress=yes).
void BM_DataFrame64KWithLz4(benchmark::State& state) {
  const bool compressible = state.range(0) != 0;
  const auto p = payload(compressible);
  Command c;
  c.hdr.command = CMD_COPYIN_DATA;
  c.hdr.src_node = 0;
  c.hdr.dst_node = 1;
  c.hdr.src_ep = 5;
  c.hdr.dst_ep = 6;
  c.vcopy = VcopyDesc{5, 6, 5, static_cast<uint32_t>(p.size()), 0x1000, 0x2000, p.size(), 0};
  c.payload = p;
  std::vector<std::byte> f;
  DecodedFrame d;
  for (auto _ : state) {
    if (encode_frame(c, f, EncodeOptions{.lz4 = true}) != WireError::kOk) state.SkipWithError("encode");
    if (decode_frame(f, &d) != WireError::kOk) state.SkipWithError("decode");
    benchmark::DoNotOptimize(d.commands[0].payload.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(p.size()));
  state.counters["frame_bytes"] = static_cast<double>(f.size());
  state.SetLabel(compressible ? "compressible" : "random");
}
BENCHMARK(BM_DataFrame64KWithLz4)->Arg(1)->Arg(0);

}  // namespace

BENCHMARK_MAIN();
