// dvs rpc: see rpc_command.hpp.
#include "harness/commands/rpc_command.hpp"
#include "harness/plan/option_scenario.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "harness/cluster/transports.hpp"
#include "harness/commands/common_options.hpp"
#include "harness/commands/metrics_option.hpp"
#include "harness/commands/rpc_sweep.hpp"
#include "harness/results/machine_info.hpp"
#include "harness/results/report.hpp"
#include "harness/run/node_pair.hpp"
#include "harness/run/private_dvsd.hpp"
#include "workloads/pingpong/pingpong.hpp"
#include "workloads/rpc/rpc.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif

namespace dvs::rpc {

namespace {

using nlohmann::json;
namespace wl = dvs::workloads::rpc;

struct Options {
  std::string scenario, name = "rpc", transport = "local";
  int servers = 2, clients = 2, outstanding = 1;
  std::string loop = "closed", arrivals = "poisson", service = "none", wait = "block";
  double rate = 1000, duration_s = 2, drain_s = 1, service_us = 0;
  uint64_t request_bytes = 0, reply_bytes = 0;
  double stall_at_ms = 0, stall_ms = 0;
  int stall_server = -1;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;
  bool no_verify = false;
  uint64_t seed = 1;
  int request_timeout_ms = 10'000;
  bool sweep = false;
  double slo_percentile = 99, slo_ms = 0;
  SweepOptions sw;
  std::string out_dir, dvsd_path, argv_line, description;
};

std::string format_rate(double rps) {
  return rps >= 1e4 ? fmt::format("{:.1f}k", rps / 1e3) : fmt::format("{:.0f}", rps);
}

// A scenario file: [rpc] keys are dvs rpc's long options (cli/option_scenario.hpp).
std::string apply_scenario(CLI::App* cmd, Options& o) {
  return cli::apply_option_scenario(cmd, o.scenario, "rpc", "dvs rpc", &o.name, &o.description);
}

// Options -> workload config (sockets filled in later). "" or the error.
std::string to_config(const Options& o, wl::RpcConfig* c) {
  const auto loop = wl::parse_loop(o.loop);
  const auto arr = wl::parse_arrivals(o.arrivals);
  const auto svc = wl::parse_service(o.service);
  if (!loop) return "--loop must be closed or open, not '" + o.loop + "'";
  if (!arr) return "--arrivals must be fixed or poisson, not '" + o.arrivals + "'";
  if (!svc) return "--service must be none, fixed or exp, not '" + o.service + "'";
  if (o.transport != cluster::kLocalTransport && !cluster::is_cluster_transport(o.transport))
    return fmt::format("--transport must be {} or {}, not '{}'", cluster::kLocalTransport,
                       cluster::node_transport_choices(), o.transport);
  const auto wait = workloads::parse_wait(o.wait);  // --wait's validator took only its names
  if (!wait) return fmt::format("--wait must be one of {}, not '{}'", fmt::join(workloads::kWaitNames, ", "), o.wait);
  c->wait = *wait;
  if (o.service_us < 0 || o.stall_at_ms < 0 || o.stall_ms < 0) return "times must not be negative";
  if (*svc != wl::Service::None && !(o.service_us > 0)) return "--service " + o.service + " needs --service-us > 0";
  if (o.sweep && !(o.slo_ms > 0)) return "--sweep needs a latency objective: --slo-ms > 0";
  if (o.sweep && !(o.slo_percentile > 0 && o.slo_percentile <= 100)) return "--slo-percentile must be in (0, 100]";
  if (o.sweep && !(o.sw.start_rps > 0 && o.sw.max_rps >= o.sw.start_rps))
    return "--sweep-start must be > 0 and <= --sweep-max";
  if (o.sweep && (o.sw.max_steps < 1 || o.sw.max_steps > 100)) return "--sweep-steps must be 1..100";
  c->servers = o.servers;
  c->clients = o.clients;
  c->outstanding = o.outstanding;
  c->loop = o.sweep ? wl::Loop::Open : *loop;
  c->arrivals = *arr;
  c->rate = o.sweep ? o.sw.start_rps : o.rate;
  c->duration_s = o.duration_s;
  c->drain_s = o.drain_s;
  c->request_bytes = o.request_bytes;
  c->reply_bytes = o.reply_bytes;
  c->service = *svc;
  c->service_ns = uint64_t(o.service_us * 1e3);
  c->stall_at_ns = uint64_t(o.stall_at_ms * 1e6);
  c->stall_ns = uint64_t(o.stall_ms * 1e6);
  c->stall_server = o.stall_server;
  c->spin_ns = o.spin_ns;
  c->verify = !o.no_verify;
  c->seed = o.seed;
  c->request_timeout_ms = o.request_timeout_ms;
  c->client_socket = c->server_socket = "-";  // checked for emptiness only; set once nodes run
  return wl::validate(*c);
}

std::string cell_id(const Options& o, const wl::RpcConfig& c) {
  std::string id = fmt::format("rpc/{}/{}", o.transport, wl::loop_name(c.loop));
  if (c.loop == wl::Loop::Open) id += fmt::format("/{}/{}rps", wl::arrivals_name(c.arrivals), c.rate);
  id += fmt::format("/c{}x{}/s{}/req{}/rep{}", c.clients, c.outstanding, c.servers, c.request_bytes, c.reply_bytes);
  if (c.service != wl::Service::None) id += fmt::format("/{}{}us", wl::service_name(c.service), o.service_us);
  if (c.stall_ns > 0) id += fmt::format("/stall{}ms@{}ms", o.stall_ms, o.stall_at_ms);
  return id + "/" + o.wait;
}

json options_json(const Options& o) {
  return {{"scenario", o.scenario}, {"transport", o.transport}, {"servers", o.servers},
          {"clients", o.clients}, {"outstanding", o.outstanding}, {"loop", o.loop},
          {"arrivals", o.arrivals}, {"rate", o.rate}, {"duration_s", o.duration_s},
          {"drain_s", o.drain_s}, {"request_bytes", o.request_bytes}, {"reply_bytes", o.reply_bytes},
          {"service", o.service}, {"service_us", o.service_us}, {"stall_at_ms", o.stall_at_ms},
          {"stall_ms", o.stall_ms}, {"stall_server", o.stall_server}, {"wait", o.wait},
          {"spin_ns", o.spin_ns}, {"verify", !o.no_verify}, {"seed", o.seed},
          {"request_timeout_ms", o.request_timeout_ms}, {"sweep", o.sweep},
          {"slo_percentile", o.slo_percentile}, {"slo_ms", o.slo_ms},
          {"sweep_start", o.sw.start_rps}, {"sweep_max", o.sw.max_rps},
          {"sweep_steps", o.sw.max_steps}, {"sweep_tolerance", o.sw.tolerance},
          {"argv", o.argv_line}};
}

// One result row through the harness writer (cli::row_json), with the rpc fields.
json rpc_row(const cli::RunContext& ctx, const Options& o, const wl::RpcConfig& c, const wl::RpcResult& r,
             cli::Cell& cell, cli::CellResult& cr) {
  cell.id = cell_id(o, c);
  cell.kind = cli::CellKind::PingPong;
  cell.dvs = true;
  cell.label = fmt::format("rpc {} loop, {} clients x {} outstanding, {} servers", wl::loop_name(c.loop),
                           c.clients, c.outstanding, c.servers);
  cell.wait = o.wait;
  cell.section = "rpc";
  cr.cell = &cell;
  cr.ok = r.ok;
  cr.error = r.error;
  cr.loop = std::make_unique<measure::LoopResult>();
  cr.loop->samples = *r.latency;
  cr.loop->iterations = r.latency->count();
  cr.loop->elapsed_ns = r.elapsed_ns;
  cr.loop->bytes_per_op = c.request_bytes + c.reply_bytes;
  cr.loop->completed = true;
  cr.summary = r.latency->summary();
  cr.per_s = 2 * r.throughput_rps;  // msgs/s, both directions (the convention)
  json j = cli::row_json(ctx, cr);
  j["kind"] = "rpc";
  j["placement"] = o.transport == "local" ? "unpinned" : "cross-node";
  j["placement_detail"] = o.transport == "local" ? "unpinned, one dvsd node"
                                                 : "clients on node 0, servers on node 1, unpinned";
  j["transport"] = o.transport;
  j["primitive"] = "rcvrqst_reply";
  j["iterations_planned"] = nullptr;
  j["stop"] = "duration";
  j["duration_s"] = c.duration_s;
  if (j.contains("latency")) {
    j["latency"]["what"] = "rpc";
    j["latency"]["description"] =
        c.loop == wl::Loop::Open ? "intended send time (the arrival schedule) to the reply"
                                 : "send to reply (closed loop: the next request goes when the reply is in)";
  }
  json secs = json::array();
  for (const auto& s : r.seconds)
    secs.push_back({{"t_s", s.t_s}, {"requests", s.completed}, {"p50", s.latency.p50},
                    {"p90", s.latency.p90}, {"p99", s.latency.p99}, {"p99_9", s.latency.p999},
                    {"max", s.latency.max}});
  j["rpc"] = {{"loop", wl::loop_name(c.loop)},
              {"arrivals", c.loop == wl::Loop::Open ? json(wl::arrivals_name(c.arrivals)) : json(nullptr)},
              {"offered_rps", c.loop == wl::Loop::Open ? json(c.rate) : json(nullptr)},
              {"throughput_rps", r.throughput_rps},
              {"clients", c.clients}, {"outstanding", c.outstanding}, {"servers", c.servers},
              {"request_bytes", c.request_bytes}, {"reply_bytes", c.reply_bytes},
              {"inline_bytes", wl::kInlineBytes},
              {"service", wl::service_name(c.service)}, {"service_ns", c.service_ns},
              {"stall_at_ns", c.stall_at_ns}, {"stall_ns", c.stall_ns}, {"stalls", r.stalls},
              {"completed", r.completed}, {"unsent", r.unsent}, {"failed", r.failed},
              {"verify", c.verify}, {"verify_failures", r.verify_failures},
              {"request_payload_bytes", r.request_payload_bytes},
              {"reply_payload_bytes", r.reply_payload_bytes}, {"vcopies", r.vcopies},
              {"served_per_server", r.served}, {"timeseries", secs}};
  return j;
}

void print_run(const wl::RpcConfig& c, const wl::RpcResult& r, bool per_second) {
  using cli::format_ns;
  if (per_second) {
    fmt::print("{:>5} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "t(s)", "requests", "p50", "p90", "p99",
               "p99.9", "max");
    for (const auto& s : r.seconds)
      fmt::print("{:>5.0f} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n", s.t_s, s.completed,
                 format_ns(double(s.latency.p50)), format_ns(double(s.latency.p90)),
                 format_ns(double(s.latency.p99)), format_ns(double(s.latency.p999)),
                 format_ns(double(s.latency.max)));
  }
  const auto s = r.latency->summary();
  fmt::print("whole run: {} requests in {:.2f} s = {} rps{}; latency p50 {} p90 {} p99 {} p99.9 {} max {}\n",
             r.completed, double(r.elapsed_ns) / 1e9, format_rate(r.throughput_rps),
             c.loop == wl::Loop::Open ? fmt::format(" (offered {})", format_rate(c.rate)) : "",
             format_ns(double(s.p50)), format_ns(double(s.p90)), format_ns(double(s.p99)),
             format_ns(double(s.p999)), format_ns(double(s.max)));
  fmt::print("  payload verified: {} B requests, {} B replies, {} vcopies; unsent {}, failed {}, "
             "verify failures {}, stalls {}{}\n",
             r.request_payload_bytes, r.reply_payload_bytes, r.vcopies, r.unsent, r.failed,
             r.verify_failures, r.stalls, r.ok ? "" : "; FAILED: " + r.error);
}

int run(Options& o, wl::RpcConfig cfg) {
  const std::string source_dir = DVS_SOURCE_DIR;
  std::string tried, err;
  const std::string bin = cli::find_dvsd(o.dvsd_path, &tried);
  if (bin.empty()) {
    fmt::print(stderr, "dvs rpc: error: no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)\n", tried);
    return 1;
  }
  cli::RunContext ctx;
  ctx.spin_ns = o.spin_ns;
  ctx.warmup = 1;  // one untimed round trip per client endpoint
  if (!cli::make_named_run_dir(source_dir, o.out_dir, o.name, o.scenario, &ctx, &err)) {
    fmt::print(stderr, "dvs rpc: error: {}\n", err);
    return 1;
  }
  // Nodes: the copy limit of DC 0 is raised when a payload needs it.
  const uint64_t copylen = std::max<uint64_t>({o.request_bytes, o.reply_bytes, uint64_t{1} << 20});
  cli::PrivateDvsd local;
  cli::NodePair pair(bin, ctx.run_dir);
  std::string nodes_desc;
  if (o.transport == cluster::kLocalTransport) {
    if (!local.start(bin, 0, ctx.run_dir + "/dvsd.log", {"--dc", fmt::format("0,copylen={}", copylen)}, &err)) {
      fmt::print(stderr, "dvs rpc: error: dvsd did not start: {}\n", err);
      return 1;
    }
    cfg.client_socket = cfg.server_socket = local.socket_path();
    cfg.server_node = -1;
    nodes_desc = fmt::format("{} --node 0 --dc 0,copylen={}", bin, copylen);
  } else {
    cli::NodePairOptions po;
    po.transport = o.transport;
    po.copylen = copylen;
    if (err = pair.ensure(po); !err.empty()) {
      fmt::print(stderr, "dvs rpc: error: {}\n", err);
      return 1;
    }
    cfg.client_socket = pair.socket(0);
    cfg.server_socket = pair.socket(1);
    cfg.server_node = 1;
    for (const auto& l : pair.lines()) nodes_desc += (nodes_desc.empty() ? "" : "; ") + l;
  }

  json meta = cli::collect_machine_info(source_dir);
  meta["run_id"] = ctx.run_id;
  meta["command"] = "dvs rpc";
  meta["loadavg_start"] = cli::loadavg();
  meta["options"] = options_json(o);
  meta["scenario"] = {{"file", o.scenario}, {"name", o.name}, {"description", o.description}};
  meta["conventions"] = cli::run_conventions();
  meta["conventions"]["rpc_latency"] =
      "open loop: reply time - intended send time (no coordinated omission); closed loop: reply "
      "time - send time; docs/RPC.md";
  meta["dvsd"] = {{"binary", bin}, {"nodes", nodes_desc}};
  meta["interrupted"] = false;
  meta["finished"] = false;
  cli::ResultsWriter writer;
  if (!writer.open(ctx.run_dir, &err) || !writer.write_meta(meta, &err)) {
    fmt::print(stderr, "dvs rpc: error: {}\n", err);
    return 1;
  }
  fmt::print("dvs rpc {} ({}; {} clients x {} outstanding -> {} servers, request {} B, reply {} B "
             "(> {} B by vcopy), service {}, wait {})\n",
             ctx.run_id, o.transport == "local" ? "one node" : "two nodes over " + o.transport, cfg.clients,
             cfg.outstanding, cfg.servers, cfg.request_bytes, cfg.reply_bytes, wl::kInlineBytes, o.service, o.wait);
  std::fflush(stdout);

  bool any_failed = false, write_failed = false, objective_missed = false;
  int rep = 0;
  auto measure_one = [&](const wl::RpcConfig& c, bool per_second, json extra) {
    wl::RpcResult r = wl::run_rpc(c);
    any_failed = any_failed || !r.ok;
    cli::Cell cell;
    cli::CellResult cr;
    json row = rpc_row(ctx, o, c, r, cell, cr);
    row["rep"] = ++rep;
    row["repetitions"] = 1;
    for (auto& [k, v] : extra.items()) row[k] = v;
    json hist = cli::histogram_json(ctx, cr);
    hist["rep"] = rep;
    if (!writer.append(row, r.ok ? &hist : nullptr, &err)) write_failed = true;
    if (per_second || !r.ok) print_run(c, r, per_second);
    return r;
  };

  if (!o.sweep) {
    measure_one(cfg, true, json::object());
  } else {
    fmt::print("sweep: highest offered rate (open loop, {} arrivals, {:.1f} s a step) with p{} <= {} ms\n",
               o.arrivals, o.duration_s, o.slo_percentile, o.slo_ms);
    const uint64_t bound = uint64_t(o.slo_ms * 1e6);
    int step = 0;
    SweepAnswer a = sweep(o.sw, [&](double rate) {
      wl::RpcConfig c = cfg;
      c.rate = rate;
      ++step;
      wl::RpcResult r = measure_one(c, false, {{"sweep_step", step}});
      SweepStep s;
      const uint64_t p = r.latency->percentile(o.slo_percentile);
      s.pass = r.ok && r.failed == 0 && r.unsent == 0 && r.verify_failures == 0 && p <= bound;
      s.why = !r.ok ? "failed: " + r.error
                    : fmt::format("p{} {} {} {}; throughput {} rps{}", o.slo_percentile, cli::format_ns(double(p)),
                                  p <= bound ? "<=" : ">", cli::format_ns(double(bound)), format_rate(r.throughput_rps),
                                  r.unsent ? fmt::format(", {} unsent", r.unsent) : "");
      fmt::print("  step {:>2}: offered {:>8} rps  {}  {}\n", step, format_rate(rate), s.pass ? "PASS" : "FAIL", s.why);
      std::fflush(stdout);
      return s;
    });
    json steps = json::array();
    for (const auto& s : a.steps) steps.push_back({{"rate", s.rate}, {"pass", s.pass}, {"why", s.why}});
    meta["sweep"] = {{"objective", {{"percentile", o.slo_percentile}, {"bound_ns", bound}}},
                     {"steps", steps}, {"answer_rps", a.best_pass > 0 ? json(a.best_pass) : json(nullptr)},
                     {"lowest_failing_rps", a.lowest_fail > 0 ? json(a.lowest_fail) : json(nullptr)},
                     {"stop_reason", a.stop_reason}};
    if (a.best_pass > 0)
      fmt::print("answer: {} rps holds p{} <= {} ms{} ({})\n", format_rate(a.best_pass), o.slo_percentile, o.slo_ms,
                 a.lowest_fail > 0 ? fmt::format("; {} rps does not", format_rate(a.lowest_fail)) : "", a.stop_reason);
    else
      fmt::print("answer: no offered rate held p{} <= {} ms ({}); exit status 1\n", o.slo_percentile, o.slo_ms,
                 a.stop_reason);
    objective_missed = a.best_pass <= 0;  // the user's objective, held at no rate
  }
  local.stop();
  pair.stop();
  meta["loops_run"] = rep;
  if (!cli::finish_run_files(&writer, &meta, ctx, "dvs rpc", write_failed)) return 1;
  return any_failed || objective_missed ? 1 : 0;
}

void add_rpc_options(CLI::App* cmd, Options* o) {
  cmd->add_option("--scenario", o->scenario, "TOML file whose [rpc] keys are these options "
                                             "(harness/scenarios/rpc-*.toml); the command line wins")
      ->check(CLI::ExistingFile);
  cmd->add_option("--transport", o->transport, "local (one dvsd) or a transport of `dvs transports` (two dvsd: "
                                               "clients on node 0, servers on node 1) (default local)");
  cmd->add_option("--servers", o->servers, "Server processes (system slots 1..N) (default 2)");
  cmd->add_option("--clients", o->clients, "Client processes (default 2)");
  cmd->add_option("--outstanding", o->outstanding,
                  "Requests in flight per client: threads with their own endpoint (default 1)");
  cmd->add_option("--loop", o->loop, "closed (send on reply) or open (arrival schedule) (default closed)");
  cmd->add_option("--arrivals", o->arrivals, "Open loop: fixed (even spacing) or poisson (default poisson)");
  cmd->add_option("--rate", o->rate, "Open loop: offered requests/s, all clients together (default 1000)");
  cmd->add_option("--duration", o->duration_s, "Measured seconds (of each sweep step) (default 2)");
  cmd->add_option("--drain", o->drain_s, "Open loop: seconds past the end late arrivals may still go (default 1)");
  cmd->add_option("--request-bytes", o->request_bytes, "Request payload; above 24 B it is pulled by vcopy (default 0)");
  cmd->add_option("--reply-bytes", o->reply_bytes, "Reply payload; above 24 B it is pushed by vcopy (default 0)");
  cmd->add_option("--service", o->service, "Service-time model: none, fixed, exp (busy wait) (default none)");
  cmd->add_option("--service-us", o->service_us, "Service time (exp: its mean), us");
  cmd->add_option("--stall-ms", o->stall_ms, "Inject a stall: the server(s) sleep this long once ... (default 0: none)");
  cmd->add_option("--stall-at-ms", o->stall_at_ms, "... at this time after the start (default 0)");
  cmd->add_option("--stall-server", o->stall_server, "Which server stalls, 0-based (default -1: all)");
  cli::add_wait_option(cmd, &o->wait, "every endpoint");
  cli::add_spin_ns_option(cmd, &o->spin_ns);
  cmd->add_flag("--no-verify", o->no_verify, "Do not check payload bytes (they are filled and checked by default)");
  cmd->add_option("--seed", o->seed, "Seed of the arrival and service-time draws (default 1)");
  cmd->add_option("--request-timeout-ms", o->request_timeout_ms,
                  "Bound of one sendrec, plus the stall (default 10000)")->check(CLI::Range(100, 600'000));
  cmd->add_flag("--sweep", o->sweep, "Find the highest open-loop rate that holds --slo-percentile <= --slo-ms (exit 1 if no rate holds it)");
  cmd->add_option("--slo-percentile", o->slo_percentile, "Sweep objective: the percentile (default 99)");
  cmd->add_option("--slo-ms", o->slo_ms, "Sweep objective: its bound, ms");
  cmd->add_option("--sweep-start", o->sw.start_rps, "First offered rate of the sweep (default 1000)");
  cmd->add_option("--sweep-max", o->sw.max_rps, "Highest rate the sweep tries (default 1e6)");
  cmd->add_option("--sweep-steps", o->sw.max_steps, "Runs the sweep may use (default 12)");
  cmd->add_option("--sweep-tolerance", o->sw.tolerance,
                  "Stop bisecting when failing / passing rate <= 1 + this (default 0.1)")->check(CLI::Range(0.001, 10.0));
  cmd->add_option("--name", o->name, "Run id suffix (default rpc; a scenario's [scenario] name)");
  cli::add_out_option(cmd, &o->out_dir, "results/runs");
  cli::add_dvsd_option(cmd, &o->dvsd_path);
  metrics::add_workload_metrics_option(cmd);
}

// The parsed command line (and scenario file) -> one run or sweep; cmd is the `rpc` App.
int run_rpc_command(CLI::App* cmd, Options& o) {
  auto usage = [](const std::string& e) {
    fmt::print(stderr, "dvs rpc: error: {}\n", e);
    return 2;
  };
  o.argv_line = cli::own_command_line();
  if (!o.scenario.empty())
    if (auto e = apply_scenario(cmd, o); !e.empty()) return usage(e);
  wl::RpcConfig cfg;
  if (auto e = to_config(o, &cfg); !e.empty()) return usage(e);
  for (char ch : o.name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
      return usage("--name: use A-Z a-z 0-9 - _ . only, not '" + o.name + "'");
  return run(o, cfg);
}

}  // namespace

cli::Command make_rpc_command() {
  auto o = std::make_shared<Options>();
  auto app = std::make_shared<CLI::App*>(nullptr);
  cli::Command c;
  c.name = "rpc";
  c.help = "RPC load: client endpoints sendrec to a pool of servers (closed or open loop, payloads "
           "by vcopy), or a rate sweep against a latency objective; results/runs/<run-id>/ (docs/RPC.md)";
  c.add_options = [o, app](CLI::App* cmd) {
    *app = cmd;
    add_rpc_options(cmd, o.get());
  };
  c.run = [o, app] { return run_rpc_command(*app, *o); };
  return c;
}

}  // namespace dvs::rpc
