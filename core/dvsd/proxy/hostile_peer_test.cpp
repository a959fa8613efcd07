// Hostile parties against a real dvsd over loopback TCP:
//  * outsiders without the cluster key (HELLO as an existing node, as a new node, a wrong key, a
//    replayed handshake): refused before any frame reaches a DC, the real link untouched;
//  * a key holder trying to take over a live link: refused;
//  * silent connections: they do not keep the real node out (handshakes run concurrently);
//  * a compromised node (it holds the key) sending frames it may not: re-pointing an endpoint
//    that lives elsewhere, copy requests in another's name or without privilege, forged copy
//    answers, and auto-binding every slot. Each is refused and nothing of it stays.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dvsd/proxy/cluster_key.hpp"
#include "core/dvsd/proxy/link_auth.hpp"
#include "core/dvsd/proxy/link_handshake.hpp"
#include "core/dvsd/proxy/link_player_testing.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/poll_until.hpp"
#include "dvs/dvs.h"
#include "dvs/errors.h"
#include "transports/registry.hpp"

namespace {

using dvs::testing::DvsdOptions;
using dvs::testing::DvsdProcess;
using dvs::testing::Millis;
using dvs::testing::Pipe;
namespace wire = dvs::wire;
namespace linkauth = dvs::linkauth;
using dvs::testing::Player;
using dvs::testing::test_key;

constexpr int kVictim = 40;    // a user slot on node 1, blocked receiving
constexpr int kElsewhere = 7;  // a system slot node 1 knows lives on node 2 (rmtbind)
constexpr int kStop = 99;      // m_type of the local message that ends the victim's receive

wire::Command message(uint16_t cmd, int32_t src, int32_t dst, uint64_t seq) {
  wire::Command c;
  c.hdr.command = cmd;
  c.hdr.dcid = 0;
  c.hdr.src_ep = src;
  c.hdr.dst_ep = dst;
  c.hdr.seq = seq;
  c.msg.m_type = 77;
  return c;
}

wire::Command copy_request(uint16_t cmd, int32_t rqtr, int32_t src, int32_t dst, uint64_t src_addr, uint64_t dst_addr,
                           uint32_t len, uint64_t seq) {
  wire::Command c;
  c.hdr.command = cmd;
  c.hdr.dcid = 0;
  c.hdr.src_ep = rqtr;
  c.hdr.dst_ep = cmd == wire::CMD_COPYOUT_RQST ? src : dst;
  c.hdr.seq = seq;
  c.vcopy = wire::VcopyDesc{src, dst, rqtr, len, src_addr, dst_addr, len, 0};
  return c;
}

// ---------------------------------------------------------------------------------------------
// Outsiders and key holders against a live pair of nodes.

struct LivePair : ::testing::Test {
  std::unique_ptr<DvsdProcess> n0, n1;
  void SetUp() override {
    DvsdOptions o1;
    o1.node = 1;
    o1.extra_args = {"--listen", "tcp://127.0.0.1:0", "--peer", "0", "--heartbeat-ms", "100", "--dead-ms", "2000"};
    n1 = std::make_unique<DvsdProcess>(o1);
    ASSERT_TRUE(n1->start());
    DvsdOptions o0;
    o0.node = 0;
    o0.extra_args = {"--peer", "1=" + n1->listen_uri(), "--heartbeat-ms", "100", "--dead-ms", "2000"};
    n0 = std::make_unique<DvsdProcess>(o0);
    ASSERT_TRUE(n0->start());
    ASSERT_TRUE(dvs::testing::poll_until([&] { return ups() == 1; }, Millis(10000))) << n1->stderr_output();
  }
  // How many times node 1 brought its link to node 0 up.
  int ups() const {
    const std::string log = n1->stderr_output();
    int n = 0;
    for (size_t at = 0; (at = log.find("link to node 0 up", at)) != std::string::npos; ++at) ++n;
    return n;
  }
  // The real link still carries calls: node 1's server answers node 0's client.
  void expect_link_serves() {
    Pipe ready;
    auto server = dvs::testing::run_in_child("server", [&] {
      const int ep = dvs::testing::open_and_bind(n1->socket_path(), 0, 5);
      ready.send(ep);
      dvs_message_t m{};
      if (dvs_receive_T(DVS_ANY, &m, 5000) != 0) return 1;
      return dvs_reply_T(m.m_source, &m, 5000) == 0 ? 0 : 2;
    });
    ASSERT_EQ(5, ready.recv().value_or(-1));
    auto client = dvs::testing::run_in_child("client", [&] {
      if (dvs::testing::open_and_bind(n0->socket_path(), 0, DVS_ANY) < 0) return 1;
      if (dvs_rmtbind(0, 5, 1) != 0) return 2;
      dvs_message_t m{};
      return dvs_sendrec_T(5, &m, 5000) == 0 ? 0 : 3;
    });
    EXPECT_TRUE(client.wait_ok());
    EXPECT_TRUE(server.wait_ok());
  }
};

TEST_F(LivePair, PlainHelloAsTheExistingNodeIsRefused) {
  Player p;
  ASSERT_EQ("", p.dial(n1->listen_uri(), nullptr));  // a plain HELLO "from node 0"
  EXPECT_TRUE(p.closed_within(3000)) << "the listener kept an unauthenticated link";
  EXPECT_NE(std::string::npos, n1->stderr_output().find("did not authenticate"));
  EXPECT_EQ(1, ups());
  expect_link_serves();
}

TEST_F(LivePair, HelloAsANewNodeIsRefused) {
  Player p;
  p.self = 5;  // not a peer of node 1
  ASSERT_EQ("", p.dial(n1->listen_uri(), nullptr));
  EXPECT_TRUE(p.closed_within(3000));
  Player q;
  q.self = 5;
  linkauth::Key wrong{};
  wrong.fill(0x42);
  EXPECT_NE("", q.dial(n1->listen_uri(), &wrong)) << "an unknown node's handshake must not complete";
  expect_link_serves();
}

TEST_F(LivePair, WrongKeyIsRefusedAndTheDialerLearnsNothingUsable) {
  Player p;
  linkauth::Key wrong = test_key();
  wrong[0] ^= 1;
  const std::string why = p.dial(n1->listen_uri(), &wrong);
  EXPECT_NE(std::string::npos, why.find("does not hold the cluster key")) << why;
  EXPECT_EQ(1, ups());
  expect_link_serves();
}

TEST_F(LivePair, AKeyHolderCannotTakeOverTheLiveLink) {
  Player p;
  const linkauth::Key k = test_key();
  ASSERT_EQ("", p.dial(n1->listen_uri(), &k)) << "the handshake itself is good";
  EXPECT_TRUE(p.closed_within(3000)) << "a second link for node 0 was kept";
  EXPECT_NE(std::string::npos, n1->stderr_output().find("its link is up"));
  EXPECT_EQ(1, ups()) << "the live link was replaced";
  expect_link_serves();
}

// A replayed handshake: the proof of a good one, played again on a new connection, fails (the
// listener's nonce is new). Played by hand with the key while node 0 is down.
TEST_F(LivePair, AReplayedHandshakeIsRefused) {
  n0->stop();
  ASSERT_TRUE(dvs::testing::poll_until([&] { return n1->stderr_output().find("link to node 0 down") != std::string::npos; },
                                       Millis(5000)));
  const linkauth::Key k = test_key();
  auto raw_hello = [](Player& p, const std::string& payload) {
    wire::Command c;
    c.hdr.command = wire::CMD_HELLO;
    c.hdr.src_ep = c.hdr.dst_ep = DVS_NONE;
    c.payload = std::as_bytes(std::span<const char>(payload.data(), payload.size()));
    return p.send(c);
  };
  auto response = [](Player& p, linkauth::Nonce* nl) {
    std::span<const std::byte> frame;
    if (p.link->recv(&frame, 3000) <= 0) return false;
    wire::DecodedFrame df;
    if (wire::decode_frame(frame, &df) != wire::WireError::kOk || df.commands.size() != 1) return false;
    linkauth::Mac m{};
    const auto& pl = df.commands[0].payload;
    return linkauth::parse_response(std::string_view(reinterpret_cast<const char*>(pl.data()), pl.size()), nl, &m);
  };
  dvs::transport::register_builtin_transports();
  int err = 0;
  Player a;
  a.link = dvs::transport::find_transport("tcp")->dial(n1->listen_uri(), 3000, &err);
  ASSERT_TRUE(a.link);
  linkauth::Transcript t;
  t.dialer_node = 0;
  t.listener_node = 1;
  t.nd = linkauth::fresh_nonce();
  const std::string challenge = linkauth::challenge_payload(t.nd, "");
  ASSERT_TRUE(raw_hello(a, challenge));
  ASSERT_TRUE(response(a, &t.nl));
  const std::string proof = linkauth::proof_payload(linkauth::prove(k, linkauth::Role::kDialer, linkauth::transcript_hash(t)));
  ASSERT_TRUE(raw_hello(a, proof));
  ASSERT_TRUE(dvs::testing::poll_until([&] { return ups() == 2; }, Millis(5000))) << "the hand-played handshake must succeed";
  a.link->close();
  ASSERT_TRUE(dvs::testing::poll_until(
      [&] {
        const std::string log = n1->stderr_output();
        return log.rfind("link to node 0 down") > log.rfind("link to node 0 up");
      },
      Millis(5000)));
  Player b;
  b.link = dvs::transport::find_transport("tcp")->dial(n1->listen_uri(), 3000, &err);
  ASSERT_TRUE(b.link);
  ASSERT_TRUE(raw_hello(b, challenge));
  linkauth::Nonce fresh{};
  ASSERT_TRUE(response(b, &fresh));
  EXPECT_NE(t.nl, fresh) << "the listener must pick a new nonce";
  ASSERT_TRUE(raw_hello(b, proof));
  EXPECT_TRUE(b.closed_within(3000));
  EXPECT_NE(std::string::npos, n1->stderr_output().find("does not hold the key"));
  EXPECT_EQ(2, ups()) << "the replay brought a link up";
}

// 40 silent connections do not keep the real node out: handshakes run concurrently, each bounded.
TEST(Listener, SilentConnectionsDoNotLockOutTheRealNode) {
  DvsdOptions o1;
  o1.node = 1;
  o1.extra_args = {"--listen", "tcp://127.0.0.1:0", "--peer", "0"};
  DvsdProcess n1(o1);
  ASSERT_TRUE(n1.start());
  const std::string uri = n1.listen_uri();
  const int port = std::stoi(uri.substr(uri.rfind(':') + 1));
  std::vector<int> silent;
  for (int i = 0; i < 40; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a));
    silent.push_back(fd);
  }
  DvsdOptions o0;
  o0.node = 0;
  o0.extra_args = {"--peer", "1=" + uri};
  DvsdProcess n0(o0);
  const auto t0 = dvs::testing::Clock::now();
  ASSERT_TRUE(n0.start());
  // Bound: one handshake deadline (2 s) plus a dial retry, far below 40 serial deadlines.
  EXPECT_TRUE(dvs::testing::poll_until([&] { return n1.stderr_output().find("link to node 0 up") != std::string::npos; },
                                       Millis(4000)))
      << "the real node was kept out for " << dvs::testing::ms_since(t0) << " ms";
  for (int fd : silent) close(fd);
}

