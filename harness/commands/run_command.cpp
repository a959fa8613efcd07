// run_command: see run_command.hpp.
#include "harness/commands/run_command.hpp"

#include <cstdlib>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "harness/commands/common_options.hpp"
#include "harness/plan/cells.hpp"
#include "harness/plan/remote_cells.hpp"
#include "harness/results/criteria.hpp"
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
  ctx.warmup = o.warmup;
  ctx.spin_ns = o.spin_ns;
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

  print_table(stdout, ctx, o, results);
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
  // The remote criteria are printed (print_remote_section) when the remote section ran.
  const nlohmann::json criteria = o.no_remote ? nlohmann::json::array() : meta["remote"]["criteria"];
  const int status = criteria_exit_status(failed ? 1 : 0, o.fail_on_criteria, criteria);
  if (status == 1 && !failed) fmt::print(stderr, "dvs run: --fail-on-criteria: a remote criterion was MISSED (exit 1)\n");
  return status;
}

namespace {

// "N must be a positive number" instead of CLI11's range dump.
const CLI::Validator kPositive(
    [](std::string& v) -> std::string {
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || !(d > 0)) return "must be a positive number, not '" + v + "'";
      return "";
    },
    "POSITIVE");

void add_run_options(CLI::App* run, RunOptions& o) {
  run->add_option("--iterations", o.iterations,
                  "Timed round trips under spin and spin-then-block (default 500000; --quick 5000)")
      ->check(kPositive);
  run->add_option("--block-iterations", o.block_iterations,
                  "Timed round trips under block (default 10000; --quick 200)")
      ->check(kPositive);
  run->add_option("--copy-iterations", o.copy_iterations,
                  "Timed blocks of vcopy and pipe stream (default 5000; --quick 200)")
      ->check(kPositive);
  run->add_option("--warmup", o.warmup, "Untimed iterations before each loop (default 10)");
  add_spin_ns_option(run, &o.spin_ns);
  add_placement_option(run, &o.placement);
  add_waits_option(run, &o.waits, "Wait strategies to run");
  run->add_option("--vcopy-bytes", o.vcopy_bytes,
                  "Block size of vcopy and pipe stream, bytes (default 65536)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  run->add_option("--cell-budget", o.cell_budget_s,
                  "Seconds after which one loop stops early, marked truncated (default 15)")
      ->check(kPositive);
  run->add_option("--only", o.only,
                  "Run only cells whose id contains one of these substrings (e.g. sendrec,pipe)")
      ->delimiter(',');
  add_quick_option(run, &o.quick, "Small iteration counts");
  run->add_option("--repeat", o.repeat,
                  "Run every cell N times, interleaved by repetition (rep 1 of all cells, then rep 2, "
                  "...); each repetition is a runs.jsonl row with \"rep\", the table shows the median "
                  "one (default 1; dvs compare tests per-repetition medians from 5)")
      ->check(CLI::Range(1, 1000));
  add_out_option(run, &o.out_dir, "results/runs");
  add_fail_on_criteria_option(run, &o.fail_on_criteria);
  add_dvsd_option(run, &o.dvsd_path);
  // The remote section (two dvsd nodes over tcp on loopback; harness/plan/remote_cells.hpp).
  auto* no_remote = run->add_flag("--no-remote", o.no_remote,
                                  "Skip the remote section (2 nodes, tcp, loopback)");
  run->add_flag("--remote-only", o.remote_only, "Run only the remote section")->excludes(no_remote);
  add_wait_option(run, &o.remote_wait, "the dvs endpoints in the remote section", "--remote-wait");
  run->add_option("--proxy-poll-us", o.proxy_poll_us,
                  "dvsd --poll-us of both remote nodes: proxies poll this long after traffic before "
                  "sleeping (default 0: they block)")->check(CLI::Range(0, 1000000));
  run->add_option("--remote-net", o.remote_net,
                  "Where the remote nodes and raw TCP rows run: auto (network namespaces joined by "
                  "veth pairs if this machine allows, else loopback), netns, loopback (default auto)")
      ->check(CLI::IsMember({"auto", "netns", "loopback"}));
  run->add_option("--proxy-copy-chunk", o.proxy_copy_chunk,
                  "dvsd --copy-chunk of both remote nodes: vcopy bytes per frame (default: dvsd's)")
      ->check(CLI::Range(4096, 1 << 20));
  run->add_flag_callback("--dvsd-unpinned", [&o] { o.pin_nodes = false; }, "Let the remote nodes' dvsd threads float over all CPUs "
                              "(default: each node's dvsd is pinned to the CPU of its measuring process)");
  run->add_option("--remote-iterations", o.remote_iterations,
                  "Round trips of each remote RTT row and of raw TCP ping-pong (default 5000; "
                  "--quick 200)")->check(kPositive);
  run->add_option("--remote-copy-iterations", o.remote_copy_iterations,
                  "1 MiB blocks of each remote vcopy row and of raw TCP stream (default 500; "
                  "--quick 20)")->check(kPositive);
  run->add_option("--remote-pair-iterations", o.remote_pair_iterations,
                  "Round trips of each remote pairs row, over all its pairs (default 8000; "
                  "--quick 400)")->check(kPositive);
}

// --quick: the small counts, for each count not given on the command line.
void apply_quick(const CLI::App& run, RunOptions& o) {
  if (!o.quick) return;
  if (run.count("--iterations") == 0) o.iterations = kQuickIterations;
  if (run.count("--block-iterations") == 0) o.block_iterations = kQuickBlockIterations;
  if (run.count("--copy-iterations") == 0) o.copy_iterations = kQuickCopyIterations;
  if (run.count("--remote-iterations") == 0) o.remote_iterations = kQuickRemoteIterations;
  if (run.count("--remote-copy-iterations") == 0) o.remote_copy_iterations = kQuickRemoteCopyIterations;
  if (run.count("--remote-pair-iterations") == 0) o.remote_pair_iterations = kQuickRemotePairIterations;
}

struct RunCommand {
  RunOptions o;
  CLI::App* app = nullptr;
};

}  // namespace

Command make_run_command(const std::string& argv_line) {
  auto state = std::make_shared<RunCommand>();
  state->o.argv_line = argv_line;
  Command c;
  c.name = "run";
  c.help = "Start a private dvsd, run raw baselines and every dvs primitive x wait strategy as two-process "
           "ping-pongs, print one table, write results/runs/<run-id>/";
  c.add_options = [state](CLI::App* run) {
    state->app = run;
    add_run_options(run, state->o);
  };
  c.run = [state] {
    apply_quick(*state->app, state->o);
    return run_command(state->o);
  };
  return c;
}

}  // namespace dvs::cli
