// plan_scenario: see plan.hpp.
#include "harness/plan/bench_plan.hpp"

#include <algorithm>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "harness/cluster/transports.hpp"
#include "transports/registry.hpp"
#include "workloads/baselines/baseline.hpp"
#include "workloads/pingpong/local_pairs.hpp"
#include "workloads/pingpong/pingpong.hpp"
#include "workloads/remote/remote.hpp"

namespace dvs::bench {

namespace {

using measure::CpuPair;
using nlohmann::json;

// Which of the scenario's counts a loop uses.
enum class Count { Spin, Block, Copy, Remote, RemoteCopy, RemotePair };

// Where the two measuring processes of a cell run.
struct Where {
  std::string label;  // the placement segment of the cell id
  CpuPair cpus;
  bool cross_node = false;
  // RunContext::placement: its first word is the row's "placement".
  std::string describe() const {
    return cross_node ? fmt::format("cross-node (client node 0, server node 1; endpoints {})", cpus.describe())
                      : cpus.describe();
  }
};

const char* pinning_label(const std::string& p) {
  return p == "same" ? "same-core" : p == "none" ? "unpinned" : "cross-core";
}

Where local_where(const std::string& label) {
  return {label, measure::choose_cpus(*measure::parse_placement(label)), false};
}

// The largest SysV message (a SysV MQ stream block above it cannot be sent).
uint64_t sysv_msgmax() {
  std::ifstream f("/proc/sys/kernel/msgmax");
  uint64_t v = 0;
  return (f >> v) ? v : 8192;
}

// "" if the registered transport `scheme` can be used here, else why not (its probe): its cells
// and its raw baselines are skipped with that reason. "local" and unknown names: "".
const std::string& transport_unavailable(const std::string& scheme) {
  static const std::map<std::string, std::string> why = [] {
    std::map<std::string, std::string> m;
    for (const std::string& s : cluster::node_transports()) {
      const auto av = transport::find_transport(s)->probe();
      m[s] = av.available ? std::string() : s + " unavailable: " + av.reason;
    }
    return m;
  }();
  static const std::string none;
  const auto it = why.find(scheme);
  return it == why.end() ? none : it->second;
}

// Raw mechanisms other than the shm ping-pong (whose wait varies): ping-pongs block, streams
// move `size`-byte blocks.
struct RawDef {
  const char* name;
  bool stream;
  Count count;
  const char* label;
  const char* short_name;
  measure::TwoProcessOutcome (*fn)(const baselines::BaselineConfig&);
};
// tcp_stream with the reader's SO_RCVLOWAT at the block size (woken once per block).
measure::TwoProcessOutcome tcp_stream_rcvlowat(const baselines::BaselineConfig& cfg) {
  auto c = cfg;
  c.stream_rcvlowat = true;
  return baselines::tcp_stream(c);
}

const RawDef kRaw[] = {
    {"pipe", false, Count::Block, "pipe", "pipe", baselines::pipe_pingpong},
    {"unix", false, Count::Block, "UNIX stream socket", "unix", baselines::unix_pingpong},
    {"fifo", false, Count::Block, "FIFO", "fifo", baselines::fifo_pingpong},
    {"sysv_mq", false, Count::Block, "SysV message queue", "sysv-mq", baselines::sysv_mq_pingpong},
    {"posix_mq", false, Count::Block, "POSIX message queue", "posix-mq", baselines::posix_mq_pingpong},
    {"tcp", false, Count::Remote, "raw TCP ping-pong, 64 B, TCP_NODELAY", "tcp", baselines::tcp_pingpong},
    {"pipe_stream", true, Count::Copy, "pipe stream", "pipe-stream", baselines::pipe_stream},
    {"fifo_stream", true, Count::Copy, "FIFO stream", "fifo-stream", baselines::fifo_stream},
    {"sysv_mq_stream", true, Count::Copy, "SysV MQ stream", "sysv-mq-stream", baselines::sysv_mq_stream},
    {"tcp_stream", true, Count::RemoteCopy, "raw TCP stream", "tcp-stream", baselines::tcp_stream},
    {"tcp_stream_rcvlowat", true, Count::RemoteCopy, "raw TCP stream, SO_RCVLOWAT", "tcp-stream-lowat",
     tcp_stream_rcvlowat},
    {"rdma", false, Count::Remote, "raw verbs ping-pong, 64 B SENDs", "verbs", baselines::rdma_pingpong},
    {"rdma_write", true, Count::RemoteCopy, "raw RDMA WRITE stream", "rdma-write", baselines::rdma_write_stream},
    {"tipc", false, Count::Remote, "raw TIPC ping-pong, 64 B, TIPC_NODELAY", "tipc", baselines::tipc_pingpong},
    {"tipc_stream", true, Count::RemoteCopy, "raw TIPC stream", "tipc-stream", baselines::tipc_stream},
};

// The registered transport whose cross-node cells compare with raw baseline `name`
// (HarnessTraits), or "" (a mechanism of one host: pipe, unix, ...). Its cells and that baseline
// cross the same network (cli::Cell::network).
std::string transport_of_raw(const std::string& name) {
  for (const std::string& s : cluster::node_transports()) {
    const transport::HarnessTraits& t = *cluster::node_transport_traits(s);
    if (name == t.pingpong_baseline || name == t.stream_baseline || name == t.stream_baseline + "_rcvlowat") return s;
  }
  return "";
}

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

const RawDef* find_raw(const std::string& name) {
  const auto it = std::find_if(std::begin(kRaw), std::end(kRaw), [&](const RawDef& d) { return name == d.name; });
  return it == std::end(kRaw) ? nullptr : it;
}
const RawDef& raw(const std::string& name) { return *find_raw(name); }

struct Loop {
  measure::LoopConfig loop;
  int timeout_ms = 0;
};

// What the local (PingpongConfig) and cross-node (RemoteConfig) loops are configured with alike.
template <class Config>
Config loop_config(const Loop& lp, const Where& w, dvs_wait_mode_t wait, uint32_t spin_ns,
                   const SizePoint* size) {
  Config c;
  c.wait = wait;
  c.spin_ns = spin_ns;
  c.loop = lp.loop;
  c.cpus = w.cpus;
  c.timeout_ms = lp.timeout_ms;
  if (size != nullptr) c.vcopy_bytes = size_t(size->bytes);
  return c;
}

class Planner {
 public:
  Planner(const Scenario& s, std::shared_ptr<BenchNodes> nodes, std::string run_id, Plan* out)
      : s_(s), nodes_(std::move(nodes)), run_id_(std::move(run_id)), out_(out) {}

