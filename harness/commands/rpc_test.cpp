// The RPC workload against real dvsd nodes and real processes (no mocks); performance is never
// asserted. Payload bytes end to end (inline and vcopy, one node and two over tcp), the open loop
// under an injected stall against what the stall implies, the sweep, `dvs rpc` end to end.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <string>
#include <vector>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/test_shell.hpp"
#include "core/testkit/test_temp_dir.hpp"
#include "harness/commands/rpc_sweep.hpp"
#include "harness/run/node_pair.hpp"
#include "workloads/rpc/rpc.hpp"

namespace {

namespace wl = dvs::workloads::rpc;
namespace fs = std::filesystem;

using dvs::testing::TempDir;

wl::RpcConfig local_config(const dvs::testing::DvsdProcess& d) {
  wl::RpcConfig c;
  c.client_socket = c.server_socket = d.socket_path();
  c.duration_s = 0.5;
  return c;
}

// Every completed request moved exactly its payload both ways, verified byte by byte.
void expect_payloads(const wl::RpcConfig& c, const wl::RpcResult& r) {
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_GT(r.completed, 0u);
  EXPECT_EQ(r.verify_failures, 0u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.request_payload_bytes, r.completed * c.request_bytes);
  EXPECT_EQ(r.reply_payload_bytes, r.completed * c.reply_bytes);
  uint64_t served = 0;
  for (uint64_t s : r.served) served += s;
  const uint64_t warmups = uint64_t(c.clients * c.outstanding);
  EXPECT_EQ(served, r.completed + warmups);
  const uint64_t per_request = (c.request_bytes > wl::kInlineBytes) + (c.reply_bytes > wl::kInlineBytes);
  EXPECT_EQ(r.vcopies, per_request * served);
  EXPECT_EQ(r.latency->count(), r.completed);
}

TEST(RpcWorkload, ClosedLoopPayloadsInlineAndVcopy) {
  dvs::testing::DvsdProcess d({.dcs = {"0,copylen=4194304"}});
  ASSERT_TRUE(d.start());
  for (auto [req, rep] : {std::pair<size_t, size_t>{0, 0}, {24, 7}, {25, 24}, {3 << 20, 100'001}}) {
    wl::RpcConfig c = local_config(d);
    c.servers = 2;
    c.clients = 2;
    c.outstanding = 2;
    c.request_bytes = req;
    c.reply_bytes = rep;
    SCOPED_TRACE("request " + std::to_string(req) + " reply " + std::to_string(rep));
    const wl::RpcResult r = wl::run_rpc(c);
    expect_payloads(c, r);
  }
}

TEST(RpcWorkload, ClosedLoopPayloadsAcrossTwoNodes) {
  const TempDir dir("dvs-rpc-pair");
  dvs::cli::NodePair pair(dvs::testing::dvsd_binary(), dir.path().string());
  dvs::cli::NodePairOptions po;
  po.transport = "tcp";
  const std::string err = pair.ensure(po);
  ASSERT_EQ(err, "");
  wl::RpcConfig c;
  c.client_socket = pair.socket(0);
  c.server_socket = pair.socket(1);
  c.server_node = 1;
  c.servers = 2;
  c.clients = 2;
  c.outstanding = 2;
  c.duration_s = 0.5;
  c.request_bytes = 200'000;
  c.reply_bytes = 65'537;
  const wl::RpcResult r = wl::run_rpc(c);
  expect_payloads(c, r);
  pair.stop();
}

// Open loop at rate R against one server that sleeps S once: the ~R*S requests due during the
// stall wait for it, their latency (from the intended time) spread over (0, S]; about R*S/2 of
// them see >= S/2. The closed loop over the same stall records only the few in flight.
TEST(RpcWorkload, OpenLoopLatencyShowsAnInjectedStall) {
  dvs::testing::DvsdProcess d;
  ASSERT_TRUE(d.start());
  wl::RpcConfig c = local_config(d);
  c.servers = 1;
  c.clients = 1;
  c.outstanding = 4;
  c.loop = wl::Loop::Open;
  c.arrivals = wl::Arrivals::Fixed;
  c.rate = 1000;
  c.duration_s = 2;
  c.stall_at_ns = 600'000'000;
  c.stall_ns = 300'000'000;
  const wl::RpcResult r = wl::run_rpc(c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.stalls, 1u);
  EXPECT_EQ(r.unsent, 0u);
  const double total = double(r.latency->count());
  EXPECT_NEAR(total, c.rate * c.duration_s, 0.02 * c.rate * c.duration_s);
  const double S = double(c.stall_ns), half_delayed = c.rate * S / 1e9 / 2;  // ~150 requests >= S/2
  // At least 60 % and at most 160 % of the expected count are >= S/2.
  const double q_in = 100.0 * (1 - 0.6 * half_delayed / total);
  const double q_out = 100.0 * (1 - 1.6 * half_delayed / total);
  EXPECT_GE(double(r.latency->percentile(q_in)), S / 2) << "p" << q_in;
  EXPECT_LT(double(r.latency->percentile(q_out)), S / 2) << "p" << q_out;
  EXPECT_GE(double(r.latency->max()), 0.9 * S);
  EXPECT_LT(double(r.latency->percentile(50)), S / 10);
  // The time series shows it in the second the stall ended in.
  ASSERT_GE(r.seconds.size(), 2u);
  EXPECT_GE(double(r.seconds[0].latency.p99), S / 2);

  wl::RpcConfig closed = c;
  closed.loop = wl::Loop::Closed;
  const wl::RpcResult rc = wl::run_rpc(closed);
  ASSERT_TRUE(rc.ok) << rc.error;
  EXPECT_EQ(rc.stalls, 1u);
  EXPECT_GE(double(rc.latency->max()), 0.5 * S);                 // a few saw it ...
  EXPECT_LT(double(rc.latency->percentile(99)), S / 2);          // ... the percentiles do not
}

TEST(RpcWorkload, ValidateRejectsBadConfigs) {
  wl::RpcConfig c;
  c.client_socket = c.server_socket = "/nonexistent";
  EXPECT_EQ(wl::validate(c), "");
  c.servers = 0;
  EXPECT_NE(wl::validate(c), "");
  c.servers = 1;
  c.loop = wl::Loop::Open;
  c.rate = 0;
  EXPECT_NE(wl::validate(c), "");
  c.rate = 10;
  c.stall_server = 3;
  EXPECT_NE(wl::validate(c), "");
}

TEST(RpcSweep, BracketsTheLimitOfAThreshold) {
  // The search itself, on a known threshold: rates up to 5000 pass.
  const auto a = dvs::rpc::sweep({.start_rps = 1000, .max_rps = 1e6, .tolerance = 0.05, .max_steps = 20},
                                 [](double r) { return dvs::rpc::SweepStep{r, r <= 5000, ""}; });
  EXPECT_LE(a.best_pass, 5000);
  EXPECT_GT(a.lowest_fail, 5000);
  EXPECT_LE(a.lowest_fail, a.best_pass * 1.05);
  const auto none = dvs::rpc::sweep({.start_rps = 1000, .min_rps = 100, .max_steps = 20},
                                    [](double r) { return dvs::rpc::SweepStep{r, false, ""}; });
  EXPECT_EQ(none.best_pass, 0);
  EXPECT_LE(none.steps.size(), 5u);
}

using Cmd = dvs::testing::Ran;

Cmd run_cli(const std::string& args) {
  return dvs::testing::run_shell(std::string(DVS_CLI_PATH) + " " + args + " 2>&1");
}

std::vector<nlohmann::json> read_jsonl(const fs::path& p) {
  std::vector<nlohmann::json> rows;
  std::ifstream f(p);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

fs::path only_run_dir(const std::string& out) {
  fs::path found;
  for (const auto& e : fs::directory_iterator(out)) found = e.path();
  return found;
}

TEST(RpcCommand, SweepOnATinyConfigTerminatesWithAnAnswer) {
  const TempDir tmp("dvs-rpc-sweep");
  const std::string out = tmp.path().string();
  const Cmd c = run_cli("rpc --sweep --clients 1 --outstanding 2 --servers 1 --duration 0.3 --drain 0.2 "
                        "--sweep-start 200 --sweep-max 800 --sweep-steps 4 --slo-ms 50 --out " + out);
  ASSERT_EQ(c.status, 0) << c.out;
  EXPECT_NE(c.out.find("answer: "), std::string::npos) << c.out;
  const fs::path run = only_run_dir(out);
  std::ifstream mf(run / "meta.json");
  const auto meta = nlohmann::json::parse(mf);
  EXPECT_EQ(meta["command"], "dvs rpc");
  EXPECT_EQ(meta["finished"], true);
  ASSERT_TRUE(meta.contains("sweep"));
  const size_t steps = meta["sweep"]["steps"].size();
  EXPECT_GE(steps, 1u);
  EXPECT_LE(steps, 4u);
  EXPECT_FALSE(meta["sweep"]["answer_rps"].is_null()) << c.out;  // 200 rps at p99 <= 50 ms
  const auto rows = read_jsonl(run / "runs.jsonl");
  ASSERT_EQ(rows.size(), steps);
  EXPECT_EQ(rows[0]["kind"], "rpc");
  EXPECT_EQ(rows[0]["latency"]["what"], "rpc");
  EXPECT_TRUE(rows[0]["rpc"]["timeseries"].is_array());
  EXPECT_EQ(read_jsonl(run / "histograms.jsonl").size(), steps);
}

TEST(RpcCommand, ScenarioRunWritesRowsAndTimeSeries) {
  const TempDir tmp("dvs-rpc-scen");
  const std::string out = tmp.path().string();
  const Cmd c = run_cli(std::string("rpc --scenario ") + DVS_SCENARIOS_DIR + "/rpc-quick.toml --duration 0.5 --out " + out);
  ASSERT_EQ(c.status, 0) << c.out;
  const auto rows = read_jsonl(only_run_dir(out) / "runs.jsonl");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["status"], "ok");
  EXPECT_EQ(rows[0]["rpc"]["request_bytes"], 4096);
  EXPECT_EQ(rows[0]["rpc"]["verify_failures"], 0);
  EXPECT_EQ(rows[0]["rpc"]["request_payload_bytes"].get<uint64_t>(),
            rows[0]["rpc"]["completed"].get<uint64_t>() * 4096);
  EXPECT_GE(rows[0]["rpc"]["timeseries"].size(), 1u);
  EXPECT_EQ(rows[0]["duration_s"], 0.5);  // the command line won over the file's 1
}

TEST(RpcCommand, BadInputIsOneLineAndExit2) {
  const TempDir tmp("dvs-rpc-bad");
  const std::string dir = tmp.path().string();
  const std::string bad_toml = dir + "/bad.toml";
  std::ofstream(bad_toml) << "[rpc]\nclients = 2\nbogus_key = 3\n";
  for (const std::string& args : std::vector<std::string>{"rpc --loop sideways", "rpc --clients 0", "rpc --loop open --rate 0",
                                 "rpc --sweep", "rpc --service exp", "rpc --scenario " + bad_toml,
                                 "rpc --request-bytes 999999999999"}) {
    const Cmd c = run_cli(args + " --out " + dir);
    EXPECT_EQ(c.status, 2) << args << ": " << c.out;
    EXPECT_EQ(std::count(c.out.begin(), c.out.end(), '\n'), 1) << args << ": " << c.out;
  }
  EXPECT_NE(run_cli("rpc --scenario " + bad_toml).out.find("bogus_key"), std::string::npos);
}

}  // namespace
