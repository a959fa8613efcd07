// `dvs gate`: a CI regression gate on instruction counts (harness/README.md, "dvs gate").
//
// Every cell of dvs_gate_work (harness/gate/gate_work.cpp) runs a fixed number of iterations
// under `valgrind --tool=callgrind --toggle-collect=dvs_gate_measured`; Ir per iteration minus
// the empty loop's is compared with a baseline file. Instruction counts of a deterministic
// single-threaded loop do not depend on load, frequency or the other vCPU: run to run they are
// equal, so the threshold (default 3 %) is far above the noise and a real change is not lost in it.
// They do depend on the compiler, flags, glibc, valgrind and the CPU features glibc dispatches
// on: a baseline recorded under other ones is not compared ("gate skipped: baseline from ...").
#ifndef DVS_HARNESS_GATE_GATE_HPP
#define DVS_HARNESS_GATE_GATE_HPP

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dvs::gate {

struct GateOptions {
  std::string baseline;        // a .json file, or a directory of gate-<cpu vendor>.json files ("" =
                               // <source>/results/baselines); a directory without this vendor's
                               // file skips the gate (exit 0), a missing file is an error
  bool update = false;         // record the baseline instead of comparing
  double threshold_pct = 3.0;  // a cell slower than this fails the gate
  std::vector<std::string> cells;  // empty = all
  int repeat = 1;              // callgrind runs per cell (> 1: the table shows their spread)
  std::string inject;          // CELL=F, passed to dvs_gate_work (tests of the gate)
  std::string out;             // also write the measured figures here (JSON, baseline format)
  std::string work;            // dvs_gate_work ("" = $DVS_GATE_WORK, else beside this binary)
  std::string valgrind;        // "" = valgrind from PATH
  int jobs = 2;                // callgrind runs at a time
};

// Exit status: 0 passed (or skipped, or recorded), 1 a cell is slower than the threshold (or
// noisier than half of it), 2 cannot run (no valgrind, no baseline, bad input).
int run_gate(const GateOptions& o);

// ---- pure parts (unit-tested) ----

// The fields of "build" that must be equal for counts to be comparable.
const std::vector<std::string>& comparable_keys();
// "" if base and now (the "build" objects) are comparable, else a one-line description of base.
std::string incomparable_reason(const nlohmann::json& base, const nlohmann::json& now);

struct Verdict {
  std::string word;  // "ok", "SLOWER", "faster", "new", "NOISY"
  bool fails = false;
  double change_pct = 0;  // now vs baseline
};
// spread_pct: (max - min) / min of the repeated runs of this cell (0 with one run).
Verdict judge(double base_ir, bool has_base, double now_ir, double spread_pct, double threshold_pct);

// "summary:" (or "totals:") of a callgrind output file; -1 if none.
long long callgrind_total(const std::string& callgrind_out_text);

}  // namespace dvs::gate

#endif
