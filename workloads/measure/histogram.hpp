// A log-linear (HDR-style) histogram of non-negative integer values (nanoseconds by convention).
//
// Layout: values below 2^kSubBits (128) each have their own bucket (exact). Above that, every
// power-of-two range [2^e, 2^(e+1)) is split into 2^kSubBits equal buckets of width 2^(e-7).
// The full uint64 range is covered; nothing saturates.
//
// Error contract: a bucket spans at most 1/128 (0.78 %) of its lower bound. A percentile is
// reported as the midpoint of the bucket holding the nearest-rank sample, clamped to the observed
// [min, max], so the reported value differs from the exact nearest-rank percentile of the recorded
// data by at most 2^-8 (0.39 %) relative — inside the 1 % promise. min, max, n and sum (hence the
// mean) are exact.
//
// Cost and ownership: record() is O(1), touches one counter plus min/max/sum, never allocates and
// never locks (one histogram per recording thread; merge afterwards). The object is a fixed-size,
// trivially copyable value (~57 KiB): it can live in MAP_SHARED memory between fork()ed processes
// and be copied with memcpy.
#ifndef DVS_HARNESS_STATS_HISTOGRAM_HPP
#define DVS_HARNESS_STATS_HISTOGRAM_HPP

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace dvs::stats {

__extension__ typedef unsigned __int128 uint128_t;

// Summary of a histogram: the figures every result row carries.
struct Summary {
  uint64_t n = 0;
  uint64_t min = 0, max = 0;
  double mean = 0;
  uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0;
};

class Histogram {
 public:
  static constexpr unsigned kSubBits = 7;                      // 128 sub-buckets per octave
  static constexpr uint64_t kSubCount = uint64_t{1} << kSubBits;
  // Octave groups: group 0 holds [0, 2^7) exactly; group g >= 1 holds [2^(g+6), 2^(g+7)).
  static constexpr unsigned kGroups = 64 - kSubBits + 1;       // 58
  static constexpr size_t kBuckets = size_t{kGroups} * kSubCount;
  // Largest relative distance between a reported percentile and the exact one.
  static constexpr double kMaxRelativeError = 1.0 / double(kSubCount * 2);

  Histogram() { reset(); }

  void reset() noexcept;

  // Count one value. O(1), no allocation.
  void record(uint64_t v) noexcept {
    counts_[bucket_of(v)]++;
    n_++;
    sum_ += v;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  // Count a value `count` times.
  void record_n(uint64_t v, uint64_t count) noexcept;

  // Add every sample of `other`: afterwards *this is as if it had recorded both streams.
  void merge(const Histogram& other) noexcept;

  uint64_t count() const noexcept { return n_; }
  uint64_t min() const noexcept { return n_ ? min_ : 0; }
  uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return n_ ? double(sum_) / double(n_) : 0.0; }
  uint128_t sum() const noexcept { return sum_; }

  // Nearest-rank percentile, q in [0, 100]: the value of the sample of rank ceil(q/100 * n)
  // (at least rank 1), within kMaxRelativeError. q <= 0 gives min, q >= 100 gives max.
  // 0 on an empty histogram.
  uint64_t percentile(double q) const noexcept;

  Summary summary() const noexcept;

  // Bucket geometry (public for tests and exporters).
  static constexpr size_t bucket_of(uint64_t v) noexcept {
    if (v < kSubCount) return size_t(v);
    const unsigned e = unsigned(std::bit_width(v)) - 1;  // 7..63
    const unsigned shift = e - kSubBits;                 // 0..56
    return size_t(shift + 1) * kSubCount + size_t((v >> shift) - kSubCount);
  }
  static constexpr uint64_t bucket_low(size_t b) noexcept {
    const size_t g = b / kSubCount, s = b % kSubCount;
    if (g == 0) return s;
    return (kSubCount + s) << (g - 1);
  }
  static constexpr uint64_t bucket_high(size_t b) noexcept {  // inclusive
    const size_t g = b / kSubCount;
    const uint64_t width = g == 0 ? 1 : uint64_t{1} << (g - 1);
    return bucket_low(b) + (width - 1);
  }
  uint64_t bucket_count(size_t b) const noexcept { return counts_[b]; }

 private:
  std::array<uint64_t, kBuckets> counts_;
  uint64_t n_;
  uint64_t min_;
  uint64_t max_;
  uint128_t sum_;
};

static_assert(std::is_trivially_copyable_v<Histogram>, "Histogram must be memcpy-able");
static_assert(Histogram::bucket_of(~uint64_t{0}) == Histogram::kBuckets - 1, "covers uint64");

}  // namespace dvs::stats

#endif
