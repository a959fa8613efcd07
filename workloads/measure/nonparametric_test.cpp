// Mann-Whitney U and median confidence intervals against known cases.
#include "workloads/measure/nonparametric.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace dvs::stats {
namespace {

// scipy.stats.mannwhitneyu documentation example (ages of male and female faculty):
// U1 = 17, exact p = 0.1111111111111111, asymptotic p = 0.11134688653314041.
TEST(MannWhitney, ScipyDocExample) {
  const std::vector<double> males{19, 22, 16, 29, 24}, females{20, 11, 17, 12};
  const auto ex = mann_whitney_u(males, females);
  EXPECT_TRUE(ex.exact);
  EXPECT_DOUBLE_EQ(ex.u1, 17);
  EXPECT_DOUBLE_EQ(ex.u2, 3);
  EXPECT_NEAR(ex.p_value, 0.1111111111111111, 1e-12);
  const auto as = mann_whitney_u(males, females, MwMethod::Normal);
  EXPECT_FALSE(as.exact);
  EXPECT_DOUBLE_EQ(as.u1, 17);
  EXPECT_NEAR(as.z, 1.5921683328090657, 1e-9);
  EXPECT_NEAR(as.p_value, 0.11134688653314041, 1e-9);
  // Swapping the samples swaps U and keeps p.
  const auto sw = mann_whitney_u(females, males);
  EXPECT_DOUBLE_EQ(sw.u1, 3);
  EXPECT_NEAR(sw.p_value, ex.p_value, 1e-15);
}

// R's ?wilcox.test example (Hollander & Wolfe 1973, p. 69): W = 35, one-sided p = 0.1272,
// so two-sided exact p = 0.2544 (2 * 0.1272061).
TEST(MannWhitney, HollanderWolfeExample) {
  const std::vector<double> x{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
  const std::vector<double> y{1.15, 0.88, 0.90, 0.74, 1.21};
  const auto r = mann_whitney_u(x, y);
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u1, 35);
  EXPECT_NEAR(r.p_value, 0.2544122544122544, 1e-12);
  const auto n = mann_whitney_u(x, y, MwMethod::Normal);
  EXPECT_NEAR(n.p_value, 0.24462360512698333, 1e-9);
}

// With ties: mid-ranks, tie-corrected variance (reference computed with the textbook formula
// sigma^2 = n1 n2 / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1)))). Ties rule out the exact path.
TEST(MannWhitney, TiesUseCorrectedNormal) {
  const std::vector<double> a{1, 2, 2, 3, 3, 3, 4, 5}, b{3, 4, 4, 5, 5, 6, 7};
  const auto r = mann_whitney_u(a, b, MwMethod::Exact);
  EXPECT_TRUE(r.ties);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u1, 7.5);
  EXPECT_NEAR(r.z, 2.3548432020984964, 1e-9);
  EXPECT_NEAR(r.p_value, 0.01853052299101758, 1e-9);
}

TEST(MannWhitney, IdenticalSamplesGiveP1) {
  const std::vector<double> a{5, 1, 4, 2, 3, 9, 7};
  EXPECT_DOUBLE_EQ(mann_whitney_u(a, a).p_value, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u(a, a, MwMethod::Normal).p_value, 1.0);
  const std::vector<double> same(100, 42.0);
  const auto r = mann_whitney_u(same, same);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
  EXPECT_DOUBLE_EQ(r.u1, 5000);
  // Identical histograms (weighted form, many ties).
  std::vector<WeightedValue> h{{100, 500000}, {110, 300000}, {500, 17}};
  EXPECT_DOUBLE_EQ(mann_whitney_u(h, h).p_value, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u(h, h).prob_superiority(), 0.5);
}

TEST(MannWhitney, FullySeparatedSamplesGiveTinyP) {
  std::vector<double> a, b;
  for (int i = 0; i < 10; ++i) a.push_back(i), b.push_back(10 + i);
  const auto ex = mann_whitney_u(a, b);
  EXPECT_TRUE(ex.exact);
  EXPECT_DOUBLE_EQ(ex.u1, 0);
  EXPECT_NEAR(ex.p_value, 2.0 / 184756.0, 1e-15);  // 2 / C(20, 10)
  const auto nm = mann_whitney_u(a, b, MwMethod::Normal);
  EXPECT_NEAR(nm.p_value, 0.0001826717911095504, 1e-12);
  // Large separated histograms.
  const auto big = mann_whitney_u(std::vector<WeightedValue>{{1000, 100000}},
                                  std::vector<WeightedValue>{{2000, 100000}});
  EXPECT_LT(big.p_value, 1e-100);
  EXPECT_DOUBLE_EQ(big.prob_superiority(), 0.0);
}

TEST(MannWhitney, EmptySampleGivesP1) {
  const std::vector<double> a{1, 2, 3}, none;
  EXPECT_DOUBLE_EQ(mann_whitney_u(a, none).p_value, 1.0);
}

