// Two dvsd nodes linked over rdma:// (a reliable connected QP on the lab's Soft-RoCE device rxe0,
// which both nodes use: with this kernel rxe works in the initial network namespace only). Only
// a machine with an RDMA device has that: `dvs lab run --rdma` (the ctest entry lab_rdma_remote
// runs this binary there); anywhere else every test skips with the transport's reason.
//
// Remote sendrec and vcopy (pull and push, data verified) across the link, a killed node failing
// a blocked caller through the transport (dvsd's own dead-link timer is 30 s), and dvs sendrec
// over rdma against the raw verbs ping-pong in the same run, with the rdma link alone and tcp
// for context: the ratios are printed (absolute figures under TCG mean nothing).
#include <gtest/gtest.h>

#include <sys/uio.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/testkit/dvsd_process.hpp"
#include "harness/lab/lab_bench.hpp"
#include "harness/lab/lab_nodes.hpp"
#include "transports/registry.hpp"
#include "transports/transport_testing.hpp"
#include "workloads/baselines/baseline.hpp"
#include "workloads/measure/placement.hpp"
#include "workloads/measure/two_process.hpp"
#include "workloads/remote/remote.hpp"

namespace {

using namespace dvs::testing;       // DvsdProcess, DvsdOptions, Millis
using namespace dvs::lab::testing;  // kTiming, sendrec_rounds, blocked_caller_fails_when
namespace remote = dvs::workloads::remote;

constexpr int kRounds = 300;

struct RdmaNodes : ::testing::Test {
  std::unique_ptr<DvsdProcess> n0, n1;
  void SetUp() override {
    dvs::transport::register_builtin_transports();
    DVS_SKIP_UNLESS_AVAILABLE(dvs::transport::find_transport("rdma"));
    // No host: node 1 listens on the RDMA device's address (and reports it), any port.
    ASSERT_TRUE(start_nodes("rdma://:0", "", "", "", &n0, &n1));
    ASSERT_EQ(n1->listen_uri().rfind("rdma://", 0), 0u) << n1->listen_uri();
  }
  remote::RemoteConfig config(uint64_t iterations) const {
    remote::RemoteConfig c;
    c.client_socket = n0->socket_path();
    c.server_socket = n1->socket_path();
    c.server_node = 1;
    c.loop.warmup = 20;
    c.loop.iterations = iterations;
    c.cpus = dvs::measure::choose_cpus(dvs::measure::Placement::None);
    c.timeout_ms = 60'000;
    return c;
  }
};

// 64-byte frames ping-ponged over one rdma link between two processes, with the baselines' loop
// and clock: the transport's cost over raw verbs, without dvsd in the path. The listener stays in
// this process until both children are done (closing it would shut the socket they share).
dvs::measure::TwoProcessOutcome link_pingpong(dvs::transport::Transport* t, const dvs::baselines::BaselineConfig& b) {
  int err = 0;
  auto l = t->listen("rdma://:0", &err);
  if (!l) {
    dvs::measure::TwoProcessOutcome o;
    o.result = std::make_unique<dvs::measure::LoopResult>();
    o.error = std::string("listen: ") + dvs_errname(err);
    return o;
  }
  const std::string uri = l->uri();
  auto echo = [&](dvs::measure::ChildCtx& ctx) -> int {
    int aerr = 0;
    auto k = l->accept(10000, &aerr);
    if (!k) return ctx.fail("accept: %s", dvs_errname(aerr));
    for (;;) {
      std::span<const std::byte> f;
      const long n = k->recv(&f, 10000);
      if (n < 0) return ctx.fail("echo recv: %s", dvs_errname(int(n)));
      iovec v{const_cast<std::byte*>(f.data()), f.size()};
      const bool stop = f[0] == std::byte{'S'};
      if (int rc = k->send(std::span<const iovec>(&v, 1)); rc < 0) return ctx.fail("echo send: %s", dvs_errname(rc));
      if (stop) return 0;
    }
  };
  auto client = [&](dvs::measure::ChildCtx& ctx, dvs::measure::LoopResult& res) -> int {
    int derr = 0;
    auto k = t->dial(uri, 10000, &derr);
    if (!k) return ctx.fail("dial: %s", dvs_errname(derr));
    std::byte m[dvs::baselines::kMsgBytes] = {std::byte{'P'}};
    iovec v{m, sizeof m};
    auto round_trip = [&]() -> int {
      if (int rc = k->send(std::span<const iovec>(&v, 1)); rc < 0) return rc;
      std::span<const std::byte> f;
      const long n = k->recv(&f, 10000);
      return n < 0 ? int(n) : 0;
    };
    res.bytes_per_op = sizeof m;
    dvs::measure::run_timed_loop(round_trip, b.loop, res);
    if (res.error < 0) return ctx.fail("client: %s", dvs_errname(res.error));
    m[0] = std::byte{'S'};
    return round_trip() < 0 ? ctx.fail("client: stop exchange failed") : 0;
  };
  return dvs::measure::run_two_process(b.cpus, echo, client, b.timeout_ms);
}

TEST_F(RdmaNodes, SendrecAcrossTheLink) { sendrec_rounds(n0->socket_path(), n1->socket_path(), kRounds); }

// 1 MiB copies both ways: each is cut into frames of dvsd's copy chunk (512 KiB), each frame into
// the transport's slot-sized chunks; the workload checks every byte after its loop.
TEST_F(RdmaNodes, VcopyPullAndPush) {
  for (auto loop : {remote::RemoteLoop::VcopyPull, remote::RemoteLoop::VcopyPush}) {
    auto c = config(10);
    c.loop.warmup = 2;
    c.vcopy_bytes = size_t{1} << 20;
    auto o = remote::run_remote(loop, c);
    EXPECT_TRUE(o.ok) << remote::loop_id(loop) << ": " << o.error;
    EXPECT_EQ(o.result->iterations, 10u) << remote::loop_id(loop);
  }
}

TEST_F(RdmaNodes, KilledNodeFailsABlockedCaller) {
  blocked_caller_fails_when(n0->socket_path(), n1->socket_path(), [&] { n1->kill9(); });
}

// dvs sendrec across the two nodes vs the raw verbs ping-pong on the same device, in one run;
// and, for context, the rdma link alone (link_pingpong, two processes, no dvsd) vs raw verbs and
// dvs over tcp (a second pair of nodes on loopback) vs a raw TCP ping-pong. Everything waits the
// same way (no spinning: the rdma side sleeps on completion channels, the tcp side in recv).
// And dvs vcopy of 1 MiB over rdma (chunked SENDs: the transport does not use RDMA WRITE yet) vs
// raw RDMA WRITE throughput of 1 MiB blocks.
// Two placements: unpinned, and one CPU per emulated node (node 0's dvsd and the client on cpu0,
// node 1's dvsd and the server on cpu1; the raw ends on the same CPUs). Repetitions interleaved.
// Reported, not asserted: under TCG the ratios are a property of the emulator as much as of dvs.
TEST_F(RdmaNodes, SendrecVsRawVerbs) {
  using dvs::measure::Placement;
  constexpr uint64_t kIters = 600, kBlocks = 16;
  constexpr int kReps = 3;
  for (Placement placement : {Placement::None, Placement::Cross}) {
    const auto cpus = dvs::measure::choose_cpus(placement);
    std::vector<std::string> pin0, pin1;
    if (placement == Placement::Cross) {
      pin0 = {"--cpus", std::to_string(cpus.client_cpu)};
      pin1 = {"--cpus", std::to_string(cpus.server_cpu)};
      n0.reset();
      n1.reset();
      ASSERT_TRUE(start_nodes("rdma://:0", "", "", "", &n0, &n1, pin0, pin1));
    }
    std::unique_ptr<DvsdProcess> t0, t1;
    ASSERT_TRUE(start_nodes("tcp://127.0.0.1:0", "", "", "", &t0, &t1, pin0, pin1));
    dvs::baselines::BaselineConfig b;
    b.loop.warmup = 20;
    b.loop.iterations = kIters;
    b.cpus = cpus;
    auto dvs_over = [&](const DvsdProcess& c0, const DvsdProcess& c1) {
      auto c = config(kIters);
      c.client_socket = c0.socket_path();
      c.server_socket = c1.socket_path();
      c.cpus = cpus;
      return remote::run_remote(remote::RemoteLoop::SendrecReply, c);
    };
    auto* rdma = dvs::transport::find_transport("rdma");
    std::vector<Versus> cases = {
        {"dvs sendrec 64 B", "raw verbs (rxe0)", [&] { return dvs::baselines::rdma_pingpong(b); },
         [&] { return dvs_over(*n0, *n1); }, false},
        {"rdma link 64 B", "raw verbs (rxe0)", [&] { return dvs::baselines::rdma_pingpong(b); },
         [&] { return link_pingpong(rdma, b); }, false},
        {"dvs sendrec over tcp", "raw TCP (loopback)", [&] { return dvs::baselines::tcp_pingpong(b); },
         [&] { return dvs_over(*t0, *t1); }, false},
        {"dvs vcopy pull 1 MiB", "raw RDMA WRITE 1 MiB",
         [&] {
           auto w = b;
           w.loop.iterations = kBlocks;
           w.block_bytes = size_t{1} << 20;
           return dvs::baselines::rdma_write_stream(w);
         },
         [&] {
           auto c = config(kBlocks);
           c.cpus = cpus;
           return remote::run_remote(remote::RemoteLoop::VcopyPull, c);
         },
         true},
    };
    auto results = run_versus("remote sendrec vs raw ping-pong, endpoints block, " + cpus.describe(), cases, kReps);
    const std::string prefix = placement == Placement::Cross ? "pinned_" : "";
    const char* names[] = {"ratio_rdma", "ratio_rdma_link", "ratio_tcp", "ratio_vcopy_rdma_write"};
    for (size_t i = 0; i < results.size(); ++i) {
      EXPECT_TRUE(results[i].error.empty()) << cases[i].what << ": " << results[i].error;
      RecordProperty(prefix + names[i], std::to_string(results[i].ratio));
    }
  }
}

}  // namespace
