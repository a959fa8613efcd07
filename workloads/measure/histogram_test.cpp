// Histogram percentiles against exact nearest-rank percentiles of the same data, and merge.
#include "workloads/measure/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace dvs::stats {
namespace {

// Exact nearest-rank percentile of sorted data (the definition Histogram::percentile promises).
uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  if (q <= 0) return sorted.front();
  if (q >= 100) return sorted.back();
  double r = std::ceil(q / 100.0 * double(sorted.size()) - 1e-9);
  size_t rank = std::clamp<size_t>(size_t(std::max(r, 1.0)), 1, sorted.size());
  return sorted[rank - 1];
}

void expect_matches_exact(std::vector<uint64_t> data) {
  Histogram h;
  for (uint64_t v : data) h.record(v);
  std::sort(data.begin(), data.end());
  ASSERT_EQ(h.count(), data.size());
  EXPECT_EQ(h.min(), data.front());
  EXPECT_EQ(h.max(), data.back());
  long double sum = 0;
  for (uint64_t v : data) sum += v;
  EXPECT_NEAR(h.mean(), double(sum / data.size()), 1e-9 * double(sum / data.size()) + 1e-9);
  for (double q : {0.0, 1.0, 10.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const double exact = double(exact_percentile(data, q));
    const double got = double(h.percentile(q));
    EXPECT_LE(std::fabs(got - exact), Histogram::kMaxRelativeError * exact + 1e-9)
        << "q=" << q << " exact=" << exact << " got=" << got << " n=" << data.size();
    EXPECT_LE(std::fabs(got - exact), 0.01 * exact) << "1 % promise, q=" << q;
  }
}

TEST(Histogram, ErrorBoundIsBelowOnePercent) {
  EXPECT_LT(Histogram::kMaxRelativeError, 0.01);
}

TEST(Histogram, BucketGeometryIsContiguous) {
  for (size_t b = 0; b + 1 < Histogram::kBuckets; ++b) {
    ASSERT_EQ(Histogram::bucket_high(b) + 1, Histogram::bucket_low(b + 1)) << b;
    ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_low(b)), b);
    ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_high(b)), b);
  }
  EXPECT_EQ(Histogram::bucket_high(Histogram::kBuckets - 1), ~uint64_t{0});
}

TEST(Histogram, UniformMatchesExact) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<uint64_t> d(0, 1'000'000);
  std::vector<uint64_t> v(200'000);
  for (auto& x : v) x = d(rng);
  expect_matches_exact(v);
}

TEST(Histogram, ExponentialMatchesExact) {
  std::mt19937_64 rng(2);
  std::exponential_distribution<double> d(1.0 / 50'000.0);  // mean 50 us, long tail
  std::vector<uint64_t> v(200'000);
  for (auto& x : v) x = uint64_t(d(rng)) + 100;
  expect_matches_exact(v);
}

TEST(Histogram, ConstantIsExact) {
  Histogram h;
  for (int i = 0; i < 1000; ++i) h.record(12345);
  for (double q : {0.0, 50.0, 99.99, 100.0}) EXPECT_EQ(h.percentile(q), 12345u);
  EXPECT_DOUBLE_EQ(h.mean(), 12345.0);
}

TEST(Histogram, TinyCounts) {
  Histogram empty;
  EXPECT_EQ(empty.count(), 0u);
  EXPECT_EQ(empty.percentile(50), 0u);
  EXPECT_EQ(empty.min(), 0u);
  EXPECT_EQ(empty.max(), 0u);
  EXPECT_EQ(empty.mean(), 0.0);

  expect_matches_exact({777});
  expect_matches_exact({5, 1'000'000});
  expect_matches_exact({3, 1, 2});
  expect_matches_exact({0, 0, 0, 1});
}

TEST(Histogram, SmallValuesAreExact) {
  std::vector<uint64_t> v;
  for (uint64_t i = 0; i < 128; ++i) v.push_back(i);
  Histogram h;
  for (auto x : v) h.record(x);
  for (int q = 1; q <= 100; ++q) EXPECT_EQ(h.percentile(q), exact_percentile(v, q)) << q;
}

TEST(Histogram, HugeValues) {
  expect_matches_exact({~uint64_t{0}, uint64_t{1} << 63, 1, 1ull << 40});
}

TEST(Histogram, MergeEqualsRecordingAll) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> d(1.0 / 1000.0);
  Histogram a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    uint64_t x = uint64_t(d(rng));
    (i % 3 ? a : b).record(x);
    all.record(x);
  }
  Histogram m = a;
  m.merge(b);
  EXPECT_EQ(m.count(), all.count());
  EXPECT_EQ(m.min(), all.min());
  EXPECT_EQ(m.max(), all.max());
  EXPECT_TRUE(m.sum() == all.sum());
  for (size_t i = 0; i < Histogram::kBuckets; ++i) ASSERT_EQ(m.bucket_count(i), all.bucket_count(i));
  for (double q : {50.0, 99.0, 99.99}) EXPECT_EQ(m.percentile(q), all.percentile(q));

  Histogram e;  // merging an empty histogram changes nothing; into an empty one copies
  m.merge(e);
  EXPECT_EQ(m.count(), all.count());
  e.merge(all);
  EXPECT_EQ(e.min(), all.min());
  EXPECT_EQ(e.percentile(90), all.percentile(90));
}

TEST(Histogram, RecordNEqualsRepeatedRecord) {
  Histogram a, b;
  a.record_n(999, 5);
  for (int i = 0; i < 5; ++i) b.record(999);
  EXPECT_EQ(a.count(), b.count());
  EXPECT_TRUE(a.sum() == b.sum());
  EXPECT_EQ(a.percentile(50), b.percentile(50));
}

}  // namespace
}  // namespace dvs::stats