  std::string add_matrix(const MatrixSpec& m);

 private:
  struct Known {
    std::string signature, matrix;
    int line = 0;
  };
  // A cell with everything but its measurement: id, counts, context, common row fields.
  RunItem base(const std::string& id, const Where& w, Count c, Loop* loop) const;
  // Adds it to `into` unless an identical cell is planned already; false (err_ set) if one with
  // other settings is.
  bool add(RunItem it, std::vector<RunItem>* into);
  // The baseline cells (made if new); their id.
  std::string shm_baseline(const std::string& wait, const Where& w);
  std::string raw_baseline(const RawDef& d, const SizePoint* size, const Where& w);
  // A peer library's row (cli::kPeerRows), planned after the dvs cells so that it can name the
  // dvs sendrec (block) cell at its placement, if the matrix has that one. At a cross-node
  // placement (tcp:// rows only): between the cross-node endpoints' CPUs, counted by
  // remote_samples, on tcp's network, named after tcp/dvs/sendrec_reply/block/cross-node.
  void peer_row(const cli::PeerRow& p, const Where& w);
  // The dvs cell (pairs > 0: that many concurrent sendrec pairs; batch > 0: the cross-node
  // nodes' dvsd --batch); false on a conflict.
  bool dvs_cell(const std::string& transport, const std::string& path, const std::string& security,
                const std::string& prim, const SizePoint* size, const Where& w, const std::string& wait,
                int pairs, int batch);
  // Its id: <transport>/<dvs>/<prim>[/<bytes>][/pairs<N>][/batch<B>]/<wait>/<placement>.
  static std::string dvs_id(const std::string& transport, const std::string& dvs, const std::string& prim,
                            const SizePoint* size, int pairs, int batch, const std::string& wait,
                            const std::string& placement);
  void size_fields(const SizePoint& s, json* j) const;

