// run_items and friends: see runner.hpp.
#include "harness/run/runner.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "workloads/measure/clock.hpp"

namespace dvs::bench {

nlohmann::json item_row(const RunItem& item, const cli::CellResult& r, int rep) {
  nlohmann::json row = cli::row_json(item.ctx, r);
  row["rep"] = rep;
  row["repetitions"] = item.repetitions;
  for (const auto& [k, v] : item.row_fields.items()) row[k] = v;
  return row;
}

RunOutcome run_items(const std::vector<RunItem>& items, cli::ResultsWriter& writer,
                     const InterruptWatch& interrupt, Progress& progress) {
  RunOutcome o;
  // The execution order: (item, rep) pairs, repetition-major.
  int max_reps = 0;
  for (const auto& it : items) max_reps = std::max(max_reps, it.repetitions);
  std::vector<std::pair<size_t, int>> order;
  for (int rep = 1; rep <= max_reps; ++rep)
    for (size_t i = 0; i < items.size(); ++i)
      if (items[i].repetitions >= rep) order.emplace_back(i, rep);
  o.loops_planned = order.size();

  EtaEstimator eta(items.size());
  std::vector<double> fixed(items.size());
  for (size_t i = 0; i < items.size(); ++i) fixed[i] = items[i].duration_s;
  auto eta_from = [&](size_t pos) {
    std::vector<size_t> rest;
    for (size_t k = pos; k < order.size(); ++k) rest.push_back(order[k].first);
    return eta.estimate(rest, fixed);
  };

  for (size_t pos = 0; pos < order.size(); ++pos) {
    if (interrupt.requested()) {
      o.interrupted = true;
      break;
    }
    const auto [i, rep] = order[pos];
    const RunItem& it = items[i];
    if (size_t(rep) > o.reps.size()) o.reps.emplace_back();
    auto& group = o.reps.back();
    progress.start(pos + 1, order.size(), rep, it.repetitions, it.cell.id, eta_from(pos));
    const uint64_t t0 = measure::now_ns();
    cli::CellResult r = cli::execute_cell(it.cell);
    const double secs = double(measure::now_ns() - t0) / 1e9;
    if (it.duration_s > 0 && r.loop) r.loop->truncated = false;  // stopped by its duration: the plan
    if (!r.skipped) eta.record(i, secs);
    group.push_back(std::move(r));
    cli::attach_ratios(group);  // against the baselines of this repetition
    const cli::CellResult& res = group.back();
    ++o.loops_run;
    if (!res.skipped && !res.ok) o.any_failed = true;
    progress.done(res, secs, eta_from(pos + 1));
    nlohmann::json hist;
    if (res.loop && res.ok) {
      hist = cli::histogram_json(it.ctx, res);
      hist["rep"] = rep;
    }
    if (!writer.append(item_row(it, res, rep), hist.is_null() ? nullptr : &hist, &o.write_error))
      break;
  }
  if (o.interrupted)
    progress.note(fmt::format("interrupted after {} of {} loops; rows so far are written",
                              o.loops_run, o.loops_planned));
  return o;
}

std::vector<cli::CellResult> median_repetitions(RunOutcome& o) {
  std::map<const cli::Cell*, std::vector<cli::CellResult*>> by_cell;
  std::vector<const cli::Cell*> order;
  for (auto& group : o.reps)
    for (auto& r : group) {
      auto& v = by_cell[r.cell];
      if (v.empty()) order.push_back(r.cell);
      v.push_back(&r);
    }
  std::vector<cli::CellResult> out;
  out.reserve(order.size());
  for (const cli::Cell* c : order) {
    const auto& all = by_cell[c];
    std::vector<cli::CellResult*> ok;
    for (auto* r : all)
      if (r->ok) ok.push_back(r);
    if (ok.empty()) {
      out.push_back(std::move(*all.back()));
      continue;
    }
    std::stable_sort(ok.begin(), ok.end(), [](const cli::CellResult* a, const cli::CellResult* b) {
      return a->summary.p50 < b->summary.p50;
    });
    // The cell's ratio: the median of its per-repetition ratios (results/ratio.hpp), what
    // dvs bench's summary and dvs report show too, not the ratio of the picked repetition.
    std::vector<double> ratios;
    std::string vs;
    for (const auto* r : ok)
      if (r->ratio) {
        ratios.push_back(*r->ratio);
        vs = r->ratio_vs;
      }
    cli::CellResult pick = std::move(*ok[(ok.size() - 1) / 2]);
    if (const auto m = cli::ratio_across_repetitions(ratios)) {
      pick.ratio = m;
      pick.ratio_vs = vs;
      pick.ratio_note.clear();
    }
    out.push_back(std::move(pick));
  }
  return out;
}

}  // namespace dvs::bench
