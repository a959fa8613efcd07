// Helpers of the lab's multi-node tests: see lab_nodes.hpp.
#include "harness/lab/lab_nodes.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/caller_state.hpp"
#include "core/testkit/test_message.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace dvs::lab::testing {

using namespace dvs::testing;  // DvsdProcess, run_in_child, Pipe, CHILD_CHECK helpers

::testing::AssertionResult start_in(const std::string& ns, DvsdProcess* d) {
  if (ns.empty()) return d->start();
  const int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int there = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (home < 0 || there < 0 || setns(there, CLONE_NEWNET) != 0)
    return ::testing::AssertionFailure() << "cannot enter network namespace " << ns << ": " << strerror(errno);
  auto started = d->start();
  const bool back = setns(home, CLONE_NEWNET) == 0;
  close(there);
  close(home);
  if (!back) return ::testing::AssertionFailure() << "cannot return to this thread's network namespace";
  return started;
}

::testing::AssertionResult start_nodes(const std::string& listen_uri, const std::string& dial_suffix,
                                       const std::string& ns0, const std::string& ns1,
                                       std::unique_ptr<DvsdProcess>* n0, std::unique_ptr<DvsdProcess>* n1,
                                       const std::vector<std::string>& extra0, const std::vector<std::string>& extra1) {
  DvsdOptions o1;
  o1.node = 1;
  o1.extra_args = {"--listen", listen_uri, "--peer", "0"};
  o1.extra_args.insert(o1.extra_args.end(), kTiming.begin(), kTiming.end());
  o1.extra_args.insert(o1.extra_args.end(), extra1.begin(), extra1.end());
  *n1 = std::make_unique<DvsdProcess>(o1);
  if (auto r = start_in(ns1, n1->get()); !r) return r;
  const std::string uri = (*n1)->listen_uri();
  if (uri.empty()) return ::testing::AssertionFailure() << "node 1 reported no listen URI";
  DvsdOptions o0;
  o0.node = 0;
  o0.extra_args = {"--peer", "1=" + uri + dial_suffix};
  o0.extra_args.insert(o0.extra_args.end(), kTiming.begin(), kTiming.end());
  o0.extra_args.insert(o0.extra_args.end(), extra0.begin(), extra0.end());
  *n0 = std::make_unique<DvsdProcess>(o0);
  return start_in(ns0, n0->get());
}

int client_ready(const std::string& sock) {
  int me = open_and_bind(sock, 0, DVS_ANY);
  if (me < 0) return me;
  if (int rc = dvs_rmtbind(0, kServer, 1); rc != 0) return rc;
  for (int i = 0; i < 500; ++i) {
    int rc = dvs_notify(kServer);
    if (rc != EDVSNOTCONN) return rc < 0 ? rc : me;
    usleep(20'000);
  }
  return EDVSNOTCONN;
}

int serve(const std::string& sock, int answers, Pipe* bound, Pipe* took) {
  CHILD_CHECK_EQ(kServer, open_and_bind(sock, 0, kServer));
  bound->send(1);
  dvs_message_t m{};
  CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 15000));  // the client's probe notify
  for (int i = 0; i < answers; ++i) {
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK(payload_ok(m, i));
    m.m_type += 1;
    CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 10000));
  }
  if (!took) return 0;
  CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 15000));
  took->send(1);
  pause();
  return 0;
}

void sendrec_rounds(const std::string& s0, const std::string& s1, int rounds) {
  Pipe bound;
  auto server = run_in_child("server@1", [&] { return serve(s1, rounds, &bound, nullptr); });
  ASSERT_TRUE(bound.recv(Millis(15000)).has_value()) << "the server did not bind within 15 s";
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK_OK(client_ready(s0));
    for (int i = 0; i < rounds; ++i) {
      dvs_message_t m = make_msg(100 + i, i);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kServer, &m, 10000));
      CHILD_CHECK_EQ(101 + i, m.m_type);
      CHILD_CHECK_EQ(kServer, m.m_source);
    }
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(Millis(60000)));
  EXPECT_TRUE(server.wait_ok(Millis(60000)));
}

void blocked_caller_fails_when(const std::string& s0, const std::string& s1, const std::function<void()>& cut) {
  Pipe took, bound;
  auto server = run_in_child("server@1", [&] { return serve(s1, 0, &bound, &took); });
  ASSERT_TRUE(bound.recv(Millis(15000)).has_value()) << "the server did not bind within 15 s";
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK_OK(client_ready(s0));
    dvs_message_t m = make_msg(1);
    auto t0 = std::chrono::steady_clock::now();
    CHILD_CHECK_EQ(EDVSNOTCONN, dvs_sendrec_T(kServer, &m, 60000));
    CHILD_CHECK(ms_since(t0) < kDetectMs);
    return 0;
  });
  ASSERT_TRUE(took.recv(Millis(30000)).has_value());
  cut();
  EXPECT_TRUE(client.wait_ok(Millis(30000)));
  server.kill9();
}

}  // namespace dvs::lab::testing
