// The ratio convention: see ratio.hpp.
#include "harness/results/ratio.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace dvs::cli {

const char* ratio_basis_name(RatioBasis b) {
  switch (b) {
    case RatioBasis::P50: return "p50";
    case RatioBasis::MsgsPerS: return "msgs_per_s";
    case RatioBasis::MbPerS: return "mb_per_s";
    case RatioBasis::RequestsPerS: return "requests_per_s";
  }
  return "?";
}

std::optional<double> slowdown_ratio(RatioBasis b, double row, double baseline) {
  if (!(row > 0) || !(baseline > 0)) return std::nullopt;
  return b == RatioBasis::P50 ? row / baseline : baseline / row;
}

std::optional<double> ratio_across_repetitions(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string format_ratio(double ratio) { return fmt::format("{:.2f}x", ratio); }

std::string ratio_refusal(const std::string& row_network, const std::string& baseline_network) {
  if (row_network == baseline_network) return "";
  if (baseline_network.empty())
    return fmt::format("no raw baseline over the same network ({}); the in-host baseline crosses no network",
                       row_network);
  if (row_network.empty())
    return fmt::format("the baseline crosses {}, this row no network", baseline_network);
  return fmt::format("the baseline crosses {}, this row {}", baseline_network, row_network);
}

}  // namespace dvs::cli
