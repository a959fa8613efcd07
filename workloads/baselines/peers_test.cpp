// The peer libraries' ping-pongs (NNG req0/rep0, ZeroMQ REQ/REP) run end to end over ipc:// and
// tcp:// and yield sane samples; a server that never answers fails the client within its receive
// bound with the reason, not a hang. Not a performance test: only positivity and counts.
#include "workloads/baselines/peer_pingpong.hpp"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <zmq.h>

#include <gtest/gtest.h>

namespace dvs::baselines {
namespace {

BaselineConfig small(uint64_t iters) {
  BaselineConfig c;
  c.loop.warmup = 10;
  c.loop.iterations = iters;
  c.cpus = measure::choose_cpus(measure::Placement::Cross);
  c.timeout_ms = 30'000;
  return c;
}

void expect_good(const measure::TwoProcessOutcome& o, uint64_t iters, size_t msg_bytes) {
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.result->iterations, iters);
  EXPECT_FALSE(o.result->truncated);
  EXPECT_GT(o.result->samples.percentile(50), 0u);
  EXPECT_GT(o.result->elapsed_ns, 0u);
  EXPECT_EQ(o.result->bytes_per_op, msg_bytes);
}

TEST(Peers, NngIpc) { expect_good(nng_pingpong(small(500), PeerTransport::Ipc), 500, kMsgBytes); }
TEST(Peers, NngTcp) { expect_good(nng_pingpong(small(500), PeerTransport::Tcp), 500, kMsgBytes); }
TEST(Peers, ZmqIpc) { expect_good(zmq_pingpong(small(500), PeerTransport::Ipc), 500, kMsgBytes); }
TEST(Peers, ZmqTcp) { expect_good(zmq_pingpong(small(500), PeerTransport::Tcp), 500, kMsgBytes); }

TEST(Peers, MessageSizeIsAParameter) {
  auto c = small(100);
  c.msg_bytes = 4096;
  expect_good(nng_pingpong(c, PeerTransport::Tcp), 100, 4096);
  expect_good(zmq_pingpong(c, PeerTransport::Ipc), 100, 4096);
}

TEST(Peers, ServerThatCannotListenFailsCleanly) {
  auto c = small(10);
  c.tcp_host = "not-an-address";
  for (auto* fn : {nng_pingpong, zmq_pingpong}) {
    const auto o = fn(c, PeerTransport::Tcp);
    EXPECT_FALSE(o.ok);
    EXPECT_NE(o.error.find(" server: "), std::string::npos) << o.error;  // the library's refusal
    EXPECT_NE(o.error.find("before publishing its address"), std::string::npos) << o.error;
  }
}

// Servers that take the first request and never answer it: each waits (in its library's
// receive, for a request that cannot come) twice the client's bound, then leaves.
int silent_nng_server(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                      const std::function<bool(const std::string&)>& published) {
  nng_socket s;
  if (nng_rep0_open(&s) != 0) return ctx.fail("rep0_open");
  nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 2 * cfg.recv_timeout_ms);
  if (nng_listen(s, url.c_str(), nullptr, 0) != 0 || !published(url)) return ctx.fail("listen");
  char buf[kMsgBytes];
  size_t n = sizeof buf;
  nng_recv(s, buf, &n, 0);  // the request, left unanswered
  n = sizeof buf;
  nng_recv(s, buf, &n, 0);
  nng_close(s);
  return 0;
}

int silent_zmq_server(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                      const std::function<bool(const std::string&)>& published) {
  void* z = zmq_ctx_new();
  void* s = zmq_socket(z, ZMQ_REP);
  const int wait_ms = 2 * cfg.recv_timeout_ms, linger = 0;
  zmq_setsockopt(s, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_bind(s, url.c_str()) != 0 || !published(url)) return ctx.fail("bind");
  char buf[kMsgBytes];
  zmq_recv(s, buf, sizeof buf, 0);  // the request, left unanswered
  zmq_poll(nullptr, 0, wait_ms);
  zmq_close(s);
  zmq_ctx_term(z);
  return 0;
}

void expect_bounded_failure(const PeerLibrary& lib, const char* reason) {
  auto c = small(100);
  c.recv_timeout_ms = 300;
  const auto t0 = measure::now_ns();
  const auto o = peer_pingpong(c, PeerTransport::Ipc, lib);
  const auto took_ms = (measure::now_ns() - t0) / 1'000'000;
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find(std::string(lib.name) + " client recv: " + reason), std::string::npos) << o.error;
  EXPECT_EQ(o.error.find("timed out after"), std::string::npos) << "the runner's bound, not the receive's: " << o.error;
  EXPECT_LT(took_ms, uint64_t(c.timeout_ms)) << o.error;
}

TEST(Peers, NngSilentServerFailsWithinTheReceiveBound) {
  expect_bounded_failure(PeerLibrary{"nng", silent_nng_server, nng_ping_client},
                         "no message within 300 ms (NNG_OPT_RECVTIMEO)");
}

TEST(Peers, ZmqSilentServerFailsWithinTheReceiveBound) {
  expect_bounded_failure(PeerLibrary{"zmq", silent_zmq_server, zmq_ping_client},
                         "no message within 300 ms (ZMQ_RCVTIMEO)");
}

}  // namespace
}  // namespace dvs::baselines
