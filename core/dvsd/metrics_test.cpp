// IPC metrics end to end on one real dvsd: client processes record into the shared stats area,
// dvsd's collector serves the sums; recording is off by default and switchable; the text passes
// `promtool check metrics`. Real dvsd, real forked processes, real HTTP.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <string>

#include "core/ipc/shm_table.hpp"
#include "core/ipc/slot_stats.hpp"
#include "core/libdvs/libdvs_internal.h"
#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"
#include "core/testkit/metrics_testing.hpp"

namespace {

using dvs::metrics::testing::free_port;
using dvs::metrics::testing::have;
using dvs::metrics::testing::http_get;
using dvs::metrics::testing::run;
using dvs::metrics::testing::sample;
using dvs::testing::DvsdOptions;
using dvs::testing::DvsdProcess;
using dvs::testing::Millis;
using dvs::testing::Pipe;
using dvs::testing::run_in_child;

constexpr int kServer = 5;
constexpr int kRounds = 1000;

std::string series(const std::string& name, const std::string& prim, const std::string& extra = "") {
  return name + "{dc=\"0\",node=\"0\",primitive=\"" + prim + "\",scope=\"local\"" + extra + "}";
}

// kRounds local sendrec round trips (client -> server slot 5), then 3 NOWAIT receives that fail
// with EDVSTIMEDOUT in the client.
void local_traffic(const std::string& sock) {
  Pipe ready;
  auto server = run_in_child("server", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(sock, 0, kServer));
    ready.send(1);
    for (int i = 0; i < kRounds; ++i) {
      dvs_message_t m{};
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
      CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
    }
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client", [&] {
    CHILD_CHECK(dvs::testing::open_and_bind(sock, 0, DVS_ANY) >= 0);
    for (int i = 0; i < kRounds; ++i) {
      dvs_message_t m = dvs::testing::make_msg(i, i);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kServer, &m, 5000));
    }
    dvs_message_t m{};
    for (int i = 0; i < 3; ++i) CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, DVS_TIMEOUT_NOWAIT));
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(Millis(30000)));
  EXPECT_TRUE(server.wait_ok(Millis(30000)));
}

TEST(MetricsBuckets, Log2BucketsCoverNanosecondsToSeconds) {
  using dvs::metrics::bucket_of;
  EXPECT_EQ(0, bucket_of(0));
  EXPECT_EQ(0, bucket_of(1));
  EXPECT_EQ(1, bucket_of(2));
  EXPECT_EQ(2, bucket_of(3));
  EXPECT_EQ(2, bucket_of(4));
  EXPECT_EQ(10, bucket_of(1024));
  EXPECT_EQ(11, bucket_of(1025));
  EXPECT_EQ(dvs::metrics::kNrBuckets - 1, bucket_of(uint64_t{1} << 40));
  // a latency lands in the bucket whose upper bound is the first >= it
  for (uint64_t ns : {5ull, 100ull, 999ull, 123456ull}) {
    int b = bucket_of(ns);
    EXPECT_LE(static_cast<double>(ns) * 1e-9, dvs::metrics::bucket_upper_s(b) * (1 + 1e-12));
    EXPECT_GT(static_cast<double>(ns) * 1e-9, dvs::metrics::bucket_upper_s(b - 1));
  }
}

