// dvs microbench: see microbench_command.hpp.
#include "harness/commands/microbench_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/cluster/exec.hpp"
#include "harness/commands/common_options.hpp"
#include "harness/results/machine_info.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif
#ifndef DVS_MICROBENCH_BINS
#define DVS_MICROBENCH_BINS ""
#endif

namespace dvs::cli {

namespace fs = std::filesystem;

namespace {

struct MicrobenchOptions {
  std::string out_dir;     // "" = <source>/results/microbench
  std::string filter;      // --benchmark_filter
  int repetitions = 5;     // medians of this many runs of each benchmark
  bool quick = false;      // 1 repetition, 10 ms per benchmark: a smoke run, not a measurement
  std::vector<std::string> bins;  // "" = the built ones (DVS_MICROBENCH_BINS)
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string human_rate(double bytes_per_s) {
  if (bytes_per_s >= 1e9) return fmt::format("{:.2f} GB/s", bytes_per_s / 1e9);
  if (bytes_per_s >= 1e6) return fmt::format("{:.1f} MB/s", bytes_per_s / 1e6);
  return fmt::format("{:.0f} B/s", bytes_per_s);
}

// The rows to print from one binary's JSON: the medians (or the single runs with --quick).
std::vector<nlohmann::json> summary_rows(const nlohmann::json& j, bool aggregates) {
  std::vector<nlohmann::json> rows;
  if (!j.contains("benchmarks") || !j["benchmarks"].is_array()) return rows;
  for (const auto& b : j["benchmarks"]) {
    const bool is_median = b.value("aggregate_name", "") == "median";
    if (aggregates ? is_median : b.value("run_type", "") == "iteration") rows.push_back(b);
  }
  return rows;
}

int run_microbench(const MicrobenchOptions& o) {
  const std::string source_dir = DVS_SOURCE_DIR;
  const std::vector<std::string> bins = o.bins.empty() ? split(DVS_MICROBENCH_BINS, ':') : o.bins;
  if (bins.empty()) {
    fmt::print(stderr, "dvs microbench: error: no microbenchmark binaries were built into this dvs\n");
    return 2;
  }
  const std::string out_dir = o.out_dir.empty() ? source_dir + "/results/microbench" : o.out_dir;
  const std::string run_id = utc_stamp() + "-" + short_git_sha(source_dir);
  std::string dir = (fs::path(out_dir) / run_id).string();
  std::error_code ec;
  for (int i = 2; fs::exists(dir, ec) && i < 1000; ++i) dir = (fs::path(out_dir) / fmt::format("{}-{}", run_id, i)).string();
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "dvs microbench: error: cannot create {}: {}\n", dir, ec.message());
    return 2;
  }
  const int reps = o.quick ? 1 : o.repetitions;
  nlohmann::json meta = collect_machine_info(source_dir);
  meta["run_id"] = fs::path(dir).filename().string();
  meta["kind"] = "microbench";
  meta["repetitions"] = reps;
  meta["quick"] = o.quick;
  meta["filter"] = o.filter;
  meta["loadavg_start"] = loadavg();
  meta["conventions"] = {{"figures", "medians over the repetitions of Google Benchmark's real_time per iteration"},
                         {"bytes_per_second", "one way"}};
  nlohmann::json files = nlohmann::json::array();
  int failed = 0;
  fmt::print("{:<44} {:>14} {:>14}  {}\n", "benchmark", "median time", "median rate", "binary");
  for (const auto& bin : bins) {
    const std::string name = fs::path(bin).filename().string();
    const std::string json_path = dir + "/" + name + ".json";
    std::vector<std::string> argv = {bin, "--benchmark_out=" + json_path, "--benchmark_out_format=json",
                                     "--benchmark_repetitions=" + std::to_string(reps)};
    if (reps > 1) argv.push_back("--benchmark_report_aggregates_only=true");
    if (o.quick) argv.push_back("--benchmark_min_time=0.01");
    if (!o.filter.empty()) argv.push_back("--benchmark_filter=" + o.filter);
    const cluster::ExecResult r = cluster::run_command(argv, 900'000);
    std::ofstream(dir + "/" + name + ".txt") << r.output;
    nlohmann::json j;
    if (r.ok()) {
      std::ifstream in(json_path);
      j = nlohmann::json::parse(in, nullptr, false);
    }
    if (!r.ok() || j.is_discarded()) {
      fmt::print(stderr, "dvs microbench: {} failed: {} (output in {}/{}.txt)\n", name,
                 r.ok() ? "its JSON output does not parse" : r.reason(), dir, name);
      files.push_back({{"binary", bin}, {"ok", false}, {"error", r.ok() ? "bad JSON" : r.reason()}});
      ++failed;
      continue;
    }
    files.push_back({{"binary", bin}, {"ok", true}, {"json", name + ".json"}});
    for (const auto& b : summary_rows(j, reps > 1)) {
      const std::string unit = b.value("time_unit", "ns");
      const std::string rate = b.contains("bytes_per_second") ? human_rate(b["bytes_per_second"].get<double>())
                               : b.contains("items_per_second")
                                   ? fmt::format("{:.3g} items/s", b["items_per_second"].get<double>())
                                   : std::string("-");
      fmt::print("{:<44} {:>11.1f} {:<2} {:>14}  {}\n", b.value("run_name", b.value("name", "?")),
                 b.value("real_time", 0.0), unit, rate, name);
    }
  }
  meta["binaries"] = files;
  finish_machine_info(meta);
  std::ofstream(dir + "/meta.json") << meta.dump(2) << "\n";
  fmt::print("\nresults: {}/ (meta.json, <binary>.json as written by Google Benchmark, <binary>.txt)\n", dir);
  return failed > 0 ? 1 : 0;
}

void add_microbench_options(CLI::App* m, MicrobenchOptions* o) {
  add_out_option(m, &o->out_dir, "results/microbench");
  m->add_option("--filter", o->filter, "Only benchmarks matching this regex (--benchmark_filter)");
  m->add_option("--repetitions", o->repetitions, "Runs of each benchmark; the median is reported (default 5)")
      ->check(CLI::Range(1, 100));
  add_quick_option(m, &o->quick, "1 repetition, 10 ms each");
  m->add_option("--bin", o->bins, "Run these benchmark binaries instead of the built ones");
}

}  // namespace

Command make_microbench_command() {
  auto o = std::make_shared<MicrobenchOptions>();
  Command c;
  c.name = "microbench";
  c.help = "Run the Google Benchmark microbenchmarks of the hot pieces (wire codec, histogram, "
           "transport links, copies); keep their JSON in results/microbench/<run-id>/";
  c.add_options = [o](CLI::App* m) { add_microbench_options(m, o.get()); };
  c.run = [o] { return run_microbench(*o); };
  return c;
}

}  // namespace dvs::cli
