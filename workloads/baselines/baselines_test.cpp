// Each raw baseline runs end to end (two processes, small counts) and yields sane samples.
// Not a performance test: only positivity and counts are checked.
#include "workloads/baselines/baseline.hpp"

#include <gtest/gtest.h>

namespace dvs::baselines {
namespace {

BaselineConfig small(measure::Placement p, uint64_t iters) {
  BaselineConfig c;
  c.loop.warmup = 10;
  c.loop.iterations = iters;
  c.cpus = measure::choose_cpus(p);
  c.timeout_ms = 30'000;
  return c;
}

void expect_good(const measure::TwoProcessOutcome& o, uint64_t iters) {
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.result->iterations, iters);
  EXPECT_FALSE(o.result->truncated);
  EXPECT_GT(o.result->samples.percentile(50), 0u);
  EXPECT_GT(o.result->elapsed_ns, 0u);
}

TEST(Baselines, ShmSpinCrossCore) {
  if (measure::allowed_cpus().size() < 2) GTEST_SKIP() << "needs two CPUs (spinning on one is the scheduler's timeslice)";
  expect_good(shm_pingpong(small(measure::Placement::Cross, 2000), ShmWait::Spin), 2000);
}

TEST(Baselines, ShmSpinThenFutex) {
  expect_good(shm_pingpong(small(measure::Placement::Cross, 2000), ShmWait::SpinThenFutex), 2000);
}

TEST(Baselines, ShmFutexSameCore) {
  expect_good(shm_pingpong(small(measure::Placement::Same, 500), ShmWait::Futex), 500);
}

TEST(Baselines, Pipe) { expect_good(pipe_pingpong(small(measure::Placement::Cross, 500)), 500); }

TEST(Baselines, UnixSocket) {
  expect_good(unix_pingpong(small(measure::Placement::None, 500)), 500);
}

TEST(Baselines, PipeStream) {
  auto c = small(measure::Placement::Cross, 200);
  c.block_bytes = 65536;
  auto o = pipe_stream(c);
  expect_good(o, 200);
  EXPECT_EQ(o.result->bytes_per_op, 65536u);
}

TEST(Baselines, TcpLoopback) {
  expect_good(tcp_pingpong(small(measure::Placement::Cross, 500)), 500);
}

TEST(Baselines, TcpStreamOneMiB) {
  auto c = small(measure::Placement::Cross, 50);
  c.block_bytes = 1 << 20;
  auto o = tcp_stream(c);
  expect_good(o, 50);
  EXPECT_EQ(o.result->bytes_per_op, size_t{1} << 20);
}

TEST(Baselines, TcpBadAddressFailsCleanly) {
  auto c = small(measure::Placement::None, 10);
  c.tcp_host = "not-an-address";
  auto o = tcp_pingpong(c);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find("IPv4"), std::string::npos) << o.error;
}

TEST(Baselines, Tipc) {
  auto o = tipc_pingpong(small(measure::Placement::Cross, 500));
  if (!o.ok && o.error.find("EAFNOSUPPORT") != std::string::npos) GTEST_SKIP() << o.error << " (run it in dvs lab)";
  expect_good(o, 500);
}

TEST(Baselines, RdmaVerbs) {
  auto o = rdma_pingpong(small(measure::Placement::Cross, 500));
  if (!o.ok && o.error.find("no RDMA device") != std::string::npos) GTEST_SKIP() << o.error;
  expect_good(o, 500);
}

TEST(Baselines, TipcStream) {
  auto c = small(measure::Placement::Cross, 100);
  c.block_bytes = 65536;
  auto o = tipc_stream(c);
  if (!o.ok && o.error.find("EAFNOSUPPORT") != std::string::npos) GTEST_SKIP() << o.error << " (run it in dvs lab)";
  expect_good(o, 100);
  EXPECT_EQ(o.result->bytes_per_op, 65536u);
}

TEST(Baselines, RdmaWriteStream) {
  auto c = small(measure::Placement::Cross, 100);
  c.block_bytes = 65536;
  auto o = rdma_write_stream(c);
  if (!o.ok && o.error.find("no RDMA device") != std::string::npos) GTEST_SKIP() << o.error;
  expect_good(o, 100);
  EXPECT_EQ(o.result->bytes_per_op, 65536u);
}

TEST(Baselines, Fifo) { expect_good(fifo_pingpong(small(measure::Placement::Cross, 500)), 500); }

TEST(Baselines, FifoSameCore) {
  expect_good(fifo_pingpong(small(measure::Placement::Same, 500)), 500);
}

TEST(Baselines, FifoStream) {
  auto c = small(measure::Placement::Cross, 200);
  c.block_bytes = 4096;
  auto o = fifo_stream(c);
  expect_good(o, 200);
  EXPECT_EQ(o.result->bytes_per_op, 4096u);
}

TEST(Baselines, SysvMq) {
  expect_good(sysv_mq_pingpong(small(measure::Placement::Cross, 500)), 500);
}

TEST(Baselines, SysvMqStream) {
  auto c = small(measure::Placement::Cross, 200);
  c.block_bytes = 2048;
  auto o = sysv_mq_stream(c);
  expect_good(o, 200);
  EXPECT_EQ(o.result->bytes_per_op, 2048u);
}

TEST(Baselines, SysvMqStreamTooLargeFailsCleanly) {
  auto c = small(measure::Placement::None, 10);
  c.block_bytes = size_t{1} << 30;
  auto o = sysv_mq_stream(c);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find("msgmax"), std::string::npos) << o.error;
}

TEST(Baselines, PosixMq) {
  expect_good(posix_mq_pingpong(small(measure::Placement::Cross, 500)), 500);
}

TEST(Baselines, TimeBudgetTruncates) {
  auto c = small(measure::Placement::Same, 1'000'000'000);
  c.loop.budget_ns = 50'000'000;  // 50 ms
  auto o = pipe_pingpong(c);
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_TRUE(o.result->truncated);
  EXPECT_GT(o.result->iterations, 0u);
}

}  // namespace
}  // namespace dvs::baselines
