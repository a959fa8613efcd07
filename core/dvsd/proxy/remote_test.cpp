// Remote IPC between two real dvsd nodes linked over tcp on loopback (and shm; tipc and rdma
// where the machine has them — the lab runs `--gtest_filter=*/tipc` and `*/rdma` in its VM):
// every message primitive across nodes, the end-to-end acknowledgement of send, auto-binding of
// remote clients, errors coming back from the remote node, and a dead node failing blocked callers.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"
#include "transports/registry.hpp"
#include "transports/transport_testing.hpp"

namespace {
using dvs::testing::DvsdOptions;
using dvs::testing::DvsdProcess;
using dvs::testing::Millis;
using dvs::testing::Pipe;
using dvs::testing::run_in_child;

constexpr int kServer = 5;  // a system slot: its endpoint is 5 on every node

bool is_direct(const std::string& param) { return param.size() > 7 && param.ends_with("_direct"); }
// The transport of a parameter ("tcp_direct" -> "tcp").
std::string transport_of(const std::string& param) {
  return is_direct(param) ? param.substr(0, param.size() - 7) : param;
}

// A listen URI of the given transport that no other test uses.
std::string listen_uri_for(const std::string& param) {
  static int n = 0;
  const std::string tr = transport_of(param);
  if (tr == "shm") return "shm://dvs-remote-test-" + std::to_string(getpid()) + "-" + std::to_string(n++);
  if (tr == "tipc") return "tipc://18900:0";  // this TIPC node; an instance of its own
  if (tr == "rdma") return "rdma://:0";       // the first RDMA device's address
  return "tcp://127.0.0.1:0";
}

// The transports a machine may lack run with slower timing: the lab runs them under emulation.
bool lab_transport(const std::string& param) {
  const std::string t = transport_of(param);
  return t == "tipc" || t == "rdma";
}

// Two nodes linked over the transport named by the test parameter ("tcp_polling": tcp with
// proxies that poll after traffic, dvsd --poll-us; "X_direct": transport X with the direct remote
// path, dvsd --remote-path direct, where both nodes listen and know each other's URI).
struct TwoNodes : ::testing::TestWithParam<std::string> {
  std::unique_ptr<DvsdProcess> n0, n1;
  void SetUp() override {
    if (lab_transport(GetParam())) {
      dvs::transport::register_builtin_transports();
      DVS_SKIP_UNLESS_AVAILABLE(dvs::transport::find_transport(transport_of(GetParam())));
    }
    const std::string heartbeat = lab_transport(GetParam()) ? "200" : "100";
    const std::string dead = lab_transport(GetParam()) ? "5000" : "1000";
    const bool direct = is_direct(GetParam());
    DvsdOptions o1;
    o1.node = 1;
    o1.extra_args = {"--listen", listen_uri_for(GetParam()), "--peer", "0", "--heartbeat-ms", heartbeat, "--dead-ms", dead};
    if (direct) o1.extra_args.insert(o1.extra_args.end(), {"--remote-path", "direct"});
    if (GetParam() == "tcp_polling") o1.extra_args.insert(o1.extra_args.end(), {"--poll-us", "100"});
    n1 = std::make_unique<DvsdProcess>(o1);
    ASSERT_TRUE(n1->start());
    ASSERT_FALSE(n1->listen_uri().empty());
    DvsdOptions o0;
    o0.node = 0;
    o0.extra_args = {"--peer", "1=" + n1->listen_uri(), "--heartbeat-ms", heartbeat, "--dead-ms", dead};
    if (direct) o0.extra_args.insert(o0.extra_args.end(), {"--listen", listen_uri_for(GetParam()), "--remote-path", "direct"});
    if (GetParam() == "tcp_polling") o0.extra_args.insert(o0.extra_args.end(), {"--poll-us", "100"});
    n0 = std::make_unique<DvsdProcess>(o0);
    ASSERT_TRUE(n0->start());
  }
};

// In a child bound on node 0: rmtbind the server and wait (bounded) until the link is up.
int connect_to_server(const std::string& sock) {
  int ep = dvs::testing::open_and_bind(sock, 0, DVS_ANY);
  if (ep < 0) return ep;
  if (int rc = dvs_rmtbind(0, kServer, 1); rc != 0) return rc;
  return ep;
}

// Sends a probe notify until the link is up (EDVSNOTCONN while it comes up).
bool wait_link(int dst) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    int rc = dvs_notify(dst);
    if (rc == 0) return true;
    if (rc != EDVSNOTCONN) return false;
    usleep(20'000);
  }
  return false;
}

