// dvs: the command line of the dvs testbed. Subcommands: run (benchmarks + baselines, one table),
// cluster (up/down/status of a multi-node cluster on this machine, docs/CLUSTERS.md).
// Usage errors print one line on stderr and exit 2.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "harness/commands/bench_command.hpp"
#include "harness/commands/cluster_command.hpp"
#include "harness/commands/compare_command.hpp"
#include "harness/commands/gate_command.hpp"
#include "harness/commands/lab_command.hpp"
#include "harness/commands/metrics_option.hpp"
#include "harness/commands/microbench_command.hpp"
#include "harness/commands/report_command.hpp"
#include "harness/commands/reproduce_command.hpp"
#include "harness/commands/rpc_command.hpp"
#include "harness/commands/run_command.hpp"
#include "harness/commands/run_options.hpp"
#include "harness/commands/web_command.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  using dvs::cli::RunOptions;
  CLI::App app{"dvs: M3-IPC-style rendezvous IPC testbed and benchmark harness", "dvs"};
  app.require_subcommand(1);

  RunOptions o;
  for (int i = 0; i < argc; ++i) o.argv_line += (i ? " " : "") + std::string(argv[i]);
  auto* run = app.add_subcommand(
      "run", "Start a private dvsd, run raw baselines and every dvs primitive x wait strategy "
             "as two-process ping-pongs, print one table, write results/runs/<run-id>/");
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
  run->add_option("--spin-ns", o.spin_ns, "Spin budget of spin-then-block, ns (default 20000)");
  run->add_option("--placement", o.placement,
                  "cross (two CPUs, default), same (one CPU) or none (unpinned)")
      ->check(CLI::IsMember({"cross", "same", "none"}));
  run->add_option("--wait", o.waits, "Wait strategies to run (default: all three)")
      ->check(CLI::IsMember({"spin", "spin-then-block", "block"}))
      ->delimiter(',');
  run->add_option("--vcopy-bytes", o.vcopy_bytes,
                  "Block size of vcopy and pipe stream, bytes (default 65536)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  run->add_option("--cell-budget", o.cell_budget_s,
                  "Seconds after which one loop stops early, marked truncated (default 15)")
      ->check(kPositive);
  run->add_option("--only", o.only,
                  "Run only cells whose id contains one of these substrings (e.g. sendrec,pipe)")
      ->delimiter(',');
  run->add_flag("--quick", o.quick, "Small iteration counts: an end-to-end smoke run");
  run->add_option("--repeat", o.repeat,
                  "Run every cell N times, interleaved by repetition (rep 1 of all cells, then rep 2, "
                  "...); each repetition is a runs.jsonl row with \"rep\", the table shows the median "
                  "one (default 1; dvs compare tests per-repetition medians from 5)")
      ->check(CLI::Range(1, 1000));
  run->add_option("--out", o.out_dir, "Parent directory of the run directory "
                                      "(default: <source>/results/runs)");
  run->add_option("--dvsd", o.dvsd_path,
                  "dvsd binary (default: $DVSD_BIN, else dvsd beside this binary)");
  // The remote section (two dvsd nodes over tcp on loopback; harness/plan/remote_cells.hpp).
  auto* no_remote = run->add_flag("--no-remote", o.no_remote,
                                  "Skip the remote section (2 nodes, tcp, loopback)");
  run->add_flag("--remote-only", o.remote_only, "Run only the remote section")->excludes(no_remote);
  run->add_option("--remote-wait", o.remote_wait,
                  "Wait strategy of the dvs endpoints in the remote section (default block)")
      ->check(CLI::IsMember({"spin", "spin-then-block", "block"}));
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

  dvs::cli::ClusterOptions co;
  auto* cluster = dvs::cli::add_cluster_command(app, &co);
  dvs::cli::add_gate_command(app);  // exits from its callback (harness/commands/gate_command.hpp)
  dvs::cli::add_microbench_command(app);  // exits from its callback (microbench_command.hpp)
  dvs::cli::add_compare_command(app);  // exits from its callback (compare_command.hpp)
  dvs::cli::add_reproduce_command(app);  // exits from its callback (reproduce_command.hpp)
  dvs::cli::add_report_command(app);  // exits from its callback (report_command.hpp)
  dvs::bench::add_bench_command(app, o.argv_line);  // exits from its callback (bench/bench_command.hpp)
  dvs::lab::add_lab_command(app);  // exits from its callback (harness/commands/lab_command.hpp)
  dvs::rpc::add_rpc_command(app);  // exits from its callback (harness/commands/rpc_command.hpp)
  dvs::web::add_web_command(app);  // exits from its callback (harness/commands/web_command.hpp)
  dvs::metrics::add_workload_metrics_option(app, "rpc");  // --metrics-port (docs/METRICS.md)
  dvs::metrics::add_workload_metrics_option(app, "web", "serve");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    while (!msg.empty() && (msg.back() == '\n')) msg.pop_back();
    for (auto& ch : msg)
      if (ch == '\n') ch = ' ';
    fmt::print(stderr, "dvs: error: {} (see dvs --help)\n", msg);
    return 2;
  }

  if (run->parsed()) {
    if (o.quick) {
      if (run->count("--iterations") == 0) o.iterations = dvs::cli::kQuickIterations;
      if (run->count("--block-iterations") == 0) o.block_iterations = dvs::cli::kQuickBlockIterations;
      if (run->count("--copy-iterations") == 0) o.copy_iterations = dvs::cli::kQuickCopyIterations;
      if (run->count("--remote-iterations") == 0) o.remote_iterations = dvs::cli::kQuickRemoteIterations;
      if (run->count("--remote-copy-iterations") == 0)
        o.remote_copy_iterations = dvs::cli::kQuickRemoteCopyIterations;
      if (run->count("--remote-pair-iterations") == 0)
        o.remote_pair_iterations = dvs::cli::kQuickRemotePairIterations;
    }
    return dvs::cli::run_command(o);
  }
  if (cluster->parsed()) return dvs::cli::run_cluster_command(cluster, co);
  return 2;
}
