// `dvs web bench`: its run matrix (layouts x repetitions, each paired with its reference: nginx
// under wrk, or the raw TCP stream under --large) and its run directory (docs/WEB.md).
#ifndef DVS_HARNESS_COMMANDS_WEB_WEB_BENCH_HPP
#define DVS_HARNESS_COMMANDS_WEB_WEB_BENCH_HPP

#include "harness/commands/web/web_options.hpp"

namespace dvs::web {

// Runs it with checked options (check_bench_options); blocks until every repetition ran. Writes
// <out>/<run-id>/ (meta.json, runs.jsonl, runs.csv, histograms.jsonl). 0, or 1 when a tool is
// missing, a repetition failed or the results could not be written.
int run_web_bench(const BenchOptions& o);

}  // namespace dvs::web

#endif