TEST_P(TwoNodes, SendrecAcrossNodesCarriesPayloadAndSource) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe ready;
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // the link probe (a notify)
    CHILD_CHECK(DVS_IS_NOTIFY(m.m_type));
    for (int i = 0; i < 200; ++i) {
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
      CHILD_CHECK(dvs::testing::payload_ok(m, i));
      m.m_type += 1000;
      CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
    }
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    int me = connect_to_server(s0);
    CHILD_CHECK(me >= 0);
    CHILD_CHECK(wait_link(kServer));
    for (int i = 0; i < 200; ++i) {
      dvs_message_t m = dvs::testing::make_msg(i, i);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kServer, &m, 5000));
      CHILD_CHECK_EQ(i + 1000, m.m_type);
      CHILD_CHECK_EQ(kServer, m.m_source);
      CHILD_CHECK(dvs::testing::payload_ok(m, i));
    }
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(Millis(30000)));
  EXPECT_TRUE(server.wait_ok(Millis(30000)));
}

TEST_P(TwoNodes, RemoteSendReturnsOnlyAfterDelivery) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe ready, client_p_nr, blocked, taking, sent;
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // probe
    CHILD_CHECK(blocked.recv(Millis(10000)).has_value());   // the sender is blocked in its send
    taking.send(1);
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(77, m.m_type);
    return 0;
  });
  // Watches the client's slot on node 0 (on the direct path the message waits unread in the
  // server's link until it receives, so node 1 need not show it).
  auto watcher = run_in_child("watcher@0", [&] {
    CHILD_CHECK_EQ(0, dvs_open(s0.c_str()));
    const auto p_nr = client_p_nr.recv();
    CHILD_CHECK(p_nr.has_value());
    // SENDING; its p_sendto names the proxy slot of node 1, not the server.
    CHILD_CHECK_EQ(0, dvs::testing::wait_sending(0, static_cast<int>(*p_nr), DVS_NONE, Millis(10000)));
    CHILD_CHECK(!sent.readable());  // the sender must still be blocked
    blocked.send(1);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    const int me = connect_to_server(s0);
    CHILD_CHECK(me >= 0);
    CHILD_CHECK(wait_link(kServer));
    client_p_nr.send(DVS_ENDPOINT_P(me));
    dvs_message_t m = dvs::testing::make_msg(77);
    CHILD_CHECK_EQ(0, dvs_send_T(kServer, &m, 10000));
    sent.send(1);
    CHILD_CHECK(taking.readable());  // returned only once the server went to take the message
    return 0;
  });
  EXPECT_TRUE(server.wait_ok(Millis(20000)));
  EXPECT_TRUE(client.wait_ok(Millis(20000)));
  EXPECT_TRUE(watcher.wait_ok(Millis(20000)));
}

TEST_P(TwoNodes, NotifyAndServerInitiatedSendReachAnAutoBoundClient) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe ready, client_ep;
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // probe notify from the client
    CHILD_CHECK(DVS_IS_NOTIFY(m.m_type));
    auto cep = client_ep.recv();
    CHILD_CHECK(cep.has_value());
    CHILD_CHECK_EQ(static_cast<int>(*cep), m.m_source);  // notify names its remote source
    CHILD_CHECK_EQ(DVS_NOTIFY_FROM(DVS_ENDPOINT_P(static_cast<int>(*cep))), m.m_type);
    // The client was bound here automatically: the server can now address it.
    dvs_message_t out = dvs::testing::make_msg(5, 9);
    CHILD_CHECK_EQ(0, dvs_send_T(m.m_source, &out, 5000));
    CHILD_CHECK_EQ(0, dvs_notify(m.m_source));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    int me = connect_to_server(s0);
    CHILD_CHECK(me >= 0);
    CHILD_CHECK(wait_link(kServer));
    client_ep.send(me);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(kServer, &m, 5000));
    CHILD_CHECK_EQ(5, m.m_type);
    CHILD_CHECK(dvs::testing::payload_ok(m, 9));
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(DVS_NOTIFY_FROM(kServer), m.m_type);
    CHILD_CHECK_EQ(kServer, m.m_source);
    return 0;
  });
  EXPECT_TRUE(server.wait_ok(Millis(20000)));
  EXPECT_TRUE(client.wait_ok(Millis(20000)));
}

