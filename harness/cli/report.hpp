// Output of `dvs run`: the one human table (stdout) and the machine-readable files
// (meta.json, runs.jsonl, runs.csv, histograms.jsonl) in the run directory. Their fields:
// docs/RESULTS_SCHEMA.md (bump kResultsSchemaVersion when a field changes meaning or goes).
#ifndef DVS_HARNESS_CLI_REPORT_HPP
#define DVS_HARNESS_CLI_REPORT_HPP

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cells.hpp"

namespace dvs::cli {

// "schema_version" of meta.json, every runs.jsonl / histograms.jsonl row and runs.csv.
inline constexpr int kResultsSchemaVersion = 1;

struct RunContext {
  std::string run_id;
  std::string run_dir;
  std::string placement;  // CpuPair::describe()
  std::string placement_note;
  std::string dvsd;       // "dvsd <path>, node 0, DC 0" or why not
  std::string loadavg_start;  // /proc/loadavg before the first cell
  const RunOptions* options = nullptr;
};

// "123 ns", "4.56 us", "1.23 ms", "2.00 s"
std::string format_ns(double ns);

void print_table(std::FILE* out, const RunContext& ctx, const std::vector<CellResult>& results);

// One runs.jsonl row. Latencies in ns; the row says whether they are RTTs or per-op times.
nlohmann::json row_json(const RunContext& ctx, const CellResult& r);

// Non-empty buckets of the cell's histogram (mergeable across runs): {"cell", "sub_bits",
// "buckets": [[bucket_low_ns, count], ...]}.
nlohmann::json histogram_json(const RunContext& ctx, const CellResult& r);

nlohmann::json options_json(const RunOptions& o);

// runs.csv: a header line and one line per runs.jsonl row (the flat fields; RFC 4180 quoting).
std::string runs_csv_header();
std::string runs_csv_line(const nlohmann::json& row);

// Writes meta.json, runs.jsonl, runs.csv and histograms.jsonl; false with *err on I/O failure.
bool write_results(const RunContext& ctx, const nlohmann::json& meta,
                   const std::vector<CellResult>& results, std::string* err);

}  // namespace dvs::cli

#endif
