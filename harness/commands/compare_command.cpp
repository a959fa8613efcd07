// dvs compare: see compare_command.hpp.
#include "harness/commands/compare_command.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "harness/results/report.hpp"
#include "workloads/measure/histogram.hpp"
#include "workloads/measure/nonparametric.hpp"

namespace dvs::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using stats::Histogram;

// Repetitions per side from which the test runs on per-repetition medians instead of samples
// (5 + 5 is the smallest design whose exact two-sided p can go below 0.01).
constexpr size_t kMinRepetitions = 5;

struct CompareOptions {
  std::string a, b;
  std::string threshold = "5";  // percent, "5" or "5%"
  double alpha = 0.01;
  bool json = false;
  std::string fail_on = "regression";  // regression | change | never: see compare_command.hpp
};

struct CellData {
  std::vector<json> rows;                  // every runs.jsonl row of the cell, in file order
  std::vector<double> rep_p50;             // latency.p50 of its ok rows
  std::unique_ptr<Histogram> hist;         // histograms.jsonl rows of the cell, merged
};

struct RunData {
  std::string dir;
  json meta;  // null if meta.json is missing or unreadable
  std::string run_id;
  std::vector<std::string> order;  // cells in first-appearance order
  std::map<std::string, CellData> cells;
  std::vector<std::string> warnings;
};

struct BadInput {
  std::string msg;
};