TEST_P(TwoNodes, ErrorsOfTheRemoteNodeComeBack) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe ready;
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // probe
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // the sendrec it never answers
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // the final "done"
    CHILD_CHECK_EQ(88, m.m_type);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK(connect_to_server(s0) >= 0);
    CHILD_CHECK(wait_link(kServer));
    // Slot 7 is declared remote here but nobody is bound to it on node 1.
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, 7, 1));
    dvs_message_t m{};
    int rc = dvs_sendrec_T(7, &m, 5000);
    CHILD_CHECK(rc < 0 && rc != EDVSTIMEDOUT);
    rc = dvs_send_T(7, &m, 5000);
    CHILD_CHECK(rc < 0 && rc != EDVSTIMEDOUT);
    // A sendrec nobody answers times out; the link stays usable.
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_sendrec_T(kServer, &m, 200));
    // The server took that request and never replies: a new call from us supersedes it there.
    m.m_type = 88;
    CHILD_CHECK_EQ(0, dvs_send_T(kServer, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(Millis(20000)));
  EXPECT_TRUE(server.wait_ok(Millis(20000)));
}

TEST_P(TwoNodes, RemoteServerKilledMidSendrecFailsTheClient) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe ready, took;
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // probe
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // the request; then it dies
    took.send(1);
    pause();
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK(connect_to_server(s0) >= 0);
    CHILD_CHECK(wait_link(kServer));
    dvs_message_t m{};
    auto t0 = std::chrono::steady_clock::now();
    int rc = dvs_sendrec_T(kServer, &m, 20000);
    CHILD_CHECK_EQ(EDVSSRCDIED, rc);  // the server's node tells us; no timeout needed
    CHILD_CHECK(dvs::testing::ms_since(t0) < 10000);
    return 0;
  });
  ASSERT_TRUE(took.recv(Millis(15000)));
  server.kill9();
  EXPECT_TRUE(client.wait_ok(Millis(20000)));
}

// Notifies are not acknowledged: a steady one-way stream keeps node 1's proxy busy receiving.
// Node 1 must still send its heartbeats, or node 0 would declare the link dead after dead_ms.
TEST_P(TwoNodes, OneWayNotifyStreamKeepsTheLinkUp) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe ready, done;
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    ready.send(1);
    // Take every notify (a pending one would absorb the next: nothing would cross the link).
    int got = 0;
    while (!done.readable()) {
      dvs_message_t m{};
      int rc = dvs_receive_T(DVS_ANY, &m, 200);
      CHILD_CHECK(rc == 0 || rc == EDVSTIMEDOUT);
      if (rc == 0) ++got;
    }
    CHILD_CHECK(got > 50);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK(connect_to_server(s0) >= 0);
    CHILD_CHECK(wait_link(kServer));
    // 20 ms apart (heartbeat 100 ms, dead 1000 ms) for 2.5 s: node 1's receive never idles.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
    int sent = 0;
    while (std::chrono::steady_clock::now() < until) {
      CHILD_CHECK_EQ(0, dvs_notify(kServer));
      ++sent;
      usleep(20'000);
    }
    CHILD_CHECK(sent > 50);
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(Millis(20000)));
  done.send(1);
  EXPECT_TRUE(server.wait_ok(Millis(20000)));
}

TEST_P(TwoNodes, KilledNodeFailsBlockedCallerWithNotConnected) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe ready, blocked;
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // probe
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // the request; never replied
    blocked.send(1);
    pause();
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK(connect_to_server(s0) >= 0);
    CHILD_CHECK(wait_link(kServer));
    dvs_message_t m{};
    auto t0 = std::chrono::steady_clock::now();
    int rc = dvs_sendrec_T(kServer, &m, 20000);
    CHILD_CHECK_EQ(EDVSNOTCONN, rc);
    CHILD_CHECK(dvs::testing::ms_since(t0) < 10000);
    // New calls fail at once while the node is down.
    CHILD_CHECK_EQ(EDVSNOTCONN, dvs_send_T(kServer, &m, 1000));
    return 0;
  });
  ASSERT_TRUE(blocked.recv(Millis(15000)));
  n1->kill9();
  EXPECT_TRUE(client.wait_ok(Millis(20000)));
  server.kill9();
}

}  // namespace

