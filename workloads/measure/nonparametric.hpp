// Distribution-free statistics for comparing and summarising latency samples:
//
//  - mann_whitney_u: two-sided Mann-Whitney U (Wilcoxon rank-sum) test. Exact null distribution
//    for small samples without ties; otherwise the normal approximation with tie correction and
//    continuity correction (the same figures as scipy.stats.mannwhitneyu, method "exact" /
//    "asymptotic", use_continuity=True).
//  - median_ci: a confidence interval of the median from order statistics (binomial, no
//    assumption about the distribution), from raw samples or from a Histogram's bucket counts.
//
// Both assume independent samples. Consecutive latency samples of one loop are serially
// correlated (a slow period makes several slow samples), so on one run's samples the p-values are
// too small and the intervals too narrow; across repetitions (one median per run) they hold.
#ifndef DVS_HARNESS_STATS_NONPARAMETRIC_HPP
#define DVS_HARNESS_STATS_NONPARAMETRIC_HPP

#include <cstdint>
#include <span>
#include <vector>

#include "workloads/measure/histogram.hpp"

namespace dvs::stats {

// One distinct value and how often it occurs (e.g. a histogram bucket).
struct WeightedValue {
  double value = 0;
  uint64_t count = 0;
};

enum class MwMethod {
  Auto,    // exact if there are no ties and n1 + n2 <= kMwExactMaxN, else normal
  Exact,   // exact when possible (no ties, n1 + n2 <= kMwExactMaxN), else normal
  Normal,  // normal approximation, tie + continuity corrected
};

// Above this total sample count the exact null distribution is not computed (its counts stay
// exactly representable in a double up to C(50, 25)).
inline constexpr uint64_t kMwExactMaxN = 50;

struct MannWhitney {
  uint64_t n1 = 0, n2 = 0;
  // U of sample 1: number of pairs (a, b) with a > b, ties counting 1/2. u1 + u2 = n1 * n2.
  double u1 = 0, u2 = 0;
  double z = 0;        // normal approximation's z of max(u1, u2) (0 if exact or no variance)
  double p_value = 1;  // two-sided; 1 if either sample is empty
  bool exact = false;  // p from the exact null distribution
  bool ties = false;
  // P(A > B) + P(A = B) / 2 for a random pair: 0.5 = no shift, > 0.5 = sample 1 larger.
  double prob_superiority() const {
    return n1 && n2 ? u1 / (double(n1) * double(n2)) : 0.5;
  }
};

MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b,
                           MwMethod method = MwMethod::Auto);
// Weighted form: each value stands for `count` equal samples (counts of 0 are ignored). This is
// how two histograms are compared: every sample of a bucket is tied at the bucket's value.
MannWhitney mann_whitney_u(std::vector<WeightedValue> a, std::vector<WeightedValue> b,
                           MwMethod method = MwMethod::Auto);

// 1-based ranks [lo, hi] of the order statistics bounding a median confidence interval for n
// samples: the largest lo with P(Binomial(n, 1/2) < lo) <= (1 - confidence) / 2, hi = n + 1 - lo.
// coverage = 1 - 2 P(Binomial(n, 1/2) < lo) >= confidence. For n too small to reach the
// confidence (n < 6 at 95 %) reached = false and [lo, hi] = [1, n] (coverage 1 - 2^(1-n)).
struct RankInterval {
  uint64_t lo = 0, hi = 0;
  double coverage = 0;
  bool reached = false;
};
RankInterval median_ci_ranks(uint64_t n, double confidence = 0.95);

// The usual median of samples (the mean of the middle two for an even count); NaN for none. The
// one median of repetitions every command and benchmark reports.
double median(std::vector<double> samples);

struct MedianCi {
  uint64_t n = 0;
  double median = 0;  // samples: the usual median (mean of the middle two for even n);
                      // histogram: Histogram::percentile(50)
  double lo = 0, hi = 0;
  RankInterval ranks;
};
// Empty input: n = 0 and zeros.
MedianCi median_ci(std::vector<double> samples, double confidence = 0.95);
// From bucket counts: the order statistics are located by cumulative counts and reported like
// Histogram::percentile (bucket midpoint clamped to [min, max]), so within its 0.39 %.
MedianCi median_ci(const Histogram& h, double confidence = 0.95);

// The value of the sample of 1-based rank `rank` (clamped to [1, count]), reported like
// Histogram::percentile. 0 on an empty histogram.
uint64_t value_at_rank(const Histogram& h, uint64_t rank);

// The histogram as weighted values at bucket midpoints, ascending (not clamped to [min, max],
// so that the same bucket has the same value in two histograms being compared).
std::vector<WeightedValue> weighted_values(const Histogram& h);

}  // namespace dvs::stats

#endif
