// Histogram: the non-inline parts (reset, merge, percentiles). Contract in histogram.hpp.
#include "workloads/measure/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace dvs::stats {

void Histogram::reset() noexcept {
  counts_.fill(0);
  n_ = 0;
  min_ = std::numeric_limits<uint64_t>::max();
  max_ = 0;
  sum_ = 0;
}

void Histogram::record_n(uint64_t v, uint64_t count) noexcept {
  if (count == 0) return;
  counts_[bucket_of(v)] += count;
  n_ += count;
  sum_ += uint128_t{v} * count;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

void Histogram::merge(const Histogram& other) noexcept {
  if (other.n_ == 0) return;
  for (size_t b = 0; b < kBuckets; ++b) counts_[b] += other.counts_[b];
  n_ += other.n_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::percentile(double q) const noexcept {
  if (n_ == 0) return 0;
  if (!(q > 0)) return min_;  // also catches NaN
  if (q >= 100) return max_;
  // Nearest rank, 1-based. The epsilon keeps q*n that is an exact integer in theory (e.g.
  // 99.9 % of 1000) from rounding up one rank because of binary floating point.
  double r = std::ceil(q / 100.0 * double(n_) - 1e-9);
  const uint64_t rank = std::clamp<uint64_t>(uint64_t(std::max(r, 1.0)), 1, n_);
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const uint64_t lo = bucket_low(b), hi = bucket_high(b);
      const uint64_t mid = lo + (hi - lo) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;  // unreachable when counts_ and n_ agree
}

Summary Histogram::summary() const noexcept {
  Summary s;
  s.n = n_;
  s.min = min();
  s.max = max();
  s.mean = mean();
  s.p50 = percentile(50);
  s.p90 = percentile(90);
  s.p99 = percentile(99);
  s.p999 = percentile(99.9);
  s.p9999 = percentile(99.99);
  return s;
}

}  // namespace dvs::stats
