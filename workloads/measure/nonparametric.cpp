// Mann-Whitney U and median confidence intervals: see nonparametric.hpp.
#include "workloads/measure/nonparametric.hpp"

#include <algorithm>
#include <cmath>

namespace dvs::stats {

namespace {

// Number of arrangements of n1 + n2 distinct values with U1 = u, for u = 0..n1*n2: the
// coefficients of the Gaussian binomial [n1 + n2 choose n1]_q, built as
// prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i); every partial product is a polynomial.
std::vector<double> exact_u_counts(uint64_t n1, uint64_t n2) {
  const size_t size = size_t(n1 * n2 + n1 + 1);
  std::vector<double> p(size, 0.0);
  p[0] = 1;
  for (uint64_t i = 1; i <= n1; ++i) {
    const size_t m = size_t(n2 + i);
    for (size_t k = size; k-- > m;) p[k] -= p[k - m];       // * (1 - q^m)
    for (size_t k = size_t(i); k < size; ++k) p[k] += p[k - size_t(i)];  // / (1 - q^i)
  }
  p.resize(size_t(n1 * n2 + 1));
  return p;
}

}  // namespace

MannWhitney mann_whitney_u(std::vector<WeightedValue> a, std::vector<WeightedValue> b,
                           MwMethod method) {
  struct Item {
    double value;
    uint64_t count;
    int group;
  };
  std::vector<Item> all;
  all.reserve(a.size() + b.size());
  MannWhitney r;
  for (const auto& w : a)
    if (w.count) all.push_back({w.value, w.count, 0}), r.n1 += w.count;
  for (const auto& w : b)
    if (w.count) all.push_back({w.value, w.count, 1}), r.n2 += w.count;
  if (r.n1 == 0 || r.n2 == 0) return r;
  std::sort(all.begin(), all.end(), [](const Item& x, const Item& y) { return x.value < y.value; });

  // Rank sum of sample 1 with mid-ranks for ties; tie term sum(t^3 - t).
  long double rank_sum1 = 0, tie_term = 0;
  uint64_t below = 0;  // samples with a smaller value
  for (size_t i = 0; i < all.size();) {
    uint64_t c1 = 0, t = 0;
    size_t j = i;
    for (; j < all.size() && all[j].value == all[i].value; ++j) {
      t += all[j].count;
      if (all[j].group == 0) c1 += all[j].count;
    }
    const long double mid_rank = (long double)below + ((long double)t + 1) / 2;
    rank_sum1 += (long double)c1 * mid_rank;
    if (t > 1) {
      r.ties = true;
      const long double lt = (long double)t;
      tie_term += lt * lt * lt - lt;
    }
    below += t;
    i = j;
  }
  const long double n1 = (long double)r.n1, n2 = (long double)r.n2, n = n1 + n2;
  r.u1 = double(rank_sum1 - n1 * (n1 + 1) / 2);
  r.u2 = double(n1 * n2) - r.u1;
  const double u_max = std::max(r.u1, r.u2);

  const bool exact_ok = !r.ties && r.n1 + r.n2 <= kMwExactMaxN;
  if (method != MwMethod::Normal && exact_ok) {
    // p = 2 P(U >= u_max) under H0, U symmetric about n1 n2 / 2.
    const std::vector<double> c = exact_u_counts(r.n1, r.n2);
    double total = 0, tail = 0;
    const auto u = size_t(std::llround(u_max));
    for (size_t k = 0; k < c.size(); ++k) {
      total += c[k];
      if (k >= u) tail += c[k];
    }
    r.exact = true;
    r.p_value = std::min(1.0, 2 * tail / total);
    return r;
  }
  const long double mu = n1 * n2 / 2;
  const long double var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)));
  if (!(var > 0)) {  // every sample has the same value
    r.p_value = 1;
    return r;
  }
  const long double num = std::max<long double>(0, (long double)u_max - mu - 0.5L);
  r.z = double(num / std::sqrt(var));
  r.p_value = std::min(1.0, std::erfc(r.z / std::sqrt(2.0)));  // 2 * (1 - Phi(z))
  return r;
}

MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b,
                           MwMethod method) {
  std::vector<WeightedValue> wa, wb;
  wa.reserve(a.size());
  wb.reserve(b.size());
  for (double v : a) wa.push_back({v, 1});
  for (double v : b) wb.push_back({v, 1});
  return mann_whitney_u(std::move(wa), std::move(wb), method);
}

RankInterval median_ci_ranks(uint64_t n, double confidence) {
  RankInterval ri;
  if (n == 0) return ri;
  const double half_alpha = (1 - confidence) / 2;
  // P(B <= k) for B ~ Binomial(n, 1/2), summed from far enough below n/2 that the mass left
  // out (> 12 standard deviations) is negligible.
  const double dn = double(n);
  const double log_half_n = dn * std::log(0.5);
  const double lg_n1 = std::lgamma(dn + 1);
  auto pmf = [&](uint64_t k) {
    return std::exp(lg_n1 - std::lgamma(double(k) + 1) - std::lgamma(dn - double(k) + 1) +
                    log_half_n);
  };
  const double start = dn / 2 - 6 * std::sqrt(dn);
  uint64_t k = start > 0 ? uint64_t(start) : 0;
  double cdf = 0;  // P(B <= k - 1)
  uint64_t lo = 0;  // the largest l with P(B <= l - 1) <= half_alpha; 0 = none
  double tail_at_lo = 0;
  for (; k <= n / 2; ++k) {
    // cdf = P(B <= k - 1); l = k qualifies if cdf <= half_alpha (k >= 1).
    if (k >= 1 && cdf <= half_alpha) {
      lo = k;
      tail_at_lo = cdf;
    }
    if (cdf > half_alpha) break;
    cdf += pmf(k);
  }
  if (lo == 0) {
    ri.lo = 1;
    ri.hi = n;
    ri.coverage = n >= 1 ? 1 - 2 * std::pow(0.5, dn) : 0;
    ri.reached = false;
    return ri;
  }
  ri.lo = lo;
  ri.hi = n + 1 - lo;
  ri.coverage = 1 - 2 * tail_at_lo;
  ri.reached = ri.coverage >= confidence - 1e-12;
  return ri;
}

double median(std::vector<double> samples) {
  if (samples.empty()) return std::nan("");
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

MedianCi median_ci(std::vector<double> samples, double confidence) {
  MedianCi m;
  m.n = samples.size();
  if (samples.empty()) return m;
  m.median = median(samples);
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  m.ranks = median_ci_ranks(n, confidence);
  m.lo = samples[size_t(m.ranks.lo - 1)];
  m.hi = samples[size_t(m.ranks.hi - 1)];
  return m;
}

uint64_t value_at_rank(const Histogram& h, uint64_t rank) {
  const uint64_t n = h.count();
  if (n == 0) return 0;
  rank = std::clamp<uint64_t>(rank, 1, n);
  uint64_t seen = 0;
  for (size_t b = 0; b < Histogram::kBuckets; ++b) {
    seen += h.bucket_count(b);
    if (seen >= rank) {
      const uint64_t lo = Histogram::bucket_low(b), hi = Histogram::bucket_high(b);
      return std::clamp(lo + (hi - lo) / 2, h.min(), h.max());
    }
  }
  return h.max();
}

MedianCi median_ci(const Histogram& h, double confidence) {
  MedianCi m;
  m.n = h.count();
  if (m.n == 0) return m;
  m.median = double(h.percentile(50));
  m.ranks = median_ci_ranks(m.n, confidence);
  m.lo = double(value_at_rank(h, m.ranks.lo));
  m.hi = double(value_at_rank(h, m.ranks.hi));
  return m;
}

std::vector<WeightedValue> weighted_values(const Histogram& h) {
  std::vector<WeightedValue> out;
  if (h.count() == 0) return out;
  for (size_t b = 0; b < Histogram::kBuckets; ++b) {
    const uint64_t c = h.bucket_count(b);
    if (c == 0) continue;
    const uint64_t lo = Histogram::bucket_low(b), hi = Histogram::bucket_high(b);
    out.push_back({double(lo + (hi - lo) / 2), c});  // unclamped: same bucket, same value
  }
  return out;
}

}  // namespace dvs::stats