namespace {
constexpr size_t kPull = 1 << 20, kPush = 300'000;  // 1 MiB, and a size that is not a chunk multiple
constexpr int kRequester = 6;                        // vcopy needs a system process

uint8_t pattern_byte(size_t i, int seed) { return static_cast<uint8_t>((i * 131 + static_cast<size_t>(seed) * 7 + (i >> 12)) & 0xff); }

// The requester on node 0: pulls 1 MiB from the owner on node 1, pushes 300 kB back.
int requester_main(const std::string&) {
  dvs_message_t m{};
  CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // the link probe (notify)
  if (DVS_IS_NOTIFY(m.m_type)) CHILD_CHECK_EQ(0, dvs_receive_T(kServer, &m, 10000));
  CHILD_CHECK_EQ(1, m.m_type);
  auto* remote_src = reinterpret_cast<const void*>(m.m_u.m2.m2l1);
  auto* remote_dst = reinterpret_cast<void*>(m.m_u.m2.m2l2);
  std::vector<uint8_t> got(kPull, 0), out(kPush);
  for (size_t i = 0; i < kPush; ++i) out[i] = pattern_byte(i, 2);
  // The owner must be blocked receiving: until its receive is posted the copy is refused
  // (EDVSPROCSTS) by its node; retry within a bound.
  long copied = EDVSPROCSTS;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (copied == EDVSPROCSTS && std::chrono::steady_clock::now() < until) {
    copied = dvs_vcopy(kServer, remote_src, DVS_SELF, got.data(), kPull);
    if (copied == EDVSPROCSTS) usleep(1000);
  }
  CHILD_CHECK_EQ(static_cast<long>(kPull), copied);
  for (size_t i = 0; i < kPull; ++i)
    if (got[i] != pattern_byte(i, 1)) return 41;
  CHILD_CHECK_EQ(static_cast<long>(kPush), dvs_vcopy(DVS_SELF, out.data(), kServer, remote_dst, kPush));
  // A bad remote address fails cleanly.
  CHILD_CHECK(dvs_vcopy(kServer, reinterpret_cast<const void*>(16), DVS_SELF, got.data(), 4096) < 0);
  m.m_type = 2;
  CHILD_CHECK_EQ(0, dvs_send_T(kServer, &m, 5000));
  return 0;
}

TEST_P(TwoNodes, VcopyPullsAndPushesAcrossNodes) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe requester_bound;
  auto requester = run_in_child("requester@0", [&] {
    CHILD_CHECK_EQ(kRequester, dvs::testing::open_and_bind(s0, 0, kRequester));
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, kServer, 1));
    requester_bound.send(1);
    return requester_main(s0);
  });
  ASSERT_TRUE(requester_bound.recv());
  auto server = run_in_child("owner@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    std::vector<uint8_t> src(kPull), dst(kPush, 0);
    for (size_t i = 0; i < kPull; ++i) src[i] = pattern_byte(i, 1);
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, kRequester, 0));
    CHILD_CHECK(wait_link(kRequester));
    dvs_message_t m{};
    m.m_type = 1;
    m.m_u.m2.m2l1 = reinterpret_cast<int64_t>(src.data());
    m.m_u.m2.m2l2 = reinterpret_cast<int64_t>(dst.data());
    CHILD_CHECK_EQ(0, dvs_send_T(kRequester, &m, 5000));
    // Blocked in receive while the requester copies out of src and into dst.
    CHILD_CHECK_EQ(0, dvs_receive_T(kRequester, &m, 20000));
    CHILD_CHECK_EQ(2, m.m_type);
    for (size_t i = 0; i < kPush; ++i)
      if (dst[i] != pattern_byte(i, 2)) return 40;
    return 0;
  });
  EXPECT_TRUE(requester.wait_ok(Millis(30000)));
  EXPECT_TRUE(server.wait_ok(Millis(30000)));
}

// Context switches of every thread of process pid so far (voluntary and not): how often its
// threads slept and were woken, or were preempted.
// Context switches of every thread of pid, by thread id.
std::map<std::string, long> context_switches(pid_t pid) {
  std::map<std::string, long> out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream status(task.path() / "status");
    std::string line;
    long n = 0;
    while (std::getline(status, line))
      if (line.starts_with("voluntary_ctxt_switches:") || line.starts_with("nonvoluntary_ctxt_switches:"))
        n += std::stol(line.substr(line.find(':') + 1));
    out[task.path().filename().string()] = n;
  }
  return out;
}

// Switches between two snapshots: each thread's own increase (a thread that ended in between
// counts none: /proc forgets it; one that began counts all of its own).
long switches_since(const std::map<std::string, long>& before, const std::map<std::string, long>& after) {
  long n = 0;
  for (const auto& [tid, count] : after) {
    auto it = before.find(tid);
    n += count - (it == before.end() ? 0 : it->second);
  }
  return n;
}

