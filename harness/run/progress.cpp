// Progress and EtaEstimator: see progress.hpp.
#include "harness/run/progress.hpp"

#include <cmath>
#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

#include "harness/results/report.hpp"

namespace dvs::bench {

Progress::Progress(bool tty) : tty_(tty) {}
Progress::Progress() : tty_(isatty(STDERR_FILENO) == 1) {}

std::string Progress::format_eta(double secs) {
  if (secs < 0) return "?";
  const long s = std::lround(secs);
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

void Progress::start(size_t index, size_t total, int rep, int reps, const std::string& cell,
                     double eta_s) {
  const int w = int(fmt::format("{}", total).size());
  prefix_ = fmt::format("[{:>{}}/{}] rep {}/{}  {:<52}", index, w, total, rep, reps, cell);
  if (tty_) {
    fmt::print(stderr, "\r\033[K{} running ... ETA {}", prefix_, format_eta(eta_s));
  } else {
    fmt::print(stderr, "{} ", prefix_);
  }
  std::fflush(stderr);
}

void Progress::done(const cli::CellResult& r, double secs, double eta_s) {
  std::string what;
  if (r.skipped) what = "skipped: " + r.error;
  else if (!r.ok) what = "FAILED: " + r.error;
  else what = fmt::format("p50 {}", cli::format_ns(double(r.summary.p50)));
  const std::string tail = fmt::format("({:.1f} s; ETA {})", secs, format_eta(eta_s));
  if (tty_) fmt::print(stderr, "\r\033[K{} {} {}\n", prefix_, what, tail);
  else fmt::print(stderr, "{} {}\n", what, tail);
  std::fflush(stderr);
}

void Progress::note(const std::string& line) {
  fmt::print(stderr, "{}{}\n", tty_ ? "\r\033[K" : "", line);
  std::fflush(stderr);
}

void EtaEstimator::record(size_t cell, double secs) {
  if (cell < last_.size()) last_[cell] = secs;
  sum_ += secs;
  ++n_;
}

double EtaEstimator::estimate(const std::vector<size_t>& cells,
                              const std::vector<double>& fixed_s) const {
  const double mean = n_ == 0 ? -1 : sum_ / double(n_);
  double total = 0;
  for (size_t c : cells) {
    if (c < last_.size() && last_[c] >= 0) total += last_[c];
    else if (c < fixed_s.size() && fixed_s[c] > 0) total += fixed_s[c] + 0.3;
    else if (mean >= 0) total += mean;
    else return -1;
  }
  return total;
}

}  // namespace dvs::bench
