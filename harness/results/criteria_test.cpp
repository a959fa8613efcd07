// any_criterion_missed and criteria_exit_status on the shapes the commands write: dvs run's remote
// criteria (met true / false / null) and dvs web bench's summary (entries without a criterion).
#include "harness/results/criteria.hpp"

#include <gtest/gtest.h>

namespace {

using nlohmann::json;

json criterion(const json& met) { return {{"criterion", "dvs >= 0.5 x nginx requests/s"}, {"met", met}}; }

TEST(Criteria, NoneOrOnlyUnjudgedOrMetIsNoMiss) {
  EXPECT_FALSE(dvs::cli::any_criterion_missed(json::array()));
  EXPECT_FALSE(dvs::cli::any_criterion_missed(json()));
  EXPECT_FALSE(dvs::cli::any_criterion_missed(json::array({criterion(nullptr), criterion(true)})));
  // A --large layout on one node: medians, no criterion.
  EXPECT_FALSE(dvs::cli::any_criterion_missed(json::array({{{"layout", "B"}, {"met", false}}})));
  json no_met = criterion(true);
  no_met.erase("met");
  EXPECT_FALSE(dvs::cli::any_criterion_missed(json::array({no_met})));
}

TEST(Criteria, OneMissedAmongMetAndUnjudgedIsAMiss) {
  EXPECT_TRUE(dvs::cli::any_criterion_missed(json::array({criterion(true), criterion(nullptr), criterion(false)})));
}

TEST(Criteria, ExitStatusOnlyWithTheFlagAndNeverHidesAFailure) {
  const json missed = json::array({criterion(false)}), met = json::array({criterion(true), criterion(nullptr)});
  EXPECT_EQ(dvs::cli::criteria_exit_status(0, false, missed), 0);
  EXPECT_EQ(dvs::cli::criteria_exit_status(0, true, missed), 1);
  EXPECT_EQ(dvs::cli::criteria_exit_status(0, true, met), 0);
  EXPECT_EQ(dvs::cli::criteria_exit_status(1, true, met), 1);
  EXPECT_EQ(dvs::cli::criteria_exit_status(2, true, missed), 2);
}

}  // namespace
