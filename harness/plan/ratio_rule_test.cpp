// The ratio convention (harness/results/ratio.hpp) and which baseline a cell is divided by:
// slowdown_ratio's direction, the median over repetitions, the same-network rule in
// attach_ratios, "baseline not run" vs "failed", the bench planner's remote shm cells (no raw
// baseline crosses their network) and --only matching nothing. No processes run.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness/plan/bench_plan.hpp"
#include "harness/plan/cells.hpp"
#include "harness/plan/scenario.hpp"
#include "harness/results/ratio.hpp"
#include "harness/results/report.hpp"

namespace {

using namespace dvs::cli;

TEST(Ratio, GreaterThanOneMeansSlowerForEveryBasis) {
  // Latency: twice the baseline's p50 is 2x slower.
  EXPECT_DOUBLE_EQ(*slowdown_ratio(RatioBasis::P50, 2000, 1000), 2.0);
  // Rates: half the baseline's rate is 2x slower too.
  EXPECT_DOUBLE_EQ(*slowdown_ratio(RatioBasis::MbPerS, 500, 1000), 2.0);
  EXPECT_DOUBLE_EQ(*slowdown_ratio(RatioBasis::MsgsPerS, 3400, 1000), 1000.0 / 3400.0);
  EXPECT_FALSE(slowdown_ratio(RatioBasis::P50, 100, 0));
  EXPECT_FALSE(slowdown_ratio(RatioBasis::MbPerS, 0, 100));
  EXPECT_STREQ(ratio_basis_name(RatioBasis::MbPerS), "mb_per_s");
  EXPECT_EQ(format_ratio(1.728), "1.73x");
}

TEST(Ratio, RepetitionsCombineAsTheMedianOfPerRepetitionRatios) {
  EXPECT_FALSE(ratio_across_repetitions({}));
  EXPECT_DOUBLE_EQ(*ratio_across_repetitions({3.0, 1.0, 2.0}), 2.0);
  EXPECT_DOUBLE_EQ(*ratio_across_repetitions({1.6, 1.8}), 1.7);
}

TEST(Ratio, SameNetworkRule) {
  EXPECT_EQ(ratio_refusal("", ""), "");
  EXPECT_EQ(ratio_refusal("tcp over loopback", "tcp over loopback"), "");
  EXPECT_NE(ratio_refusal("tcp over loopback", ""), "");
  EXPECT_NE(ratio_refusal("", "tcp over loopback"), "");
  EXPECT_NE(ratio_refusal("rdma", "tcp over loopback"), "");
}

CellResult ok_result(const Cell& c, uint64_t p50, double per_s) {
  CellResult r;
  r.cell = &c;
  r.ok = true;
  r.summary.p50 = p50;
  r.per_s = per_s;
  return r;
}

TEST(Ratio, AttachRatiosUsesOneConventionAndTheSameNetworkOnly) {
  Cell base, ping, copy_base, copy, remote, one_pair, eight_pairs, orphan, failed_base, on_failed;
  base.id = "b/shm";
  base.short_name = "raw-shm";
  ping.id = "d/ping";
  ping.baseline = base.id;
  copy_base.id = "b/stream";
  copy_base.kind = copy.kind = CellKind::Copy;
  copy.id = "d/copy";
  copy.baseline = copy_base.id;
  remote.id = "d/remote";  // crosses a network; its named baseline does not
  remote.network = "tcp over loopback";
  remote.baseline = base.id;
  one_pair.id = "d/pairs1";
  eight_pairs.id = "d/pairs8";
  eight_pairs.baseline = one_pair.id;
  eight_pairs.ratio_of_rates = true;
  orphan.id = "d/orphan";  // its baseline is not in the run (filtered out)
  orphan.baseline = "b/not-planned";
  failed_base.id = "b/failed";
  on_failed.id = "d/on-failed";
  on_failed.baseline = failed_base.id;

  std::vector<CellResult> rs;
  rs.push_back(ok_result(base, 1000, 0));
  rs.push_back(ok_result(ping, 1730, 0));
  rs.push_back(ok_result(copy_base, 0, 2000));
  rs.push_back(ok_result(copy, 0, 500));
  rs.push_back(ok_result(remote, 80000, 0));
  rs.push_back(ok_result(one_pair, 0, 10000));
  rs.push_back(ok_result(eight_pairs, 0, 34000));
  rs.push_back(ok_result(orphan, 1000, 0));
  CellResult f;
  f.cell = &failed_base;
  f.error = "boom";
  rs.push_back(std::move(f));
  rs.push_back(ok_result(on_failed, 1000, 0));
  attach_ratios(rs);

  EXPECT_DOUBLE_EQ(*rs[1].ratio, 1.73);
  EXPECT_EQ(ratio_column(rs[1]), "1.73x raw-shm p50");
  EXPECT_DOUBLE_EQ(*rs[3].ratio, 4.0) << "a quarter of the baseline's MB/s is 4x slower";
  EXPECT_FALSE(rs[4].ratio) << "a remote row is never divided by an in-host baseline";
  EXPECT_NE(rs[4].ratio_note.find("same network"), std::string::npos) << rs[4].ratio_note;
  EXPECT_EQ(ratio_column(rs[4]).rfind("-- ", 0), 0u) << ratio_column(rs[4]);
  EXPECT_NEAR(*rs[6].ratio, 10000.0 / 34000.0, 1e-12) << "8 pairs at 3.4x the rate: < 1, faster";
  EXPECT_FALSE(rs[7].ratio);
  EXPECT_EQ(rs[7].ratio_note, "baseline not run");
  EXPECT_FALSE(rs[9].ratio);
  EXPECT_EQ(rs[9].ratio_note, "baseline failed");

  // Over repetitions the column is the median of the per-repetition ratios.
  CellResult again = ok_result(ping, 1000, 0);
  again.ratio = 1.63;
  again.ratio_vs = "raw-shm";
  EXPECT_EQ(ratio_column(std::vector<const CellResult*>{&rs[1], &again}), "1.68x raw-shm p50");
}

TEST(Ratio, RemoteShmBenchCellsHaveNoInHostBaseline) {
  dvs::bench::Scenario s;
  ASSERT_EQ(dvs::bench::parse_scenario_file(std::string(DVS_SCENARIOS_DIR) + "/remote.toml", &s), "");
  dvs::bench::Plan p;
  ASSERT_EQ(dvs::bench::plan_scenario(s, nullptr, "test", &p), "");
  size_t shm = 0, tcp = 0;
  for (const auto& it : p.items) {
    const Cell& c = it.cell;
    if (!c.dvs || !c.skip_reason.empty()) continue;
    if (c.id.rfind("shm/", 0) == 0) {
      ++shm;
      EXPECT_EQ(c.baseline, "") << c.id;
      EXPECT_NE(c.no_ratio_reason, "") << c.id;
    } else if (c.id.rfind("tcp/", 0) == 0) {
      ++tcp;
      ASSERT_NE(c.baseline, "") << c.id;
      for (const auto& b : p.items) {
        if (b.cell.id == c.baseline) {
          EXPECT_EQ(b.cell.network, c.network) << c.id << " vs " << b.cell.id;
        }
      }
    }
  }
  EXPECT_GT(shm, 0u);
  EXPECT_GT(tcp, 0u);
}

TEST(Ratio, OnlyMatchingNothingNamesThePrefixes) {
  const std::vector<std::string> ids = {"baseline/shm/spin", "dvs/sendrec_reply/spin", "dvs/sendrec_reply/block"};
  EXPECT_EQ(only_matches_nothing({}, ids), "");
  EXPECT_EQ(only_matches_nothing({"nope", "sendrec"}, ids), "");
  const std::string e = only_matches_nothing({"nope"}, ids);
  EXPECT_NE(e.find("\"nope\" matches no cell"), std::string::npos) << e;
  EXPECT_NE(e.find("baseline/shm, dvs/sendrec_reply"), std::string::npos) << e;
}

}  // namespace
