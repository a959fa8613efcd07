// `dvs web bench`: see web_bench.hpp.
#include "harness/commands/web/web_bench.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/cluster/cluster.hpp"
#include "harness/cluster/transports.hpp"
#include "harness/commands/web/web_nodes.hpp"
#include "harness/commands/web/web_print.hpp"
#include "harness/commands/web/web_rows.hpp"
#include "harness/results/criteria.hpp"
#include "harness/results/machine_info.hpp"
#include "harness/results/ratio.hpp"
#include "harness/results/report.hpp"
#include "workloads/baselines/baseline.hpp"
#include "workloads/web/curl_download.hpp"
#include "workloads/web/nginx.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif

namespace dvs::web {

namespace wl = workloads::web;
using nlohmann::json;

namespace {

struct Bench {
  const BenchOptions& o;
  std::string dir, bin, path, root;
  cli::RunContext ctx;
  cli::ResultsWriter writer;
  json meta;
  json nodes_started = json::array();
  bool write_failed = false, any_failed = false;
  int rows = 0;

  void append(const json& row, const json* hist = nullptr) {
    std::string err;
    if (!writer.append(row, hist, &err)) write_failed = true;
    ++rows;
  }

  wl::WrkLoad wrk_load() const { return {o.threads, o.connections, o.duration_s}; }

  // Small files under wrk: dvs web and nginx, alternately, repetitions times per layout.
  int small(const std::string& layouts) {
    wl::Nginx ng;
    if (auto e = ng.start(dir, root); !e.empty()) {
      fmt::print(stderr, "dvs web bench: error: {}\n", e);
      return 1;
    }
    print_small_header(ctx.run_id, o, path);
    json summary = json::array();
    const std::string what = fmt::format("get{}B/c{}", o.file_bytes, o.connections);
    for (char l : layouts) {
      wl::WebConfig cfg = bench_config(o, l, root);
      std::unique_ptr<WebNodes> nodes;
      wl::WebServer server;
      const std::string ldir = fmt::format("{}/layout-{}", dir, l);
      std::string err = bring_up(bin, ldir, o.server.transport, false, &nodes, &cfg, &server);
      if (err.empty()) nodes_started.push_back(nodes->describe());
      std::vector<double> d_rps, n_rps, ratio, disk_per;
      const std::string d_id = fmt::format("web/dvs/{}/{}", l, what), n_id = fmt::format("web/nginx/{}/paired-{}", what, l);
      for (int rep = 1; rep <= o.repetitions; ++rep) {
        wl::WrkResult d, n;
        wl::WebServer::Counts c0, c1;
        if (err.empty()) {
          c0 = server.counts();
          d = wl::run_wrk(wrk_load(), fmt::format("http://127.0.0.1:{}{}", server.port(), path), dir);
          c1 = server.counts();
          if (auto alive = server.check(); !alive.empty()) err = alive;
          else if (d.rps < 0) err = "wrk against dvs web failed: " + d.text;
          else if (d.non_2xx > 0) err = fmt::format("{} answers were not 2xx", d.non_2xx);
        }
        n = wl::run_wrk(wrk_load(), fmt::format("http://127.0.0.1:{}{}", ng.port(), path), dir);
        const std::string nerr = n.rps < 0 ? "wrk against nginx failed: " + n.text : "";
        json nj = base_row(ctx, n_id, false, fmt::format("nginx, {} B files (paired with layout {})", o.file_bytes, l),
                           "n/a", "", rep, o.repetitions, nerr.empty(), nerr);
        nj["mechanism"] = "nginx";
        if (nerr.empty()) add_wrk_fields(o, cfg, n, &nj);
        json dj = base_row(ctx, d_id, true, fmt::format("dvs web layout {} ({}), {} B files", l, wl::describe(cfg.layout),
                                                         o.file_bytes),
                           o.server.wait, n_id, rep, o.repetitions, err.empty(), err);
        dj["web"] = web_fields(o, l, cfg);
        // Requests the servers took during wrk's run (wrk's own requests may include a few that
        // were cut at its end); with the file server's cache, disk requests are only its fills.
        const uint64_t fs_n = c1.fs_requests - c0.fs_requests, disk_n = c1.disk_requests - c0.disk_requests;
        const double disk_per_req = d.requests > 0 ? double(disk_n) / double(d.requests) : 0;
        dj["web"]["fs_requests"] = fs_n;
        dj["web"]["disk_requests"] = disk_n;
        dj["web"]["disk_requests_per_http_request"] = disk_per_req;
        if (err.empty()) {
          add_wrk_fields(o, cfg, d, &dj);
          if (nerr.empty()) {
            if (auto q = cli::slowdown_ratio(cli::RatioBasis::RequestsPerS, d.rps, n.rps)) {
              dj["ratio_to_baseline"] = *q;  // nginx req/s / dvs req/s: > 1 = dvs slower (ratio.hpp)
              dj["ratio_basis"] = cli::ratio_basis_name(cli::RatioBasis::RequestsPerS);
            }
            d_rps.push_back(d.rps);
            n_rps.push_back(n.rps);
            ratio.push_back(d.rps / n.rps);
            disk_per.push_back(disk_per_req);
          }
        }
        const json nh = wrk_histogram(ctx, n_id, n, rep), dh = wrk_histogram(ctx, d_id, d, rep);
        append(nj, nerr.empty() && !nh.is_null() ? &nh : nullptr);
        append(dj, err.empty() && !dh.is_null() ? &dh : nullptr);
        if (!err.empty() || !nerr.empty()) {
          any_failed = true;
          print_failed_rep(l, rep, !err.empty() ? err : nerr);
          if (!err.empty()) break;
        } else {
          print_small_rep(l, rep, d, n, disk_per_req);
        }
      }
      server.stop();
      nodes.reset();
      if (!ratio.empty()) {
        print_small_medians(l, d_rps, n_rps, ratio);
        summary.push_back(small_summary(l, cfg, d_rps, n_rps, ratio, disk_per));
        print_criterion(summary.back());
      }
    }
    meta["summary"] = summary;
    return 0;
  }

