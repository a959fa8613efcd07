// What `dvs web bench` prints on stdout as it runs: a header per kind of run, a line per
// repetition, a line of medians per layout (docs/WEB.md). Each call flushes stdout.
#ifndef DVS_HARNESS_COMMANDS_WEB_WEB_PRINT_HPP
#define DVS_HARNESS_COMMANDS_WEB_WEB_PRINT_HPP

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/commands/web/web_options.hpp"
#include "workloads/web/wrk.hpp"

namespace dvs::web {

// Small files under wrk (dvs web and nginx).
void print_small_header(const std::string& run_id, const BenchOptions& o, const std::string& path);
void print_small_rep(char layout, int rep, const workloads::web::WrkResult& dvs, const workloads::web::WrkResult& nginx,
                     double disk_per_request);
void print_small_medians(char layout, const std::vector<double>& dvs_rps, const std::vector<double>& nginx_rps,
                         const std::vector<double>& ratio);

// --large (curl and the raw TCP stream; tcp_mb < 0: none, one node).
void print_large_header(const std::string& run_id, const BenchOptions& o, const std::string& path,
                        const std::string& network);
void print_large_rep(char layout, int rep, double dvs_mb, double tcp_mb);
void print_large_medians(char layout, const std::vector<double>& dvs_mb, const std::vector<double>& tcp_mb,
                         const std::vector<double>& ratio);

// A layout's criterion and its verdict ("met" / "MISSED"), from its meta.json summary entry
// (web_rows.hpp); nothing for an entry without a criterion.
void print_criterion(const nlohmann::json& summary_entry);

// A repetition that failed, and why.
void print_failed_rep(char layout, int rep, const std::string& why);

}  // namespace dvs::web

#endif
