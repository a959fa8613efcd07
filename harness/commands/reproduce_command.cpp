// dvs reproduce m3ipc: see reproduce_command.hpp.
//
// Sections (each cell runs `reps` times, interleaved rep-major; the median by rate is reported,
// every repetition is a runs.jsonl row):
//   (a) local message rate: dvs send/receive, sendrec, notify under block and spin-then-block vs
//       pipe, FIFO, UNIX socket, SysV MQ, POSIX MQ, TCP loopback (all blocking), cross-core
//       (compared with the published "4 cores" column) and same-core (the "1 core" column);
//   (b) 1, 2, 4, 8 concurrent local sendrec pairs, unpinned on all allowed CPUs;
//   (c) local copy: vcopy vs pipe / FIFO / SysV MQ streams, 512 B ... 64 KiB;
//   (e) remote message rate: two dvsd nodes over tcp and shm on this host vs raw TCP ping-pong,
//       on dvsd's proxy path (the original's model, compared with the published figures) and its
//       direct path (no published counterpart), side by side;
//   (f) remote copy: vcopy pull over tcp and shm vs raw TCP stream at the same block size (proxy
//       path: dvsd serves vcopy there on either path).
#include "harness/commands/reproduce_command.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/commands/common_options.hpp"
#include "harness/plan/cells.hpp"
#include "harness/results/machine_info.hpp"
#include "harness/results/report.hpp"
#include "harness/run/node_pair.hpp"
#include "harness/run/private_dvsd.hpp"
#include "workloads/baselines/baseline.hpp"
#include "workloads/measure/clock.hpp"
#include "workloads/measure/pairs.hpp"
#include "workloads/pingpong/loops.hpp"
#include "workloads/pingpong/pingpong.hpp"
#include "workloads/pingpong/session.hpp"
#include "workloads/remote/remote.hpp"

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR "."
#endif

