// The remote section of `dvs run`: see remote_cells.hpp.
#include "harness/plan/remote_cells.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/pingpong/pingpong.hpp"
#include "workloads/remote/remote.hpp"

namespace dvs::cli {

namespace {

constexpr const char* kHost = "127.0.0.1";
constexpr int kClientNode = 0, kServerNode = 1;
constexpr int kBatchDefault = 64;  // dvsd's default --batch
constexpr int kBatchNone = 1;

const char* const kTcpPing = "remote/baseline/tcp_pingpong";
const char* const kTcpStream = "remote/baseline/tcp_stream";
const char* const kSendrec = "remote/dvs/sendrec_reply";
const char* const kPullPrefix = "remote/dvs/vcopy_pull";

const char* const kDirectSendrec = "remote/dvs-direct/sendrec_reply";

// "proxy" cells are remote/dvs/..., "direct" ones remote/dvs-direct/...
std::string dvs_prefix(const std::string& path) { return path == "direct" ? "remote/dvs-direct" : "remote/dvs"; }
std::string pairs_id(int n, int batch, const std::string& path = "proxy") {
  return fmt::format("{}/pairs{}/batch{}", dvs_prefix(path), n, batch);
}

measure::TwoProcessOutcome not_run(const std::string& why) {
  measure::TwoProcessOutcome o;
  o.result = std::make_unique<measure::LoopResult>();
  o.error = why;
  return o;
}

std::string short_placement(const std::string& describe) {
  const auto sp = describe.find(' ');
  return sp == std::string::npos ? describe : describe.substr(0, sp);
}

std::string format_rate(double per_s) {
  if (per_s >= 1e6) return fmt::format("{:.2f} M", per_s / 1e6);
  if (per_s >= 1e3) return fmt::format("{:.1f} k", per_s / 1e3);
  return fmt::format("{:.0f}", per_s);
}

const CellResult* find(const std::vector<CellResult>& rs, const std::string& id_prefix) {
  for (const auto& r : rs)
    if (r.cell->id.rfind(id_prefix, 0) == 0) return &r;
  return nullptr;
}

}  // namespace

// ---- the nodes ----

std::string remote_netns_unavailable() { return cluster::netns_unavailable_reason(); }

std::string RemoteNodes::dvsd_threads() const {
  if (!pinned()) return "unpinned";
  return fmt::format("node 0's dvsd pinned to cpu{}, node 1's to cpu{}", opt_.cpu0, opt_.cpu1);
}

std::string RemoteNodes::network() const {
  return opt_.netns ? std::string("tcp between two network namespaces (veth pairs to a bridge)")
                : fmt::format("tcp://{} (loopback)", kHost);
}

nlohmann::json RemoteNodes::describe() const {
  return {{"binary", bin_},
          {"transport", "tcp"},
          {"network", network()},
          {"netns", opt_.netns},
          {"client_node", kClientNode},
          {"server_node", kServerNode},
          {"dvsd_threads", dvsd_threads()},
          {"lz4", false},
          {"pairs_started", pair_.lines()},
          {"error", skip_}};
}

// ---- the cells ----

std::vector<Cell> plan_remote_cells(const RunOptions& o, const measure::CpuPair& cpus,
                                    const std::shared_ptr<RemoteNodes>& nodes) {
  const uint64_t budget_ns = uint64_t(o.cell_budget_s * 1e9);
  const int timeout_ms = int(o.cell_budget_s * 1000) + 30'000;
  const auto wait = workloads::parse_wait(o.remote_wait).value_or(DVS_WAIT_BLOCK);
  const bool one_cpu = cpus.placement == measure::Placement::Same;
  const size_t block = size_t(o.remote_copy_bytes);

  auto base_cfg = [&](uint64_t iters) {
    baselines::BaselineConfig b;
    b.loop.warmup = o.warmup;
    b.loop.iterations = iters;
    b.loop.budget_ns = budget_ns;
    b.cpus = cpus;
    b.timeout_ms = timeout_ms;
    b.block_bytes = block;
    b.tcp_host = kHost;
    return b;
  };
  auto remote_cfg = [&](uint64_t iters) {
    workloads::remote::RemoteConfig r;
    r.server_node = kServerNode;
    r.wait = wait;
    r.spin_ns = o.spin_ns;
    r.loop.warmup = o.warmup;
    r.loop.iterations = iters;
    r.loop.budget_ns = budget_ns;
    r.cpus = cpus;
    r.timeout_ms = timeout_ms;
    r.vcopy_bytes = block;
    return r;
  };
  auto extra = [&](bool dvs, int batch, int pairs, const std::string& path = "proxy") {
    nlohmann::json j = {{"section", kRemoteSection},
                        {"transport", "tcp"},
                        {"network", nodes->network()},
                        {"endpoint_placement", cpus.describe()}};
    if (dvs) {
      j["nodes"] = {{"client", kClientNode}, {"server", kServerNode}, {"count", 2}};
      j["dvsd_batch"] = batch;
      j["dvsd_lz4"] = false;
      j["dvsd_threads"] = nodes->dvsd_threads();
      j["dvsd_poll_us"] = o.proxy_poll_us;
      j["remote_path"] = path;
      j["pairs"] = pairs;
    } else {
      j["nodes"] = {{"client", nullptr}, {"server", nullptr}, {"count", 0}};
      j["note"] = "raw sockets between the two measuring processes, no dvsd";
    }
    return j;
  };
  // A raw TCP cell: on loopback as is; with namespaces, between the nodes' two namespaces (they
  // exist once the nodes run, so the nodes are started first).
  // fn(const BaselineConfig&) -> TwoProcessOutcome.
  auto baseline_run = [nodes](baselines::BaselineConfig cfg, auto fn) {
    return [nodes, cfg, fn]() -> measure::TwoProcessOutcome {
      auto b = cfg;
      if (nodes->netns()) {
        if (std::string err = nodes->ensure(kBatchDefault); !err.empty()) return not_run(err);
        b.tcp_host = nodes->address(kServerNode);
        b.tcp_client_netns = nodes->netns_name(kClientNode);
        b.tcp_server_netns = nodes->netns_name(kServerNode);
      }
      return fn(b);
    };
  };
  // A dvs cell: make sure the node pair with `batch` and `path` runs, then measure.
  auto dvs_run = [nodes](int batch, auto fn, const std::string& path = "proxy") {
    return [nodes, batch, fn, path]() -> measure::TwoProcessOutcome {
      if (std::string err = nodes->ensure(batch, path); !err.empty()) return not_run(err);
      return fn(*nodes);
    };
  };
  const std::string spin_skip =
      one_cpu && o.remote_wait == "spin"
          ? "spin with both processes on one CPU measures the scheduler's timeslice"
          : "";

  std::vector<Cell> cells;
  auto add = [&](Cell c) {
    c.section = kRemoteSection;
    c.network = nodes->network();  // the raw TCP rows run between the same two nodes
    cells.push_back(std::move(c));
  };
  {
    Cell c;
    c.id = kTcpPing;
    // Like for like: when the proxies poll (--proxy-poll-us), the raw TCP ends poll as long.
    c.label = o.proxy_poll_us > 0 ? fmt::format("raw TCP ping-pong, 64 B, polls {} us", o.proxy_poll_us)
                                  : std::string("raw TCP ping-pong, 64 B, TCP_NODELAY");
    c.wait = "block";
    c.short_name = "tcp";
    c.iterations = o.remote_iterations;
    c.row_extra = extra(false, 0, 0);
    c.row_extra["poll_us"] = o.proxy_poll_us;
    auto cfg = base_cfg(o.remote_iterations);
    cfg.poll_us = o.proxy_poll_us;
    c.run = baseline_run(cfg, baselines::tcp_pingpong);
    add(std::move(c));
  }
  using workloads::remote::RemoteLoop;
  for (const std::string path : {"proxy", "direct"}) {
    for (RemoteLoop l : {RemoteLoop::SendrecReply, RemoteLoop::SendReceive, RemoteLoop::NotifyReceive}) {
      Cell c;
      c.id = fmt::format("{}/{}/{}", dvs_prefix(path), workloads::remote::loop_id(l), o.remote_wait);
      c.dvs = true;
      c.label = std::string(workloads::remote::loop_label(l)) + (path == "direct" ? ", direct path" : "");
      c.wait = o.remote_wait;
      c.baseline = kTcpPing;
      c.short_name = fmt::format("{}-{}", path == "direct" ? "dvs-direct" : "dvs", workloads::remote::loop_id(l));
      c.iterations = o.remote_iterations;
      c.skip_reason = spin_skip;
      c.row_extra = extra(true, kBatchDefault, 1, path);
      const auto cfg = remote_cfg(o.remote_iterations);
      c.run = dvs_run(
          kBatchDefault,
          [cfg, l](const RemoteNodes& at) {
            auto r = at.config(cfg);
            return workloads::remote::run_remote(l, r);
          },
          path);
      add(std::move(c));
    }
  }
  // The peer libraries over tcp:// between the same two endpoints as the raw TCP ping-pong (after
  // the dvs rows they name). Their wait is the library's blocking one: a ratio only against the
  // dvs sendrec row whose endpoints block too.
  for (const auto& pr : kPeerRows) {
    if (pr.transport != baselines::PeerTransport::Tcp) continue;
    Cell c;
    c.id = fmt::format("remote/peer/{}_tcp", pr.name);
    c.peer = true;
    c.label = pr.label;
    c.wait = "block";
    c.short_name = pr.short_name;
    if (o.remote_wait == "block") c.baseline = fmt::format("{}/block", kSendrec);
    c.iterations = o.remote_iterations;
    c.row_extra = extra(false, 0, 0);
    c.row_extra["note"] = std::string("the library's sockets between the two measuring processes, no dvsd; ") + kPeerNote;
    const auto fn = pr.fn;
    c.run = baseline_run(base_cfg(o.remote_iterations), [fn](const baselines::BaselineConfig& b) {
      return fn(b, baselines::PeerTransport::Tcp);
    });
    add(std::move(c));
  }
  for (bool lowat : {false, true}) {
    // The standard stream (what iperf-style tools measure: the reader is woken per segment) is
    // the vcopy rows' baseline; the SO_RCVLOWAT variant is shown beside it as the strongest raw
    // receiver (woken once per block, as dvs's tcp transport does for large frames).
    Cell c;
    c.id = lowat ? std::string(kTcpStream) + "_rcvlowat" : std::string(kTcpStream);
    c.kind = CellKind::Copy;
    c.label = fmt::format("raw TCP stream, {} KiB writes{}", block / 1024, lowat ? ", SO_RCVLOWAT" : "");
    c.wait = "block";
    c.short_name = lowat ? "tcp-stream-lowat" : "tcp-stream";
    c.iterations = o.remote_copy_iterations;
    c.row_extra = extra(false, 0, 0);
    c.row_extra["rcvlowat"] = lowat;
    auto cfg = base_cfg(o.remote_copy_iterations);
    cfg.stream_rcvlowat = lowat;
    c.run = baseline_run(cfg, baselines::tcp_stream);
    add(std::move(c));
  }
  for (RemoteLoop l : {RemoteLoop::VcopyPull, RemoteLoop::VcopyPush}) {
    Cell c;
    c.id = fmt::format("remote/dvs/{}/{}", workloads::remote::loop_id(l), o.remote_wait);
    c.kind = CellKind::Copy;
    c.dvs = true;
    c.label = fmt::format("{}, {} KiB", workloads::remote::loop_label(l), block / 1024);
    c.wait = o.remote_wait;
    c.baseline = kTcpStream;
    c.iterations = o.remote_copy_iterations;
    c.skip_reason = spin_skip;
    c.row_extra = extra(true, kBatchDefault, 1);
    const auto cfg = remote_cfg(o.remote_copy_iterations);
    c.run = dvs_run(kBatchDefault, [cfg, l](const RemoteNodes& at) {
      auto r = at.config(cfg);
      return workloads::remote::run_remote(l, r);
    });
    add(std::move(c));
  }
  for (int batch : {kBatchDefault, kBatchNone}) {
    for (int n : {1, 8}) {
      Cell c;
      c.id = pairs_id(n, batch);
      c.dvs = true;
      c.label = fmt::format("{} sendrec pair{}, dvsd --batch {}", n, n == 1 ? "" : "s", batch);
      c.wait = o.remote_wait;
      c.short_name = fmt::format("1-pair-b{}", batch);
      if (n > 1) {
        c.baseline = pairs_id(1, batch);
        c.ratio_of_rates = true;
      }
      const uint64_t per_client = std::max<uint64_t>(o.remote_pair_iterations / uint64_t(n), 20);
      c.iterations = per_client * uint64_t(n);
      c.skip_reason = spin_skip;
      c.row_extra = extra(true, batch, n);
      c.row_extra["iterations_per_client"] = per_client;
      const auto cfg = remote_cfg(per_client);
      c.run = dvs_run(batch, [cfg, n](const RemoteNodes& at) {
        auto r = at.config(cfg);
        return workloads::remote::run_remote_pairs(n, r);
      });
      add(std::move(c));
    }
  }
  for (int n : {1, 8}) {  // the direct path's pairs (dvsd's batching does not apply to process links)
    Cell c;
    c.id = pairs_id(n, kBatchDefault, "direct");
    c.dvs = true;
    c.label = fmt::format("{} sendrec pair{}, direct path", n, n == 1 ? "" : "s");
    c.wait = o.remote_wait;
    c.short_name = "1-pair-direct";
    if (n > 1) {
      c.baseline = pairs_id(1, kBatchDefault, "direct");
      c.ratio_of_rates = true;
    }
    const uint64_t per_client = std::max<uint64_t>(o.remote_pair_iterations / uint64_t(n), 20);
    c.iterations = per_client * uint64_t(n);
    c.skip_reason = spin_skip;
    c.row_extra = extra(true, kBatchDefault, n, "direct");
    c.row_extra["iterations_per_client"] = per_client;
    const auto cfg = remote_cfg(per_client);
    c.run = dvs_run(
        kBatchDefault,
        [cfg, n](const RemoteNodes& at) {
          auto r = at.config(cfg);
          return workloads::remote::run_remote_pairs(n, r);
        },
        "direct");
    add(std::move(c));
  }
  keep_only(o.only, &cells);
  return cells;
}

// ---- criteria and the table section ----

nlohmann::json remote_criteria(const std::vector<CellResult>& results, const std::string& endpoint_wait) {
  nlohmann::json out = nlohmann::json::array();
  auto add = [&](const std::string& text, const char* bound_kind, double bound, const CellResult* r) {
    nlohmann::json j = {{"criterion", text}, {"bound", bound}, {"bound_kind", bound_kind}};
    if (r != nullptr && r->ok && r->ratio) {
      j["value"] = *r->ratio;
      j["cell"] = r->cell->id;
      j["met"] = std::string(bound_kind) == "max" ? *r->ratio <= bound : *r->ratio >= bound;
    } else {
      j["value"] = nullptr;
      j["met"] = nullptr;
    }
    out.push_back(j);
  };
  add("remote sendrec RTT p50 <= 1.3x raw TCP ping-pong p50", "max", 1.3, find(results, kSendrec));
  {
    // Against the faster of the two raw streams of the run (the SO_RCVLOWAT one, usually): the
    // vcopy rows' own ratio column uses the plain stream, the criterion the stricter comparator.
    const CellResult* pull = find(results, kPullPrefix);
    const CellResult* best = nullptr;
    for (const std::string& id : {std::string(kTcpStream), std::string(kTcpStream) + "_rcvlowat"}) {
      const CellResult* r = find(results, id);
      if (r != nullptr && r->ok && r->per_s > 0 && (best == nullptr || r->per_s > best->per_s)) best = r;
    }
    CellResult against;
    if (pull != nullptr && pull->ok && best != nullptr) {
      against.cell = pull->cell;
      against.ok = true;
      against.ratio = pull->per_s / best->per_s;
    }
    add("remote vcopy 1 MiB (pull) MB/s >= 0.7x the faster raw TCP stream", "min", 0.7,
        against.ok ? &against : nullptr);
    if (against.ok) out.back()["baseline_cell"] = best->cell->id;
  }
  // A scaling factor (8 pairs' msgs/s / 1 pair's), not a ratio to a baseline: computed here.
  auto scaling = [&](const std::string& eight_id, const std::string& one_id, CellResult* into) -> const CellResult* {
    const CellResult* eight = find(results, eight_id);
    const CellResult* one = find(results, one_id);
    if (eight == nullptr || one == nullptr || !eight->ok || !one->ok || one->per_s <= 0) return nullptr;
    into->cell = eight->cell;
    into->ok = true;
    into->ratio = eight->per_s / one->per_s;
    return into;
  };
  CellResult scale_proxy, scale_direct;
  add("8 concurrent pairs >= 3x the msgs/s of 1 pair (dvsd --batch 64)", "min", 3.0,
      scaling(pairs_id(8, kBatchDefault), pairs_id(1, kBatchDefault), &scale_proxy));
  if (endpoint_wait == "block")
    add("direct path: remote sendrec RTT p50 <= 1.15x raw TCP ping-pong p50", "max", 1.15,
        find(results, kDirectSendrec));
  else
    add("direct path, polling: remote sendrec RTT p50 <= 2x raw TCP busy-poll ping-pong p50", "max", 2.0,
        find(results, kDirectSendrec));
  add("direct path: 8 concurrent pairs >= 4x the msgs/s of 1 pair", "min", 4.0,
      scaling(pairs_id(8, kBatchDefault, "direct"), pairs_id(1, kBatchDefault, "direct"), &scale_direct));
  return out;
}

void print_remote_section(std::FILE* out, const RunContext& ctx, const RunOptions& o,
                          const std::vector<CellResult>& results) {
  std::vector<const CellResult*> rows;
  for (const auto& r : results)
    if (r.cell->section == kRemoteSection) rows.push_back(&r);
  if (rows.empty()) return;
  constexpr const char* kFmt = "{:<46} {:<8} {:<11} {:>7} {:>10} {:>10} {:>10}  {}\n";
  const std::string line(132, '-');
  const std::string pl = short_placement(ctx.placement);
  fmt::print(out, "\nremote (2 nodes of the embedded cluster, `dvs cluster default`): client on node 0, "
                  "server on node 1, one dvsd per node linked over {} (dvsd --batch 64 unless the row says otherwise; no LZ4); the raw TCP rows "
                  "run over the same network\n", ctx.remote_network);
  fmt::print(out, "placement: measuring processes {} (dvs: client and server endpoints; raw TCP: "
                  "its two processes); dvsd: {}\n", ctx.placement, ctx.remote_dvsd_threads);
  fmt::print(out, "dvs endpoints wait: {}; the proxies' threads {}; the raw TCP rows {}.\n",
             o.remote_wait,
             o.proxy_poll_us > 0 ? fmt::format("poll {} us after traffic, then block (dvsd --poll-us)", o.proxy_poll_us)
                                 : std::string("block in futex/poll"),
             o.proxy_poll_us > 0 ? fmt::format("poll {} us, then block in read()", o.proxy_poll_us)
                                 : std::string("block in read()"));
  const bool endpoints_spin = o.remote_wait != "block";
  std::vector<std::string> proxy_spinners;
  if (endpoints_spin) proxy_spinners.push_back("the endpoint");
  if (o.proxy_poll_us > 0) proxy_spinners.push_back("dvsd's link thread");
  std::string proxy_who = proxy_spinners.empty() ? "none" : proxy_spinners[0];
  for (size_t i = 1; i < proxy_spinners.size(); ++i) proxy_who += ", " + proxy_spinners[i];
  fmt::print(out, "threads spinning on each node during a round trip: proxy path {} ({}), direct path {} ({})\n\n",
             proxy_spinners.size(), proxy_who, endpoints_spin ? 1 : 0,
             endpoints_spin ? "the endpoint; dvsd takes no part over tcp" : "none");
  fmt::print(out, kFmt, "mechanism", "wait", "placement", "n", "p50 RTT", "p99 RTT", "msgs/s",
             "vs baseline");
  fmt::print(out, "{}\n", line);
  bool copy_header = false, pairs_header = false;
  for (const auto* rp : rows) {
    const auto& r = *rp;
    const Cell& c = *r.cell;
    const bool pairs = c.id.find("/pairs") != std::string::npos;
    if (c.kind == CellKind::Copy && !copy_header) {
      copy_header = true;
      fmt::print(out, "{}\n", line);
      fmt::print(out, kFmt, fmt::format("copy, one-way, {} KiB blocks", o.remote_copy_bytes / 1024),
                 "wait", "placement", "n", "p50 /block", "p99 /block", "MB/s", "vs baseline");
      fmt::print(out, "{}\n", line);
    }
    if (pairs && !pairs_header) {
      pairs_header = true;
      fmt::print(out, "{}\n", line);
      fmt::print(out, kFmt, "concurrent pairs (aggregate)", "wait", "placement", "n", "p50 RTT",
                 "p99 RTT", "msgs/s", "vs 1 pair");
      fmt::print(out, "{}\n", line);
    }
    const std::string label = (c.dvs ? "dvs " : "") + c.label;
    if (r.skipped || !r.ok) {
      fmt::print(out, kFmt, label, c.wait, pl, "-", "-", "-", "-",
                 (r.skipped ? "skipped: " : "FAILED: ") + r.error);
      continue;
    }
    std::string vs = ratio_column(r);
    if (r.loop->truncated) vs += " [truncated by --cell-budget]";
    const std::string rate =
        c.kind == CellKind::PingPong ? format_rate(r.per_s) : fmt::format("{:.0f}", r.per_s);
    fmt::print(out, kFmt, label, c.wait, pl, r.summary.n, format_ns(double(r.summary.p50)),
               format_ns(double(r.summary.p99)), rate, vs);
  }
  fmt::print(out, "{}\n", line);
  fmt::print(out, "vs baseline / vs 1 pair: {}.\n", kRatioLegend);
  fmt::print(out, "remote criteria (same run, same placement, endpoints wait: {}):\n", o.remote_wait);
  for (const auto& c : remote_criteria(results, o.remote_wait)) {
    const std::string v = c["value"].is_null() ? "not measured"
                                               : fmt::format("{:.2f}x", c["value"].get<double>());
    const std::string verdict = c["met"].is_null() ? "-" : (c["met"].get<bool>() ? "met" : "MISSED");
    fmt::print(out, "  {:<66} {:>12}  {}\n", c["criterion"].get<std::string>(), v, verdict);
  }
  if (std::any_of(rows.begin(), rows.end(), [](const CellResult* r) { return r->cell->peer; }))
    fmt::print(out, "peer rows (NNG, ZeroMQ over tcp:// between the same two endpoints as raw TCP; the library's "
                    "own blocking wait): vs baseline = peer p50 / remote dvs sendrec p50, shown when the dvs "
                    "endpoints block too (--remote-wait block).\n");
  fmt::print(out, "pairs: each client runs its share of the round trips, all released together; "
                  "msgs/s = 2 x all timed round trips / (release to the end of the last client).\n");
}

}  // namespace dvs::cli
