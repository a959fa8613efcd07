// The result rows of `dvs web bench`: see web_rows.hpp.
#include "harness/commands/web/web_rows.hpp"

#include <memory>

#include <fmt/format.h>

#include "harness/results/ratio.hpp"
#include "workloads/measure/nonparametric.hpp"

namespace dvs::web {

namespace wl = workloads::web;
using nlohmann::json;

namespace {

// A layout is judged by the median of its per-repetition dvs/baseline ratios against this.
constexpr double kCriterionRatio = 0.5;

}  // namespace

json bench_options_json(const BenchOptions& o, const std::string& layouts) {
  const ServerOptions& s = o.server;
  return {{"scenario", o.scenario}, {"layouts", layouts}, {"transport", s.transport},
          {"large", o.large}, {"file_bytes", o.large ? o.large_bytes : o.file_bytes},
          {"path", o.path}, {"root", o.root}, {"connections", o.connections}, {"threads", o.threads}, {"workers", s.workers},
          {"duration_s", o.duration_s}, {"repetitions", o.repetitions}, {"fs_servers", s.fs_servers},
          {"disk_servers", s.disk_servers}, {"fs_cache_bytes", s.fs_cache}, {"fs_cache_ttl_ms", s.fs_cache_ttl_ms},
          {"wait", s.wait}, {"server_wait", o.server_wait}, {"spin_ns", o.spin_ns}, {"chunk", s.chunk},
          {"netns", o.large && !o.no_netns},
          {"argv", o.argv_line}};
}

json base_row(const cli::RunContext& ctx, const std::string& id, bool dvs, const std::string& label,
              const std::string& wait, const std::string& baseline, int rep, int reps, bool ok, const std::string& error) {
  cli::Cell cell;
  cell.id = id;
  cell.dvs = dvs;
  cell.label = label;
  cell.wait = wait;
  cell.section = "web";
  cli::CellResult cr;
  cr.cell = &cell;
  cr.ok = ok;
  cr.error = error;
  json j = cli::row_json(ctx, cr);
  j["kind"] = "web";
  j["section"] = "web";
  j["placement"] = "unpinned";
  j["placement_detail"] = "unpinned: the HTTP client, the servers and dvsd share the machine's CPUs";
  j["warmup"] = 0;
  j["iterations_planned"] = nullptr;
  j["rep"] = rep;
  j["repetitions"] = reps;
  if (!baseline.empty()) j["baseline"] = baseline;
  return j;
}

json web_fields(const BenchOptions& o, char layout, const wl::WebConfig& cfg) {
  const bool ipc = cfg.layout.fs_node >= 0;
  return {{"layout", std::string(1, layout)}, {"layout_description", wl::describe(cfg.layout)},
          {"fs_servers", ipc ? cfg.fs_servers : 0}, {"disk_servers", cfg.layout.disk_node >= 0 ? cfg.disk_servers : 0},
          {"front_workers", cfg.workers}, {"front_wait", o.server.wait}, {"server_wait", o.server_wait},
          {"spin_ns", o.spin_ns}, {"chunk", cfg.chunk},
          {"fs_cache_bytes", cfg.layout.disk_node >= 0 ? cfg.fs_cache_bytes : 0},
          {"fs_cache_ttl_ms", cfg.fs_cache_ttl_ms}};
}

void add_wrk_fields(const BenchOptions& o, const wl::WebConfig& cfg, const wl::WrkResult& w, json* row) {
  json& j = *row;
  j["transport"] = cfg.layout.fs_node == 1 || cfg.layout.disk_node == 1 ? o.server.transport : "local";
  j["stop"] = "duration";
  j["duration_s"] = o.duration_s;
  j["bytes_per_op"] = o.file_bytes;
  j["requests_per_s"] = w.rps;
  j["mb_per_s"] = w.mib_s * 1048576 / 1e6;
  j["latency"] = {{"what", "http_request"},
                  {"description", "wrk's request latency (send to the whole answer), its own percentiles"},
                  {"unit", "ns"}, {"n", w.requests}, {"p50", w.p50_ns}, {"p90", w.p90_ns}, {"p99", w.p99_ns}};
  if (w.latency) {  // wrk's whole record: the histograms.jsonl line, and the tail wrk does not print
    const auto& h = w.latency->samples;
    j["latency"]["recorded"] = h.count();
    j["latency"]["p99_9"] = h.percentile(99.9);
    j["latency"]["p99_99"] = h.percentile(99.99);
    j["latency"]["max"] = h.max();
    j["latency"]["histogram"] =
        "histograms.jsonl: wrk's recorded latencies (1 us resolution, with wrk's correction for "
        "coordinated omission: 'recorded' may exceed n)";
  }
  j["wrk"] = {{"threads", o.threads}, {"connections", o.connections}, {"requests", w.requests},
              {"non_2xx", w.non_2xx}, {"socket_errors", w.socket_errors}};
}

json wrk_histogram(const cli::RunContext& ctx, const std::string& id, const wl::WrkResult& w, int rep) {
  if (!w.latency) return nullptr;
  cli::Cell cell;
  cell.id = id;
  cli::CellResult cr;
  cr.cell = &cell;
  cr.loop = std::make_unique<measure::LoopResult>(*w.latency);
  json h = cli::histogram_json(ctx, cr);
  h["rep"] = rep;
  return h;
}

StreamRows tcp_stream_rows(const cli::RunContext& ctx, const std::string& id, size_t block_bytes,
                           measure::TwoProcessOutcome out, const std::string& network, int rep, int reps) {
  StreamRows s;
  cli::Cell cell;
  cell.id = id;
  cell.kind = cli::CellKind::Copy;
  cell.label = fmt::format("raw TCP stream, {} B blocks, node 1 -> node 0", block_bytes);
  cell.wait = "block";
  cell.section = "web";
  cli::CellResult cr;
  cr.cell = &cell;
  cr.ok = out.ok;
  cr.error = out.error;
  if (out.ok && out.result->elapsed_ns > 0) {
    s.mb_per_s = double(out.result->iterations) * double(block_bytes) / double(out.result->elapsed_ns) * 1e3;
    cr.per_s = s.mb_per_s;
    cr.summary = out.result->samples.summary();
    cr.loop = std::move(out.result);
  } else {
    s.error = out.error.empty() ? "no time measured" : out.error;
    cr.ok = false;
    cr.error = s.error;
  }
  json& tj = s.row;
  tj = cli::row_json(ctx, cr);
  tj["section"] = "web";
  tj["transport"] = "tcp";
  tj["network"] = network;
  tj["placement"] = "unpinned";
  tj["placement_detail"] = "unpinned; the reader's socket in node 0's namespace, the writer's in node 1's";
  tj["rep"] = rep;
  tj["repetitions"] = reps;
  tj["nodes"] = {{"client", nullptr}, {"server", nullptr}, {"count", 0}};
  tj["note"] = "raw sockets between the two nodes' network namespaces, no dvsd (workloads/baselines tcp_stream)";
  if (cr.ok) {
    s.histogram = cli::histogram_json(ctx, cr);
    s.histogram["rep"] = rep;
  }
  return s;
}

void add_download_fields(uint64_t bytes, double seconds, double mb_per_s, json* row) {
  json& dj = *row;
  dj["stop"] = "samples";
  dj["bytes_per_op"] = bytes;
  dj["elapsed_ns"] = uint64_t(seconds * 1e9);
  dj["mb_per_s"] = mb_per_s;
  dj["latency"] = {{"what", "download"}, {"description", "curl's time_total of one download"}, {"unit", "ns"},
                   {"n", 1}, {"p50", uint64_t(seconds * 1e9)}};
}

json small_summary(char layout, const wl::WebConfig& cfg, const std::vector<double>& dvs_rps,
                   const std::vector<double>& nginx_rps, const std::vector<double>& ratio,
                   const std::vector<double>& disk_per_request) {
  return {{"layout", std::string(1, layout)}, {"repetitions", ratio.size()}, {"dvs_rps_median", stats::median(dvs_rps)},
          {"nginx_rps_median", stats::median(nginx_rps)}, {"ratio_median", stats::median(ratio)},
          {"fs_cache_bytes", cfg.layout.disk_node >= 0 ? cfg.fs_cache_bytes : 0},
          {"disk_requests_per_http_request_median", stats::median(disk_per_request)},
          {"criterion", fmt::format("dvs >= {} x nginx requests/s", kCriterionRatio)}, {"met", stats::median(ratio) >= kCriterionRatio}};
}

json large_summary(char layout, const std::vector<double>& dvs_mb, const std::vector<double>& tcp_mb,
                   const std::vector<double>& ratio) {
  json s = {{"layout", std::string(1, layout)}, {"repetitions", dvs_mb.size()},
            {"dvs_mb_per_s_median", stats::median(dvs_mb)}};
  if (!ratio.empty()) {
    s["raw_tcp_mb_per_s_median"] = stats::median(tcp_mb);
    s["ratio_median"] = stats::median(ratio);
    s["criterion"] = fmt::format("dvs >= {} x raw TCP stream MB/s between the same namespaces", kCriterionRatio);
    s["met"] = stats::median(ratio) >= kCriterionRatio;
  }
  return s;
}

}  // namespace dvs::web
