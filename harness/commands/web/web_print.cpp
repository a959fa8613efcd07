// What `dvs web bench` prints: see web_print.hpp.
#include "harness/commands/web/web_print.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "harness/results/report.hpp"
#include "workloads/measure/nonparametric.hpp"

namespace dvs::web {

using stats::median;

void print_small_header(const std::string& run_id, const BenchOptions& o, const std::string& path) {
  fmt::print("dvs web bench {}: {} ({} B) under wrk -t{} -c{} -d{}s, {} repetitions; nginx (2 workers, sendfile) on "
             "the same root in the same run\n",
             run_id, path, o.file_bytes, o.threads, o.connections, o.duration_s, o.repetitions);
  fmt::print("  {:<6} {:>4} {:>12} {:>12} {:>7} {:>10} {:>10} {:>9}\n", "layout", "rep", "dvs req/s", "nginx req/s",
             "dvs/nginx", "dvs p99", "nginx p99", "disk/req");
  std::fflush(stdout);
}

void print_small_rep(char l, int rep, const workloads::web::WrkResult& d, const workloads::web::WrkResult& n,
                     double disk_per_request) {
  fmt::print("  {:<6} {:>4} {:>12.0f} {:>12.0f} {:>7.3f} {:>10} {:>10} {:>9.3f}\n", l, rep, d.rps, n.rps,
             d.rps / n.rps, cli::format_ns(double(d.p99_ns)), cli::format_ns(double(n.p99_ns)), disk_per_request);
  std::fflush(stdout);
}

void print_small_medians(char l, const std::vector<double>& d_rps, const std::vector<double>& n_rps,
                         const std::vector<double>& ratio) {
  fmt::print("  {:<6} median of {}: dvs {:.0f} req/s, nginx {:.0f} req/s, dvs/nginx {:.3f} (median of the "
             "per-repetition ratios)\n",
             l, ratio.size(), median(d_rps), median(n_rps), median(ratio));
  std::fflush(stdout);
}

void print_large_header(const std::string& run_id, const BenchOptions& o, const std::string& path,
                        const std::string& network) {
  fmt::print("dvs web bench {}: {} ({} B) by curl, {} repetitions; nodes: {}; the raw TCP stream between the same "
             "nodes in the same run\n",
             run_id, path, o.large_bytes, o.repetitions, network);
  fmt::print("  {:<6} {:>4} {:>12} {:>12} {:>7}\n", "layout", "rep", "dvs MB/s", "raw TCP MB/s", "dvs/TCP");
  std::fflush(stdout);
}

void print_large_rep(char l, int rep, double dmb, double tmb) {
  const bool two = tmb >= 0;
  fmt::print("  {:<6} {:>4} {:>12.1f} {:>12} {:>7}\n", l, rep, dmb, two ? fmt::format("{:.1f}", tmb) : "-",
             two ? fmt::format("{:.3f}", dmb / tmb) : "-");
  std::fflush(stdout);
}

void print_large_medians(char l, const std::vector<double>& d_mb, const std::vector<double>& t_mb,
                         const std::vector<double>& ratio) {
  if (!ratio.empty())
    fmt::print("  {:<6} median of {}: dvs {:.1f} MB/s, raw TCP {:.1f} MB/s, dvs/TCP {:.3f}\n", l, ratio.size(),
               median(d_mb), median(t_mb), median(ratio));
  else
    fmt::print("  {:<6} median of {}: dvs {:.1f} MB/s (one node: no raw TCP comparison)\n", l, d_mb.size(),
               median(d_mb));
  std::fflush(stdout);
}

void print_criterion(const nlohmann::json& s) {
  if (!s.contains("criterion") || !s["met"].is_boolean()) return;
  fmt::print("  {:<6} criterion: {}: {}\n", s["layout"].get<std::string>(), s["criterion"].get<std::string>(),
             s["met"].get<bool>() ? "met" : "MISSED");
  std::fflush(stdout);
}

void print_failed_rep(char l, int rep, const std::string& why) {
  fmt::print("  {:<6} {:>4} FAILED: {}\n", l, rep, why);
  std::fflush(stdout);
}

}  // namespace dvs::web