// In a child: binds p_nr on sock, says so on ready, then answers every request with itself until
// a message of type -1 (notifications skipped).
int reply_until_stop(const std::string& sock, int p_nr, Pipe* ready) {
  CHILD_CHECK_EQ(p_nr, dvs::testing::open_and_bind(sock, 0, p_nr));
  ready->send(1);
  for (;;) {
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 20000));
    if (DVS_IS_NOTIFY(m.m_type)) continue;
    if (m.m_type == -1) return 0;
    CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
  }
}

// Where a remote sendrec's frames are handled. Proxy path: by both dvsd (the dispatcher sends, the
// link threads deliver: several dvsd wake-ups per round trip). Direct path over a transport that
// can hand links to processes (tcp, tipc): the request on the client's own link to the server's
// endpoint, which the server's dvsd handed to the server's process, and the reply likewise the
// other way — neither dvsd wakes for a round trip. Other transports (shm, rdma): dvsd serves the
// process links, one wake-up per direction. Counted as the context switches of both dvsd over 300
// round trips, heartbeats (every 100 ms per link) aside.
TEST_P(TwoNodes, DirectPathKeepsTheRoundTripOutOfDvsd) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  const std::string tr = transport_of(GetParam());
  const bool bypass = is_direct(GetParam()) && (tr == "tcp" || tr == "tipc");
  constexpr int kRounds = 300;
  Pipe ready, measuring, measured;
  auto server = run_in_child("server@1", [&] { return reply_until_stop(s1, kServer, &ready); });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK(connect_to_server(s0) >= 0);
    CHILD_CHECK(wait_link(kServer));
    for (int i = 0; i < 20; ++i) {  // links dialed and handed over
      dvs_message_t m = dvs::testing::make_msg(1, i);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kServer, &m, 5000));
    }
    measuring.send(1);
    CHILD_CHECK(measured.recv());
    for (int i = 0; i < kRounds; ++i) {
      dvs_message_t m = dvs::testing::make_msg(2, i);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kServer, &m, 5000));
      CHILD_CHECK(dvs::testing::payload_ok(m, i));
    }
    measuring.send(2);
    dvs_message_t stop = dvs::testing::make_msg(-1, 0);
    CHILD_CHECK_EQ(0, dvs_send_T(kServer, &stop, 5000));
    return 0;
  });
  ASSERT_TRUE(measuring.recv(Millis(20000)));
  const auto t0 = std::chrono::steady_clock::now();
  const auto before0 = context_switches(n0->pid()), before1 = context_switches(n1->pid());
  measured.send(1);
  ASSERT_TRUE(measuring.recv(Millis(30000)));
  const long switches = switches_since(before0, context_switches(n0->pid())) +
                        switches_since(before1, context_switches(n1->pid()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(client.wait_ok(Millis(30000)));
  EXPECT_TRUE(server.wait_ok(Millis(30000)));
  // Heartbeats: each dvsd's node link thread wakes every 100 ms (200 in the lab), its
  // dispatcher as often; allow four wake-ups per node per heartbeat, and 20 more.
  const long idle = static_cast<long>(seconds * (lab_transport(GetParam()) ? 5 : 10) * 2 * 4) + 20;
  RecordProperty("dvsd_context_switches", std::to_string(switches));
  if (bypass)
    EXPECT_LE(switches, idle) << "dvsd woke for the round trips (" << kRounds << " in " << seconds << " s)";
  else
    EXPECT_GE(switches, kRounds) << "dvsd carries every round trip on this path";
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(Transports, TwoNodes,
                         ::testing::Values("tcp", "shm", "tcp_polling", "tipc", "rdma", "tcp_direct", "shm_direct",
                                           "tipc_direct", "rdma_direct"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

namespace {
// Three nodes: 2 listens for 0 and 1; 1 listens for 0 and dials 2; 0 dials both.
// Starts node id's dvsd with args and the suite's link timing into *slot; whether it started.
bool start_node(std::unique_ptr<DvsdProcess>* slot, int id, std::vector<std::string> args) {
  DvsdOptions o;
  o.node = id;
  o.extra_args = std::move(args);
  o.extra_args.insert(o.extra_args.end(), {"--heartbeat-ms", "100", "--dead-ms", "1000"});
  *slot = std::make_unique<DvsdProcess>(o);
  return (*slot)->start();
}

struct ThreeNodes : ::testing::Test {
  std::unique_ptr<DvsdProcess> n[3];
  void SetUp() override {
    auto start = [&](int id, std::vector<std::string> args) { return start_node(&n[id], id, std::move(args)); };
    ASSERT_TRUE(start(2, {"--listen", "tcp://127.0.0.1:0", "--peer", "0=tcp://127.0.0.1:1", "--peer", "1=tcp://127.0.0.1:1"}));
    ASSERT_TRUE(start(1, {"--listen", "tcp://127.0.0.1:0", "--peer", "0=tcp://127.0.0.1:1", "--peer", "2=" + n[2]->listen_uri()}));
    ASSERT_TRUE(start(0, {"--peer", "1=" + n[1]->listen_uri(), "--peer", "2=" + n[2]->listen_uri()}));
  }
};

// Sends m to dst, retrying while the link is still coming up (bounded).
int send_when_linked(int dst, dvs_message_t* m) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int rc = EDVSNOTCONN;
  while (rc == EDVSNOTCONN && std::chrono::steady_clock::now() < until) {
    rc = dvs_send_T(dst, m, 5000);
    if (rc == EDVSNOTCONN) usleep(20'000);
  }
  return rc;
}

TEST_F(ThreeNodes, VcopyBetweenTwoOtherNodesIsRelayed) {
  constexpr size_t kBytes = 600'000;
  constexpr int kOwner = 5, kTarget = 7;  // the requester is kRequester (6)
  Pipe bound;
  auto requester = run_in_child("requester@0", [&] {
    CHILD_CHECK_EQ(kRequester, dvs::testing::open_and_bind(n[0]->socket_path(), 0, kRequester));
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, kOwner, 1));
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, kTarget, 2));
    bound.send(1);
    dvs_message_t m{};
    uint64_t src = 0, dst = 0;
    for (int got = 0; got < 2;) {  // one address from each party
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
      if (m.m_type == 1) src = static_cast<uint64_t>(m.m_u.m2.m2l1), ++got;
      if (m.m_type == 2) dst = static_cast<uint64_t>(m.m_u.m2.m2l1), ++got;
    }
    long copied = EDVSPROCSTS;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (copied == EDVSPROCSTS && std::chrono::steady_clock::now() < until) {
      copied = dvs_vcopy(kOwner, reinterpret_cast<const void*>(src), kTarget, reinterpret_cast<void*>(dst), kBytes);
      if (copied == EDVSPROCSTS) usleep(1000);
    }
    CHILD_CHECK_EQ(static_cast<long>(kBytes), copied);
    m.m_type = 3;
    CHILD_CHECK_EQ(0, dvs_send_T(kOwner, &m, 5000));
    CHILD_CHECK_EQ(0, dvs_send_T(kTarget, &m, 5000));
    return 0;
  });
  ASSERT_TRUE(bound.recv());
  auto party = [&](int node, int ep, int type, bool is_source) {
    return run_in_child("party@" + std::to_string(node), [&, node, ep, type, is_source] {
      CHILD_CHECK_EQ(ep, dvs::testing::open_and_bind(n[node]->socket_path(), 0, ep));
      CHILD_CHECK_EQ(0, dvs_rmtbind(0, kRequester, 0));
      std::vector<uint8_t> buf(kBytes, 0);
      if (is_source)
        for (size_t i = 0; i < kBytes; ++i) buf[i] = pattern_byte(i, 3);
      dvs_message_t m{};
      m.m_type = type;
      m.m_u.m2.m2l1 = reinterpret_cast<int64_t>(buf.data());
      CHILD_CHECK_EQ(0, send_when_linked(kRequester, &m));
      CHILD_CHECK_EQ(0, dvs_receive_T(kRequester, &m, 20000));  // blocked while the copy runs
      CHILD_CHECK_EQ(3, m.m_type);
      if (!is_source)
        for (size_t i = 0; i < kBytes; ++i)
          if (buf[i] != pattern_byte(i, 3)) return 40;
      return 0;
    });
  };
  auto owner = party(1, kOwner, 1, true);
  auto target = party(2, kTarget, 2, false);
  EXPECT_TRUE(requester.wait_ok(Millis(30000)));
  EXPECT_TRUE(owner.wait_ok(Millis(30000)));
  EXPECT_TRUE(target.wait_ok(Millis(30000)));
}
}  // namespace