std::string one_line(std::string s) {
  for (auto& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

RunData load_run(const std::string& dir) {
  RunData r;
  r.dir = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw BadInput{fmt::format("{}: no such directory", dir)};
  const fs::path runs = fs::path(dir) / "runs.jsonl";
  std::ifstream rf(runs);
  if (!rf) throw BadInput{fmt::format("{}: no runs.jsonl (not a dvs run directory?)", dir)};
  {
    std::ifstream mf(fs::path(dir) / "meta.json");
    if (mf) {
      try {
        r.meta = json::parse(mf);
      } catch (const json::exception&) {
        r.warnings.push_back(fmt::format("{}/meta.json is not valid JSON", dir));
      }
    }
  }
  std::string line;
  int lineno = 0;
  while (std::getline(rf, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json row;
    try {
      row = json::parse(line);
    } catch (const json::exception& e) {
      throw BadInput{fmt::format("{}:{}: not JSON: {}", runs.string(), lineno, one_line(e.what()))};
    }
    if (!row.is_object() || !row.contains("cell") || !row["cell"].is_string())
      throw BadInput{fmt::format("{}:{}: row without a \"cell\"", runs.string(), lineno)};
    const std::string cell = row["cell"];
    if (r.run_id.empty() && row.contains("run_id") && row["run_id"].is_string())
      r.run_id = row["run_id"];
    auto [it, fresh] = r.cells.try_emplace(cell);
    if (fresh) r.order.push_back(cell);
    if (row.value("status", "") == "ok") {
      const json::json_pointer p50("/latency/p50");
      if (row.contains(p50) && row.at(p50).is_number()) it->second.rep_p50.push_back(row.at(p50).get<double>());
    }
    it->second.rows.push_back(std::move(row));
  }
  if (r.cells.empty()) throw BadInput{fmt::format("{}: runs.jsonl has no rows", dir)};
  if (r.run_id.empty() && r.meta.is_object() && r.meta.contains("run_id") && r.meta["run_id"].is_string())
    r.run_id = r.meta["run_id"];
  if (r.run_id.empty()) r.run_id = fs::path(dir).filename().string();

  std::ifstream hf(fs::path(dir) / "histograms.jsonl");
  if (!hf) {
    r.warnings.push_back(fmt::format("{}: no histograms.jsonl (medians from runs.jsonl, no "
                                     "sample test)", dir));
    return r;
  }
  lineno = 0;
  while (std::getline(hf, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const json h = json::parse(line);
      const std::string cell = h.at("cell");
      if (h.value("sub_bits", int(Histogram::kSubBits)) != int(Histogram::kSubBits)) {
        r.warnings.push_back(fmt::format("{}/histograms.jsonl:{}: sub_bits {} (this dvs reads {}); "
                                         "ignored", dir, lineno, h.value("sub_bits", 0),
                                         Histogram::kSubBits));
        continue;
      }
      auto it = r.cells.find(cell);
      if (it == r.cells.end()) continue;  // a histogram without a row: nothing to compare
      auto& hist = it->second.hist;
      if (!hist) hist = std::make_unique<Histogram>();
      for (const auto& b : h.at("buckets")) {
        const auto low = b.at(0).get<uint64_t>();
        const auto count = b.at(1).get<uint64_t>();
        hist->record_n(low, count);
      }
    } catch (const json::exception& e) {
      throw BadInput{fmt::format("{}/histograms.jsonl:{}: {}", dir, lineno, one_line(e.what()))};
    }
  }
  return r;
}

struct CellComparison {
  std::string cell, what;
  uint64_t n_a = 0, n_b = 0;
  size_t reps_a = 0, reps_b = 0;
  double p50_a = 0, p50_b = 0;
  std::optional<stats::MedianCi> ci_a, ci_b;
  double ratio = 0;
  std::string test;  // "samples" | "repetitions" | "none"
  std::optional<stats::MannWhitney> mw;
  std::string verdict;  // "faster" | "slower" | "no change" | "untested"
};

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Status of a cell on one side: "" if it has an ok row, else why not.
std::string not_ok_reason(const CellData& c) {
  if (!c.rep_p50.empty()) return "";
  const json& row = c.rows.back();
  std::string s = row.value("status", "no status");
  if (row.contains("error") && row["error"].is_string()) s += ": " + row["error"].get<std::string>();
  return s;
}

std::string meta_str(const json& meta, const char* ptr) {
  const json::json_pointer p(ptr);
  if (!meta.is_object() || !meta.contains(p)) return "";
  const json& v = meta.at(p);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string describe_run(const RunData& r) {
  std::string sha = meta_str(r.meta, "/git/sha").substr(0, 10);
  if (meta_str(r.meta, "/git/dirty") == "true") sha += "+dirty";
  const std::string date = meta_str(r.meta, "/date");
  return fmt::format("{} (run {}{}{})", r.dir, r.run_id, sha.empty() ? "" : ", git " + sha,
                     date.empty() ? "" : ", " + date);
}

// Conditions that make the two runs measure different things.
std::vector<std::string> meta_differences(const RunData& a, const RunData& b) {
  std::vector<std::string> out;
  if (!a.meta.is_object() || !b.meta.is_object()) {
    out.push_back("meta.json missing on one side: conditions not checked");
    return out;
  }
  const char* keys[] = {"/cpu_model", "/kernel", "/nproc_online", "/placement/kind",
                        "/options/quick", "/options/iterations", "/options/block_iterations",
                        "/options/copy_iterations", "/options/warmup", "/options/spin_ns",
                        "/options/vcopy_bytes", "/options/remote_wait", "/clock/clocksource"};
  for (const char* k : keys) {
    const std::string x = meta_str(a.meta, k), y = meta_str(b.meta, k);
    if (x != y) out.push_back(fmt::format("{} differs: {} vs {}", k + 1, x.empty() ? "-" : x,
                                          y.empty() ? "-" : y));
  }
  return out;
}

double parse_threshold(const std::string& s) {
  std::string t = s;
  if (!t.empty() && t.back() == '%') t.pop_back();
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end == t.c_str() || *end != '\0' || !(v >= 0) || !(v < 1000))
    throw BadInput{fmt::format("--threshold must be a percentage like 5 or 5%, not '{}'", s)};
  return v / 100;
}

std::string fmt_p(double p) {
  if (p >= 0.001) return fmt::format("{:.3f}", p);
  if (p < 1e-300) return "<1e-300";
  return fmt::format("{:.1e}", p);
}

json ci_json(const std::optional<stats::MedianCi>& ci) {
  if (!ci) return nullptr;
  return {{"lo", ci->lo}, {"hi", ci->hi}, {"coverage", ci->ranks.coverage},
          {"reached", ci->ranks.reached}};
}

// 1 when a verdict --fail-on counts is found (regression: "slower"; change: "slower" or
// "faster"; never: none), else 0.
int exit_status(const std::string& fail_on, const std::vector<CellComparison>& rows) {
  for (const auto& c : rows)
    if ((fail_on == "regression" && c.verdict == "slower") ||
        (fail_on == "change" && (c.verdict == "slower" || c.verdict == "faster")))
      return 1;
  return 0;
}

int compare(const CompareOptions& o) {
  const double threshold = parse_threshold(o.threshold);
  if (!(o.alpha > 0 && o.alpha < 1)) throw BadInput{"--alpha must be in (0, 1)"};
  const RunData a = load_run(o.a);
  const RunData b = load_run(o.b);

  std::vector<CellComparison> rows;
  std::vector<std::pair<std::string, std::string>> not_compared;
  std::vector<std::string> only_a, only_b;
  for (const auto& cell : a.order) {
    auto ib = b.cells.find(cell);
    if (ib == b.cells.end()) {
      only_a.push_back(cell);
      continue;
    }
    const CellData& ca = a.cells.at(cell);
    const CellData& cb = ib->second;
    const std::string ra = not_ok_reason(ca), rb = not_ok_reason(cb);
    if (!ra.empty() || !rb.empty()) {
      std::string why;
      if (!ra.empty()) why += "A " + ra;
      if (!rb.empty()) why += (why.empty() ? "" : "; ") + std::string("B ") + rb;
      not_compared.emplace_back(cell, why);
      continue;
    }
    CellComparison c;
    c.cell = cell;
    c.what = ca.rows.front().value(json::json_pointer("/latency/what"), std::string("?"));
    c.reps_a = ca.rep_p50.size();
    c.reps_b = cb.rep_p50.size();
    auto side = [](const CellData& d, uint64_t* n, double* p50,
                   std::optional<stats::MedianCi>* ci) {
      if (d.hist && d.hist->count() > 0) {
        *ci = stats::median_ci(*d.hist, 0.95);
        *n = d.hist->count();
        *p50 = (*ci)->median;
      } else {
        *p50 = median_of(d.rep_p50);
        *n = 0;
        for (const auto& row : d.rows)
          if (row.value("status", "") == "ok")
            *n += row.value(json::json_pointer("/latency/n"), uint64_t{0});
      }
    };
    side(ca, &c.n_a, &c.p50_a, &c.ci_a);
    side(cb, &c.n_b, &c.p50_b, &c.ci_b);
    c.ratio = c.p50_a > 0 ? c.p50_b / c.p50_a : 0;
    if (c.reps_a >= kMinRepetitions && c.reps_b >= kMinRepetitions) {
      c.test = "repetitions";
      c.mw = stats::mann_whitney_u(ca.rep_p50, cb.rep_p50);
    } else if (ca.hist && cb.hist && ca.hist->count() && cb.hist->count()) {
      c.test = "samples";
      c.mw = stats::mann_whitney_u(stats::weighted_values(*ca.hist),
                                   stats::weighted_values(*cb.hist));
    } else {
      c.test = "none";
    }
    if (!c.mw || c.p50_a <= 0) {
      c.verdict = "untested";
    } else if (c.mw->p_value < o.alpha && std::fabs(c.ratio - 1) > threshold) {
      c.verdict = c.ratio > 1 ? "slower" : "faster";
    } else {
      c.verdict = "no change";
    }
    rows.push_back(std::move(c));
  }
  for (const auto& cell : b.order)
    if (!a.cells.count(cell)) only_b.push_back(cell);
  if (rows.empty()) {
    if (not_compared.empty()) throw BadInput{fmt::format("no common cells in {} and {}", o.a, o.b)};
    throw BadInput{fmt::format("no cell has status ok in both {} and {} ({} common, none ok in both)",
                               o.a, o.b, not_compared.size())};
  }
  std::vector<std::string> notes = meta_differences(a, b);
  for (const auto& w : a.warnings) notes.push_back(w);
  for (const auto& w : b.warnings) notes.push_back(w);

  if (o.json) {
    json out;
    out["schema_version"] = kResultsSchemaVersion;
    out["a"] = {{"dir", a.dir}, {"run_id", a.run_id}, {"git_sha", meta_str(a.meta, "/git/sha")}};
    out["b"] = {{"dir", b.dir}, {"run_id", b.run_id}, {"git_sha", meta_str(b.meta, "/git/sha")}};
    out["alpha"] = o.alpha;
    out["threshold"] = threshold;
    out["cells"] = json::array();
    for (const auto& c : rows) {
      json j = {{"cell", c.cell},
                {"what", c.what},
                {"unit", "ns"},
                {"n_a", c.n_a},
                {"n_b", c.n_b},
                {"repetitions_a", c.reps_a},
                {"repetitions_b", c.reps_b},
                {"p50_a", c.p50_a},
                {"p50_b", c.p50_b},
                {"median_ci95_a", ci_json(c.ci_a)},
                {"median_ci95_b", ci_json(c.ci_b)},
                {"ratio", c.ratio},
                {"change_pct", (c.ratio - 1) * 100},
                {"test", c.test},
                {"verdict", c.verdict}};
      if (c.mw) {
        j["p_value"] = c.mw->p_value;
        j["u_a"] = c.mw->u1;
        j["z"] = c.mw->z;
        j["exact"] = c.mw->exact;
        j["prob_a_greater"] = c.mw->prob_superiority();
      } else {
        j["p_value"] = nullptr;
      }
      out["cells"].push_back(std::move(j));
    }
    out["not_compared"] = json::array();
    for (const auto& [cell, why] : not_compared)
      out["not_compared"].push_back({{"cell", cell}, {"reason", why}});
    out["only_in_a"] = only_a;
    out["only_in_b"] = only_b;
    out["notes"] = notes;
    out["fail_on"] = o.fail_on;
    out["exit_status"] = exit_status(o.fail_on, rows);
    fmt::print("{}\n", out.dump(2));
    return exit_status(o.fail_on, rows);
  }

  fmt::print("dvs compare\n  A = {}\n  B = {}\n", describe_run(a), describe_run(b));
  fmt::print("verdict: faster/slower if the two-sided Mann-Whitney U p < {} AND |B/A - 1| > {:g} %, "
             "else no change.\nlatency = median RTT (round trip) or per-block time, ns; B/A > 1 "
             "is slower.\n\n", o.alpha, threshold * 100);
  constexpr const char* kFmt = "{:<40} {:<9} {:>8} {:>8} {:>10} {:>10} {:>7} {:>8} {:>8}  {}\n";
  fmt::print(kFmt, "cell", "latency", "n A", "n B", "p50 A", "p50 B", "B/A", "p", "test",
             "verdict");
  fmt::print("{}\n", std::string(125, '-'));
  int faster = 0, slower = 0;
  for (const auto& c : rows) {
    faster += c.verdict == "faster";
    slower += c.verdict == "slower";
    fmt::print(kFmt, c.cell, c.what, c.n_a, c.n_b, format_ns(c.p50_a), format_ns(c.p50_b),
               fmt::format("{:.3f}", c.ratio), c.mw ? fmt_p(c.mw->p_value) : "-",
               c.test == "repetitions" ? "reps" : c.test, c.verdict);
  }
  fmt::print("{}\n", std::string(125, '-'));
  fmt::print("{} cells compared: {} faster, {} slower, {} no change.\n", rows.size(), faster, slower,
             rows.size() - size_t(faster) - size_t(slower));
  for (const auto& [cell, why] : not_compared) fmt::print("not compared: {} ({})\n", cell, why);
  if (!only_a.empty()) fmt::print("only in A: {}\n", fmt::join(only_a, ", "));
  if (!only_b.empty()) fmt::print("only in B: {}\n", fmt::join(only_b, ", "));
  for (const auto& n : notes) fmt::print("note: {}\n", n);
  fmt::print("test: samples = all samples of both histograms (bucket midpoints); they are serially "
             "correlated within a run,\nso p overstates significance and the threshold must exceed "
             "the run-to-run noise. reps = per-repetition\nmedians (>= {} runs.jsonl rows of the cell "
             "per side): the sound test for a gate.\n", kMinRepetitions);
  const int rc = exit_status(o.fail_on, rows);
  fmt::print("exit status {} (--fail-on {}: {})\n", rc, o.fail_on,
             o.fail_on == "never" ? "verdicts never fail"
             : o.fail_on == "change" ? "1 if any cell is slower or faster"
                                     : "1 if any cell is slower");
  return rc;
}

}  // namespace

namespace {

void add_compare_options(CLI::App* cmd, CompareOptions* o) {
  cmd->add_option("A", o->a, "Run directory A (the reference)")->required();
  cmd->add_option("B", o->b, "Run directory B (compared with A)")->required();
  cmd->add_option("--threshold", o->threshold,
                  "Smallest |B/A - 1| that counts as a change, percent (default 5)");
  cmd->add_option("--alpha", o->alpha, "Significance level of the test (default 0.01)");
  cmd->add_flag("--json", o->json, "One JSON document instead of the table");
  cmd->add_option("--fail-on", o->fail_on,
                  "Exit 1 when a cell is: regression = slower (default), change = slower or faster, "
                  "never = exit 0 whatever the verdicts")
      ->check(CLI::IsMember({"regression", "change", "never"}));
}

int run_compare(const CompareOptions& o) {
  try {
    return compare(o);
  } catch (const BadInput& e) {
    std::fflush(stdout);
    fmt::print(stderr, "dvs compare: error: {}\n", e.msg);
    return 2;
  }
}

}  // namespace

Command make_compare_command() {
  auto o = std::make_shared<CompareOptions>();
  Command c;
  c.name = "compare";
  c.help = "Compare two run directories (results/runs/<id>) cell by cell: median change B/A, "
           "Mann-Whitney U p, verdict";
  c.add_options = [o](CLI::App* cmd) { add_compare_options(cmd, o.get()); };
  c.run = [o] { return run_compare(*o); };
  return c;
}

}  // namespace dvs::cli
