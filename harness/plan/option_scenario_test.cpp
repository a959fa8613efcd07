// Option scenario files (dvs rpc / dvs web bench --scenario): keys become the command's options
// unless the command line gave them; every error is one line naming the file and the line.
#include "harness/plan/option_scenario.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace {

struct Cmd {
  CLI::App app{"t"};
  std::string scenario, transport = "local";
  int servers = 2;
  uint64_t seed = 1;
  double rate = 1000;
  bool sweep = false;
  Cmd() {
    app.add_option("--scenario", scenario);
    app.add_option("--transport", transport);
    app.add_option("--servers", servers);
    app.add_option("--seed", seed);
    app.add_option("--rate", rate);
    app.add_flag("--sweep", sweep);
  }
  std::string apply(const std::string& text, std::string* name = nullptr) {
    std::string n, d;
    return dvs::cli::apply_option_scenario_text(&app, text, "s.toml", "rpc", "dvs rpc", name ? name : &n, &d);
  }
};

TEST(OptionScenario, KeysSetOptionsUnlessTheCommandLineGaveThem) {
  Cmd c;
  c.app.parse("--seed 7", false);
  std::string name;
  ASSERT_EQ(c.apply("[scenario]\nname = \"n\"\n[rpc]\ntransport = \"shm\"\nservers = 4\nseed = 9\nrate = 2.5\nsweep = true\n",
                    &name),
            "");
  EXPECT_EQ(name, "n");
  EXPECT_EQ(c.transport, "shm");
  EXPECT_EQ(c.servers, 4);
  EXPECT_EQ(c.seed, 7u);  // the command line wins
  EXPECT_EQ(c.rate, 2.5);
  EXPECT_TRUE(c.sweep);
}

TEST(OptionScenario, ErrorsAreOneLineWithFileAndLine) {
  const struct {
    std::string text, want;
  } cases[] = {
      {"[rpc\n", "s.toml:1: "},
      {"[rpc]\nbogus_key = 1\n", "s.toml:2: [rpc] has no key 'bogus_key' (keys are dvs rpc's long options)"},
      {"[web]\n", "s.toml:1: unknown table 'web'"},
      {"[scenario]\nname = 3\n[rpc]\n", "s.toml:2: [scenario] takes name and description"},
      {"[scenario]\n", "s.toml: no [rpc] table"},
      {"[rpc]\nservers = [1]\n", "s.toml:2: 'servers' must be a string, number or boolean"},
      {"[rpc]\nservers = \"two\"\n", "s.toml:2: servers: "},
      // Caught by dvs_option_scenario_fuzz (seed bad-newline-value.toml): CLI11 quotes the value.
      {"[rpc]\nservers = \"1\\n2\"\n", "s.toml:2: servers: "},
  };
  for (const auto& k : cases) {
    Cmd c;
    const std::string err = c.apply(k.text);
    EXPECT_EQ(err.rfind(k.want, 0), 0u) << "want " << k.want << "..., got: " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  }
}

TEST(OptionScenario, FromAFile) {
  char path[] = "/tmp/dvs-option-scenario-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "[rpc]\nservers = 3\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  Cmd c;
  std::string n, d;
  EXPECT_EQ(dvs::cli::apply_option_scenario(&c.app, path, "rpc", "dvs rpc", &n, &d), "");
  EXPECT_EQ(c.servers, 3);
  unlink(path);
  Cmd e;
  EXPECT_EQ(dvs::cli::apply_option_scenario(&e.app, path, "rpc", "dvs rpc", &n, &d).rfind(std::string(path) + ": cannot open", 0), 0u);
}

}  // namespace
