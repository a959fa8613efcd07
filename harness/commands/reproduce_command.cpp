// dvs reproduce m3ipc: see reproduce_command.hpp. The cells are harness/scenarios/m3ipc.toml,
// planned and run as `dvs bench` runs a scenario (plan_scenario, run_items: repetitions
// interleaved, every row written as it is measured); the published figures are
// harness/scenarios/m3ipc-published.toml, compared with each cell's median repetition.
#include "harness/commands/reproduce_command.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/commands/common_options.hpp"
#include "harness/plan/bench_plan.hpp"
#include "harness/plan/scenario.hpp"
#include "harness/results/machine_info.hpp"
#include "harness/results/published.hpp"
#include "harness/results/report.hpp"
#include "harness/run/bench_nodes.hpp"
#include "harness/run/interrupt.hpp"
#include "harness/run/progress.hpp"
#include "harness/run/runner.hpp"
#include "workloads/measure/clock.hpp"
#include "workloads/measure/placement.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif

namespace dvs::cli {

using nlohmann::json;

Command make_reproduce_command() {
  auto o = std::make_shared<ReproduceOptions>();
  Command c;
  c.name = "reproduce";
  c.help = "Re-run the original M3-IPC evaluation (Pessolani's thesis benchmarks) here and print each "
           "table with the published figures and ratios normalised to a common baseline";
  c.add_options = [o](CLI::App* sub) {
    sub->add_option("experiment", o->experiment, "Which evaluation (only: m3ipc)")
        ->required()
        ->check(CLI::IsMember({"m3ipc"}));
    add_quick_option(sub, &o->quick, "Cap every count (bench's --quick), one repetition");
    add_out_option(sub, &o->out_dir, "results/reproduce");
    add_dvsd_option(sub, &o->dvsd_path);
    sub->add_option("--scenario", o->scenario, "The cells (default <source>/harness/scenarios/m3ipc.toml)");
    sub->add_option("--published", o->published,
                    "Published figures (default <source>/harness/scenarios/m3ipc-published.toml)");
    sub->add_option("--reps", o->reps, "Repetitions per cell, median reported (default: the scenario's; --quick 1)")
        ->check(CLI::Range(1, 50));
  };
  c.run = [o] { return run_reproduce(*o); };
  return c;
}

int run_reproduce(const ReproduceOptions& o) {
  const auto t_start = measure::now_ns();
  const std::string source_dir = DVS_SOURCE_DIR;
  const std::string scenario_path = o.scenario.empty() ? source_dir + "/harness/scenarios/m3ipc.toml" : o.scenario;
  const std::string pub_path =
      o.published.empty() ? source_dir + "/harness/scenarios/m3ipc-published.toml" : o.published;

  bench::Scenario s;
  if (auto err = bench::parse_scenario_file(scenario_path, &s); !err.empty()) {
    fmt::print(stderr, "dvs reproduce: error: {}\n", err);
    return 2;
  }
  if (o.quick) bench::apply_quick(&s);
  for (auto& m : s.matrices)
    if (o.reps > 0 || o.quick) m.settings.repetitions = o.reps > 0 ? o.reps : 1;
  PublishedFigures pub;
  if (auto err = parse_published_file(pub_path, &pub); !err.empty()) {
    fmt::print(stderr, "dvs reproduce: error: published figures: {}\n", err);
    return 2;
  }
  {
    bench::Plan check;  // the plan is valid and every figure has its cell, before anything starts
    if (auto err = bench::plan_scenario(s, nullptr, "", &check); !err.empty()) {
      fmt::print(stderr, "dvs reproduce: error: {}\n", err);
      return 2;
    }
    std::set<std::string> ids;
    for (const auto& it : check.items) ids.insert(it.cell.id);
    if (auto err = check_published_cells(pub, ids); !err.empty()) {
      fmt::print(stderr, "dvs reproduce: error: {}\n", err);
      return 2;
    }
  }

  bench::InterruptWatch interrupt;  // before the first fork: children and dvsd ignore the terminal's Ctrl-C
  const std::string out_dir = o.out_dir.empty() ? source_dir + "/results/reproduce" : o.out_dir;
  std::string run_id, run_dir, err;
  if (!make_run_dir(out_dir, fmt::format("{}-{}-m3ipc", utc_stamp(), short_git_sha(source_dir)), &run_id, &run_dir,
                    &err)) {
    fmt::print(stderr, "dvs reproduce: error: {}\n", err);
    return 1;
  }
  std::error_code ec;
  std::filesystem::copy_file(scenario_path, run_dir + "/scenario.toml", ec);
  std::filesystem::copy_file(pub_path, run_dir + "/published.toml", ec);

  std::string tried;
  const std::string bin = find_dvsd(o.dvsd_path, &tried);
  auto nodes = std::make_shared<bench::BenchNodes>(
      bin, run_dir, bin.empty() ? fmt::format("no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)", tried) : "");
  bench::Plan plan;
  if (auto perr = bench::plan_scenario(s, nodes, run_id, &plan); !perr.empty()) {
    fmt::print(stderr, "dvs reproduce: error: {}\n", perr);
    return 2;
  }
  nodes->set_copylen(plan.local_copylen, plan.remote_copylen);

  json meta = collect_machine_info(source_dir);
  meta["run_id"] = run_id;
  meta["command"] = "dvs reproduce m3ipc";
  meta["loadavg_start"] = loadavg();
  meta["scenario_file"] = scenario_path;
  meta["published_file"] = pub_path;
  meta["published"] = {{"system", pub.system}, {"source", pub.source}, {"conventions", pub.conventions}};
  meta["options"] = {{"quick", o.quick}, {"reps", s.matrices.front().settings.repetitions}, {"out", out_dir}};
  meta["placements"] = {{"same-core", measure::choose_cpus(measure::Placement::Same).describe()},
                        {"cross-core", measure::choose_cpus(measure::Placement::Cross).describe()},
                        {"unpinned", measure::choose_cpus(measure::Placement::None).describe()},
                        {"cross_core_note", measure::choose_cpus(measure::Placement::Cross).note}};
  meta["conventions"] = run_conventions();
  meta["interleaving"] = "repetition-major: repetition 1 of every cell, then repetition 2, ...";
  meta["finished"] = false;
  ResultsWriter writer;
  if (!writer.open(run_dir, &err) || !writer.write_meta(meta, &err)) {
    fmt::print(stderr, "dvs reproduce: error: {}\n", err);
    return 1;
  }

  bench::Progress progress;
  bench::RunOutcome out = bench::run_items(plan.items, writer, interrupt, progress);
  nodes->stop();
  finish_machine_info(meta);
  std::map<std::string, OurCell> ours;
  for (const auto& it : plan.items) ours[it.cell.id].placement = it.ctx.placement;
  for (const auto& r : bench::median_repetitions(out))
    if (r.ok) ours[r.cell->id].per_s = r.per_s;
  const auto tables = compare_published(pub, ours);

  const double secs = double(measure::now_ns() - t_start) / 1e9;
  const std::string git_sha = meta["git"]["sha"].is_string() ? meta["git"]["sha"].get<std::string>().substr(0, 10) : "?";
  std::string md = fmt::format("## dvs reproduce m3ipc — run {}\n\n", run_id);
  md += fmt::format("Machine: {}, {} CPUs allowed, kernel {}, {}; load average at start {} / end {}; git {}{}; "
                    "{} repetition(s) per cell (median shown){}; run time {:.0f} s.\n\n",
                    meta.value("cpu_model", std::string("?")), measure::allowed_cpus().size(),
                    meta.value("kernel", std::string("?")), meta.value("date", std::string("?")),
                    meta.value("loadavg_start", std::string("?")), meta.value("loadavg_end", std::string("?")), git_sha,
                    meta["git"].value("dirty", false) ? " (dirty)" : "", s.matrices.front().settings.repetitions,
                    o.quick ? ", --quick (smoke counts: not a measurement)" : "", secs);
  md += "Columns: published figure; ours; each divided by its table's base (published by the published base, "
        "ours by ours, measured in the same run); last column = ours-normalised / published-normalised "
        "(1.00 = the same shape as the paper). Message rates count both directions of each round trip.\n\n";
  json tj = json::array();
  for (const auto& t : tables) {
    md += comparison_markdown(t);
    tj.push_back(comparison_json(t));
  }
  {
    std::ofstream f(run_dir + "/reproduce.md");
    f << md;
  }
  meta["dvsd"] = nodes->describe();
  meta["loops_planned"] = out.loops_planned;
  meta["loops_run"] = out.loops_run;
  meta["interrupted"] = out.interrupted;
  meta["finished"] = true;
  meta["run_seconds"] = secs;
  meta["tables"] = tj;
  if (!writer.write_meta(meta, &err) || !writer.close(&err)) out.write_error = err;

  std::fwrite(md.data(), 1, md.size(), stdout);
  fmt::print("results: {}/ (reproduce.md, meta.json, runs.jsonl, runs.csv, histograms.jsonl, scenario.toml, "
             "published.toml, dvsd logs)\n",
             run_dir);
  std::fflush(stdout);
  if (!out.write_error.empty()) {
    fmt::print(stderr, "dvs reproduce: error: {}\n", out.write_error);
    return 1;
  }
  if (out.interrupted) return bench::kExitInterrupted;
  return out.any_failed ? 1 : 0;
}

}  // namespace dvs::cli
