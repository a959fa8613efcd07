// Table and result files of `dvs run`: see report.hpp.
#include "harness/results/report.hpp"

#include "harness/plan/remote_cells.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "harness/results/machine_info.hpp"
#include "workloads/measure/nonparametric.hpp"

namespace dvs::cli {

std::string format_ns(double ns) {
  if (ns < 1e3) return fmt::format("{:.0f} ns", ns);
  if (ns < 1e6) return fmt::format("{:.2f} us", ns / 1e3);
  if (ns < 1e9) return fmt::format("{:.2f} ms", ns / 1e6);
  return fmt::format("{:.2f} s", ns / 1e9);
}

namespace {

std::string format_rate(double per_s) {
  if (per_s >= 1e6) return fmt::format("{:.2f} M", per_s / 1e6);
  if (per_s >= 1e3) return fmt::format("{:.1f} k", per_s / 1e3);
  return fmt::format("{:.0f}", per_s);
}

std::string short_placement(const std::string& describe) {
  const auto sp = describe.find(' ');
  return sp == std::string::npos ? describe : describe.substr(0, sp);
}

std::string ratio_unit(const Cell& c) {
  switch (ratio_basis(c)) {
    case RatioBasis::P50: return "p50";
    case RatioBasis::MsgsPerS: return "msgs/s";
    case RatioBasis::MbPerS: return "MB/s";
    case RatioBasis::RequestsPerS: return "req/s";
  }
  return "";
}

constexpr const char* kRowFmt = "{:<38} {:<16} {:<11} {:>8} {:>10} {:>10} {:>12}  {}\n";

}  // namespace

std::string ratio_column(const CellResult& r) {
  if (r.ratio) return fmt::format("{} {} {}", format_ratio(*r.ratio), r.ratio_vs, ratio_unit(*r.cell));
  return r.ratio_note.empty() ? "" : "-- " + r.ratio_note;
}

std::string ratio_column(const std::vector<const CellResult*>& reps) {
  std::vector<double> v;
  const CellResult* with = nullptr;
  const CellResult* note = nullptr;
  for (const auto* r : reps) {
    if (r->ratio) {
      v.push_back(*r->ratio);
      with = r;
    } else if (r->ok && !r->ratio_note.empty()) {
      note = r;
    }
  }
  if (const auto m = ratio_across_repetitions(v))
    return fmt::format("{} {} {}", format_ratio(*m), with->ratio_vs, ratio_unit(*with->cell));
  return note != nullptr ? "-- " + note->ratio_note : "";
}

void print_table(std::FILE* out, const RunContext& ctx, const RunOptions& o, const std::vector<CellResult>& results) {
  fmt::print(out, "dvs run {}  ({})\n", ctx.run_id, ctx.dvsd);
  fmt::print(out, "placement: {}{}{}; warm-up {} iterations; spin-then-block spin budget {} ns\n",
             ctx.placement, ctx.placement_note.empty() ? "" : " -- ", ctx.placement_note,
             ctx.warmup, ctx.spin_ns);
  fmt::print(out, "load average at start: {} (other work on these CPUs shows up as tails and low "
                  "msgs/s)\n", ctx.loadavg_start);
  fmt::print(out, "RTT = round trip of one 64-byte message each way (dvs message: one cache line; "
                  "the original's was 36 B on i386).\n");
  fmt::print(out, "msgs/s counts both directions (2 x round trips / t), as the original.\n\n");
  const std::string pl = short_placement(ctx.placement);
  if (std::none_of(results.begin(), results.end(),
                   [](const CellResult& r) { return r.cell->section.empty(); })) {
    print_remote_section(out, ctx, o, results);  // e.g. --remote-only: no main table
    return;
  }
  fmt::print(out, kRowFmt, "primitive / mechanism", "wait", "placement", "n", "p50 RTT",
             "p99 RTT", "msgs/s", "vs baseline");
  fmt::print(out, "{}\n", std::string(132, '-'));
  bool copy_header = false;
  for (const auto& r : results) {
    const Cell& c = *r.cell;
    if (!c.section.empty()) continue;  // printed in its own section below
    if (c.kind == CellKind::Copy && !copy_header) {
      copy_header = true;
      fmt::print(out, "{}\n", std::string(132, '-'));
      fmt::print(out, kRowFmt, fmt::format("copy, one-way, {} B blocks", o.vcopy_bytes), "wait",
                 "placement", "n", "p50 /block", "p99 /block", "MB/s", "vs baseline");
      fmt::print(out, "{}\n", std::string(132, '-'));
    }
    const std::string label = (c.dvs ? "dvs " : "") + c.label;
    if (r.skipped || !r.ok) {
      fmt::print(out, kRowFmt, label, c.wait, pl, "-", "-", "-", "-",
                 (r.skipped ? "skipped: " : "FAILED: ") + r.error);
      continue;
    }
    std::string vs = ratio_column(r);
    if (r.loop->truncated) vs += " [truncated by --cell-budget]";
    const std::string rate =
        c.kind == CellKind::PingPong ? format_rate(r.per_s) : fmt::format("{:.0f}", r.per_s);
    fmt::print(out, kRowFmt, label, c.wait, pl, r.summary.n, format_ns(double(r.summary.p50)),
               format_ns(double(r.summary.p99)), rate, vs);
  }
  fmt::print(out, "{}\n", std::string(132, '-'));
  fmt::print(out,
             "vs baseline: {}.\n"
             "Baselines: the raw mechanism with the same wait strategy (spin: raw-shm-spin, "
             "spin-then-block: raw-shm-stb, block: pipe); vcopy: pipe-stream at the same block "
             "size (MB = 1e6 B); peer rows (NNG, ZeroMQ, each with the library's own blocking wait): dvs "
             "sendrec whose endpoints block.\n"
             "Blocking cross-core wake-ups dominate the block rows on VMs: quote medians and "
             "same-run ratios, not one absolute time.\n", kRatioLegend);
  print_remote_section(out, ctx, o, results);
}

nlohmann::json row_json(const RunContext& ctx, const CellResult& r) {
  const Cell& c = *r.cell;
  nlohmann::json j;
  j["schema_version"] = kResultsSchemaVersion;
  j["run_id"] = ctx.run_id;
  j["cell"] = c.id;
  j["kind"] = c.kind == CellKind::PingPong ? "pingpong" : "copy";
  j["mechanism"] = c.dvs ? "dvs" : c.peer ? "peer" : "baseline";
  j["label"] = c.label;
  j["wait"] = c.wait;
  if (c.wait == "spin-then-block") j["spin_ns"] = ctx.spin_ns;
  j["placement"] = short_placement(ctx.placement);
  j["placement_detail"] = ctx.placement;
  j["warmup"] = ctx.warmup;
  j["iterations_planned"] = c.iterations;
  for (const auto& [k, v] : c.row_extra.items())
    if (!j.contains(k)) j[k] = v;
  j["status"] = r.skipped ? "skipped" : (r.ok ? "ok" : "failed");
  if (!r.error.empty()) j["error"] = r.error;
  if (r.skipped || !r.loop) return j;
  const auto& s = r.summary;
  j["bytes_per_op"] = r.loop->bytes_per_op;
  j["truncated"] = r.loop->truncated;
  j["elapsed_ns"] = r.loop->elapsed_ns;
  j["latency"] = {
      {"what", c.kind == CellKind::PingPong ? "rtt" : "per_block"},
      {"description", c.kind == CellKind::PingPong
                          ? "round-trip time of one 64-byte message each way"
                          : "time to move one block, one way"},
      {"unit", "ns"},
      {"n", s.n},
      {"min", s.min},
      {"p50", s.p50},
      {"p90", s.p90},
      {"p99", s.p99},
      {"p99_9", s.p999},
      {"p99_99", s.p9999},
      {"max", s.max},
      {"mean", s.mean},
      {"histogram_max_relative_error", stats::Histogram::kMaxRelativeError}};
  // Distribution-free 95 % CI of the median: order statistics of binomial ranks, located in the
  // histogram by cumulative counts (assumes independent samples: see RESULTS_SCHEMA.md).
  const stats::MedianCi ci = stats::median_ci(r.loop->samples, 0.95);
  if (ci.n > 0)
    j["latency"]["median_ci95"] = {{"lo", uint64_t(ci.lo)},
                                   {"hi", uint64_t(ci.hi)},
                                   {"lo_rank", ci.ranks.lo},
                                   {"hi_rank", ci.ranks.hi},
                                   {"coverage", ci.ranks.coverage},
                                   {"reached", ci.ranks.reached}};
  if (c.kind == CellKind::PingPong) j["msgs_per_s"] = r.per_s;  // both directions
  else j["mb_per_s"] = r.per_s;                                 // MB = 1e6 bytes
  if (!c.baseline.empty()) j["baseline"] = c.baseline;
  if (r.ratio) {
    j["ratio_to_baseline"] = *r.ratio;
    j["ratio_basis"] = ratio_basis_name(ratio_basis(c));
  } else if (!r.ratio_note.empty()) {
    j["ratio_note"] = r.ratio_note;
  }
  return j;
}

nlohmann::json histogram_json(const RunContext& ctx, const CellResult& r) {
  nlohmann::json b = nlohmann::json::array();
  if (r.loop) {
    const auto& h = r.loop->samples;
    for (size_t i = 0; i < stats::Histogram::kBuckets; ++i)
      if (h.bucket_count(i) != 0) b.push_back({stats::Histogram::bucket_low(i), h.bucket_count(i)});
  }
  return {{"schema_version", kResultsSchemaVersion},
          {"run_id", ctx.run_id},
          {"cell", r.cell->id},
          {"unit", "ns"},
          {"sub_bits", stats::Histogram::kSubBits},
          {"buckets", b}};
}

nlohmann::json options_json(const RunOptions& o) {
  return {{"iterations", o.iterations},
          {"block_iterations", o.block_iterations},
          {"copy_iterations", o.copy_iterations},
          {"warmup", o.warmup},
          {"spin_ns", o.spin_ns},
          {"placement", o.placement},
          {"waits", o.waits},
          {"vcopy_bytes", o.vcopy_bytes},
          {"cell_budget_s", o.cell_budget_s},
          {"quick", o.quick},
          {"only", o.only},
          {"repeat", o.repeat},
          {"no_remote", o.no_remote},
          {"remote_only", o.remote_only},
          {"remote_wait", o.remote_wait},
          {"proxy_poll_us", o.proxy_poll_us},
          {"pin_nodes", o.pin_nodes},
          {"proxy_copy_chunk", o.proxy_copy_chunk},
          {"remote_net", o.remote_net},
          {"remote_iterations", o.remote_iterations},
          {"remote_copy_iterations", o.remote_copy_iterations},
          {"remote_pair_iterations", o.remote_pair_iterations},
          {"remote_copy_bytes", o.remote_copy_bytes},
          {"argv", o.argv_line}};
}

namespace {

// Columns of runs.csv: JSON pointers into a runs.jsonl row, and their CSV names.
constexpr std::pair<const char*, const char*> kCsvColumns[] = {
    {"schema_version", "/schema_version"},
    {"run_id", "/run_id"},
    {"cell", "/cell"},
    {"section", "/section"},
    {"kind", "/kind"},
    {"mechanism", "/mechanism"},
    {"label", "/label"},
    {"wait", "/wait"},
    {"placement", "/placement"},
    {"status", "/status"},
    {"error", "/error"},
    {"truncated", "/truncated"},
    {"iterations_planned", "/iterations_planned"},
    {"bytes_per_op", "/bytes_per_op"},
    {"elapsed_ns", "/elapsed_ns"},
    {"latency_what", "/latency/what"},
    {"n", "/latency/n"},
    {"min_ns", "/latency/min"},
    {"p50_ns", "/latency/p50"},
    {"p90_ns", "/latency/p90"},
    {"p99_ns", "/latency/p99"},
    {"p99_9_ns", "/latency/p99_9"},
    {"p99_99_ns", "/latency/p99_99"},
    {"max_ns", "/latency/max"},
    {"mean_ns", "/latency/mean"},
    {"median_ci95_lo_ns", "/latency/median_ci95/lo"},
    {"median_ci95_hi_ns", "/latency/median_ci95/hi"},
    {"msgs_per_s", "/msgs_per_s"},
    {"mb_per_s", "/mb_per_s"},
    {"baseline", "/baseline"},
    {"ratio_to_baseline", "/ratio_to_baseline"},
    {"ratio_basis", "/ratio_basis"},
    {"ratio_note", "/ratio_note"},
    {"transport", "/transport"},
    {"dvsd_batch", "/dvsd_batch"},
    {"pairs", "/pairs"},
    {"rep", "/rep"},
    {"repetitions", "/repetitions"},
    {"matrix", "/matrix"},
    {"primitive", "/primitive"},
};

std::string csv_field(const nlohmann::json& v) {
  if (v.is_null()) return "";
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

}  // namespace

std::string runs_csv_header() {
  std::string h;
  for (const auto& [name, ptr] : kCsvColumns) h += (h.empty() ? "" : ",") + std::string(name);
  return h;
}

std::string runs_csv_line(const nlohmann::json& row) {
  std::string line;
  bool first = true;
  for (const auto& [name, ptr] : kCsvColumns) {
    if (!first) line += ',';
    first = false;
    const nlohmann::json::json_pointer p(ptr);
    if (row.contains(p)) line += csv_field(row.at(p));
  }
  return line;
}

bool make_run_dir(const std::string& out_dir, const std::string& base_id, std::string* run_id,
                  std::string* dir, std::string* err) {
  namespace fs = std::filesystem;
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

bool make_named_run_dir(const std::string& source_dir, const std::string& out_dir, const std::string& name,
                        const std::string& scenario_file, RunContext* ctx, std::string* err) {
  const std::string parent = out_dir.empty() ? source_dir + "/results/runs" : out_dir;
  if (!make_run_dir(parent, fmt::format("{}-{}-{}", utc_stamp(), short_git_sha(source_dir), name), &ctx->run_id,
                    &ctx->run_dir, err))
    return false;
  if (!scenario_file.empty()) {
    std::error_code ec;
    std::filesystem::copy_file(scenario_file, ctx->run_dir + "/scenario.toml", ec);
  }
  return true;
}

bool finish_run_files(ResultsWriter* writer, nlohmann::json* meta, const RunContext& ctx, const std::string& command,
                      bool earlier_write_failed) {
  finish_machine_info(*meta);
  (*meta)["finished"] = true;
  std::string err;
  const bool written = writer->write_meta(*meta, &err) && writer->close(&err) && !earlier_write_failed;
  fmt::print("results: {}/ (meta.json, runs.jsonl, runs.csv, histograms.jsonl)\n", ctx.run_dir);
  std::fflush(stdout);
  if (!written) fmt::print(stderr, "{}: error: cannot write the results in {}\n", command, ctx.run_dir);
  return written;
}

nlohmann::json run_conventions() {
  return {{"rtt", "round trip: one 64-byte message each way"},
          {"msgs_per_s", "2 * round trips / elapsed (both directions, as the original)"},
          {"mb_per_s", "bytes moved / elapsed / 1e6"},
          {"sample", "time between consecutive iteration ends (one clock_gettime + one histogram "
                     "record inside every sample, the same for dvs and baselines)"}};
}

bool ResultsWriter::open(const std::string& run_dir, std::string* err) {
  dir_ = run_dir;
  for (auto [name, f] : {std::pair{"runs.jsonl", &runs_}, std::pair{"runs.csv", &csv_},
                         std::pair{"histograms.jsonl", &hist_}}) {
    f->open(dir_ + "/" + name);
    if (!*f) {
      *err = fmt::format("cannot write {}/{}: {}", dir_, name, strerror(errno));
      return false;
    }
  }
  csv_ << runs_csv_header() << "\n" << std::flush;
  return bool(csv_);
}

bool ResultsWriter::write_meta(const nlohmann::json& meta, std::string* err) {
  nlohmann::json versioned = meta;
  versioned["schema_version"] = kResultsSchemaVersion;
  versioned["schema_minor"] = kResultsSchemaMinor;
  const std::string path = dir_ + "/meta.json", tmp = path + ".tmp";
  {
    std::ofstream m(tmp);
    m << versioned.dump(2) << "\n";
    m.close();
    if (!m) {
      *err = fmt::format("cannot write {}: {}", tmp, strerror(errno));
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *err = fmt::format("cannot rename {} to {}: {}", tmp, path, strerror(errno));
    return false;
  }
  return true;
}

bool ResultsWriter::append(const nlohmann::json& row, const nlohmann::json* histogram,
                           std::string* err) {
  runs_ << row.dump() << "\n" << std::flush;
  csv_ << runs_csv_line(row) << "\n" << std::flush;
  if (histogram != nullptr) hist_ << histogram->dump() << "\n" << std::flush;
  if (!runs_ || !csv_ || !hist_) {
    *err = fmt::format("write error in {}", dir_);
    return false;
  }
  return true;
}

bool ResultsWriter::close(std::string* err) {
  runs_.close();
  csv_.close();
  hist_.close();
  if (!runs_ || !csv_ || !hist_) {
    *err = fmt::format("write error in {}", dir_);
    return false;
  }
  return true;
}

}  // namespace dvs::cli
