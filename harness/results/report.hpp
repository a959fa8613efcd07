// Output of `dvs run`: the one human table (stdout) and the machine-readable files
// (meta.json, runs.jsonl, runs.csv, histograms.jsonl) in the run directory. Their fields:
// docs/RESULTS_SCHEMA.md (bump kResultsSchemaVersion when a field changes meaning or goes).
#ifndef DVS_HARNESS_CLI_REPORT_HPP
#define DVS_HARNESS_CLI_REPORT_HPP

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvs/dvs.h"
#include "harness/commands/run_options.hpp"
#include "harness/plan/cells.hpp"

namespace dvs::cli {

// "schema_version" of meta.json, every runs.jsonl / histograms.jsonl row and runs.csv.
inline constexpr int kResultsSchemaVersion = 2;
// "schema_minor" of meta.json: counts the additions within one schema_version (readers ignore
// fields they do not know). 0 in schema_version 2.
inline constexpr int kResultsSchemaMinor = 0;

// What the rows of one run (or of one matrix of it) share: every command that writes rows
// (dvs run, bench, rpc, web bench, reproduce) fills it.
struct RunContext {
  std::string run_id;
  std::string run_dir;
  std::string placement;  // CpuPair::describe()
  std::string placement_note;
  std::string dvsd;       // "dvsd <path>, node 0, DC 0" or why not
  std::string loadavg_start;  // /proc/loadavg before the first cell
  std::string remote_dvsd_threads;  // RemoteNodes::dvsd_threads()
  std::string remote_network;       // RemoteNodes::network()
  uint64_t warmup = 0;                     // untimed iterations before each loop (a row's "warmup")
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;  // spin budget of spin-then-block (its rows' "spin_ns")
};

// "123 ns", "4.56 us", "1.23 ms", "2.00 s"
std::string format_ns(double ns);

// The "vs baseline" column of one result: "1.73x raw-shm-spin p50" (ratio.hpp), "-- <why not>"
// when the cell has a baseline or a reason for none but no ratio, else "".
std::string ratio_column(const CellResult& r);
// The same for a cell over repetitions: the median of the per-repetition ratios; the note of
// the last result without one when none has a ratio.
std::string ratio_column(const std::vector<const CellResult*>& reps);

// dvs run's table (o: its options, for the block sizes and the remote section's settings).
void print_table(std::FILE* out, const RunContext& ctx, const RunOptions& o, const std::vector<CellResult>& results);

// One runs.jsonl row. Latencies in ns; the row says whether they are RTTs or per-op times.
nlohmann::json row_json(const RunContext& ctx, const CellResult& r);

// Non-empty buckets of the cell's histogram (mergeable across runs): {"cell", "sub_bits",
// "buckets": [[bucket_low_ns, count], ...]}.
nlohmann::json histogram_json(const RunContext& ctx, const CellResult& r);

nlohmann::json options_json(const RunOptions& o);

// runs.csv: a header line and one line per runs.jsonl row (the flat fields; RFC 4180 quoting).
std::string runs_csv_header();
std::string runs_csv_line(const nlohmann::json& row);

// Creates <out_dir>/<base_id> (or <base_id>-2, -3... if taken): *run_id and *dir; false with *err.
bool make_run_dir(const std::string& out_dir, const std::string& base_id, std::string* run_id,
                  std::string* dir, std::string* err);
// The run directory of a named run: <out_dir>/<UTC stamp>-<short git sha of source_dir>-<name>
// (make_run_dir; out_dir "" = <source_dir>/results/runs), with scenario_file (unless "") copied
// into it as scenario.toml. Fills ctx->run_id and ctx->run_dir; false with *err.
bool make_named_run_dir(const std::string& source_dir, const std::string& out_dir, const std::string& name,
                        const std::string& scenario_file, RunContext* ctx, std::string* err);

// meta.json "conventions": what an RTT, msgs/s, MB/s and a sample are.
nlohmann::json run_conventions();

// The result files of one run directory, written as the run goes: open() creates runs.jsonl,
// runs.csv (with its header) and histograms.jsonl; append() adds one row (and its histogram)
// and flushes, so a run stopped half-way keeps every row it measured; write_meta() (re)writes
// meta.json whole (via a temp file and rename) with schema_version and schema_minor.
class ResultsWriter {
 public:
  bool open(const std::string& run_dir, std::string* err);
  bool write_meta(const nlohmann::json& meta, std::string* err);
  // histogram: null for a cell that did not run.
  bool append(const nlohmann::json& row, const nlohmann::json* histogram, std::string* err);
  bool close(std::string* err);

 private:
  std::string dir_;
  std::ofstream runs_, csv_, hist_;
};

// The end of a named run (dvs rpc, dvs web bench): finish_machine_info, meta "finished": true,
// meta.json rewritten and the writer closed, then "results: DIR/ (...)" on stdout. False, with
// "COMMAND: error: cannot write the results in DIR" on stderr, when a file could not be written
// here or before (earlier_write_failed: an append failed).
bool finish_run_files(ResultsWriter* writer, nlohmann::json* meta, const RunContext& ctx, const std::string& command,
                      bool earlier_write_failed);


}  // namespace dvs::cli

#endif