namespace dvs::cli {

using nlohmann::json;

namespace {

// ---------------------------------------------------------------- counts

struct Counts {
  uint64_t block_cross;   // round trips, blocking, cross-core
  uint64_t same_core;     // round trips, blocking, one CPU
  uint64_t stb_cross;     // round trips, spin-then-block, cross-core
  uint64_t pairs_block;   // round trips of one pairs row (all pairs together), block
  uint64_t pairs_stb;     // the same under spin-then-block
  uint64_t copy;          // blocks per local copy cell
  uint64_t remote;        // round trips per remote row
  uint64_t remote_copy;   // blocks per remote copy cell
  double cell_budget_s;   // a loop stops early (marked truncated) after this long
};

constexpr Counts kFull{20'000, 50'000, 200'000, 40'000, 200'000, 5'000, 5'000, 500, 10};
constexpr Counts kQuick{300, 1'000, 3'000, 800, 4'000, 100, 100, 20, 3};

constexpr uint32_t kSpinNs = DVS_DEFAULT_SPIN_NS;
constexpr uint64_t kWarmup = 10;
const size_t kLocalSizes[] = {512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};

// ---------------------------------------------------------------- remote paths

// dvsd's two remote paths (docs/REMOTE_PATHS.md), measured side by side in (e). "proxy" is the
// original's model and the only one with published figures; "direct" has no published counterpart.
constexpr const char* kRemotePaths[] = {"proxy", "direct"};
constexpr workloads::remote::RemoteLoop kRemoteMsgLoops[] = {workloads::remote::RemoteLoop::SendrecReply,
                                                             workloads::remote::RemoteLoop::SendReceive,
                                                             workloads::remote::RemoteLoop::NotifyReceive};
constexpr const char* kNoPublishedDirect = "no published counterpart: M3-IPC had only the proxy path";

// Cell id of a remote message loop: e/<transport>/<loop> on the proxy path (the ids of result
// files from before the direct path was measured, so they still compare), e/<transport>/<path>/<loop>
// on any other path.
std::string remote_msg_id(const std::string& transport, const std::string& path, workloads::remote::RemoteLoop l) {
  if (path == "proxy") return fmt::format("e/{}/{}", transport, workloads::remote::loop_id(l));
  return fmt::format("e/{}/{}/{}", transport, path, workloads::remote::loop_id(l));
}

// Its cell label and table row: "dvs <loop> over <transport>", plus ", <path> path" off the proxy path.
std::string remote_msg_label(const std::string& transport, const std::string& path, workloads::remote::RemoteLoop l) {
  return fmt::format("dvs {} over {}{}", workloads::remote::loop_label(l), transport,
                     path == "proxy" ? "" : ", " + path + " path");
}

// ---------------------------------------------------------------- formatting

std::string fmt_rate(std::optional<double> v) {
  if (!v) return "–";
  const double x = *v;
  if (x >= 1e6) return fmt::format("{:.2f} M", x / 1e6);
  if (x >= 1e4) return fmt::format("{:.0f} k", x / 1e3);
  if (x >= 1e3) return fmt::format("{:.2f} k", x / 1e3);
  if (x >= 10) return fmt::format("{:.0f}", x);
  return fmt::format("{:.2f}", x);
}

std::string fmt_ratio(std::optional<double> v) {
  if (!v) return "–";
  if (*v >= 10) return fmt::format("{:.1f}", *v);
  return fmt::format("{:.2f}", *v);
}

// ---------------------------------------------------------------- local pairs

// n concurrent sendrec <-> receive/reply pairs on one dvsd node (system slots 10+k / 20+k),
// all clients released together once every session is up; the result's iterations = all timed
// round trips and elapsed = release to the end of the last client (so 2*n/t is the aggregate
// msgs/s, both directions, as the original's peers*loops/t).
measure::TwoProcessOutcome local_pairs(int n, const workloads::PingpongConfig& base) {
  measure::PairsConfig pc;
  pc.n = n;
  pc.cpus = base.cpus;
  pc.timeout_ms = base.timeout_ms;
  pc.release_timeout_ms = base.setup_timeout_ms + 5'000;
  pc.bytes_per_op = DVS_MSG_SIZE;
  auto pair_cfg = [&](int k) {
    workloads::PingpongConfig cfg = base;
    cfg.server_p_nr = 10 + k;
    cfg.client_p_nr = 20 + k;
    return cfg;
  };
  auto server = [&](measure::ChildCtx& ctx, int k) -> int {
    const auto cfg = pair_cfg(k);
    if (workloads::open_session(ctx, cfg, cfg.server_p_nr, cfg.client_p_nr, "server") < 0) return 1;
    const int rc = workloads::message_server(ctx, workloads::Primitive::SendrecReply, cfg.client_p_nr);
    workloads::close_session();
    return rc;
  };
  auto client = [&](measure::ChildCtx& ctx, int k, const std::function<bool()>& release,
                    measure::LoopResult& res) -> int {
    const auto cfg = pair_cfg(k);
    if (workloads::open_session(ctx, cfg, cfg.client_p_nr, cfg.server_p_nr, "client") < 0) return 1;
    if (!release()) {
      workloads::close_session();
      return ctx.fail("client %d: not released (another child failed)", k);
    }
    const int rc = workloads::message_client(ctx, workloads::Primitive::SendrecReply, cfg.server_p_nr, cfg.loop, res);
    workloads::close_session();
    return rc;
  };
  return measure::run_pairs(pc, server, client);
}

// ---------------------------------------------------------------- cells and tables

struct Measured {
  Cell cell;
  std::string placement;  // CpuPair::describe()
  std::vector<CellResult> reps;
  std::optional<double> median;  // per_s of the median repetition (ok ones only)
  const CellResult* median_rep = nullptr;
};

struct TRow {
  std::string label;
  std::optional<double> pub, ours, pub_base, ours_base;
  std::string note;
  bool headline = false;
};

struct Table {
  std::string key, title, source, unit, pub_column, ours_setting, base_desc;
  std::vector<TRow> rows;
  std::vector<std::string> notes;
};

std::optional<double> div_opt(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

std::string table_md(const Table& t) {
  std::string s = fmt::format("### {}\n\n", t.title);
  s += fmt::format("Published: {} ({}). Ours: {}. Normalised to: {}.\n\n", t.source, t.pub_column,
                   t.ours_setting, t.base_desc);
  s += fmt::format("| row | published {} | ours {} | published / base | ours / base | ours-norm / published-norm |\n",
                   t.unit, t.unit);
  s += "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& r : t.rows) {
    const auto pn = div_opt(r.pub, r.pub_base), on = div_opt(r.ours, r.ours_base);
    const auto rr = div_opt(on, pn);
    std::string label = r.headline ? "**" + r.label + "**" : r.label;
    if (!r.note.empty()) label += " (" + r.note + ")";
    s += fmt::format("| {} | {} | {} | {} | {} | {} |\n", label, fmt_rate(r.pub), fmt_rate(r.ours),
                     fmt_ratio(pn), fmt_ratio(on), fmt_ratio(rr));
  }
  for (const auto& n : t.notes) s += "\n" + n + "\n";
  return s + "\n";
}

json table_json(const Table& t) {
  json rows = json::array();
  auto opt = [](std::optional<double> v) { return v ? json(*v) : json(nullptr); };
  for (const auto& r : t.rows) {
    const auto pn = div_opt(r.pub, r.pub_base), on = div_opt(r.ours, r.ours_base);
    rows.push_back({{"row", r.label}, {"note", r.note}, {"published", opt(r.pub)}, {"ours", opt(r.ours)},
                    {"published_base", opt(r.pub_base)}, {"ours_base", opt(r.ours_base)},
                    {"published_norm", opt(pn)}, {"ours_norm", opt(on)}, {"ratio", opt(div_opt(on, pn))}});
  }
  return {{"table", t.key}, {"title", t.title}, {"unit", t.unit}, {"published_source", t.source},
          {"published_column", t.pub_column}, {"ours", t.ours_setting}, {"base", t.base_desc}, {"rows", rows}};
}

}  // namespace

// ---------------------------------------------------------------- the command

Command make_reproduce_command() {
  auto o = std::make_shared<ReproduceOptions>();
  Command c;
  c.name = "reproduce";
  c.help = "Re-run the original M3-IPC evaluation (Pessolani's thesis benchmarks) here and print each "
           "table with the published figures and ratios normalised to a common baseline";
  c.add_options = [o](CLI::App* sub) {
    sub->add_option("experiment", o->experiment, "Which evaluation (only: m3ipc)")
        ->required()
        ->check(CLI::IsMember({"m3ipc"}));
    add_quick_option(sub, &o->quick, "Tiny counts, one repetition (< ~30 s)");
    add_out_option(sub, &o->out_dir, "results/reproduce");
    add_dvsd_option(sub, &o->dvsd_path);
    sub->add_option("--published", o->published,
                    "Published figures (default <source>/results/published/m3ipc.json)");
    sub->add_option("--reps", o->reps, "Repetitions per cell, median reported (default 3; --quick 1)")
        ->check(CLI::Range(1, 50));
  };
  c.run = [o] { return run_reproduce(*o); };
  return c;
}

int run_reproduce(const ReproduceOptions& o) {
  const auto t_start = measure::now_ns();
  const std::string source_dir = DVS_SOURCE_DIR;
  const Counts n = o.quick ? kQuick : kFull;
  const int reps = o.reps > 0 ? o.reps : (o.quick ? 1 : 3);

  // Published figures.
  const std::string pub_path = o.published.empty() ? source_dir + "/results/published/m3ipc.json" : o.published;
  json pub;
  try {
    std::ifstream f(pub_path);
    if (!f) throw std::runtime_error("cannot open");
    pub = json::parse(f);
  } catch (const std::exception& e) {
    fmt::print(stderr, "dvs reproduce: error: published figures {}: {}\n", pub_path, e.what());
    return 1;
  }
  auto P = [&](const char* table, const std::string& row, int col) -> std::optional<double> {
    try {
      const auto& v = pub.at("tables").at(table).at("rows").at(row).at(size_t(col));
      if (v.is_null()) return std::nullopt;
      return v.get<double>();
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  auto Psrc = [&](const char* table) {
    return pub["tables"][table].value("source", std::string("?"));
  };

  // Run directory.
  const std::string out_dir = o.out_dir.empty() ? source_dir + "/results/reproduce" : o.out_dir;
  std::string run_id, run_dir, dir_err;
  if (!make_run_dir(out_dir, fmt::format("{}-{}-m3ipc", utc_stamp(), short_git_sha(source_dir)),
                    &run_id, &run_dir, &dir_err)) {
    fmt::print(stderr, "dvs reproduce: error: {}\n", dir_err);
    return 1;
  }
  json meta = collect_machine_info(source_dir);
  meta["run_id"] = run_id;
  meta["command"] = "dvs reproduce m3ipc";
  meta["loadavg_start"] = loadavg();
  meta["published_file"] = pub_path;
  meta["options"] = {{"quick", o.quick}, {"reps", reps}, {"warmup", kWarmup}, {"spin_ns", kSpinNs},
                     {"counts", {{"block_cross", n.block_cross}, {"same_core", n.same_core},
                                 {"stb_cross", n.stb_cross}, {"pairs_block", n.pairs_block},
                                 {"pairs_stb", n.pairs_stb}, {"copy", n.copy}, {"remote", n.remote},
                                 {"remote_copy", n.remote_copy}, {"cell_budget_s", n.cell_budget_s}}}};

  // dvsd for the local sections.
  std::string tried;
  const std::string bin = find_dvsd(o.dvsd_path, &tried);
  PrivateDvsd dvsd;
  std::string dvs_skip, err;
  if (bin.empty()) dvs_skip = fmt::format("no dvsd binary (tried: {})", tried);
  else if (!dvsd.start(bin, 0, run_dir + "/dvsd-local.log", &err)) dvs_skip = "dvsd did not start: " + err;
  if (!dvs_skip.empty()) fmt::print(stderr, "dvs reproduce: {}\n", dvs_skip);
  meta["dvsd"] = {{"binary", bin}, {"error", dvs_skip}};
  NodePair nodes(bin, run_dir);

  const auto cross = measure::choose_cpus(measure::Placement::Cross);
  const auto same = measure::choose_cpus(measure::Placement::Same);
  const auto unpinned = measure::choose_cpus(measure::Placement::None);
  {
    // Each emulated node's dvsd on the CPU of its measuring process, as `dvs run` does.
    NodePairOptions d;
    d.cpu0 = cross.client_cpu;
    d.cpu1 = cross.server_cpu;
    nodes.set_defaults(d);
  }
  meta["placements"] = {{"cross", cross.describe()}, {"same", same.describe()}, {"unpinned", unpinned.describe()},
                        {"cross_note", cross.note}};
  const uint64_t budget_ns = uint64_t(n.cell_budget_s * 1e9);
  const int timeout_ms = int(n.cell_budget_s * 1000) + 30'000;

  auto bcfg = [&](const measure::CpuPair& cpus, uint64_t iters, size_t block = 65536) {
    baselines::BaselineConfig b;
    b.loop.warmup = kWarmup;
    b.loop.iterations = iters;
    b.loop.budget_ns = budget_ns;
    b.cpus = cpus;
    b.timeout_ms = timeout_ms;
    b.spin_ns = kSpinNs;
    b.block_bytes = block;
    return b;
  };
  auto pcfg = [&](const measure::CpuPair& cpus, dvs_wait_mode_t w, uint64_t iters, size_t block = 65536) {
    workloads::PingpongConfig p;
    p.socket_path = dvsd.socket_path();
    p.wait = w;
    p.spin_ns = kSpinNs;
    p.loop.warmup = kWarmup;
    p.loop.iterations = iters;
    p.loop.budget_ns = budget_ns;
    p.cpus = cpus;
    p.timeout_ms = timeout_ms;
    p.vcopy_bytes = block;
    return p;
  };
  auto rcfg = [&](uint64_t iters, size_t block) {
    workloads::remote::RemoteConfig r;
    r.server_node = 1;
    r.wait = DVS_WAIT_BLOCK;
    r.spin_ns = kSpinNs;
    r.loop.warmup = kWarmup;
    r.loop.iterations = iters;
    r.loop.budget_ns = budget_ns;
    r.cpus = cross;
    r.timeout_ms = timeout_ms;
    r.vcopy_bytes = block;
    return r;
  };

  // All measurements, by id. Sections are run in order; within a section, rep-major.
  std::map<std::string, std::unique_ptr<Measured>> m;
  std::vector<std::vector<Measured*>> sections;
  auto add = [&](std::vector<Measured*>& sec, const std::string& id, CellKind kind, bool is_dvs,
                 const std::string& label, const std::string& wait, const measure::CpuPair& cpus,
                 uint64_t iters, std::function<measure::TwoProcessOutcome()> fn, json extra = json::object()) {
    auto x = std::make_unique<Measured>();
    x->cell.id = id;
    x->cell.kind = kind;
    x->cell.dvs = is_dvs;
    x->cell.label = label;
    x->cell.wait = wait;
    x->cell.iterations = iters;
    x->cell.run = std::move(fn);
    x->cell.row_extra = std::move(extra);
    if (is_dvs && !dvs_skip.empty() && x->cell.row_extra.value("section", "") != "remote")
      x->cell.skip_reason = dvs_skip;
    x->placement = cpus.describe();
    sec.push_back(x.get());
    m[id] = std::move(x);
  };
  using workloads::Primitive;
  const std::pair<Primitive, const char*> msg_prims[] = {{Primitive::SendrecReply, "sendrec"},
                                                          {Primitive::SendReceive, "send_receive"},
                                                          {Primitive::NotifyReceive, "notify"}};
  struct Raw {
    const char* id;
    const char* label;
    measure::TwoProcessOutcome (*fn)(const baselines::BaselineConfig&);
  };
  const Raw raws[] = {{"pipe", "pipe", baselines::pipe_pingpong},
                      {"fifo", "FIFO", baselines::fifo_pingpong},
                      {"unix", "UNIX stream socket", baselines::unix_pingpong},
                      {"sysv_mq", "SysV message queue", baselines::sysv_mq_pingpong},
                      {"posix_mq", "POSIX message queue", baselines::posix_mq_pingpong},
                      {"tcp", "TCP loopback (NODELAY)", baselines::tcp_pingpong}};

  // (a) local message rate.
  std::vector<Measured*> sec_a;
  for (const auto& [pl, cpus, iters] : {std::tuple{"cross", cross, n.block_cross},
                                        std::tuple{"same", same, n.same_core}}) {
    for (const auto& r : raws) {
      const auto cfg = bcfg(cpus, iters);
      auto fn = r.fn;
      add(sec_a, fmt::format("a/{}/{}", pl, r.id), CellKind::PingPong, false, r.label, "block", cpus,
          iters, [cfg, fn] { return fn(cfg); }, {{"section", "local_msg"}});
    }
    for (const auto& [prim, pid] : msg_prims) {
      const auto cfg = pcfg(cpus, DVS_WAIT_BLOCK, iters);
      const auto pr = prim;
      add(sec_a, fmt::format("a/{}/dvs_{}/block", pl, pid), CellKind::PingPong, true,
          workloads::primitive_label(prim), "block", cpus, iters,
          [cfg, pr] { return workloads::run_pingpong(pr, cfg); }, {{"section", "local_msg"}});
    }
    if (std::string(pl) == "cross")
      for (const auto& [prim, pid] : msg_prims) {
        const auto cfg = pcfg(cpus, DVS_WAIT_SPIN_THEN_BLOCK, n.stb_cross);
        const auto pr = prim;
        add(sec_a, fmt::format("a/{}/dvs_{}/stb", pl, pid), CellKind::PingPong, true,
            workloads::primitive_label(prim), "spin-then-block", cpus, n.stb_cross,
            [cfg, pr] { return workloads::run_pingpong(pr, cfg); }, {{"section", "local_msg"}});
      }
  }
  sections.push_back(sec_a);

  // (b) multi-pair.
  std::vector<Measured*> sec_b;
  const int pair_counts[] = {1, 2, 4, 8};
  for (const auto& [wid, w, total] : {std::tuple{"block", DVS_WAIT_BLOCK, n.pairs_block},
                                      std::tuple{"stb", DVS_WAIT_SPIN_THEN_BLOCK, n.pairs_stb}}) {
    for (int k : pair_counts) {
      auto cfg = pcfg(unpinned, w, std::max<uint64_t>(1, total / uint64_t(k)));
      add(sec_b, fmt::format("b/pairs{}/{}", k, wid), CellKind::PingPong, true,
          fmt::format("{} sendrec pair{}", k, k == 1 ? "" : "s"), workloads::wait_name(w), unpinned,
          cfg.loop.iterations * uint64_t(k), [cfg, k] { return local_pairs(k, cfg); },
          {{"section", "multi_pair"}, {"pairs", k}});
    }
  }
  sections.push_back(sec_b);

  // (c) local copy.
  std::vector<Measured*> sec_c;
  for (size_t sz : kLocalSizes) {
    const auto b = bcfg(cross, n.copy, sz);
    const json ex = {{"section", "local_copy"}, {"block_bytes", sz}};
    add(sec_c, fmt::format("c/{}/pipe", sz), CellKind::Copy, false, fmt::format("pipe stream {} B", sz),
        "block", cross, n.copy, [b] { return baselines::pipe_stream(b); }, ex);
    add(sec_c, fmt::format("c/{}/fifo", sz), CellKind::Copy, false, fmt::format("FIFO stream {} B", sz),
        "block", cross, n.copy, [b] { return baselines::fifo_stream(b); }, ex);
    if (sz <= 8192)
      add(sec_c, fmt::format("c/{}/sysv_mq", sz), CellKind::Copy, false,
          fmt::format("SysV MQ stream {} B", sz), "block", cross, n.copy,
          [b] { return baselines::sysv_mq_stream(b); }, ex);
    const auto p = pcfg(cross, DVS_WAIT_BLOCK, n.copy, sz);
    add(sec_c, fmt::format("c/{}/vcopy", sz), CellKind::Copy, true, fmt::format("vcopy {} B", sz), "block",
        cross, n.copy, [p] { return workloads::run_pingpong(Primitive::Vcopy, p); }, ex);
  }
  sections.push_back(sec_c);

  // (e) remote message rate and (f) remote copy: raw TCP first, then per transport.
  using workloads::remote::RemoteLoop;
  std::vector<Measured*> sec_e;
  {
    auto b = bcfg(cross, n.remote);
    b.tcp_host = "127.0.0.1";
    add(sec_e, "e/raw_tcp", CellKind::PingPong, false, "raw TCP ping-pong 127.0.0.1", "block", cross,
        n.remote, [b] { return baselines::tcp_pingpong(b); }, {{"section", "remote"}, {"transport", "raw tcp"}});
    for (size_t sz : kLocalSizes) {
      auto s = bcfg(cross, n.remote_copy, sz);
      s.tcp_host = "127.0.0.1";
      add(sec_e, fmt::format("f/{}/raw_tcp", sz), CellKind::Copy, false, fmt::format("raw TCP stream {} B", sz),
          "block", cross, n.remote_copy, [s] { return baselines::tcp_stream(s); },
          {{"section", "remote_copy"}, {"transport", "raw tcp"}, {"block_bytes", sz}});
    }
  }
  sections.push_back(sec_e);
  // One section per transport (its node pair stopped when the section ends): the message loops on
  // each remote path, proxy first, and after the proxy loops vcopy, which dvsd serves on the proxy
  // path whatever --remote-path says (docs/REMOTE_PATHS.md). A cell on the other path restarts the
  // pair (NodePair::ensure), so a repetition of the section restarts it at most twice; both paths
  // see the same stretch of the run.
  for (const char* tr : {"tcp", "shm"}) {
    std::vector<Measured*> sec;
    const std::string t = tr;
    // A dvs cell across the pair: the client on node 0, the server on node 1, the pair started
    // (or restarted) with this transport and remote path first.
    auto add_remote = [&](const std::string& id, CellKind kind, const std::string& label, uint64_t iters,
                          const std::string& path, RemoteLoop l, const workloads::remote::RemoteConfig& cfg,
                          json extra) {
      extra["transport"] = t;
      extra["remote_path"] = path;
      extra["nodes"] = {{"client", 0}, {"server", 1}};
      add(sec, id, kind, true, label, "block", cross, iters,
          [&nodes, t, path, cfg, l]() -> measure::TwoProcessOutcome {
            if (auto e = nodes.ensure(t, path); !e.empty()) return outcome_not_run(e);
            auto c = cfg;
            c.client_socket = nodes.socket(0);
            c.server_socket = nodes.socket(1);
            return workloads::remote::run_remote(l, c);
          },
          std::move(extra));
    };
    for (const char* path : kRemotePaths) {
      for (RemoteLoop l : kRemoteMsgLoops)
        add_remote(remote_msg_id(t, path, l), CellKind::PingPong, remote_msg_label(t, path, l), n.remote, path, l,
                   rcfg(n.remote, 0), {{"section", "remote"}});
      if (std::string(path) != "proxy") continue;
      for (size_t sz : kLocalSizes)
        add_remote(fmt::format("f/{}/{}", sz, t), CellKind::Copy, fmt::format("dvs vcopy pull {} B over {}", sz, t),
                   n.remote_copy, path, RemoteLoop::VcopyPull, rcfg(n.remote_copy, sz),
                   {{"section", "remote_copy"}, {"block_bytes", sz}});
    }
    sections.push_back(sec);
  }

  // Run.
  size_t total = 0, done = 0;
  for (const auto& s : sections) total += s.size() * size_t(reps);
  bool failed = !dvs_skip.empty();
  for (auto& sec : sections) {
    for (int rep = 0; rep < reps; ++rep) {
      for (Measured* x : sec) {
        ++done;
        fmt::print(stderr, "[{:>3}/{}] rep {} {:<32} ", done, total, rep + 1, x->cell.id);
        std::fflush(stderr);
        const uint64_t t0 = measure::now_ns();
        x->reps.push_back(execute_cell(x->cell));
        const auto& r = x->reps.back();
        if (r.skipped) fmt::print(stderr, "skipped: {}\n", r.error);
        else if (!r.ok) fmt::print(stderr, "FAILED: {}\n", r.error);
        else
          fmt::print(stderr, "{} {} ({:.1f} s)\n", fmt_rate(r.per_s),
                     x->cell.kind == CellKind::PingPong ? "msg/s" : "MB/s",
                     double(measure::now_ns() - t0) / 1e9);
        if (!r.skipped && !r.ok) failed = true;
      }
    }
    nodes.stop();  // one transport's nodes per section
  }
  dvsd.stop();
  nodes.stop();
  finish_machine_info(meta);
  meta["remote_nodes"] = nodes.lines();
  for (auto& [id, x] : m) {
    std::vector<const CellResult*> ok;
    for (const auto& r : x->reps)
      if (r.ok) ok.push_back(&r);
    if (ok.empty()) continue;
    std::sort(ok.begin(), ok.end(), [](auto* a, auto* b) { return a->per_s < b->per_s; });
    x->median_rep = ok[(ok.size() - 1) / 2];
    x->median = x->median_rep->per_s;
  }
  auto V = [&](const std::string& id) -> std::optional<double> {
    const auto it = m.find(id);
    return it == m.end() ? std::nullopt : it->second->median;
  };

  // Tables.
  std::vector<Table> tables;
  const std::map<std::string, std::string> pub_name = {{"pipe", "PIPE"}, {"fifo", "FIFO"},
                                                       {"unix", "UNIX sockets"}, {"sysv_mq", "SysV MSGQ"},
                                                       {"tcp", "TCP (loopback)"}};
  for (const auto& [pl, col, colname] : {std::tuple{"cross", 0, "4 cores"}, std::tuple{"same", 1, "1 core"}}) {
    Table t;
    t.key = fmt::format("local_msg_{}", pl);
    t.title = fmt::format("(a) Local message rate, {} (published: {} column)",
                          std::string(pl) == "cross" ? "two processes on two CPUs" : "both processes on one CPU", colname);
    t.source = Psrc("local_msg_rate");
    t.unit = "msg/s";
    t.pub_column = colname;
    t.ours_setting = fmt::format("{}; 64-byte messages, msgs/s = 2 x round trips / t; dvs endpoints "
                                 "block (futex) or spin-then-block ({} us spin), baselines block",
                                 std::string(pl) == "cross" ? cross.describe() : same.describe(), kSpinNs / 1000);
    t.base_desc = "pipe (published PIPE / our pipe ping-pong, same placement)";
    const auto pb = P("local_msg_rate", "PIPE", col);
    const auto ob = V(fmt::format("a/{}/pipe", pl));
    for (const auto& [prim, pid] : msg_prims) {
      TRow r{fmt::format("dvs {} (block)", workloads::primitive_label(prim)), P("local_msg_rate", "M3-IPC", col),
             V(fmt::format("a/{}/dvs_{}/block", pl, pid)), pb, ob, "vs published M3-IPC", prim == Primitive::SendrecReply};
      t.rows.push_back(r);
    }
    if (std::string(pl) == "cross")
      for (const auto& [prim, pid] : msg_prims)
        t.rows.push_back({fmt::format("dvs {} (spin-then-block)", workloads::primitive_label(prim)),
                          P("local_msg_rate", "M3-IPC", col), V(fmt::format("a/{}/dvs_{}/stb", pl, pid)), pb, ob,
                          "vs published M3-IPC", false});
    for (const auto& r : raws) {
      const auto it = pub_name.find(r.id);
      t.rows.push_back({r.label, it == pub_name.end() ? std::nullopt : P("local_msg_rate", it->second, col),
                        V(fmt::format("a/{}/{}", pl, r.id)), pb, ob, "", false});
    }
    for (const char* only : {"TIPC", "SIMPL", "SRR", "Local RPC"})
      t.rows.push_back({only, P("local_msg_rate", only, col), std::nullopt, pb, ob, "not measured here", false});
    t.notes.push_back("The published chart does not say which M3-IPC loop it plots, so every dvs row is "
                      "compared with the one M3-IPC bar. Published messages are 36 bytes, ours 64.");
    tables.push_back(std::move(t));
  }
  {
    Table t;
    t.key = "multi_pair";
    t.title = "(b) Concurrent local sendrec pairs, aggregate msg/s (published: 2 cores column)";
    t.source = pub["tables"]["multi_pair"].value("source", std::string("?"));
    t.unit = "msg/s";
    t.pub_column = "2 cores";
    t.ours_setting = fmt::format("{} ({} CPUs allowed), one dvsd, msgs/s = 2 x all round trips / "
                                 "(common release to the last client's end)",
                                 unpinned.describe(), measure::allowed_cpus().size());
    t.base_desc = "pipe (published PIPE, 4 cores column: no 2-core pipe bar exists / our cross-core pipe ping-pong)";
    for (const auto& [wid, wname] : {std::pair{"block", "block"}, std::pair{"stb", "spin-then-block"}})
      for (int k : pair_counts)
        t.rows.push_back({fmt::format("{} pair{} ({})", k, k == 1 ? "" : "s", wname),
                          P("multi_pair", std::to_string(k), 0), V(fmt::format("b/pairs{}/{}", k, wid)),
                          P("local_msg_rate", "PIPE", 0), V("a/cross/pipe"), "", k == 8 && std::string(wid) == "block"});
    const std::string pairs_source = t.source;
    tables.push_back(std::move(t));
    Table s;
    s.key = "multi_pair_scaling";
    s.title = "(b') Pair scaling: N pairs / 1 pair";
    s.source = pairs_source;
    s.unit = "msg/s";
    s.pub_column = "2 cores and 4 cores columns";
    s.ours_setting = "as (b)";
    s.base_desc = "1 pair, same wait strategy (published: same core count)";
    for (const auto& [wid, wname] : {std::pair{"block", "block"}, std::pair{"stb", "spin-then-block"}})
      for (int k : pair_counts) {
        s.rows.push_back({fmt::format("{} pair{} ({}) vs 2 cores", k, k == 1 ? "" : "s", wname), P("multi_pair", std::to_string(k), 0),
                          V(fmt::format("b/pairs{}/{}", k, wid)), P("multi_pair", "1", 0),
                          V(fmt::format("b/pairs1/{}", wid)), "", false});
        s.rows.push_back({fmt::format("{} pair{} ({}) vs 4 cores", k, k == 1 ? "" : "s", wname), P("multi_pair", std::to_string(k), 1),
                          V(fmt::format("b/pairs{}/{}", k, wid)), P("multi_pair", "1", 1),
                          V(fmt::format("b/pairs1/{}", wid)), "", false});
      }
    tables.push_back(std::move(s));
  }
  {
    Table t;
    t.key = "local_copy";
    t.title = "(c) Local block copy throughput, MB/s by block size";
    t.source = Psrc("local_copy");
    t.unit = "MB/s";
    t.pub_column = "M3-IPC, FIFO (PIPE within ~5%), SysV MQ series";
    t.ours_setting = fmt::format("{}; vcopy: requester = destination, owner blocked in receive, "
                                 "dvs endpoints block; streams: one op = one block read, one way",
                                 cross.describe());
    t.base_desc = "pipe stream at the same size (published: the FIFO series, 'PIPE within ~5%')";
    for (size_t sz : kLocalSizes) {
      const std::string k = std::to_string(sz);
      const auto pb = P("local_copy", k, 2);
      const auto ob = V(fmt::format("c/{}/pipe", sz));
      t.rows.push_back({fmt::format("{} B vcopy", sz), P("local_copy", k, 0), V(fmt::format("c/{}/vcopy", sz)), pb, ob,
                        "", sz == 8192});
      t.rows.push_back({fmt::format("{} B pipe", sz), std::nullopt, ob, pb, ob, "", false});
      t.rows.push_back({fmt::format("{} B FIFO", sz), P("local_copy", k, 2), V(fmt::format("c/{}/fifo", sz)), pb, ob, "", false});
      if (sz <= 8192)
        t.rows.push_back({fmt::format("{} B SysV MQ", sz), P("local_copy", k, 3), V(fmt::format("c/{}/sysv_mq", sz)),
                          pb, ob, "", false});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t;
    t.key = "remote_msg";
    t.title = "(e) Remote message rate, msg/s (ours: two dvsd nodes on this host)";
    t.source = Psrc("remote_msg_rate");
    t.unit = "msg/s";
    t.pub_column = "two nodes, 1 Gbps";
    t.ours_setting = fmt::format("client on node 0, server on node 1, {}; dvs endpoints and dvsd's threads "
                                 "(proxies, process links) block; dvsd defaults (batching on; the original's "
                                 "figures predate batching)",
                                 cross.describe());
    t.base_desc = "raw transport (published: raw TIPC, the only raw-transport bar / ours: raw TCP ping-pong on 127.0.0.1)";
    const auto pb = P("remote_msg_rate", "raw TIPC", 0);
    const auto ob = V("e/raw_tcp");
    t.rows.push_back({"raw transport", pb, ob, pb, ob, "raw TIPC vs raw TCP loopback", false});
    for (const std::string tr : {"tcp", "shm"}) {
      const bool is_tcp = tr == "tcp";
      const char* pub_row = is_tcp ? "M3-IPC over TCP proxy" : "M3-IPC over raw-Ethernet proxy";
      for (const std::string path : kRemotePaths)
        for (RemoteLoop l : kRemoteMsgLoops) {
          // Direct rows keep the published base, so "published / base" and the last column stay
          // empty while "ours / base" shows the direct path against the same raw transport.
          const bool proxy = path == "proxy";
          t.rows.push_back({remote_msg_label(tr, path, l), proxy ? P("remote_msg_rate", pub_row, 0) : std::nullopt,
                            V(remote_msg_id(tr, path, l)), pb, ob,
                            !proxy ? kNoPublishedDirect
                            : is_tcp ? "vs M3-IPC over TCP proxy"
                                     : "vs M3-IPC over raw-Ethernet proxy, the thinnest transport of each",
                            proxy && is_tcp && l == RemoteLoop::SendrecReply});
        }
    }
    for (const char* only : {"M3-IPC over TIPC proxy", "M3-IPC over kernel-TCP proxy", "ONC RPC"})
      t.rows.push_back({only, P("remote_msg_rate", only, 0), std::nullopt, pb, ob, "not measured here", false});
    t.notes.push_back("Ours runs over loopback on one 2-vCPU host (no wire, no NIC); the original crossed a "
                      "1 Gbps switch. Only the normalised columns are comparable.");
    t.notes.push_back("Rows without a path are dvsd's proxy path (`--remote-path proxy`, the original's model: "
                      "caller -> its node's dispatcher -> node link). Rows marked \"direct path\" run the same "
                      "loops with `--remote-path direct` (each process writes on its own link to the peer node, "
                      "docs/REMOTE_PATHS.md): M3-IPC had no such path, so they have no published figure; their "
                      "\"ours / base\" is against the same raw TCP ping-pong of this run.");
    tables.push_back(std::move(t));
  }
  {
    Table t;
    t.key = "remote_copy";
    t.title = "(f) Remote block copy throughput, MB/s by block size";
    t.source = Psrc("remote_copy");
    t.unit = "MB/s";
    t.pub_column = "M3-IPC TCP, M3-IPC RAW ETH, TIPC series";
    t.ours_setting = fmt::format("vcopy pull (requester = destination on node 0, owner on node 1 blocked "
                                 "in receive), {}", cross.describe());
    t.base_desc = "raw transport at the same size (published: TIPC series / ours: raw TCP stream, 127.0.0.1)";
    t.notes.push_back("Proxy path only: dvsd serves vcopy on the proxy path whichever remote path its "
                      "processes' messages take (docs/REMOTE_PATHS.md), so the direct path has no copy rows.");
    for (size_t sz : kLocalSizes) {
      const std::string k = std::to_string(sz);
      const auto pb = P("remote_copy", k, 3);
      const auto ob = V(fmt::format("f/{}/raw_tcp", sz));
      t.rows.push_back({fmt::format("{} B raw transport", sz), pb, ob, pb, ob, "TIPC vs TCP stream", false});
      t.rows.push_back({fmt::format("{} B dvs vcopy over tcp", sz), P("remote_copy", k, 0), V(fmt::format("f/{}/tcp", sz)),
                        pb, ob, "vs M3-IPC TCP", sz == 65536});
      t.rows.push_back({fmt::format("{} B dvs vcopy over shm", sz), P("remote_copy", k, 5), V(fmt::format("f/{}/shm", sz)),
                        pb, ob, "vs M3-IPC RAW ETH", false});
    }
    tables.push_back(std::move(t));
  }

  // Output.
  const double secs = double(measure::now_ns() - t_start) / 1e9;
  const std::string git_sha = meta["git"]["sha"].is_string() ? meta["git"]["sha"].get<std::string>().substr(0, 10) : "?";
  const bool git_dirty = meta["git"].value("dirty", false);
  std::string md = fmt::format("## dvs reproduce m3ipc — run {}\n\n", run_id);
  md += fmt::format("Machine: {}, {} CPUs allowed, kernel {}, {}; load average at start {} / end {}; "
                    "git {}{}; {} repetition(s) per cell (median shown){}; run time {:.0f} s.\n\n",
                    meta.value("cpu_model", std::string("?")), measure::allowed_cpus().size(),
                    meta.value("kernel", std::string("?")), meta.value("date", std::string("?")),
                    meta.value("loadavg_start", std::string("?")), meta.value("loadavg_end", std::string("?")),
                    git_sha, git_dirty ? " (dirty)" : "",
                    reps, o.quick ? ", --quick (smoke counts: not a measurement)" : "", secs);
  md += "Columns: published figure; ours; each divided by its table's base (published by the published base, "
        "ours by ours, measured in the same run); last column = ours-normalised / published-normalised "
        "(1.00 = the same shape as the paper). Message rates count both directions of each round trip.\n\n";
  for (const auto& t : tables) md += table_md(t);
  {
    std::ofstream f(run_dir + "/reproduce.md");
    f << md;
  }
  meta["run_seconds"] = secs;
  json tj = json::array();
  for (const auto& t : tables) tj.push_back(table_json(t));
  meta["tables"] = tj;
  {
    std::ofstream f(run_dir + "/meta.json");
    f << meta.dump(2) << "\n";
  }
  {
    std::ofstream f(run_dir + "/runs.jsonl");
    for (const auto& s : sections)
      for (const Measured* x : s)
        for (size_t i = 0; i < x->reps.size(); ++i) {
          RunContext ctx;
          ctx.run_id = run_id;
          ctx.run_dir = run_dir;
          ctx.placement = x->placement;
          ctx.warmup = kWarmup;
          ctx.spin_ns = kSpinNs;
          json row = row_json(ctx, x->reps[i]);
          row["rep"] = i + 1;
          row["median_rep"] = &x->reps[i] == x->median_rep;
          f << row.dump() << "\n";
        }
  }
  std::fwrite(md.data(), 1, md.size(), stdout);
  fmt::print("results: {}/ (reproduce.md, meta.json, runs.jsonl, dvsd logs)\n", run_dir);
  return failed ? 1 : 0;
}

}  // namespace dvs::cli
