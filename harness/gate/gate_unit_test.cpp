// The gate's pure parts: verdicts, comparability of baselines, callgrind output parsing.
#include "harness/gate/gate.hpp"

#include <gtest/gtest.h>

namespace dvs::gate {
namespace {

TEST(GateJudge, WithinThresholdIsOk) {
  EXPECT_EQ(judge(1000, true, 1000, 0, 3).word, "ok");
  EXPECT_EQ(judge(1000, true, 1029, 0, 3).word, "ok");
  EXPECT_FALSE(judge(1000, true, 1029, 0, 3).fails);
}

TEST(GateJudge, SlowerThanThresholdFails) {
  const Verdict v = judge(1000, true, 1031, 0, 3);
  EXPECT_EQ(v.word, "SLOWER");
  EXPECT_TRUE(v.fails);
  EXPECT_NEAR(v.change_pct, 3.1, 1e-9);
}

TEST(GateJudge, FasterPassesButSaysSo) {
  const Verdict v = judge(1000, true, 900, 0, 3);
  EXPECT_EQ(v.word, "faster");
  EXPECT_FALSE(v.fails);
}

TEST(GateJudge, NewCellPasses) {
  EXPECT_EQ(judge(0, false, 123, 0, 3).word, "new");
  EXPECT_FALSE(judge(0, false, 123, 0, 3).fails);
}

TEST(GateJudge, NoiseAboveHalfTheThresholdFails) {
  // A gate whose signal moves by half its threshold between identical runs would cry wolf.
  EXPECT_EQ(judge(1000, true, 1000, 1.5, 3).word, "NOISY");
  EXPECT_TRUE(judge(1000, true, 1000, 1.5, 3).fails);
  EXPECT_EQ(judge(1000, true, 1000, 0.1, 3).word, "ok");
}

TEST(GateComparable, SameBuildIsComparable) {
  nlohmann::json b = {{"compiler", "GNU 12.2.0"}, {"build_type", "RelWithDebInfo"}, {"cxx_flags", "-O2 -g"},
                      {"sanitize", ""},           {"glibc", "2.36"},               {"valgrind", "valgrind-3.19.0"},
                      {"cpu_features", "avx2"}};
  EXPECT_EQ(incomparable_reason(b, b), "");
}

TEST(GateComparable, AnotherCpuVendorIsNot) {
  nlohmann::json b = {{"compiler", "GNU 12.2.0"}, {"build_type", "RelWithDebInfo"}, {"cxx_flags", "-O2 -g"},
                      {"sanitize", ""},           {"glibc", "2.36"},               {"valgrind", "valgrind-3.19.0"},
                      {"cpu_features", "avx2"},   {"cpu_vendor", "GenuineIntel"}};
  nlohmann::json c = b;
  c["cpu_vendor"] = "AuthenticAMD";
  const std::string why = incomparable_reason(b, c);
  EXPECT_NE(why.find("cpu_vendor \"AuthenticAMD\" here"), std::string::npos) << why;
}

TEST(GateComparable, OtherCompilerOrBuildTypeIsNot) {
  nlohmann::json b = {{"compiler", "GNU 12.2.0"}, {"build_type", "RelWithDebInfo"}, {"cxx_flags", "-O2 -g"},
                      {"sanitize", ""},           {"glibc", "2.36"},               {"valgrind", "valgrind-3.19.0"},
                      {"cpu_features", "avx2"}};
  nlohmann::json c = b;
  c["compiler"] = "Clang 14.0.6";
  const std::string why = incomparable_reason(b, c);
  EXPECT_NE(why.find("GNU 12.2.0"), std::string::npos) << why;
  EXPECT_NE(why.find("RelWithDebInfo"), std::string::npos) << why;
  c = b;
  c["build_type"] = "Debug";
  EXPECT_NE(incomparable_reason(b, c), "");
  EXPECT_NE(incomparable_reason(nlohmann::json(), b), "");
}

TEST(GateCallgrind, ReadsSummaryOrTotals) {
  EXPECT_EQ(callgrind_total("version: 1\nevents: Ir\nfn=x\n1 2\nsummary: 2990020\n\ntotals: 2990020\n"), 2990020);
  EXPECT_EQ(callgrind_total("events: Ir\ntotals: 42\n"), 42);
  EXPECT_EQ(callgrind_total("garbage"), -1);
}

}  // namespace
}  // namespace dvs::gate
