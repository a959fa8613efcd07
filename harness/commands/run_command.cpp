// run_command: see run_command.hpp.
#include "harness/commands/run_command.hpp"

#include <memory>

#include <fmt/format.h>

#include "harness/plan/cells.hpp"
#include "harness/plan/remote_cells.hpp"
#include "harness/results/machine_info.hpp"
#include "harness/results/report.hpp"
#include "harness/run/interrupt.hpp"
#include "harness/run/private_dvsd.hpp"
#include "harness/run/progress.hpp"
#include "harness/run/runner.hpp"
#include "workloads/measure/clock.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif

namespace dvs::cli {

int run_command(const RunOptions& o) {
  const auto want = measure::parse_placement(o.placement);
  if (!want) {
    fmt::print(stderr, "dvs run: error: --placement must be cross, same or none\n");
    return 2;
  }
  const measure::CpuPair cpus = measure::choose_cpus(*want);
  if (!o.only.empty()) {
    // Before anything starts: --only that matches no cell is a mistake, not an empty run.
    RunOptions all = o;
    all.only.clear();
    std::vector<std::string> ids;
    if (!o.remote_only)
      for (const auto& c : plan_cells(all, cpus, "", "listing the cells")) ids.push_back(c.id);
    if (!o.no_remote)
      for (const auto& c : plan_remote_cells(all, cpus, std::make_shared<RemoteNodes>("", "", "listing the cells")))
        ids.push_back(c.id);
    if (const std::string e = only_matches_nothing(o.only, ids); !e.empty()) {
      fmt::print(stderr, "dvs run: error: {}\n", e);
      return 2;
    }
  }
  bench::InterruptWatch interrupt;  // before the first fork: children and dvsd ignore Ctrl-C
  const std::string source_dir = DVS_SOURCE_DIR;
  const std::string out_dir = o.out_dir.empty() ? source_dir + "/results/runs" : o.out_dir;

  RunContext ctx;
  ctx.options = &o;
  ctx.placement = cpus.describe();
  ctx.placement_note = cpus.note;
  std::string err;
  if (!make_run_dir(out_dir, utc_stamp() + "-" + short_git_sha(source_dir), &ctx.run_id,
                    &ctx.run_dir, &err)) {
    fmt::print(stderr, "dvs run: error: {}\n", err);
    return 1;
  }
  ctx.loadavg_start = loadavg();
  nlohmann::json meta = collect_machine_info(source_dir);
  meta["loadavg_start"] = ctx.loadavg_start;
  meta["run_id"] = ctx.run_id;
  meta["options"] = options_json(o);
  meta["placement"] = {{"kind", measure::placement_name(cpus.placement)},
                       {"client_cpu", cpus.client_cpu},
                       {"server_cpu", cpus.server_cpu},
                       {"note", cpus.note}};
  meta["conventions"] = run_conventions();

  // dvsd: ours, private socket, log in the run directory.
  std::string tried;
  const std::string bin = find_dvsd(o.dvsd_path, &tried);
  PrivateDvsd dvsd;
  std::string dvs_skip;
  if (bin.empty()) {
    dvs_skip = fmt::format("no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)", tried);
  } else if (o.remote_only) {
    dvs_skip = "--remote-only";
  } else if (!dvsd.start(bin, 0, ctx.run_dir + "/dvsd.log", &err)) {
    dvs_skip = "dvsd did not start: " + err;
  }
  ctx.dvsd = dvs_skip.empty() ? fmt::format("dvsd {}, node 0, DC 0, slots 10<->11", bin)
                              : "no dvsd: dvs cells skipped";
  meta["dvsd"] = {{"binary", bin}, {"error", dvs_skip}};
  if (!dvs_skip.empty() && !o.remote_only) fmt::print(stderr, "dvs run: {}\n", dvs_skip);

  std::vector<Cell> cells;
  if (!o.remote_only) cells = plan_cells(o, cpus, dvsd.socket_path(), dvs_skip);
  // The remote section (two dvsd nodes over tcp on loopback), started on first use.
  auto remote_nodes = std::make_shared<RemoteNodes>(
      bin, ctx.run_dir, bin.empty() ? "no dvsd binary (tried: " + tried + ")" : std::string());
  remote_nodes->set_poll_us(o.proxy_poll_us);
  remote_nodes->set_copy_chunk(o.proxy_copy_chunk);
  if (o.pin_nodes) remote_nodes->set_node_cpus(cpus.client_cpu, cpus.server_cpu);
  ctx.remote_dvsd_threads = remote_nodes->dvsd_threads();
  // Network namespaces for the remote nodes (and their raw TCP baselines) when this machine
  // allows them: "auto" falls back to loopback and says why, "netns" insists.
  const std::string netns_why = o.no_remote || o.remote_net == "loopback" ? "" : remote_netns_unavailable();
  if (o.remote_net == "netns" && !netns_why.empty()) {
    fmt::print(stderr, "dvs run: error: --remote-net netns: {}\n", netns_why);
    return 2;
  }
  remote_nodes->set_netns(o.remote_net != "loopback" && netns_why.empty());
  ctx.remote_network = remote_nodes->network();
  if (o.remote_net == "auto" && !netns_why.empty() && !o.no_remote) {
    ctx.remote_network += " (network namespaces unavailable: " + netns_why + ")";
    fmt::print(stderr, "dvs run: remote nodes on loopback: network namespaces unavailable: {}\n", netns_why);
  }
  if (!o.no_remote)
    for (auto& c : plan_remote_cells(o, cpus, remote_nodes)) cells.push_back(std::move(c));
  // Every cell o.repeat times, interleaved by repetition, rows written as they come
  // (bench/runner.hpp: the same path as dvs bench).
  std::vector<bench::RunItem> items;
  items.reserve(cells.size());
  for (auto& c : cells) {
    bench::RunItem it;
    it.cell = std::move(c);
    it.ctx = ctx;
    it.repetitions = o.repeat;
    items.push_back(std::move(it));
  }
  meta["repetitions"] = o.repeat;
  meta["interrupted"] = false;
  meta["finished"] = false;
  ResultsWriter writer;
  if (!writer.open(ctx.run_dir, &err) || !writer.write_meta(meta, &err)) {
    fmt::print(stderr, "dvs run: error: {}\n", err);
    return 1;
  }
  bench::Progress progress;
  bench::RunOutcome out = bench::run_items(items, writer, interrupt, progress);
  const bool failed = (!dvs_skip.empty() && !o.remote_only) || out.any_failed;
  dvsd.stop();
  remote_nodes->stop();
  finish_machine_info(meta);
  // The table shows each cell's median repetition by p50 (every repetition is a row).
  const std::vector<CellResult> results = bench::median_repetitions(out);
  if (!o.no_remote) {
    meta["remote"] = remote_nodes->describe();
    meta["remote"]["endpoint_wait"] = o.remote_wait;
    meta["remote"]["criteria"] = remote_criteria(results, o.remote_wait);
  }

  meta["loops_planned"] = out.loops_planned;
  meta["loops_run"] = out.loops_run;
  meta["interrupted"] = out.interrupted;
  meta["finished"] = true;
  if (!writer.write_meta(meta, &err) || !writer.close(&err)) out.write_error = err;

  print_table(stdout, ctx, results);
  if (o.repeat > 1)
    fmt::print("each row: the cell's median repetition by p50 of {} (interleaved by repetition; every "
               "repetition is a row of runs.jsonl)\n", o.repeat);
  if (out.interrupted)
    fmt::print("INTERRUPTED after {} of {} loops: the table and the files hold what was measured\n",
               out.loops_run, out.loops_planned);
  if (!out.write_error.empty()) {
    fmt::print(stderr, "dvs run: error: {}\n", out.write_error);
    return 1;
  }
  fmt::print("\nresults: {}/ (meta.json, runs.jsonl, runs.csv, histograms.jsonl{})\n", ctx.run_dir,
             bin.empty() ? "" : ", dvsd.log");
  std::fflush(stdout);
  if (out.interrupted) return bench::kExitInterrupted;
  return failed ? 1 : 0;
}

}  // namespace dvs::cli