namespace {
TEST(DcSpan, RemoteEndpointOnANodeOutsideTheDcIsRefused) {
  DvsdOptions o;
  o.node = 0;
  o.dcs = {"0,nodes=0", "1"};
  o.extra_args = {"--peer", "1=tcp://127.0.0.1:1"};
  DvsdProcess d(o);
  ASSERT_TRUE(d.start());
  const std::string sock = d.socket_path();
  auto child = run_in_child("client", [&] {
    CHILD_CHECK(dvs::testing::open_and_bind(sock, 0, DVS_ANY) >= 0);
    CHILD_CHECK_EQ(EDVSNODCNODE, dvs_rmtbind(0, kServer, 1));  // DC 0 spans node 0 only
    CHILD_CHECK_EQ(0, dvs_rmtbind(1, kServer, 1));             // DC 1 spans this node and its peers
    return 0;
  });
  EXPECT_TRUE(child.wait_ok());
}

TEST(DcSpan, CommandLineChecksNodesAndPeers) {
  auto r = dvs::testing::run_dvsd({"--node", "0", "--socket", "/tmp/dvs-span-test.sock", "--dc", "0,nodes=1+2"});
  EXPECT_EQ(2, r.exit_code()) << r.err;
  EXPECT_NE(std::string::npos, r.err.find("does not span this node")) << r.err;
  r = dvs::testing::run_dvsd({"--node", "1", "--socket", "/tmp/dvs-span-test.sock", "--dc", "0,nodes=0+x"});
  EXPECT_EQ(2, r.exit_code()) << r.err;
  r = dvs::testing::run_dvsd({"--node", "1", "--socket", "/tmp/dvs-span-test.sock", "--peer", "2"});
  EXPECT_EQ(2, r.exit_code()) << r.err;  // a higher peer is dialed: it needs its URI
  EXPECT_NE(std::string::npos, r.err.find("--peer")) << r.err;
}
}  // namespace

