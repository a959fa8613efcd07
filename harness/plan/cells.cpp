// plan_cells / execute_cell / attach_ratios: see cells.hpp.
#include "harness/plan/cells.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/pingpong/pingpong.hpp"

namespace dvs::cli {

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::vector<Cell> plan_cells(const RunOptions& o, const measure::CpuPair& cpus,
                             const std::string& dvsd_socket, const std::string& dvs_skip_reason) {
  const uint64_t budget_ns = uint64_t(o.cell_budget_s * 1e9);
  const int timeout_ms = int(o.cell_budget_s * 1000) + 30'000;
  const bool one_cpu = cpus.placement == measure::Placement::Same;
  auto iters_for = [&](const std::string& wait) {
    return wait == "block" ? o.block_iterations : o.iterations;
  };
  auto base_cfg = [&](uint64_t iters) {
    baselines::BaselineConfig b;
    b.loop.warmup = o.warmup;
    b.loop.iterations = iters;
    b.loop.budget_ns = budget_ns;
    b.cpus = cpus;
    b.timeout_ms = timeout_ms;
    b.spin_ns = o.spin_ns;
    b.block_bytes = size_t(o.vcopy_bytes);
    return b;
  };

  std::vector<Cell> cells;
  // ---- raw baselines, ping-pong ----
  for (const auto& m : kShmBaselineModes) {
    if (!has(o.waits, m.wait)) continue;
    Cell c;
    c.id = fmt::format("baseline/shm/{}", m.wait);
    c.label = m.label;
    c.wait = m.wait;
    c.short_name = m.short_name;
    c.iterations = iters_for(m.wait);
    if (one_cpu && c.wait == "spin") c.skip_reason = kSpinOneCoreReason;
    const auto cfg = base_cfg(c.iterations);
    const auto mode = m.mode;
    c.run = [cfg, mode] { return baselines::shm_pingpong(cfg, mode); };
    cells.push_back(std::move(c));
  }
  if (has(o.waits, "block")) {
    const auto cfg = base_cfg(o.block_iterations);
    Cell p;
    p.id = "baseline/pipe/block";
    p.label = "pipe";
    p.wait = "block";
    p.short_name = "pipe";
    p.iterations = o.block_iterations;
    p.run = [cfg] { return baselines::pipe_pingpong(cfg); };
    cells.push_back(p);
    Cell u;
    u.id = "baseline/unix_stream/block";
    u.label = "UNIX stream socket";
    u.wait = "block";
    u.short_name = "unix";
    u.iterations = o.block_iterations;
    u.run = [cfg] { return baselines::unix_pingpong(cfg); };
    cells.push_back(u);
  }

  // ---- dvs primitives, ping-pong, grouped by wait strategy ----
  auto dvs_cfg = [&](dvs_wait_mode_t w, uint64_t iters) {
    workloads::PingpongConfig p;
    p.socket_path = dvsd_socket;
    p.wait = w;
    p.spin_ns = o.spin_ns;
    p.loop.warmup = o.warmup;
    p.loop.iterations = iters;
    p.loop.budget_ns = budget_ns;
    p.cpus = cpus;
    p.timeout_ms = timeout_ms;
    p.vcopy_bytes = size_t(o.vcopy_bytes);
    return p;
  };
  const std::map<std::string, std::string> matching = {
      {"spin", "baseline/shm/spin"},
      {"spin-then-block", "baseline/shm/spin-then-block"},
      {"block", "baseline/pipe/block"}};
  for (const auto& w : o.waits) {
    const auto mode = *workloads::parse_wait(w);
    for (auto prim : workloads::kAllPrimitives) {
      if (prim == workloads::Primitive::Vcopy) continue;
      Cell c;
      c.id = fmt::format("dvs/{}/{}", workloads::primitive_id(prim), w);
      c.dvs = true;
      c.label = workloads::primitive_label(prim);
      c.wait = w;
      c.baseline = matching.at(w);
      c.short_name = fmt::format("dvs-{}-{}", workloads::primitive_id(prim), w);
      c.iterations = iters_for(w);
      if (!dvs_skip_reason.empty()) c.skip_reason = dvs_skip_reason;
      else if (one_cpu && w == "spin") c.skip_reason = kSpinOneCoreReason;
      const auto cfg = dvs_cfg(mode, c.iterations);
      c.run = [cfg, prim] { return workloads::run_pingpong(prim, cfg); };
      cells.push_back(std::move(c));
    }
  }

  // ---- peer IPC libraries, ping-pong, their own blocking wait (after the dvs rows they name) ----
  if (has(o.waits, "block")) {
    const std::string dvs_sendrec_block =
        fmt::format("dvs/{}/block", workloads::primitive_id(workloads::Primitive::SendrecReply));
    for (const auto& pr : kPeerRows) {
      Cell c;
      c.id = fmt::format("peer/{}_{}/block", pr.name, baselines::peer_transport_name(pr.transport));
      c.peer = true;
      c.label = pr.label;
      c.wait = "block";
      c.short_name = pr.short_name;
      c.baseline = dvs_sendrec_block;  // ratio = this p50 / dvs sendrec (block) p50
      c.iterations = o.block_iterations;
      c.row_extra["note"] = kPeerNote;
      const auto cfg = base_cfg(o.block_iterations);
      const auto fn = pr.fn;
      const auto t = pr.transport;
      c.run = [cfg, fn, t] { return fn(cfg, t); };
      cells.push_back(std::move(c));
    }
  }

  // ---- copy throughput ----
  {
    Cell c;
    c.id = "baseline/pipe_stream/block";
    c.kind = CellKind::Copy;
    c.label = fmt::format("pipe stream, {} B writes", o.vcopy_bytes);
    c.wait = "block";
    c.short_name = "pipe-stream";
    c.iterations = o.copy_iterations;
    const auto cfg = base_cfg(o.copy_iterations);
    c.run = [cfg] { return baselines::pipe_stream(cfg); };
    cells.push_back(std::move(c));
  }
  for (const auto& w : o.waits) {
    const auto mode = *workloads::parse_wait(w);
    Cell c;
    c.id = fmt::format("dvs/vcopy/{}", w);
    c.kind = CellKind::Copy;
    c.dvs = true;
    c.label = fmt::format("vcopy {} B (requester = dst)", o.vcopy_bytes);
    c.wait = w;
    c.baseline = "baseline/pipe_stream/block";
    c.iterations = o.copy_iterations;
    if (!dvs_skip_reason.empty()) c.skip_reason = dvs_skip_reason;
    const auto cfg = dvs_cfg(mode, o.copy_iterations);
    c.run = [cfg] { return workloads::run_pingpong(workloads::Primitive::Vcopy, cfg); };
    cells.push_back(std::move(c));
  }
  keep_only(o.only, &cells);
  return cells;
}

CellResult execute_cell(const Cell& c) {
  CellResult r;
  r.cell = &c;
  if (!c.skip_reason.empty()) {
    r.skipped = true;
    r.error = c.skip_reason;
    return r;
  }
  auto out = c.run();
  r.ok = out.ok;
  r.error = out.error;
  r.loop = std::move(out.result);
  r.summary = r.loop->samples.summary();
  const double secs = double(r.loop->elapsed_ns) / 1e9;
  if (r.ok && secs > 0) {
    r.per_s = c.kind == CellKind::PingPong
                  ? 2.0 * double(r.loop->iterations) / secs
                  : double(r.loop->bytes_per_op) * double(r.loop->iterations) / secs / 1e6;
  }
  return r;
}

measure::TwoProcessOutcome outcome_not_run(const std::string& why) {
  measure::TwoProcessOutcome o;
  o.result = std::make_unique<measure::LoopResult>();
  o.error = why;
  return o;
}

RatioBasis ratio_basis(const Cell& c) {
  if (c.kind == CellKind::Copy) return RatioBasis::MbPerS;
  return c.ratio_of_rates ? RatioBasis::MsgsPerS : RatioBasis::P50;
}

void attach_ratios(std::vector<CellResult>& results) {
  std::map<std::string, const CellResult*> by_id;
  for (const auto& r : results) by_id[r.cell->id] = &r;
  for (auto& r : results) {
    r.ratio.reset();
    r.ratio_vs.clear();
    r.ratio_note.clear();
    if (!r.ok) continue;
    const Cell& c = *r.cell;
    if (c.baseline.empty()) {
      r.ratio_note = c.no_ratio_reason;
      continue;
    }
    const auto it = by_id.find(c.baseline);
    if (it == by_id.end()) {
      r.ratio_note = "baseline not run";
      continue;
    }
    const CellResult& b = *it->second;
    if (b.skipped) {
      r.ratio_note = "baseline skipped: " + b.error;
      continue;
    }
    if (!b.ok) {
      r.ratio_note = "baseline failed";
      continue;
    }
    if (auto why = ratio_refusal(c.network, b.cell->network); !why.empty()) {
      r.ratio_note = why;
      continue;
    }
    const RatioBasis basis = ratio_basis(c);
    r.ratio = basis == RatioBasis::P50 ? slowdown_ratio(basis, double(r.summary.p50), double(b.summary.p50))
                                       : slowdown_ratio(basis, r.per_s, b.per_s);
    if (r.ratio) r.ratio_vs = b.cell->short_name;
    else r.ratio_note = "a zero value: no ratio";
  }
}

std::string only_matches_nothing(const std::vector<std::string>& only, const std::vector<std::string>& ids) {
  if (only.empty()) return "";
  for (const auto& id : ids)
    for (const auto& pat : only)
      if (id.find(pat) != std::string::npos) return "";
  // Prefixes: the first two segments of each id ("dvs/sendrec_reply", "remote/baseline"), in order.
  std::vector<std::string> prefixes;
  for (const auto& id : ids) {
    const auto s1 = id.find('/');
    const auto s2 = s1 == std::string::npos ? s1 : id.find('/', s1 + 1);
    const std::string p = id.substr(0, s2);
    if (std::find(prefixes.begin(), prefixes.end(), p) == prefixes.end()) prefixes.push_back(p);
  }
  std::string quoted;
  for (const auto& pat : only) quoted += (quoted.empty() ? "" : ", ") + ("\"" + pat + "\"");
  std::string list;
  for (const auto& p : prefixes) list += (list.empty() ? "" : ", ") + p;
  return fmt::format("--only {} matches no cell; cell ids start with: {}", quoted, list.empty() ? "(no cells)" : list);
}

void keep_only(const std::vector<std::string>& only, std::vector<Cell>* cells) {
  if (only.empty()) return;
  std::vector<Cell> kept;
  for (auto& c : *cells)
    for (const auto& pat : only)
      if (c.id.find(pat) != std::string::npos) {
        kept.push_back(std::move(c));
        break;
      }
  *cells = std::move(kept);
}

}  // namespace dvs::cli