// Weighted input equals the expanded samples.
TEST(MannWhitney, WeightedEqualsExpanded) {
  const std::vector<WeightedValue> wa{{1, 3}, {4, 2}, {7, 1}}, wb{{2, 2}, {4, 3}, {9, 2}};
  std::vector<double> a, b;
  for (auto w : wa) a.insert(a.end(), w.count, w.value);
  for (auto w : wb) b.insert(b.end(), w.count, w.value);
  const auto x = mann_whitney_u(wa, wb), y = mann_whitney_u(a, b);
  EXPECT_DOUBLE_EQ(x.u1, y.u1);
  EXPECT_DOUBLE_EQ(x.p_value, y.p_value);
}

// Under H0 (same distribution) p < 0.05 in about 5 % of trials, not much more.
TEST(MannWhitney, FalsePositiveRateUnderNull) {
  std::mt19937_64 rng(12345);
  std::lognormal_distribution<double> d(10, 0.5);
  int rejections = 0;
  const int trials = 2000;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> a(30), b(40);
    for (auto& v : a) v = d(rng);
    for (auto& v : b) v = d(rng);
    if (mann_whitney_u(a, b).p_value < 0.05) ++rejections;
  }
  EXPECT_LT(rejections, trials * 0.07);
  EXPECT_GT(rejections, trials * 0.03);
}

TEST(MedianCi, RanksMatchBinomialTables) {
  // n = 6: [x(1), x(6)], coverage 1 - 2/64 (the smallest n reaching 95 %).
  auto r = median_ci_ranks(6);
  EXPECT_TRUE(r.reached);
  EXPECT_EQ(r.lo, 1u);
  EXPECT_EQ(r.hi, 6u);
  EXPECT_NEAR(r.coverage, 1 - 2.0 / 64, 1e-12);
  // n = 5 cannot reach 95 %.
  r = median_ci_ranks(5);
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.lo, 1u);
  EXPECT_EQ(r.hi, 5u);
  // n = 20: [x(6), x(15)], coverage 0.9586 (P(B <= 5) = 0.02069).
  r = median_ci_ranks(20);
  EXPECT_EQ(r.lo, 6u);
  EXPECT_EQ(r.hi, 15u);
  EXPECT_NEAR(r.coverage, 0.958610, 1e-6);
  // n = 100: [x(40), x(61)], coverage 0.9648.
  r = median_ci_ranks(100);
  EXPECT_EQ(r.lo, 40u);
  EXPECT_EQ(r.hi, 61u);
  EXPECT_NEAR(r.coverage, 0.9648, 1e-4);
  // Large n: close to the normal approximation n/2 -+ 1.96 sqrt(n) / 2.
  r = median_ci_ranks(1000000);
  EXPECT_NEAR(double(r.lo), 500000 - 980, 2);
  EXPECT_EQ(r.hi, 1000001 - r.lo);
  EXPECT_GE(r.coverage, 0.95);
  EXPECT_LT(r.coverage, 0.9503);  // one rank step moves it by ~2.3e-4
  EXPECT_EQ(median_ci_ranks(0).lo, 0u);
}

TEST(MedianCi, CoversTrueMedianInMostTrials) {
  std::mt19937_64 rng(777);
  const double true_median = std::exp(10.0);  // lognormal(10, 0.7)
  std::lognormal_distribution<double> d(10, 0.7);
  int covered = 0;
  const int trials = 2000;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> s(51);
    for (auto& v : s) v = d(rng);
    const auto ci = median_ci(s);
    ASSERT_LE(ci.lo, ci.median);
    ASSERT_GE(ci.hi, ci.median);
    if (ci.lo <= true_median && true_median <= ci.hi) ++covered;
  }
  // Nominal coverage at n = 51 is >= 95 % (0.9672): allow sampling noise.
  EXPECT_GT(covered, trials * 0.94);
  EXPECT_LT(covered, trials * 0.99);
}

TEST(MedianCi, FromHistogramMatchesSamples) {
  std::mt19937_64 rng(99);
  std::exponential_distribution<double> d(1.0 / 20000);
  std::vector<double> s;
  Histogram h;
  for (int i = 0; i < 100001; ++i) {
    const auto v = uint64_t(d(rng)) + 100;
    s.push_back(double(v));
    h.record(v);
  }
  const auto a = median_ci(s), b = median_ci(h);
  EXPECT_EQ(a.ranks.lo, b.ranks.lo);
  EXPECT_EQ(a.ranks.hi, b.ranks.hi);
  EXPECT_NEAR(b.lo, a.lo, a.lo * Histogram::kMaxRelativeError + 1);
  EXPECT_NEAR(b.hi, a.hi, a.hi * Histogram::kMaxRelativeError + 1);
  EXPECT_NEAR(b.median, a.median, a.median * Histogram::kMaxRelativeError + 1);
  EXPECT_LE(b.lo, b.median);
  EXPECT_GE(b.hi, b.median);
  EXPECT_EQ(value_at_rank(h, h.count()), h.max());
  EXPECT_EQ(value_at_rank(h, 1), h.min());
  EXPECT_EQ(value_at_rank(h, (h.count() + 1) / 2), h.percentile(50));
  // The weighted form keeps every sample.
  uint64_t total = 0;
  for (const auto& w : weighted_values(h)) total += w.count;
  EXPECT_EQ(total, h.count());
  EXPECT_EQ(median_ci(Histogram{}).n, 0u);
}

}  // namespace
}  // namespace dvs::stats
