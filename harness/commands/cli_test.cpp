// The dvs command line itself, on the real binary: --version, `dvs help [CMD]` (the same text as
// `dvs [CMD] --help`, for every command `dvs --help` lists), and one-line errors with exit 2 that
// name the nearest command or option for a mistyped one.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/testkit/test_shell.hpp"

namespace {

using dvs::testing::Ran;
using dvs::testing::run_shell;

Ran dvs(const std::string& args) { return run_shell(std::string(DVS_CLI_PATH) + " " + args); }

// The command names of `dvs --help`'s SUBCOMMANDS section.
std::vector<std::string> listed_commands(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream in(help);
  bool in_section = false;
  const std::regex row(R"(^  ([a-z][a-z0-9-]*)\s{2,}.*)");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Subcommands:", 0) == 0 || line.rfind("SUBCOMMANDS:", 0) == 0) {
      in_section = true;
      continue;
    }
    std::smatch m;
    if (in_section && std::regex_match(line, m, row)) names.push_back(m[1]);
  }
  return names;
}

TEST(DvsCli, VersionNamesVersionCommitAndBuildType) {
  const Ran r = dvs("--version 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(std::regex_match(r.out, std::regex(R"(dvs [0-9]+(\.[0-9]+)* \([^,()]+, [^,()]+\)\n)"))) << r.out;
}

TEST(DvsCli, HelpIsDashDashHelp) {
  const Ran help = dvs("help 2>&1");
  const Ran dashes = dvs("--help 2>&1");
  EXPECT_EQ(help.status, 0) << help.out;
  EXPECT_EQ(dashes.status, 0);
  EXPECT_EQ(help.out, dashes.out);
  EXPECT_NE(help.out.find("run"), std::string::npos) << help.out;
}

TEST(DvsCli, HelpRunIsRunDashDashHelp) {
  const Ran help = dvs("help run 2>&1");
  const Ran dashes = dvs("run --help 2>&1");
  EXPECT_EQ(help.status, 0) << help.out;
  EXPECT_EQ(help.out, dashes.out);
  EXPECT_NE(help.out.find("--iterations"), std::string::npos) << help.out;
  const Ran nested = dvs("help cluster up 2>&1");
  EXPECT_EQ(nested.status, 0) << nested.out;
  EXPECT_EQ(nested.out, dvs("cluster up --help 2>&1").out);
}

TEST(DvsCli, HelpOfAnUnknownCommandIsAnError) {
  const Ran r = dvs("help nope 2>&1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("dvs: error: unknown command 'nope'"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line: " << r.out;
}

TEST(DvsCli, UnknownCommandSuggestsTheNearest) {
  const Ran r = dvs("runn 2>&1");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "dvs: error: unknown command 'runn'; did you mean 'run'? (see dvs --help)\n");
  const Ran prefix = dvs("micro 2>&1");
  EXPECT_EQ(prefix.status, 2);
  EXPECT_NE(prefix.out.find("did you mean 'microbench'?"), std::string::npos) << prefix.out;
  const Ran sub = dvs("cluster statsu 2>&1");
  EXPECT_EQ(sub.status, 2);
  EXPECT_NE(sub.out.find("unknown command 'statsu' of dvs cluster; did you mean 'status'?"), std::string::npos)
      << sub.out;
  const Ran far = dvs("xyzzyq 2>&1");
  EXPECT_EQ(far.status, 2);
  EXPECT_EQ(far.out, "dvs: error: unknown command 'xyzzyq' (see dvs --help)\n");
}

TEST(DvsCli, UnknownOptionSuggestsTheNearestOptionOfItsCommand) {
  const Ran r = dvs("run --iteratons 5 2>&1");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "dvs: error: unknown option '--iteratons' of dvs run; did you mean '--iterations'? "
                   "(see dvs run --help)\n");
  // The nearest option of this command: --spin-ns is an option of rpc, not of compare.
  const Ran other = dvs("compare a b --spin-nss 1 2>&1");
  EXPECT_EQ(other.status, 2);
  EXPECT_EQ(other.out.find("did you mean"), std::string::npos) << other.out;
  EXPECT_NE(other.out.find("unknown option '--spin-nss' of dvs compare"), std::string::npos) << other.out;
}

TEST(DvsCli, EveryListedCommandAnswersHelp) {
  const Ran top = dvs("--help 2>&1");
  ASSERT_EQ(top.status, 0);
  const std::vector<std::string> names = listed_commands(top.out);
  // At least the commands the README names; the list itself comes from the binary.
  for (const char* must : {"run", "bench", "compare", "report", "help"})
    EXPECT_NE(std::find(names.begin(), names.end(), must), names.end()) << must << " not in\n" << top.out;
  for (const std::string& n : names) {
    const Ran r = dvs("help " + n + " 2>&1");
    EXPECT_EQ(r.status, 0) << "dvs help " << n << ":\n" << r.out;
    EXPECT_EQ(r.out, dvs(n + " --help 2>&1").out) << n;
  }
}

// `dvs transports --json`: the built-in transports in DVS_TRANSPORTS order with their traits;
// "local" is the harness's, not one of them. The table names the same schemes.
TEST(DvsCli, TransportsListsTheRegisteredOnesWithTheirTraits) {
  const Ran r = dvs("transports --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["local"], "local");
  std::vector<std::string> schemes;
  for (const auto& t : doc["transports"]) {
    schemes.push_back(t["scheme"]);
    EXPECT_EQ(t["order"], int(schemes.size()));
    EXPECT_FALSE(t["label"].get<std::string>().empty());
    EXPECT_FALSE(t["network"].get<std::string>().empty());
    EXPECT_EQ(t["listen_uri_example"].get<std::string>().rfind(schemes.back() + "://", 0), 0u) << t.dump();
  }
  ASSERT_GE(schemes.size(), 2u);
  EXPECT_EQ(schemes[0], "tcp");
  EXPECT_EQ(schemes[1], "shm");
  EXPECT_EQ(doc["transports"][0]["listen_uri_example"], "tcp://127.0.0.1:7001");
  EXPECT_EQ(doc["transports"][0]["pingpong_baseline"], "tcp");
  EXPECT_EQ(doc["transports"][1]["pingpong_baseline"], "");  // shm: no raw mechanism links two nodes
  const Ran table = dvs("transports");
  ASSERT_EQ(table.status, 0) << table.out;
  for (const auto& s : schemes) EXPECT_NE(table.out.find("\n" + s + " "), std::string::npos) << s << table.out;
}

}  // namespace
