// libFuzzer target: apply_option_scenario_text, the scenario files of dvs rpc and dvs web bench
// (a [scenario] table and one table of the command's long options), on any text. Seeds:
// fuzz-corpus/dvs_option_scenario_fuzz/ (harness/scenarios/rpc-*.toml and web-*.toml, tricky TOML);
// dictionary: fuzz-corpus/option_scenario.dict.
//
// The command here has options of every kind those commands have (strings, signed and unsigned
// integers of each width, doubles, flags, a checked range, a vector), so values of any TOML type
// reach CLI11's conversions. Invariants: nothing but a returned error comes out (no exception
// escapes); an error is one line naming the source; an option given on the command line keeps
// its value (the command line wins).
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/testkit/fuzz_check.hpp"
#include "dvs/dvs.h"
#include "harness/plan/option_scenario.hpp"

namespace {

struct Options {
  std::string scenario, transport = "local", loop = "closed", wait = "block", name = "fuzz", layouts = "B";
  int servers = 2, stall_server = -1, port = 8080;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;
  uint64_t seed = 1, request_bytes = 0, large_bytes = 100 << 20;
  int64_t fs_cache = 0;
  double rate = 1000, duration_s = 2, slo_percentile = 99;
  bool sweep = false, no_verify = false;
  std::vector<std::string> only;
};

void add_options(CLI::App& cmd, Options& o) {
  cmd.add_option("--scenario", o.scenario);
  cmd.add_option("--transport", o.transport);
  cmd.add_option("--loop", o.loop);
  cmd.add_option("--wait", o.wait);
  cmd.add_option("--name", o.name);
  cmd.add_option("--layout,--layouts", o.layouts);
  cmd.add_option("--servers", o.servers);
  cmd.add_option("--stall-server", o.stall_server);
  cmd.add_option("--port", o.port)->check(CLI::Range(0, 65535));
  cmd.add_option("--spin-ns", o.spin_ns);
  cmd.add_option("--seed", o.seed);
  cmd.add_option("--request-bytes", o.request_bytes);
  cmd.add_option("--large-bytes", o.large_bytes);
  cmd.add_option("--fs-cache", o.fs_cache);
  cmd.add_option("--rate", o.rate);
  cmd.add_option("--duration", o.duration_s);
  cmd.add_option("--slo-percentile", o.slo_percentile);
  cmd.add_flag("--sweep", o.sweep);
  cmd.add_flag("--no-verify", o.no_verify);
  cmd.add_option("--only", o.only);
}

bool one_line(const std::string& s) { return s.find('\n') == std::string::npos && s.find('\r') == std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source = "fuzz.toml";
  CLI::App cmd("fuzz");
  Options o;
  add_options(cmd, o);
  cmd.parse("--seed 7 --transport tcp", false);  // given on the command line: the file must not change them
  std::string name, description;
  const std::string err =
      dvs::cli::apply_option_scenario_text(&cmd, dvs::fuzz::as_text(data, size), source, "rpc", "dvs rpc", &name, &description);
  if (!err.empty()) {
    DVS_FUZZ_CHECK(err.starts_with(source + ":"));
    DVS_FUZZ_CHECK(one_line(err));
  }
  DVS_FUZZ_CHECK(o.seed == 7 && o.transport == "tcp");
  return 0;
}