// ---------------------------------------------------------------------------------------------
// A compromised node: it holds the key (the test plays node 0), node 1 is real.

struct CompromisedPeer : ::testing::Test {
  std::unique_ptr<DvsdProcess> n1;
  Player p;
  Pipe victim_ready, victim_go, helper_ready;
  dvs::testing::ForkedChild victim, helper;
  int64_t secret_addr = 0, canary_addr = 0;
  int32_t victim_ep = DVS_NONE;  // its endpoint (user slots get a generation: not kVictim itself)

  void SetUp() override {
    DvsdOptions o1;
    o1.node = 1;
    o1.extra_args = {"--listen", "tcp://127.0.0.1:0", "--peer", "0", "--peer", "2=tcp://127.0.0.1:1",
                     "--heartbeat-ms", "100", "--dead-ms", "10000", "--max-autobound", "16"};
    n1 = std::make_unique<DvsdProcess>(o1);
    ASSERT_TRUE(n1->start());
    // The victim: a user process with a secret and a canary, blocked receiving (a vcopy party).
    victim = dvs::testing::run_in_child("victim", [this] {
      static char secret[32] = "the victim's 32-byte secret....";
      static char canary[32] = "canary canary canary canary ...";
      const int ep = dvs::testing::open_and_bind(n1->socket_path(), 0, kVictim);
      if (ep < 0) return 1;
      victim_ready.send(ep);
      victim_ready.send(reinterpret_cast<int64_t>(secret));
      victim_ready.send(reinterpret_cast<int64_t>(canary));
      dvs_message_t m{};
      const int rc = dvs_receive_T(DVS_ANY, &m, 30000);
      if (rc != 0 || m.m_type != kStop) {
        std::fprintf(stderr, "victim: receive %d, a message from %d\n", rc, m.m_source);
        return 2;
      }
      return std::strcmp(canary, "canary canary canary canary ...") == 0 ? 0 : 3;
    });
    auto ep = victim_ready.recv();
    ASSERT_TRUE(ep) << "victim: " << victim.wait(Millis(1000)).describe();
    victim_ep = static_cast<int32_t>(*ep);
    auto addr = victim_ready.recv();
    ASSERT_TRUE(addr);
    secret_addr = *addr;
    auto canary = victim_ready.recv();
    ASSERT_TRUE(canary);
    canary_addr = *canary;
    // A node-1 process declares kElsewhere on node 2, then stays (its binding holds nothing else).
    helper = dvs::testing::run_in_child("helper", [this] {
      if (dvs::testing::open_and_bind(n1->socket_path(), 0, DVS_ANY) < 0) return 1;
      if (int rc = dvs_rmtbind(0, kElsewhere, 2); rc != 0) {
        std::fprintf(stderr, "helper: rmtbind %s\n", dvs::testing::rc_str(rc).c_str());
        return 2;
      }
      helper_ready.send(1);
      (void)victim_go.recv(Millis(30000));
      dvs_message_t m{};
      m.m_type = kStop;  // the victim's one expected message: it checks its canary and ends
      return dvs_send_T(victim_ep, &m, 5000) == 0 ? 0 : 3;
    });
    ASSERT_TRUE(helper_ready.recv(Millis(5000))) << "helper: " << helper.wait(Millis(1000)).describe();
    const linkauth::Key k = test_key();
    ASSERT_EQ("", p.dial(n1->listen_uri(), &k));
    ASSERT_TRUE(dvs::testing::poll_until([&] { return n1->stderr_output().find("link to node 0 up") != std::string::npos; },
                                         Millis(5000)));
  }
  void TearDown() override {
    victim_go.send(1);
    victim.kill9();
    helper.kill9();
  }
  // The ack of a command sent now (same seq), or nullopt.
  std::optional<wire::Command> ack_of(uint64_t seq, std::vector<std::byte>* payload = nullptr) {
    for (int i = 0; i < 50; ++i) {
      auto c = p.next(3000, nullptr, payload);
      if (!c) return std::nullopt;
      if (c->hdr.ack_seq == seq) return c;
    }
    return std::nullopt;
  }
};