TEST(Metrics, CallsErrorsBytesAndLatencyAreServedByDvsd) {
  const int port = free_port();
  DvsdOptions o;
  o.extra_args = {"--metrics-port", std::to_string(port), "--metrics-sample", "1"};
  DvsdProcess d(o);
  ASSERT_TRUE(d.start());
  local_traffic(d.socket_path());
  int rc = -1;
  const std::string text = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics", &rc);
  ASSERT_EQ(0, rc) << "no metrics on port " << port << "; dvsd stderr: " << d.stderr_output();
  EXPECT_EQ(kRounds, sample(text, series("dvs_ipc_calls_total", "sendrec")));
  EXPECT_EQ(kRounds + 3, sample(text, series("dvs_ipc_calls_total", "receive")));
  EXPECT_EQ(kRounds, sample(text, series("dvs_ipc_calls_total", "reply")));
  EXPECT_EQ(64.0 * kRounds, sample(text, series("dvs_ipc_bytes_total", "sendrec")));
  EXPECT_EQ(3, sample(text, series("dvs_ipc_errors_total", "receive", ",code=\"EDVSTIMEDOUT\"")));
  EXPECT_EQ(0, sample(text, "dvs_ipc_calls_total{dc=\"0\",node=\"0\",primitive=\"sendrec\",scope=\"remote\"}"));
  // --metrics-sample 1: every call is timed
  EXPECT_EQ(kRounds, sample(text, series("dvs_ipc_latency_seconds_count", "sendrec")));
  EXPECT_EQ(kRounds, sample(text, series("dvs_ipc_latency_seconds_bucket", "sendrec", ",le=\"+Inf\"")));
  EXPECT_GT(sample(text, series("dvs_ipc_latency_seconds_sum", "sendrec")), 0);
  EXPECT_EQ(1, sample(text, "dvs_metrics_recording{dc=\"0\",node=\"0\"}"));
  EXPECT_EQ(1, sample(text, "dvs_metrics_latency_sample_ratio{dc=\"0\",node=\"0\"}"));
  // the children exited: their slots were unbound, their counts stay (counters never go down)
  EXPECT_EQ(0, sample(text, "dvs_dc_endpoints{dc=\"0\",node=\"0\",kind=\"local\"}"));

  if (!have("promtool")) GTEST_SKIP() << "promtool missing (Debian package prometheus): text format not checked";
  const std::string file = d.temp_dir() + "/metrics.txt";
  std::ofstream(file) << text;
  int prc = -1;
  const std::string lint = run("promtool check metrics < " + file + " 2>&1", &prc);
  EXPECT_EQ(0, prc) << lint;
  EXPECT_EQ("", lint);
}

TEST(Metrics, RecordingIsOffByDefaultAndSwitchable) {
  // Without metrics options nothing is recorded (the benchmarks' default) ...
  {
    DvsdProcess d;
    ASSERT_TRUE(d.start());
    local_traffic(d.socket_path());
    auto reader = run_in_child("reader", [&] {
      CHILD_CHECK(dvs::testing::open_and_bind(d.socket_path(), 0, DVS_ANY) >= 0);
      dvs::core::DcTable t;
      CHILD_CHECK_EQ(0, t.map_fd(dup(dvs_internal_table_fd(0))));
      CHILD_CHECK_EQ(0u, t.header().metrics.load());
      for (const auto& w : t.stats_area().touched) CHILD_CHECK_EQ(0u, w.load());
      return 0;
    });
    EXPECT_TRUE(reader.wait_ok(Millis(10000)));
  }
  // ... and with --no-metrics-record the exporter serves zeros for the IPC calls.
  const int port = free_port();
  DvsdOptions o;
  o.extra_args = {"--metrics-port", std::to_string(port), "--no-metrics-record"};
  DvsdProcess d(o);
  ASSERT_TRUE(d.start());
  local_traffic(d.socket_path());
  const std::string text = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics");
  EXPECT_EQ(0, sample(text, series("dvs_ipc_calls_total", "sendrec")));
  EXPECT_EQ(0, sample(text, "dvs_metrics_recording{dc=\"0\",node=\"0\"}"));
  // DVS_METRICS_RECORD=1 (what `dvs rpc/web serve --metrics-port` sets for the nodes they start) records
  setenv("DVS_METRICS_RECORD", "1", 1);
  const int port2 = free_port();
  DvsdOptions o2;
  o2.extra_args = {"--metrics-port", std::to_string(port2)};
  DvsdProcess d2(o2);
  const bool started = static_cast<bool>(d2.start());
  unsetenv("DVS_METRICS_RECORD");
  ASSERT_TRUE(started);
  local_traffic(d2.socket_path());
  const std::string text2 = http_get("http://127.0.0.1:" + std::to_string(port2) + "/metrics");
  EXPECT_EQ(kRounds, sample(text2, series("dvs_ipc_calls_total", "sendrec")));
  // default sampling: one call in 64 is timed
  EXPECT_NEAR(kRounds / 64.0, sample(text2, series("dvs_ipc_latency_seconds_count", "sendrec")), 2);
}

TEST(Metrics, BadOptionsAreRefused) {
  for (auto args : std::vector<std::vector<std::string>>{{"--metrics-port", "notaport"},
                                                         {"--metrics-sample", "3"}}) {
    DvsdOptions o;
    o.extra_args = args;
    o.ready_timeout = Millis(3000);
    DvsdProcess d(o);
    EXPECT_FALSE(d.start()) << args[0];
  }
}

}  // namespace
