// libFuzzer target: parse_scenario_text, the `dvs bench` scenario parser (docs/BENCH.md), on any
// text. Seeds: fuzz-corpus/dvs_scenario_fuzz/ (harness/scenarios/*.toml, the unit tests' files,
// tricky TOML); dictionary: fuzz-corpus/scenario.dict.
//
// Invariants: an error is one line naming the source, and leaves *out as it was; an accepted
// scenario holds what the planner relies on (every list non-empty, canonical and without repeats,
// placements that fit the transports, sizes ascending and in range, settings in their ranges),
// and --quick (apply_quick) only ever lowers counts.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/testkit/fuzz_check.hpp"
#include "harness/plan/scenario.hpp"

namespace {

using namespace dvs::bench;

bool one_line(const std::string& s) { return s.find('\n') == std::string::npos && s.find('\r') == std::string::npos; }

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

void check_names(const std::vector<std::string>& v, const std::vector<std::string>& allowed) {
  DVS_FUZZ_CHECK(!v.empty());
  for (const auto& x : v) DVS_FUZZ_CHECK(has(allowed, x));
  DVS_FUZZ_CHECK(std::set<std::string>(v.begin(), v.end()).size() == v.size());
}

void check_settings(const Settings& s) {
  DVS_FUZZ_CHECK(s.repetitions >= 1 && s.repetitions <= 1000);
  DVS_FUZZ_CHECK(s.cell_budget_s >= 0.001 && s.cell_budget_s <= 86400);
  DVS_FUZZ_CHECK(s.duration_s == 0 || (s.duration_s >= 0.001 && s.duration_s <= 86400));
  DVS_FUZZ_CHECK(s.samples >= 1 && s.block_samples >= 1 && s.copy_samples >= 1 && s.remote_samples >= 1 &&
                 s.remote_copy_samples >= 1);
  DVS_FUZZ_CHECK(s.spin_ns <= 1'000'000'000);
  DVS_FUZZ_CHECK(s.cross_node_pinning == "cross" || s.cross_node_pinning == "same" || s.cross_node_pinning == "none");
}

void check_scenario(const Scenario& s) {
  DVS_FUZZ_CHECK(!s.name.empty() && s.name.size() <= 48);
  DVS_FUZZ_CHECK(!s.matrices.empty());
  std::set<std::string> names;
  for (const MatrixSpec& m : s.matrices) {
    DVS_FUZZ_CHECK(!m.name.empty() && m.name.size() <= 48 && names.insert(m.name).second);
    check_names(m.transports, scenario_transports());
    check_names(m.primitives, kPrimitives);
    check_names(m.waits, kWaits);
    check_names(m.placements, kPlacements);
    check_names(m.remote_paths, kRemotePaths);
    for (const auto& b : m.extra_baselines) DVS_FUZZ_CHECK(has(kExtraBaselines, b));
    const bool local = has(m.transports, "local");
    const bool remote = m.transports.size() > (local ? 1u : 0u);
    const bool node_pl = has(m.placements, "cross-node");
    const bool local_pl = m.placements.size() > (node_pl ? 1u : 0u);
    DVS_FUZZ_CHECK(local == local_pl && remote == node_pl);
    DVS_FUZZ_CHECK(!m.sizes.empty());
    for (size_t i = 0; i < m.sizes.size(); ++i) {
      const SizePoint& p = m.sizes[i];
      DVS_FUZZ_CHECK(p.bytes >= 1 && p.bytes <= kMaxCopyBytes);
      DVS_FUZZ_CHECK(p.base >= 1 && p.base <= kMaxCopyBytes);
      DVS_FUZZ_CHECK(static_cast<int64_t>(p.base) + p.perturbation == static_cast<int64_t>(p.bytes));
      if (i > 0) DVS_FUZZ_CHECK(m.sizes[i - 1].bytes < p.bytes);
    }
    check_settings(m.settings);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source = "fuzz.toml";
  Scenario s;
  s.name = "untouched";
  const std::string err = parse_scenario_text(dvs::fuzz::as_text(data, size), source, &s);
  if (!err.empty()) {
    DVS_FUZZ_CHECK(err.starts_with(source + ":"));
    DVS_FUZZ_CHECK(one_line(err));
    DVS_FUZZ_CHECK(s.name == "untouched" && s.matrices.empty());
    return 0;
  }
  DVS_FUZZ_CHECK(s.source == source);
  check_scenario(s);
  Scenario quick = s;
  apply_quick(&quick);
  check_scenario(quick);
  for (size_t i = 0; i < s.matrices.size(); ++i) {
    const Settings &a = s.matrices[i].settings, &q = quick.matrices[i].settings;
    DVS_FUZZ_CHECK(q.samples <= a.samples && q.block_samples <= a.block_samples && q.copy_samples <= a.copy_samples);
    DVS_FUZZ_CHECK(q.remote_samples <= a.remote_samples && q.remote_copy_samples <= a.remote_copy_samples);
    DVS_FUZZ_CHECK(q.duration_s <= a.duration_s && q.cell_budget_s <= a.cell_budget_s);
    DVS_FUZZ_CHECK(q.repetitions == a.repetitions);
  }
  return 0;
}
