// The transport conformance suite: fixture and helpers shared by its test files.
// Every test is a TEST_P instantiated once per registered transport scheme (after
// register_builtin_transports()); a transport whose probe() says unavailable is skipped with
// the reason (unless it is named in $DVS_REQUIRE_TRANSPORTS, a comma list: then it fails, so a
// lab run cannot pass by skipping). Run one transport:
//   dvs_transport_conformance_test --gtest_filter='*/tcp'
//
// Rules: every wait is bounded (timeouts on recv/accept/dial, run_bounded() for threads,
// ForkedChild::wait for processes); no sleep is used to order events.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/testkit/dvsd_process.hpp"  // EXPECT_RC / ASSERT_RC, ForkedChild, Pipe, poll_until
#include "dvs/errors.h"
#include "transports/registry.hpp"
#include "transports/transport.hpp"

namespace dvs::transport::conformance {

using Millis = std::chrono::milliseconds;

// Schemes of all registered transports (registers the built-in ones first).
std::vector<std::string> registered_schemes();

// "EDVSNOTCONN(-64)" for a negative code, the number otherwise.
std::string rc_name(long rc);

// A deterministic byte pattern for frame number seq: different seqs give different bytes.
void fill_pattern(uint64_t seq, std::span<std::byte> out);
bool check_pattern(uint64_t seq, std::span<const std::byte> in);

// Sends one contiguous buffer as a frame.
int send_bytes(Link& l, std::span<const std::byte> bytes);

// Runs each fn on its own thread. If they have not all returned within limit, calls
// on_timeout() (which must unblock them, e.g. close the links they use), waits for them again
// and reports a failure. Always joins every thread before returning.
::testing::AssertionResult run_bounded(std::vector<std::function<void()>> fns, Millis limit,
                                       const std::function<void()>& on_timeout);

// The scheduler state letter of thread tid of process pid ('S' = sleeping in a syscall,
// 'R' = running, ...), or '?' if it cannot be read. Used to know a thread is really blocked.
char thread_state(pid_t pid, pid_t tid);

struct LinkPair {
  std::unique_ptr<Link> dialer;    // the side that called dial()
  std::unique_ptr<Link> acceptor;  // the side accept() returned
};

class ConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;

  // A new listener on listen_uri_for(scheme). Use as ASSERT_TRUE(listen(&l)).
  ::testing::AssertionResult listen(std::unique_ptr<Listener>* out);
  // Dials l from a helper thread while this thread accepts (works whether or not the
  // transport's dial waits for accept). Use as ASSERT_TRUE(connect(*l, &pair)).
  ::testing::AssertionResult connect(Listener& l, LinkPair* out);
  // listen() + connect().
  ::testing::AssertionResult make_pair(std::unique_ptr<Listener>* l, LinkPair* out);

  Transport* t_ = nullptr;
  Capabilities caps_;
};

}  // namespace dvs::transport::conformance

// Instantiates a suite (a subclass of ConformanceTest) for every registered scheme; test names
// end in "/<scheme>".
#define DVS_CONFORMANCE_SUITE(Suite)                                                         \
  class Suite : public ::dvs::transport::conformance::ConformanceTest {};                    \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Suite);                                      \
  INSTANTIATE_TEST_SUITE_P(                                                                  \
      Transports, Suite, ::testing::ValuesIn(::dvs::transport::conformance::registered_schemes()), \
      [](const ::testing::TestParamInfo<std::string>& i) { return i.param; })
