// Microbenchmarks of the measuring machinery itself: Histogram::record (on the timed path of
// every loop), a 64-byte message copy (the dvs message size) and clock_gettime(CLOCK_MONOTONIC)
// (taken once per timed iteration). Run: build/workloads/measure/dvs_stats_bench
#include "workloads/measure/histogram.hpp"

#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <ctime>
#include <random>
#include <vector>

namespace {

using dvs::stats::Histogram;

void BM_HistogramRecord(benchmark::State& state) {
  // Values drawn around typical RTTs (100 ns .. 100 us) so several buckets stay warm.
  std::mt19937_64 rng(42);
  std::vector<uint64_t> vals(4096);
  for (auto& v : vals) v = 100 + rng() % 100'000;
  auto h = std::make_unique<Histogram>();
  size_t i = 0;
  for (auto _ : state) {
    h->record(vals[i++ & 4095]);
  }
  benchmark::DoNotOptimize(h->count());
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramPercentile(benchmark::State& state) {
  auto h = std::make_unique<Histogram>();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100'000; ++i) h->record(100 + rng() % 100'000);
  for (auto _ : state) benchmark::DoNotOptimize(h->percentile(99.9));
}
BENCHMARK(BM_HistogramPercentile);

struct alignas(64) Line {
  unsigned char b[64];
};

void BM_Copy64(benchmark::State& state) {
  Line src{}, dst{};
  for (int i = 0; i < 64; ++i) src.b[i] = static_cast<unsigned char>(i);
  for (auto _ : state) {
    benchmark::DoNotOptimize(&src);
    std::memcpy(&dst, &src, sizeof dst);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 64);
}
BENCHMARK(BM_Copy64);

void BM_ClockMonotonic(benchmark::State& state) {
  timespec ts{};
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ClockMonotonic);

}  // namespace

BENCHMARK_MAIN();