  // Large files across two nodes: one curl download per repetition, and the raw TCP stream between
  // the nodes' namespaces (workloads/baselines tcp_stream, 1 MiB blocks, as many bytes) right after.
  int large(const std::string& layouts) {
    const bool want_ns = !o.no_netns;
    const std::string ns_why = want_ns ? cluster::netns_unavailable_reason() : "";
    const bool netns = want_ns && ns_why.empty();
    const std::string network = netns ? "tcp between two network namespaces (veth pairs to a bridge)"
                                      : fmt::format("tcp over loopback{}", ns_why.empty() ? "" : " (no namespaces: " + ns_why + ")");
    meta["network"] = network;
    print_large_header(ctx.run_id, o, path, network);
    json summary = json::array();
    const size_t block = size_t{1} << 20;
    const std::string& transport = o.server.transport;
    for (char l : layouts) {
      wl::WebConfig cfg = bench_config(o, l, root);
      std::unique_ptr<WebNodes> nodes;
      wl::WebServer server;
      const std::string ldir = fmt::format("{}/layout-{}", dir, l);
      const transport::HarnessTraits* tt = cluster::node_transport_traits(transport);
      std::string err = bring_up(bin, ldir, transport, netns && tt && tt->crosses_network_namespaces, &nodes, &cfg, &server);
      if (err.empty()) nodes_started.push_back(nodes->describe());
      const bool two = err.empty() && nodes->two_nodes();
      std::vector<double> d_mb, t_mb, ratio;
      const std::string d_id = fmt::format("web/dvs/{}/large{}B/{}", l, o.large_bytes, two ? transport : "local");
      const std::string t_id = fmt::format("web/baseline/tcp_stream/{}B/paired-{}", block, l);
      for (int rep = 1; rep <= o.repetitions; ++rep) {
        wl::CurlResult c;
        if (err.empty()) {
          c = wl::run_curl(fmt::format("http://127.0.0.1:{}{}", server.port(), path), o.large_bytes);
          if (auto alive = server.check(); !alive.empty()) err = alive;
          else if (!c.ok) err = c.error;
        }
        const double dmb = c.ok ? double(c.bytes) / c.seconds / 1e6 : 0;
        // The raw TCP stream: from node 1's namespace (where the file server is) to node 0's.
        double tmb = -1;
        std::string terr;
        if (two) {
          baselines::BaselineConfig b;
          b.loop.warmup = 4;
          b.loop.iterations = std::max<uint64_t>(1, o.large_bytes / block);
          b.block_bytes = block;
          b.timeout_ms = 120'000;
          if (netns) {
            b.tcp_host = nodes->pair().address(1);
            b.tcp_client_netns = nodes->pair().netns_name(0);
            b.tcp_server_netns = nodes->pair().netns_name(1);
          }
          StreamRows t = tcp_stream_rows(ctx, t_id, block, baselines::tcp_stream(b), network, rep, o.repetitions);
          t.row["warmup"] = b.loop.warmup;
          tmb = t.mb_per_s;
          terr = t.error;
          append(t.row, t.histogram.is_null() ? nullptr : &t.histogram);
        }
        json dj = base_row(ctx, d_id, true,
                           fmt::format("dvs web layout {} ({}), one {} B download", l, wl::describe(cfg.layout), o.large_bytes),
                           o.server.wait, two ? t_id : "", rep, o.repetitions, err.empty(), err);
        dj["web"] = web_fields(o, l, cfg);
        dj["transport"] = two ? transport : "local";
        dj["network"] = two ? network : "one node";
        if (two) dj["nodes"] = {{"client", 0}, {"server", 1}, {"count", 2}};
        if (err.empty()) {
          add_download_fields(o.large_bytes, c.seconds, dmb, &dj);
          if (tmb > 0) {
            dj["ratio_to_baseline"] = *cli::slowdown_ratio(cli::RatioBasis::MbPerS, dmb, tmb);  // tmb > 0
            dj["ratio_basis"] = cli::ratio_basis_name(cli::RatioBasis::MbPerS);
            d_mb.push_back(dmb);
            t_mb.push_back(tmb);
            ratio.push_back(dmb / tmb);
          } else if (!two) {
            d_mb.push_back(dmb);
          }
        }
        append(dj);
        if (!err.empty() || !terr.empty()) {
          any_failed = true;
          print_failed_rep(l, rep, !err.empty() ? err : terr);
          if (!err.empty()) break;
        } else {
          print_large_rep(l, rep, dmb, two ? tmb : -1);
        }
      }
      server.stop();
      nodes.reset();
      if (!d_mb.empty()) {
        print_large_medians(l, d_mb, t_mb, ratio);
        summary.push_back(large_summary(l, d_mb, t_mb, ratio));
        print_criterion(summary.back());
      }
    }
    meta["summary"] = summary;
    return 0;
  }