TEST_F(CompromisedPeer, CannotRepointAnEndpointThatLivesElsewhere) {
  ASSERT_TRUE(p.send(message(wire::CMD_SEND_MSG, kElsewhere, victim_ep, 11)));
  auto a = ack_of(11);
  ASSERT_TRUE(a);
  EXPECT_EQ(wire::CMD_SEND_MSG | wire::kAckBit, a->hdr.command);
  EXPECT_EQ(EDVSSLOTUSED, a->hdr.rcode) << "node 0 spoke for an endpoint of node 2";
  ASSERT_TRUE(p.send(message(wire::CMD_NTFY_MSG, kElsewhere, victim_ep, 12)));
  usleep(200'000);
  EXPECT_TRUE(victim.running()) << "the victim took a message forged in node 2's name";
}

TEST_F(CompromisedPeer, CopyRequestsInAnothersNameOrWithoutPrivilegeAreRefused) {
  struct Case {
    int32_t rqtr;
    int32_t expect;
    const char* what;
  } cases[] = {
      {victim_ep, EDVSBADSRCDST, "the victim as its own requester (a local endpoint)"},
      {kElsewhere, EDVSBADSRCDST, "a requester that lives on node 2"},
      {45, EDVSPRIVILEGES, "a user process as requester"},
  };
  uint64_t seq = 100;
  for (const Case& c : cases) {
    std::vector<std::byte> data;
    ASSERT_TRUE(p.send(copy_request(wire::CMD_COPYOUT_RQST, c.rqtr, victim_ep, c.rqtr, static_cast<uint64_t>(secret_addr),
                                    0x1000, 32, ++seq)));
    auto a = ack_of(seq, &data);
    ASSERT_TRUE(a) << c.what;
    EXPECT_EQ(wire::CMD_COPYOUT_DATA, a->hdr.command);
    EXPECT_EQ(c.expect, a->hdr.rcode) << c.what;
    EXPECT_TRUE(data.empty()) << c.what << ": the secret left the node";
  }
  // Copy-in over the canary in the victim's own name.
  std::string junk(32, 'X');
  wire::Command in = copy_request(wire::CMD_COPYIN_DATA, victim_ep, victim_ep, victim_ep, 0, static_cast<uint64_t>(canary_addr),
                                  32, ++seq);
  in.payload = std::as_bytes(std::span<const char>(junk.data(), junk.size()));
  ASSERT_TRUE(p.send(in));
  auto a = ack_of(seq);
  ASSERT_TRUE(a);
  EXPECT_EQ(EDVSBADSRCDST, a->hdr.rcode);
  // A system process of node 0 may copy from a receiving process, as it may on its own node.
  std::vector<std::byte> data;
  ASSERT_TRUE(p.send(copy_request(wire::CMD_COPYOUT_RQST, 3, victim_ep, 3, static_cast<uint64_t>(secret_addr), 0x1000, 32, ++seq)));
  auto ok = ack_of(seq, &data);
  ASSERT_TRUE(ok);
  EXPECT_EQ(0, ok->hdr.rcode);
  EXPECT_EQ(32u, data.size());
}

TEST_F(CompromisedPeer, ForgedCopyAnswersWriteNothing) {
  std::string junk(32, 'Y');
  wire::Command c = copy_request(wire::CMD_COPYOUT_DATA, victim_ep, 3, victim_ep, 0, static_cast<uint64_t>(canary_addr), 32, 0);
  c.hdr.ack_seq = 5;
  c.payload = std::as_bytes(std::span<const char>(junk.data(), junk.size()));
  ASSERT_TRUE(p.send(c));
  c.hdr.command = wire::CMD_COPYIN_ACK;
  c.payload = {};
  ASSERT_TRUE(p.send(c));
  usleep(200'000);
  victim_go.send(1);
  auto st = victim.wait(Millis(10000));
  EXPECT_TRUE(st.exited && st.exit_code == 0) << "victim: " << st.describe() << " (3 = canary overwritten)";
}

TEST_F(CompromisedPeer, AutoBindingIsCappedAndReleasedWithTheLink) {
  // Sends "from" 40 unknown user endpoints to an unbound one: each auto-binds its source first.
  int refused = 0, taken = 0;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(p.send(message(wire::CMD_SEND_MSG, 100 + i, 90, 1000 + i)));
    auto a = ack_of(1000 + i);
    ASSERT_TRUE(a);
    if (a->hdr.rcode == EDVSNOSPC) ++refused;
    else ++taken;
  }
  EXPECT_EQ(16, taken) << "--max-autobound 16";
  EXPECT_EQ(24, refused);
  auto bind_first = [&](int p_nr) {
    auto c = dvs::testing::run_in_child("binder", [this, p_nr] {
      const int ep = dvs::testing::open_and_bind(n1->socket_path(), 0, p_nr);
      return ep >= 0 && DVS_ENDPOINT_P(ep) == p_nr ? 0 : 1;
    });
    return c.wait(Millis(10000));
  };
  auto busy = bind_first(100);
  EXPECT_TRUE(busy.exited && busy.exit_code == 1) << "slot 100 should be held by node 0's surrogate";
  p.link->close();
  ASSERT_TRUE(dvs::testing::poll_until(
      [&] { return n1->stderr_output().find("link to node 0 down") != std::string::npos; }, Millis(5000)));
  for (int p_nr : {100, 115}) {
    auto st = bind_first(p_nr);
    EXPECT_TRUE(st.exited && st.exit_code == 0) << "slot " << p_nr << " stayed taken after node 0 left";
  }
}

}  // namespace