namespace {
// add_node / del_node at run time: argument errors, then on a live two-node DC: del_node fails a
// sendrec in flight, refuses later calls and rmtbinds with EDVSNODCNODE and shows in the DC's
// info; add_node brings the node back and IPC works again.
TEST_P(TwoNodes, AddAndDelNodeAtRunTime) {
  const std::string s0 = n0->socket_path(), s1 = n1->socket_path();
  Pipe ready, took, deleted, del_done;
  auto deleter = run_in_child("deleter@0", [&] {
    CHILD_CHECK(dvs_open(s0.c_str()) >= 0);
    CHILD_CHECK(took.recv(Millis(15000)));
    CHILD_CHECK_EQ(0, dvs_del_node(0, 1));
    CHILD_CHECK_EQ(EDVSNODCNODE, dvs_del_node(0, 1));
    del_done.send(1);
    return 0;
  });
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // probe
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // the request node 0 then deletes us under
    took.send(1);
    CHILD_CHECK(deleted.recv(Millis(15000)));
    // Node 0 is re-added: a fresh request arrives and is answered.
    for (;;) {
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 15000));
      if (m.m_type == 77) break;  // probes (notify) until then
    }
    m.m_type = 78;
    CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK(connect_to_server(s0) >= 0);
    CHILD_CHECK(wait_link(kServer));
    // Argument errors.
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_add_node(9, 1));
    CHILD_CHECK_EQ(EDVSBADNODEID, dvs_add_node(0, 0));   // this node
    CHILD_CHECK_EQ(EDVSBADNODEID, dvs_del_node(0, 32));
    CHILD_CHECK_EQ(EDVSNOPROXY, dvs_add_node(0, 5));     // no link to node 5 is configured
    CHILD_CHECK_EQ(EDVSNODEBUSY, dvs_add_node(0, 1));    // already spanned
    dvs_dcinfo_t info{};
    CHILD_CHECK_EQ(0, dvs_getdcinfo(0, &info));
    CHILD_CHECK_EQ(3u, info.nodes);
    // A sendrec in flight when node 1 is deleted (by the deleter) fails; it does not hang.
    dvs_message_t m{};
    auto t0 = std::chrono::steady_clock::now();
    int rc = dvs_sendrec_T(kServer, &m, 20000);
    CHILD_CHECK(rc == EDVSNOTCONN || rc == EDVSDSTDIED);
    CHILD_CHECK(dvs::testing::ms_since(t0) < 10000);
    CHILD_CHECK(del_done.recv(Millis(15000)));
    CHILD_CHECK_EQ(0, dvs_getdcinfo(0, &info));
    CHILD_CHECK_EQ(1u, info.nodes);
    CHILD_CHECK_EQ(EDVSNODCNODE, dvs_rmtbind(0, kServer, 1));
    int after = dvs_send_T(kServer, &m, 2000);  // its descriptor is gone with the node
    CHILD_CHECK(after < 0 && after != EDVSTIMEDOUT);
    deleted.send(1);
    // Back again.
    CHILD_CHECK_EQ(0, dvs_add_node(0, 1));
    CHILD_CHECK_EQ(0, dvs_getdcinfo(0, &info));
    CHILD_CHECK_EQ(3u, info.nodes);
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, kServer, 1));
    CHILD_CHECK(wait_link(kServer));
    m.m_type = 77;
    CHILD_CHECK_EQ(0, dvs_sendrec_T(kServer, &m, 10000));
    CHILD_CHECK_EQ(78, m.m_type);
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(Millis(40000)));
  EXPECT_TRUE(server.wait_ok(Millis(40000)));
  EXPECT_TRUE(deleter.wait_ok(Millis(5000)));
}
}  // namespace

