// dvs bench: see bench_command.hpp.
#include "harness/commands/bench_command.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/commands/common_options.hpp"
#include "harness/plan/bench_plan.hpp"
#include "harness/plan/scenario.hpp"
#include "harness/results/machine_info.hpp"
#include "harness/results/report.hpp"
#include "harness/run/bench_nodes.hpp"
#include "harness/run/interrupt.hpp"
#include "harness/run/private_dvsd.hpp"
#include "harness/run/progress.hpp"
#include "harness/run/runner.hpp"
#include "workloads/measure/placement.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif

namespace dvs::bench {

namespace {

using nlohmann::json;

json settings_json(const Settings& s) {
  json j = {{"repetitions", s.repetitions},       {"warmup", s.warmup},
            {"spin_ns", s.spin_ns},               {"cell_budget_s", s.cell_budget_s},
            {"cross_node_pinning", s.cross_node_pinning}};
  if (s.duration_s > 0) {
    j["duration_s"] = s.duration_s;
  } else {
    j["samples"] = s.samples;
    j["block_samples"] = s.block_samples;
    j["copy_samples"] = s.copy_samples;
    j["remote_samples"] = s.remote_samples;
    j["remote_copy_samples"] = s.remote_copy_samples;
  }
  return j;
}

// The scenario as resolved (defaults applied, sizes expanded): what the run measured.
json scenario_json(const Scenario& s) {
  json ms = json::array();
  for (const auto& m : s.matrices) {
    json sizes = json::array();
    for (const auto& p : m.sizes) sizes.push_back(p.bytes);
    ms.push_back({{"name", m.name},
                  {"line", m.line},
                  {"transports", m.transports},
                  {"primitives", m.primitives},
                  {"waits", m.waits},
                  {"placements", m.placements},
                  {"sizes", sizes},
                  {"extra_baselines", m.extra_baselines},
                  {"settings", settings_json(m.settings)}});
    if (!m.pairs.empty()) ms.back()["pairs"] = m.pairs;
  }
  return {{"file", s.source}, {"name", s.name}, {"description", s.description}, {"matrices", ms}};
}

std::string loop_text(const RunItem& it) {
  return it.duration_s > 0 ? fmt::format("{} s", it.duration_s) : fmt::format("{} samples", it.cell.iterations);
}

void print_plan(std::FILE* out, const Scenario& s, const Plan& p, bool quick) {
  size_t loops = 0, dvs = 0, skipped = 0;
  double fixed_s = 0;
  for (const auto& it : p.items) {
    loops += size_t(it.repetitions);
    dvs += it.cell.dvs;
    skipped += !it.cell.skip_reason.empty();
    if (it.cell.skip_reason.empty()) fixed_s += it.duration_s * it.repetitions;
  }
  fmt::print(out, "dvs bench \"{}\" ({}){}: {} cells ({} dvs, {} baselines), {} loops with repetitions, "
                  "{} cells planned as skipped\n",
             s.name, s.source, quick ? " --quick" : "", p.items.size(), dvs, p.items.size() - dvs, loops,
             skipped);
  if (fixed_s > 0) fmt::print(out, "loops run by duration: {:.1f} s in all (plus setup)\n", fixed_s);
  constexpr const char* kFmt = "{:<52} {:>16} {:>5}  {}\n";
  fmt::print(out, kFmt, "cell", "loop", "reps", "baseline / skipped");
  fmt::print(out, "{}\n", std::string(120, '-'));
  for (const auto& it : p.items)
    fmt::print(out, kFmt, it.cell.id, loop_text(it), it.repetitions,
               !it.cell.skip_reason.empty() ? "skipped: " + it.cell.skip_reason
                                            : (it.cell.baseline.empty() ? "-" : it.cell.baseline));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string rate_text(const cli::Cell& c, double per_s) {
  if (c.kind == cli::CellKind::Copy) return fmt::format("{:.0f} MB/s", per_s);
  if (per_s >= 1e6) return fmt::format("{:.2f} M msg/s", per_s / 1e6);
  return fmt::format("{:.1f} k msg/s", per_s / 1e3);
}

// One line per cell: medians over its ok repetitions.
void print_summary(std::FILE* out, const Scenario& s, const std::string& run_id, const Plan& p,
                   const RunOutcome& o) {
  std::map<const cli::Cell*, std::vector<const cli::CellResult*>> by_cell;
  for (const auto& group : o.reps)
    for (const auto& r : group) by_cell[r.cell].push_back(&r);
  fmt::print(out, "dvs bench \"{}\" ({}), run {}{}\n", s.name, s.source, run_id,
             o.interrupted ? fmt::format(" -- INTERRUPTED after {} of {} loops", o.loops_run, o.loops_planned) : "");
  fmt::print(out, "RTT = round trip of one 64-byte message each way; copy rows: one-way time per block, "
                  "MB = 1e6 B; msgs/s counts both directions.\n"
                  "Columns are medians over a cell's ok repetitions; \"vs baseline\": {}; the median of "
                  "the per-repetition ratios, each repetition against the baseline of the same repetition.\n\n",
             cli::kRatioLegend);
  constexpr const char* kFmt = "{:<52} {:>5} {:>10} {:>10} {:>15}  {}\n";
  fmt::print(out, kFmt, "cell", "ok", "p50", "p99", "rate", "vs baseline");
  fmt::print(out, "{}\n", std::string(120, '-'));
  for (const auto& it : p.items) {
    const auto f = by_cell.find(&it.cell);
    if (f == by_cell.end()) continue;
    std::vector<double> p50, p99, rate;
    std::string why;
    for (const auto* r : f->second) {
      if (!r->ok) {
        why = (r->skipped ? "skipped: " : "FAILED: ") + r->error;
        continue;
      }
      p50.push_back(double(r->summary.p50));
      p99.push_back(double(r->summary.p99));
      rate.push_back(r->per_s);
    }
    const std::string ok = fmt::format("{}/{}", p50.size(), f->second.size());
    if (p50.empty()) {
      fmt::print(out, kFmt, it.cell.id, ok, "-", "-", "-", why);
      continue;
    }
    std::string vs = cli::ratio_column(f->second);
    if (!why.empty()) vs += (vs.empty() ? "" : "; ") + why;
    fmt::print(out, kFmt, it.cell.id, ok, cli::format_ns(median(p50)), cli::format_ns(median(p99)),
               rate_text(it.cell, median(rate)), vs);
  }
  fmt::print(out, "{}\n", std::string(120, '-'));
}

}  // namespace

int run_bench(const BenchOptions& o) {
  Scenario s;
  if (auto err = parse_scenario_file(o.scenario, &s); !err.empty()) {
    fmt::print(stderr, "dvs bench: error: {}\n", err);
    return 2;
  }
  if (o.quick) apply_quick(&s);
  {
    Plan check;  // validates the plan (cells planned twice) before anything starts
    if (auto err = plan_scenario(s, nullptr, "", &check); !err.empty()) {
      fmt::print(stderr, "dvs bench: error: {}\n", err);
      return 2;
    }
    if (o.dry_run) {
      print_plan(stdout, s, check, o.quick);
      return 0;
    }
  }

  InterruptWatch interrupt;  // before the first fork: children and dvsd ignore the terminal's Ctrl-C
  const std::string source_dir = DVS_SOURCE_DIR;
  const std::string out_dir = o.out_dir.empty() ? source_dir + "/results/runs" : o.out_dir;
  std::string run_id, run_dir, err;
  if (!cli::make_run_dir(out_dir, fmt::format("{}-{}-{}", cli::utc_stamp(), cli::short_git_sha(source_dir), s.name),
                         &run_id, &run_dir, &err)) {
    fmt::print(stderr, "dvs bench: error: {}\n", err);
    return 1;
  }
  std::error_code ec;
  std::filesystem::copy_file(o.scenario, run_dir + "/scenario.toml", ec);

  std::string tried;
  const std::string bin = cli::find_dvsd(o.dvsd_path, &tried);
  auto nodes = std::make_shared<BenchNodes>(
      bin, run_dir, bin.empty() ? fmt::format("no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)", tried) : "");
  Plan plan;
  if (auto perr = plan_scenario(s, nodes, run_id, &plan); !perr.empty()) {
    fmt::print(stderr, "dvs bench: error: {}\n", perr);
    return 2;
  }
  nodes->set_copylen(plan.local_copylen, plan.remote_copylen);

  json meta = cli::collect_machine_info(source_dir);
  meta["run_id"] = run_id;
  meta["command"] = "dvs bench";
  meta["loadavg_start"] = cli::loadavg();
  meta["scenario"] = scenario_json(s);
  meta["options"] = {{"quick", o.quick}, {"argv", o.argv_line}, {"out", out_dir}};
  meta["placements"] = {
      {"same-core", measure::choose_cpus(measure::Placement::Same).describe()},
      {"cross-core", measure::choose_cpus(measure::Placement::Cross).describe()},
      {"unpinned", measure::choose_cpus(measure::Placement::None).describe()},
      {"cross_core_note", measure::choose_cpus(measure::Placement::Cross).note},
      {"cross_node", "client on node 0, server on node 1 (one dvsd each, linked by the cell's transport, "
                     "dvsd unpinned); the measuring processes pinned per cross_node_pinning"}};
  meta["conventions"] = cli::run_conventions();
  meta["interleaving"] = "repetition-major: repetition 1 of every cell, then repetition 2, ...";
  size_t loops = 0;
  for (const auto& it : plan.items) loops += size_t(it.repetitions);
  meta["loops_planned"] = loops;
  meta["interrupted"] = false;
  meta["finished"] = false;
  cli::ResultsWriter writer;
  if (!writer.open(run_dir, &err) || !writer.write_meta(meta, &err)) {
    fmt::print(stderr, "dvs bench: error: {}\n", err);
    return 1;
  }

  Progress progress;
  RunOutcome out = run_items(plan.items, writer, interrupt, progress);
  nodes->stop();
  cli::finish_machine_info(meta);
  meta["dvsd"] = nodes->describe();
  meta["loops_planned"] = out.loops_planned;
  meta["loops_run"] = out.loops_run;
  meta["interrupted"] = out.interrupted;
  meta["finished"] = true;
  if (!writer.write_meta(meta, &err) || !writer.close(&err)) out.write_error = err;

  print_summary(stdout, s, run_id, plan, out);
  fmt::print("results: {}/ (meta.json, runs.jsonl, runs.csv, histograms.jsonl, scenario.toml, dvsd logs)\n",
             run_dir);
  std::fflush(stdout);
  if (!out.write_error.empty()) {
    fmt::print(stderr, "dvs bench: error: {}\n", out.write_error);
    return 1;
  }
  if (out.interrupted) return kExitInterrupted;
  return out.any_failed ? 1 : 0;
}

cli::Command make_bench_command(const std::string& argv_line) {
  auto o = std::make_shared<BenchOptions>();
  o->argv_line = argv_line;
  cli::Command c;
  c.name = "bench";
  c.help = "Run a scenario file's matrix (transport x primitive x size x placement x wait) with "
           "its raw baselines and repetitions; write results/runs/<run-id>/ (docs/BENCH.md)";
  c.add_options = [o](CLI::App* cmd) {
    cmd->add_option("SCENARIO", o->scenario, "Scenario file (TOML), e.g. harness/scenarios/default.toml")
        ->required();
    cli::add_out_option(cmd, &o->out_dir, "results/runs");
    cli::add_quick_option(cmd, &o->quick, "Cap every count");
    cmd->add_flag("--dry-run", o->dry_run, "Validate the scenario and print the planned cells; run nothing");
    cli::add_dvsd_option(cmd, &o->dvsd_path);
  };
  c.run = [o] { return run_bench(*o); };
  return c;
}

}  // namespace dvs::bench
