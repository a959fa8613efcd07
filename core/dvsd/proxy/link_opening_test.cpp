// The opening of a node link against a real dvsd (node 1, direct path), played by the test as
// node 0: the two ends of an opening do not finish at once, so node 0's processes may dial node 1
// before node 1 counts the node link up. Their process links are acknowledged once it does (their
// calls are then taken, not refused as calls from a node that is down), or after a bound.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/dvsd/proxy/link_player_testing.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "dvs/dvs.h"
#include "dvs/errors.h"

namespace {

using dvs::testing::DvsdOptions;
using dvs::testing::DvsdProcess;
using dvs::testing::Millis;
using dvs::testing::Pipe;
using dvs::testing::Player;
namespace wire = dvs::wire;

constexpr int kServer = 5;   // bound on node 1
constexpr int kClient = 41;  // "on node 0": auto-bound on node 1 by its first call

struct OpeningNode : ::testing::Test {
  std::unique_ptr<DvsdProcess> n1;
  void SetUp() override {
    DvsdOptions o1;
    o1.node = 1;
    o1.extra_args = {"--listen", "tcp://127.0.0.1:0", "--peer", "0", "--remote-path", "direct", "--heartbeat-ms", "100",
                     "--dead-ms", "5000"};
    n1 = std::make_unique<DvsdProcess>(o1);
    ASSERT_TRUE(n1->start());
  }
  // A process link from "a process of node 0" to kServer, its handshake done.
  void open_process_link(Player* p) {
    const auto key = dvs::linkauth::process_link_key(dvs::testing::test_key(), 0, 0);  // node 0's, for DC 0
    ASSERT_EQ("", p->dial(n1->listen_uri(), &key, wire::direct_hello_payload(0, kServer)));
  }
  static wire::Command send_to_server() {
    wire::Command c;
    c.hdr.command = wire::CMD_SEND_MSG;
    c.hdr.dcid = 0;
    c.hdr.src_ep = kClient;
    c.hdr.dst_ep = kServer;
    c.hdr.seq = 1;
    c.msg.m_type = 77;
    return c;
  }
};

TEST_F(OpeningNode, ProcessLinkDialedBeforeTheNodeLinkIsUpCarriesItsSend) {
  Pipe ready;
  auto server = dvs::testing::run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(n1->socket_path(), 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(77, m.m_type);
    CHILD_CHECK_EQ(kClient, m.m_source);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  Player process;
  open_process_link(&process);
  EXPECT_FALSE(process.wait_ack(100)) << "acknowledged while node 1 does not count node 0's link up";
  Player node;
  const auto key = dvs::testing::test_key();
  ASSERT_EQ("", node.dial(n1->listen_uri(), &key));
  ASSERT_TRUE(process.wait_ack(5000)) << n1->stderr_output();
  ASSERT_TRUE(process.send(send_to_server()));
  auto ack = process.next(5000);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(wire::CMD_SEND_ACK, ack->hdr.command);
  EXPECT_EQ(0, ack->hdr.rcode) << "the send was refused: " << dvs_strerror(ack->hdr.rcode);
  EXPECT_TRUE(server.wait_ok(Millis(10000)));
}

// With no node link at all, a process link is still answered after the bound: its send is refused
// (the node is down), nothing hangs.
TEST_F(OpeningNode, ProcessLinkWithoutANodeLinkIsAnsweredAfterTheBound) {
  Pipe ready;
  auto server = dvs::testing::run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(n1->socket_path(), 0, kServer));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 3000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  Player process;
  open_process_link(&process);
  ASSERT_TRUE(process.wait_ack(5000)) << n1->stderr_output();
  ASSERT_TRUE(process.send(send_to_server()));
  auto ack = process.next(5000);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(wire::CMD_SEND_ACK, ack->hdr.command);
  EXPECT_EQ(EDVSNOTCONN, ack->hdr.rcode) << dvs_strerror(ack->hdr.rcode);
  EXPECT_TRUE(server.wait_ok(Millis(10000)));
}

}  // namespace
