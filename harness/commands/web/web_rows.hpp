// The result rows of `dvs web bench`: runs.jsonl / histograms.jsonl lines through the harness's
// writer (cli::row_json, kind "web"), meta.json's options and its per-layout summary with the
// criterion each layout is judged by (docs/WEB.md, docs/RESULTS_SCHEMA.md).
#ifndef DVS_HARNESS_COMMANDS_WEB_WEB_ROWS_HPP
#define DVS_HARNESS_COMMANDS_WEB_WEB_ROWS_HPP

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/commands/web/web_options.hpp"
#include "harness/results/report.hpp"
#include "workloads/measure/two_process.hpp"
#include "workloads/web/wrk.hpp"

namespace dvs::web {

// meta.json "options" of a bench run measuring layouts.
nlohmann::json bench_options_json(const BenchOptions& o, const std::string& layouts);

// The common part of every web row: id, label, status, "rep" of reps, the baseline row's id.
nlohmann::json base_row(const cli::RunContext& ctx, const std::string& id, bool dvs, const std::string& label,
                        const std::string& wait, const std::string& baseline, int rep, int reps, bool ok,
                        const std::string& error);

// A dvs row's "web" object: the layout and the web server's settings.
nlohmann::json web_fields(const BenchOptions& o, char layout, const workloads::web::WebConfig& cfg);

// A wrk run's measurements in its row (requests/s, MB/s, latency, wrk's counts).
void add_wrk_fields(const BenchOptions& o, const workloads::web::WebConfig& cfg, const workloads::web::WrkResult& w,
                    nlohmann::json* row);

// The histograms.jsonl line of a wrk run with its latency record; null without one.
nlohmann::json wrk_histogram(const cli::RunContext& ctx, const std::string& id, const workloads::web::WrkResult& w,
                             int rep);

// The raw TCP stream between the two nodes (--large's baseline) of one repetition: its row, its
// histogram line (null when it failed), its MB/s (-1 when it failed) and why it failed.
struct StreamRows {
  nlohmann::json row, histogram;
  double mb_per_s = -1;
  std::string error;
};
StreamRows tcp_stream_rows(const cli::RunContext& ctx, const std::string& id, size_t block_bytes,
                           measure::TwoProcessOutcome out, const std::string& network, int rep, int reps);

// One --large download's measurements in its row.
void add_download_fields(uint64_t bytes, double seconds, double mb_per_s, nlohmann::json* row);

// meta.json "summary" entry of a layout under wrk: medians over its repetitions and the criterion
// "dvs >= 0.5 x nginx requests/s" ("met": the median of the per-repetition ratios holds it).
nlohmann::json small_summary(char layout, const workloads::web::WebConfig& cfg, const std::vector<double>& dvs_rps,
                             const std::vector<double>& nginx_rps, const std::vector<double>& ratio,
                             const std::vector<double>& disk_per_request);

// The same of a layout under --large; the criterion (dvs >= 0.5 x the raw TCP stream's MB/s)
// only with a ratio (two nodes).
nlohmann::json large_summary(char layout, const std::vector<double>& dvs_mb, const std::vector<double>& tcp_mb,
                             const std::vector<double>& ratio);

}  // namespace dvs::web

#endif
