#include "harness/commands/gate_command.hpp"

#include <memory>

#include <CLI/CLI.hpp>

#include "harness/gate/gate.hpp"

namespace dvs::cli {

Command make_gate_command() {
  auto o = std::make_shared<dvs::gate::GateOptions>();
  Command c;
  c.name = "gate";
  c.help = "Instruction-count regression gate: each hot-path cell of dvs_gate_work under "
           "valgrind --tool=callgrind, Ir/iteration compared with a baseline; exit 1 on a regression";
  c.add_options = [o](CLI::App* g) {
    g->add_option("--baseline", o->baseline, "Baseline: a .json file, or a directory of gate-<CPU vendor>.json files (default <source>/results/baselines)");
    g->add_flag("--update", o->update, "Record the baseline (with compiler, flags, glibc, valgrind, CPU) instead");
    g->add_option("--threshold", o->threshold_pct, "Fail on a cell slower than this, % (default 3)")
        ->check(CLI::PositiveNumber);
    g->add_option("--cells", o->cells, "Only these cells (default all; dvs_gate_work --list)")->delimiter(',');
    g->add_option("--repeat", o->repeat, "Callgrind runs per cell; > 1 shows their spread (default 1)")
        ->check(CLI::Range(1, 100));
    g->add_option("--inject", o->inject,
                  "Test the gate: CELL=F makes CELL do F x more work (e.g. wire_codec=0.1)");
    g->add_option("--out", o->out, "Also write the measured figures (baseline format) to this file");
    g->add_option("--work", o->work, "Gate workload (default $DVS_GATE_WORK, else dvs_gate_work beside dvs)");
    g->add_option("--valgrind", o->valgrind, "valgrind binary (default: from PATH)");
    g->add_option("--jobs", o->jobs, "Callgrind runs at a time (default 2)")->check(CLI::Range(1, 64));
  };
  c.run = [o] { return dvs::gate::run_gate(*o); };
  return c;
}

}  // namespace dvs::cli