  const Scenario& s_;
  std::shared_ptr<BenchNodes> nodes_;
  std::string run_id_;
  Plan* out_;
  const MatrixSpec* m_ = nullptr;
  std::map<std::string, Known> known_;
  std::vector<RunItem> baselines_, dvs_, peers_;
  std::string err_;
};

RunItem Planner::base(const std::string& id, const Where& w, Count c, Loop* loop) const {
  const Settings& st = m_->settings;
  RunItem it;
  it.cell.id = id;
  it.ctx.run_id = run_id_;
  it.ctx.placement = w.describe();
  it.ctx.placement_note = w.cpus.note;
  it.ctx.warmup = st.warmup;
  it.ctx.spin_ns = st.spin_ns;
  it.repetitions = st.repetitions;
  it.row_fields = {{"scenario", s_.name}, {"matrix", m_->name}};
  if (!w.cpus.note.empty()) it.row_fields["placement_note"] = w.cpus.note;
  loop->loop.warmup = st.warmup;
  if (st.duration_s > 0) {
    it.duration_s = st.duration_s;
    loop->loop.iterations = kDurationCap;
    loop->loop.budget_ns = uint64_t(st.duration_s * 1e9);
    it.row_fields["stop"] = "duration";
    it.row_fields["duration_s"] = st.duration_s;
    it.row_fields["iterations_planned"] = nullptr;
  } else {
    const uint64_t counts[] = {st.samples, st.block_samples, st.copy_samples, st.remote_samples,
                               st.remote_copy_samples, st.remote_pair_samples};
    loop->loop.iterations = counts[int(c)];
    loop->loop.budget_ns = uint64_t(st.cell_budget_s * 1e9);
    it.row_fields["stop"] = "samples";
  }
  loop->timeout_ms = int(double(loop->loop.budget_ns) / 1e6) + 30'000;
  it.cell.iterations = loop->loop.iterations;
  return it;
}

bool Planner::add(RunItem it, std::vector<RunItem>* into) {
  const std::string sig = fmt::format(
      "{}, warm-up {}, spin_ns {}, {} repetition(s), cell budget {} s, {}",
      it.duration_s > 0 ? fmt::format("{} s", it.duration_s) : fmt::format("{} samples", it.cell.iterations),
      it.ctx.warmup, it.ctx.spin_ns, it.repetitions, m_->settings.cell_budget_s, it.ctx.placement);
  if (const auto k = known_.find(it.cell.id); k != known_.end()) {
    if (k->second.signature == sig) return true;  // the same cell: measured once
    err_ = fmt::format("{}:{}: [[matrix]] \"{}\": cell {} is also planned by [[matrix]] \"{}\" (line {}) "
                       "with other settings ({} here, {} there): give both the same settings or "
                       "drop it from one",
                       s_.source, m_->line, m_->name, it.cell.id, k->second.matrix, k->second.line, sig,
                       k->second.signature);
    return false;
  }
  known_[it.cell.id] = {sig, m_->name, m_->line};
  into->push_back(std::move(it));
  return true;
}

void Planner::size_fields(const SizePoint& s, json* j) const {
  (*j)["size_bytes"] = s.bytes;
  (*j)["size_base"] = s.base;
  (*j)["size_perturbation"] = s.perturbation;
}

std::string Planner::shm_baseline(const std::string& wait, const Where& w) {
  const auto& d = *std::find_if(std::begin(cli::kShmBaselineModes), std::end(cli::kShmBaselineModes),
                                [&](const cli::ShmBaselineMode& x) { return wait == x.wait; });
  const std::string id = fmt::format("baseline/shm/{}/{}", wait, w.label);
  Loop lp;
  RunItem it = base(id, w, wait == "block" ? Count::Block : Count::Spin, &lp);
  it.cell.label = d.label;
  it.cell.wait = wait;
  it.cell.short_name = d.short_name;
  if (wait == "spin" && w.cpus.placement == measure::Placement::Same)
    it.cell.skip_reason = cli::kSpinOneCoreReason;
  baselines::BaselineConfig cfg;
  cfg.loop = lp.loop;
  cfg.cpus = w.cpus;
  cfg.timeout_ms = lp.timeout_ms;
  cfg.spin_ns = m_->settings.spin_ns;
  const auto mode = d.mode;
  it.cell.run = [cfg, mode] { return baselines::shm_pingpong(cfg, mode); };
  add(std::move(it), &baselines_);
  return id;
}

std::string Planner::raw_baseline(const RawDef& d, const SizePoint* size, const Where& w) {
  const std::string id = d.stream ? fmt::format("baseline/{}/{}/block/{}", d.name, size->bytes, w.label)
                                  : fmt::format("baseline/{}/block/{}", d.name, w.label);
  Loop lp;
  RunItem it = base(id, w, d.count, &lp);
  it.cell.kind = d.stream ? cli::CellKind::Copy : cli::CellKind::PingPong;
  it.cell.label = d.stream ? fmt::format("{}, {} B blocks", d.label, size->bytes) : std::string(d.label);
  it.cell.wait = "block";
  it.cell.short_name = d.short_name;
  baselines::BaselineConfig cfg;
  cfg.loop = lp.loop;
  cfg.cpus = w.cpus;
  cfg.timeout_ms = lp.timeout_ms;
  cfg.spin_ns = m_->settings.spin_ns;
  cfg.tcp_host = "127.0.0.1";
  if (d.stream) {
    cfg.block_bytes = size_t(size->bytes);
    size_fields(*size, &it.row_fields);
    if (std::string(d.name) == "sysv_mq_stream" && size->bytes > sysv_msgmax())
      it.cell.skip_reason = fmt::format("{} B is above /proc/sys/kernel/msgmax ({} B)", size->bytes, sysv_msgmax());
  }
  if (const std::string t = transport_of_raw(d.name); !t.empty()) {
    it.cell.network = cluster::node_transport_traits(t)->network;
    if (!transport_unavailable(t).empty()) it.cell.skip_reason = transport_unavailable(t);
  }
  const auto fn = d.fn;
  it.cell.run = [cfg, fn] { return fn(cfg); };
  add(std::move(it), &baselines_);
  return id;
}

void Planner::peer_row(const cli::PeerRow& p, const Where& w) {
  const std::string mech = fmt::format("{}_{}", p.name, baselines::peer_transport_name(p.transport));
  const std::string id = fmt::format("peer/{}/block/{}", mech, w.label);
  Loop lp;
  RunItem it = base(id, w, w.cross_node ? Count::Remote : Count::Block, &lp);
  it.cell.peer = true;
  it.cell.label = p.label;
  it.cell.wait = "block";
  it.cell.short_name = p.short_name;
  const std::string tcp = "tcp";
  if (w.cross_node) it.cell.network = cluster::node_transport_traits(tcp)->network;
  const std::string dvs_block =
      fmt::format("{}/dvs/sendrec_reply/block/{}", w.cross_node ? tcp : std::string(cluster::kLocalTransport), w.label);
  if (known_.count(dvs_block) != 0) it.cell.baseline = dvs_block;  // ratio = peer p50 / dvs p50
  it.row_fields["note"] = w.cross_node ? std::string("the library's sockets between the two measuring processes, "
                                                     "placed as the cross-node endpoints, no dvsd; ") + cli::kPeerNote
                                       : std::string(cli::kPeerNote);
  baselines::BaselineConfig cfg;
  cfg.loop = lp.loop;
  cfg.cpus = w.cpus;
  cfg.timeout_ms = lp.timeout_ms;
  cfg.tcp_host = "127.0.0.1";
  const auto fn = p.fn;
  const auto t = p.transport;
  it.cell.run = [cfg, fn, t] { return fn(cfg, t); };
  add(std::move(it), &peers_);
}

std::string Planner::dvs_id(const std::string& transport, const std::string& dvs, const std::string& prim,
                            const SizePoint* size, int pairs, int batch, const std::string& wait,
                            const std::string& placement) {
  std::string id = fmt::format("{}/{}/{}", transport, dvs, prim);
  if (size != nullptr) id += fmt::format("/{}", size->bytes);
  if (pairs > 0) id += fmt::format("/pairs{}", pairs);
  if (batch > 0) id += fmt::format("/batch{}", batch);
  return id + fmt::format("/{}/{}", wait, placement);
}

bool Planner::dvs_cell(const std::string& transport, const std::string& path, const std::string& security,
                       const std::string& prim, const SizePoint* size, const Where& w, const std::string& wait,
                       int pairs, int batch) {
  const bool remote = transport != cluster::kLocalTransport;
  const bool copy = size != nullptr;
  // Proxy cells on authenticated links keep their ids; other paths and link security name theirs.
  const std::string dvs = std::string(path == "direct" ? "dvs-direct" : "dvs") +
                          (security == "authenticated" ? "" : "-" + security);
  const std::string id = dvs_id(transport, dvs, prim, size, pairs, batch, wait, w.label);
  Loop lp;
  RunItem it = base(id, w, remote ? (copy ? Count::RemoteCopy : pairs > 0 ? Count::RemotePair : Count::Remote)
                                  : (copy ? Count::Copy : wait == "block" ? Count::Block : Count::Spin),
                    &lp);
  if (pairs > 0) {
    // The matrix's count is every pair's round trips together: each client runs its share.
    lp.loop.iterations = std::max<uint64_t>(1, lp.loop.iterations / uint64_t(pairs));
    if (it.duration_s == 0) it.cell.iterations = lp.loop.iterations * uint64_t(pairs);
    it.row_fields["pairs"] = pairs;
    // How the N-pair cells' ratio column names this one.
    it.cell.short_name = fmt::format("{}-pair{}", pairs, batch > 0 ? fmt::format("-b{}", batch) : "");
  }
  cli::Cell& c = it.cell;
  c.dvs = true;
  c.kind = copy ? cli::CellKind::Copy : cli::CellKind::PingPong;
  c.wait = wait;
  it.row_fields["transport"] = transport;
  it.row_fields["primitive"] = prim;
  if (copy) {
    size_fields(*size, &it.row_fields);
    it.row_fields["payload_verified"] = true;
  }
  if (remote) {
    c.network = cluster::node_transport_traits(transport)->network;
    it.row_fields["remote_path"] = path;
    it.row_fields["link_security"] = security;
    it.row_fields["nodes"] = {{"client", 0}, {"server", 1}, {"count", 2}};
    it.row_fields["endpoint_placement"] = w.cpus.describe();
    if (batch > 0) it.row_fields["dvsd_batch"] = batch;
  }
  const auto mode = *workloads::parse_wait(wait);
  const std::shared_ptr<BenchNodes> nodes = nodes_;
  if (!remote) {
    // Every primitive but vcopy_push has a local loop (the local vcopy is requester = destination).
    const bool push = prim == "vcopy_push";
    const workloads::Primitive pr = push ? workloads::Primitive::Vcopy : *workloads::parse_primitive(prim);
    c.label = copy        ? fmt::format("vcopy {} B (requester = dst)", size->bytes)
              : pairs > 0 ? fmt::format("{} concurrent sendrec pair{}", pairs, pairs == 1 ? "" : "s")
                          : std::string(workloads::primitive_label(pr));
    if (push) c.skip_reason = "vcopy_push runs across nodes only (the local vcopy loop is requester = destination)";
    const auto cfg = loop_config<workloads::PingpongConfig>(lp, w, mode, m_->settings.spin_ns, size);
    c.run = [nodes, cfg, pr, pairs]() -> measure::TwoProcessOutcome {
      std::string sock;
      if (!nodes) return cli::outcome_not_run("no dvsd (dry run)");
      if (auto e = nodes->local(&sock); !e.empty()) return cli::outcome_not_run(e);
      auto x = cfg;
      x.socket_path = sock;
      return pairs > 0 ? workloads::run_local_pairs(pairs, x) : workloads::run_pingpong(pr, x);
    };
  } else {
    using workloads::remote::RemoteLoop;
    const std::map<std::string, RemoteLoop> loops = {
        {"sendrec_reply", RemoteLoop::SendrecReply}, {"send_receive", RemoteLoop::SendReceive},
        {"notify_receive", RemoteLoop::NotifyReceive}, {"vcopy", RemoteLoop::VcopyPull},
        {"vcopy_push", RemoteLoop::VcopyPush}};
    const auto l = loops.find(prim);
    c.label = pairs > 0 ? fmt::format("{} sendrec pair{}", pairs, pairs == 1 ? "" : "s")
              : l == loops.end() ? prim
                                 : std::string(workloads::remote::loop_label(l->second));
    if (copy) c.label += fmt::format(", {} B", size->bytes);
    c.label += " over " + transport + (path == "direct" ? ", direct path" : "") +
               (security == "authenticated" ? "" : ", " + security + " link") +
               (batch > 0 ? fmt::format(", dvsd --batch {}", batch) : "");
    if (l == loops.end())
      c.skip_reason = "no rcvrqst/reply loop across nodes (workloads/remote: sendrec, send/receive, "
                      "notify, vcopy pull and push)";
    auto cfg = loop_config<workloads::remote::RemoteConfig>(lp, w, mode, m_->settings.spin_ns, size);
    cfg.server_node = 1;
    const RemoteLoop rl = l == loops.end() ? RemoteLoop::SendrecReply : l->second;
    c.run = [nodes, cfg, rl, transport, path, security, pairs, batch]() -> measure::TwoProcessOutcome {
      if (!nodes) return cli::outcome_not_run("no dvsd (dry run)");
      if (auto e = nodes->remote(transport, path, security, batch); !e.empty()) return cli::outcome_not_run(e);
      auto x = cfg;
      x.client_socket = nodes->node_socket(0);
      x.server_socket = nodes->node_socket(1);
      return pairs > 0 ? workloads::remote::run_remote_pairs(pairs, x) : workloads::remote::run_remote(rl, x);
    };
  }
  if (c.skip_reason.empty() && wait == "spin" && w.cpus.placement == measure::Placement::Same)
    c.skip_reason = cli::kSpinOneCoreReason;
  if (c.skip_reason.empty()) c.skip_reason = transport_unavailable(transport);
  if (c.skip_reason.empty()) {
    // The matching baseline, measured with the same placement of the measuring processes.
    const Where bw = w.cross_node ? Where{pinning_label(m_->settings.cross_node_pinning), w.cpus, false} : w;
    const transport::HarnessTraits* tt = remote ? cluster::node_transport_traits(transport) : nullptr;
    const RawDef* rd = tt ? find_raw(copy ? tt->stream_baseline : tt->pingpong_baseline) : nullptr;
    if (pairs > 1 && contains(m_->pairs, 1)) {
      // n pairs against one pair of the same matrix, wait, placement (and batch): a scaling factor of rates.
      c.baseline = dvs_id(transport, dvs, prim, size, 1, batch, wait, w.label);
      c.ratio_of_rates = true;
    }
    else if (rd != nullptr) c.baseline = raw_baseline(*rd, size, bw);
    else if (remote) c.no_ratio_reason = cli::ratio_refusal(c.network, "");  // e.g. shm: no raw mechanism links nodes
    else if (copy) c.baseline = raw_baseline(raw("pipe_stream"), size, bw);
    else if (wait == "block") c.baseline = raw_baseline(raw("pipe"), nullptr, bw);
    else c.baseline = shm_baseline(wait, bw);
    if (!err_.empty()) return false;
    if (copy) {
      auto& cl = remote ? out_->remote_copylen : out_->local_copylen;
      cl = std::max(cl, size->bytes);
    }
  }
  return add(std::move(it), &dvs_);
}

std::string Planner::add_matrix(const MatrixSpec& m) {
  m_ = &m;
  baselines_.clear();
  dvs_.clear();
  peers_.clear();

  std::vector<Where> local, node;
  for (const auto& p : m.placements) {
    if (p == "cross-node") {
      const std::string& pin = m.settings.cross_node_pinning;
      node.push_back({"cross-node", measure::choose_cpus(*measure::parse_placement(pin)), true});
    } else {
      local.push_back(local_where(p));
    }
  }
  // Extra raw mechanisms: where the local cells run (else where the cross-node endpoints do).
  std::vector<Where> extra_at = local;
  if (extra_at.empty())
    for (const auto& w : node) extra_at.push_back({pinning_label(m.settings.cross_node_pinning), w.cpus, false});
  auto peer_named = [](const std::string& name) -> const cli::PeerRow* {
    for (const auto& p : cli::kPeerRows)
      if (name == fmt::format("{}_{}", p.name, baselines::peer_transport_name(p.transport))) return &p;
    return nullptr;
  };
  for (const auto& name : m.extra_baselines)
    for (const auto& w : extra_at) {
      if (peer_named(name) != nullptr) continue;  // after the dvs cells, below
      if (name == "shm") {
        shm_baseline("block", w);
        continue;
      }
      const RawDef& d = raw(name);
      if (!d.stream) raw_baseline(d, nullptr, w);
      else
        for (const auto& s : m.sizes) raw_baseline(d, &s, w);
    }
  if (!err_.empty()) return err_;

  for (const auto& transport : m.transports)
    for (const auto& prim : m.primitives) {
      const bool copy = prim == "vcopy" || prim == "vcopy_push";
      std::vector<const SizePoint*> sizes;
      if (copy)
        for (const auto& s : m.sizes) sizes.push_back(&s);
      else
        sizes.push_back(nullptr);
      for (const SizePoint* size : sizes)
        for (const auto& w : transport == cluster::kLocalTransport ? local : node)
          for (const auto& wait : m.waits)
            for (const auto& path : transport == cluster::kLocalTransport ? std::vector<std::string>{"proxy"} : m.remote_paths)
              for (const auto& security :
                   transport == cluster::kLocalTransport ? std::vector<std::string>{"authenticated"} : m.link_security)
                // batch outside pairs: the nodes restart once per batch value, not per cell
                for (int batch : transport != cluster::kLocalTransport && !m.dvsd_batch.empty() ? m.dvsd_batch
                                                                                                : std::vector<int>{0})
                  for (int pairs : !m.pairs.empty() ? m.pairs : std::vector<int>{0})
                    if (!dvs_cell(transport, path, security, prim, size, w, wait, pairs, batch)) return err_;
    }
  // Peer rows: at the local placements; a matrix without them has its tcp:// rows between the
  // cross-node endpoints, the others at their pinning.
  for (const auto& name : m.extra_baselines)
    if (const cli::PeerRow* p = peer_named(name)) {
      if (local.empty() && p->transport == baselines::PeerTransport::Tcp)
        for (const auto& w : node) peer_row(*p, w);
      else
        for (const auto& w : extra_at) peer_row(*p, w);
    }
  if (!err_.empty()) return err_;
  for (auto* v : {&baselines_, &dvs_, &peers_})
    for (auto& it : *v) out_->items.push_back(std::move(it));
  return "";
}

}  // namespace

std::string plan_scenario(const Scenario& s, const std::shared_ptr<BenchNodes>& nodes,
                          const std::string& run_id, Plan* out) {
  Planner p(s, nodes, run_id, out);
  for (const auto& m : s.matrices)
    if (auto err = p.add_matrix(m); !err.empty()) return err;
  return "";
}

}  // namespace dvs::bench
