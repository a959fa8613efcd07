// Progress of a run on stderr. On a terminal: a status line rewritten in place while a loop runs
// ("[ 12/240] rep 2/3  <cell>  running ... ETA 1m20s"), replaced by the cell's result line when
// it ends. Otherwise (a log file, ctest): plain lines only, one per loop, each ending with the ETA.
#ifndef DVS_HARNESS_BENCH_PROGRESS_HPP
#define DVS_HARNESS_BENCH_PROGRESS_HPP

#include <cstddef>
#include <string>
#include <vector>

#include "harness/plan/cells.hpp"

namespace dvs::bench {

class Progress {
 public:
  // tty: rewrite a status line (default: whether stderr is a terminal).
  explicit Progress(bool tty);
  Progress();

  // Loop `index` (1-based) of `total` starts: repetition rep of reps of `cell`.
  // eta_s < 0: unknown yet.
  void start(size_t index, size_t total, int rep, int reps, const std::string& cell, double eta_s);
  // It ended after secs; eta_s: the rest.
  void done(const cli::CellResult& r, double secs, double eta_s);
  // A line of its own (clears the status line first).
  void note(const std::string& line);

  static std::string format_eta(double secs);  // "45 s", "3m05s", "1h02m"

 private:
  bool tty_;
  std::string prefix_;  // "[ 12/240] rep 2/3  <cell>"
};

// Expected duration of what is left: a cell's last measured duration, else (for a cell run by
// duration) its duration plus setup, else the mean of the loops measured so far.
class EtaEstimator {
 public:
  explicit EtaEstimator(size_t cells) : last_(cells, -1) {}
  void record(size_t cell, double secs);
  // cells: index of every loop still to run; fixed_s[i] > 0 for a cell that runs that long.
  double estimate(const std::vector<size_t>& cells, const std::vector<double>& fixed_s) const;

 private:
  std::vector<double> last_;
  double sum_ = 0;
  size_t n_ = 0;
};

}  // namespace dvs::bench

#endif