namespace {
// The remote path chosen per link (dvsd --remote-path-to): node 0 reaches node 1 on the direct path
// and node 2 on the proxy path. A client on node 0 calls a server on each: node 1's dvsd takes no
// part in the round trips to its server, node 2's carries every one.
TEST(MixedPaths, EachLinkTakesItsOwnRemotePath) {
  constexpr int kServer1 = 5, kServer2 = 7, kRounds = 300;
  std::unique_ptr<DvsdProcess> n[3];
  auto start = [&](int id, std::vector<std::string> args) { return start_node(&n[id], id, std::move(args)); };
  ASSERT_TRUE(start(2, {"--listen", "tcp://127.0.0.1:0", "--peer", "0", "--peer", "1"}));
  ASSERT_TRUE(start(1, {"--listen", "tcp://127.0.0.1:0", "--peer", "0", "--peer", "2=" + n[2]->listen_uri(),
                        "--remote-path-to", "0=direct"}));
  ASSERT_TRUE(start(0, {"--listen", "tcp://127.0.0.1:0", "--peer", "1=" + n[1]->listen_uri(), "--peer",
                        "2=" + n[2]->listen_uri(), "--remote-path-to", "1=direct"}));
  Pipe ready1, ready2, measuring, measured;
  auto server1 = run_in_child("server@1", [&] { return reply_until_stop(n[1]->socket_path(), kServer1, &ready1); });
  auto server2 = run_in_child("server@2", [&] { return reply_until_stop(n[2]->socket_path(), kServer2, &ready2); });
  ASSERT_TRUE(ready1.recv());
  ASSERT_TRUE(ready2.recv());
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK(dvs::testing::open_and_bind(n[0]->socket_path(), 0, DVS_ANY) >= 0);
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, kServer1, 1));
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, kServer2, 2));
    CHILD_CHECK(wait_link(kServer1));
    CHILD_CHECK(wait_link(kServer2));
    for (int server : {kServer1, kServer2}) {
      for (int i = 0; i < 20; ++i) {  // links dialed and handed over
        dvs_message_t m = dvs::testing::make_msg(1, i);
        CHILD_CHECK_EQ(0, dvs_sendrec_T(server, &m, 5000));
      }
      measuring.send(server);
      CHILD_CHECK(measured.recv());
      for (int i = 0; i < kRounds; ++i) {
        dvs_message_t m = dvs::testing::make_msg(2, i);
        CHILD_CHECK_EQ(0, dvs_sendrec_T(server, &m, 5000));
        CHILD_CHECK(dvs::testing::payload_ok(m, i));
      }
      measuring.send(server);
      CHILD_CHECK(measured.recv());
      dvs_message_t stop = dvs::testing::make_msg(-1, 0);
      CHILD_CHECK_EQ(0, dvs_send_T(server, &stop, 5000));
    }
    return 0;
  });
  long switches[3] = {0, 0, 0};
  for (int node : {1, 2}) {
    ASSERT_TRUE(measuring.recv(Millis(20000)));
    const auto before = context_switches(n[node]->pid());
    measured.send(1);
    ASSERT_TRUE(measuring.recv(Millis(30000)));
    switches[node] = switches_since(before, context_switches(n[node]->pid()));
    measured.send(1);
  }
  EXPECT_TRUE(client.wait_ok(Millis(30000)));
  EXPECT_TRUE(server1.wait_ok(Millis(30000)));
  EXPECT_TRUE(server2.wait_ok(Millis(30000)));
  RecordProperty("node1_dvsd_context_switches", std::to_string(switches[1]));
  RecordProperty("node2_dvsd_context_switches", std::to_string(switches[2]));
  EXPECT_LE(switches[1], kRounds / 5) << "node 1 (direct) woke its dvsd for the round trips";
  EXPECT_GE(switches[2], kRounds) << "node 2 (proxy) did not carry the round trips";
}
}  // namespace