  // The file served when no --root is given: bytes of a fixed pseudo-random sequence.
  void generate_root(std::error_code& ec) {
    root = dir + "/root";
    std::filesystem::create_directories(root, ec);
    const uint64_t n = o.large ? o.large_bytes : o.file_bytes;
    std::ofstream f(root + "/file.bin", std::ios::binary);
    std::string block(std::min<uint64_t>(n, uint64_t{1} << 20), '\0');
    std::mt19937 rng(1);
    for (auto& ch : block) ch = char(rng());
    for (uint64_t left = n; left > 0;) {
      const uint64_t k = std::min<uint64_t>(left, block.size());
      f.write(block.data(), std::streamsize(k));
      left -= k;
    }
    path = "/file.bin";
  }

  int run() {
    const bool have = std::system(o.large ? "command -v curl >/dev/null" : "command -v wrk >/dev/null && command -v nginx >/dev/null") == 0;
    if (!have) {
      fmt::print(stderr, "dvs web bench: error: {} needed (harness/scripts/install-deps.sh)\n",
                 o.large ? "curl is" : "wrk and nginx are");
      return 1;
    }
    std::string tried, err;
    bin = cli::find_dvsd(o.dvsd_path, &tried);
    if (bin.empty()) {
      fmt::print(stderr, "dvs web bench: error: no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)\n", tried);
      return 1;
    }
    const std::string layouts = !o.layouts.empty() ? o.layouts : o.large ? "DEF" : "B";
    const std::string source_dir = DVS_SOURCE_DIR;
    if (!cli::make_named_run_dir(source_dir, o.out_dir, o.name, o.scenario, &ctx, &err)) {
      fmt::print(stderr, "dvs web bench: error: {}\n", err);
      return 1;
    }
    // Work files (the served root, dvsd sockets and logs, nginx) live outside the run directory.
    dir = o.dir.empty() ? fmt::format("/tmp/dvs-web-bench-{}", getpid()) : o.dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    path = o.path;
    root = o.root;
    if (root.empty()) generate_root(ec);
    meta = cli::collect_machine_info(source_dir);
    meta["run_id"] = ctx.run_id;
    meta["command"] = "dvs web bench";
    meta["loadavg_start"] = cli::loadavg();
    meta["options"] = bench_options_json(o, layouts);
    meta["scenario"] = {{"file", o.scenario}, {"name", o.name}, {"description", o.description}};
    meta["conventions"] = cli::run_conventions();
    meta["placement"] = {{"kind", "unpinned"}, {"client_cpu", -1}, {"server_cpu", -1},
                         {"note", "wrk/curl, nginx, the web server's processes and dvsd all unpinned"}};
    meta["repetitions"] = o.repetitions;
    meta["interrupted"] = false;
    meta["finished"] = false;
    if (!writer.open(ctx.run_dir, &err) || !writer.write_meta(meta, &err)) {
      fmt::print(stderr, "dvs web bench: error: {}\n", err);
      return 1;
    }
    const int rc = o.large ? large(layouts) : small(layouts);
    meta["dvsd"] = {{"binary", bin}, {"nodes", nodes_started}};
    meta["loops_planned"] = int(layouts.size()) * o.repetitions * 2;
    meta["loops_run"] = rows;
    if (!cli::finish_run_files(&writer, &meta, ctx, "dvs web bench", write_failed)) return 1;
    if (o.dir.empty()) std::filesystem::remove_all(dir, ec);
    const int status = cli::criteria_exit_status(rc != 0 || any_failed ? 1 : 0, o.fail_on_criteria, meta["summary"]);
    if (status == 1 && rc == 0 && !any_failed)
      fmt::print(stderr, "dvs web bench: --fail-on-criteria: a criterion was MISSED (exit 1)\n");
    return status;
  }
};

}  // namespace

int run_web_bench(const BenchOptions& o) {
  Bench bench{o};
  return bench.run();
}

}  // namespace dvs::web
