// run_command: see run_command.hpp.
#include "cli/run_command.hpp"

#include <filesystem>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "cli/cells.hpp"
#include "cli/dvsd_process.hpp"
#include "cli/machine_info.hpp"
#include "cli/remote_cells.hpp"
#include "cli/report.hpp"
#include "measure/clock.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif

namespace dvs::cli {

namespace fs = std::filesystem;

namespace {

// <out_dir>/<stamp>-<sha>, with -2, -3... if that exists.
bool make_run_dir(const std::string& out_dir, const std::string& base_id, std::string* run_id,
                  std::string* dir, std::string* err) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    *err = fmt::format("cannot create {}: {}", out_dir, ec.message());
    return false;
  }
  for (int i = 1; i < 1000; ++i) {
    *run_id = i == 1 ? base_id : fmt::format("{}-{}", base_id, i);
    *dir = (fs::path(out_dir) / *run_id).string();
    if (fs::create_directory(*dir, ec)) return true;
    if (ec) {
      *err = fmt::format("cannot create {}: {}", *dir, ec.message());
      return false;
    }
  }
  *err = "too many runs with the same id";
  return false;
}

}  // namespace

int run_command(const RunOptions& o) {
  const auto want = measure::parse_placement(o.placement);
  if (!want) {
    fmt::print(stderr, "dvs run: error: --placement must be cross, same or none\n");
    return 2;
  }
  const measure::CpuPair cpus = measure::choose_cpus(*want);
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
  meta["conventions"] = {
      {"rtt", "round trip: one 64-byte message each way"},
      {"msgs_per_s", "2 * round trips / elapsed (both directions, as the original)"},
      {"mb_per_s", "bytes moved / elapsed / 1e6"},
      {"sample", "time between consecutive iteration ends (one clock_gettime + one histogram "
                 "record inside every sample, the same for dvs and baselines)"}};

  // dvsd: ours, private socket, log in the run directory.
  std::string tried;
  const std::string bin = find_dvsd(o.dvsd_path, &tried);
  DvsdProcess dvsd;
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
  if (!o.no_remote)
    for (auto& c : plan_remote_cells(o, cpus, remote_nodes)) cells.push_back(std::move(c));
  std::vector<CellResult> results;
  results.reserve(cells.size());
  bool failed = !dvs_skip.empty() && !o.remote_only;
  for (size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    fmt::print(stderr, "[{:>2}/{}] {:<36} {:<16} ", i + 1, cells.size(), c.id, c.wait);
    std::fflush(stderr);
    const uint64_t t0 = measure::now_ns();
    results.push_back(execute_cell(c));
    const auto& r = results.back();
    if (r.skipped) fmt::print(stderr, "skipped\n");
    else if (!r.ok) fmt::print(stderr, "FAILED ({:.1f} s): {}\n", double(measure::now_ns() - t0) / 1e9, r.error);
    else fmt::print(stderr, "p50 {} ({:.1f} s)\n", format_ns(double(r.summary.p50)), double(measure::now_ns() - t0) / 1e9);
    if (!r.skipped && !r.ok) failed = true;
  }
  dvsd.stop();
  remote_nodes->stop();
  meta["loadavg_end"] = loadavg();
  attach_ratios(results);
  if (!o.no_remote) {
    meta["remote"] = remote_nodes->describe();
    meta["remote"]["endpoint_wait"] = o.remote_wait;
    meta["remote"]["criteria"] = remote_criteria(results);
  }

  print_table(stdout, ctx, results);
  if (!write_results(ctx, meta, results, &err)) {
    fmt::print(stderr, "dvs run: error: {}\n", err);
    return 1;
  }
  fmt::print("\nresults: {}/ (meta.json, runs.jsonl, runs.csv, histograms.jsonl{})\n", ctx.run_dir,
             bin.empty() ? "" : ", dvsd.log");
  std::fflush(stdout);
  return failed ? 1 : 0;
}

}  // namespace dvs::cli
