// Confinement: DCs do not see each other; privileges (ipc_to) restrict system destinations.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

class CrossDc : public DvsdTest {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.dcs = {"0", "1"};
    return o;
  }
};

TEST_F(CrossDc, BothDcsExist) {
  const std::string sock = sock_;
  auto k = run_in_child("info", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    dvs_dcinfo_t d0{}, d1{};
    CHILD_CHECK_OK(dvs_getdcinfo(0, &d0));
    CHILD_CHECK_OK(dvs_getdcinfo(1, &d1));
    CHILD_CHECK_EQ(0, d0.dcid);
    CHILD_CHECK_EQ(1, d1.dcid);
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_getdcinfo(2, &d1));
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(CrossDc, SendToAnEndpointOfAnotherDcDoesNotReachIt) {
  const std::string sock = sock_;
  Pipe ready, sent;
  // The receiver is bound at system slot 10 of DC 0 (endpoint 10).
  auto r0 = run_in_child("dc0-receiver", [&, sock] {
    CHILD_CHECK_EQ(10, open_and_bind(sock, 0, 10));
    ready.send(1);
    auto r = sent.recv();
    CHILD_CHECK(r.has_value());
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 200));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  // A process of DC 1 sends to endpoint 10: in DC 1 nobody is there.
  auto s1 = run_in_child("dc1-sender", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 1, 11));
    dvs_message_t m = make_msg(1);
    int r = dvs_send_T(10, &m, 200);
    sent.send(r);
    if (r >= 0) fprintf(stderr, "send from DC 1 to endpoint 10 returned %d\n", r);
    CHILD_CHECK(r < 0);
    r = dvs_notify(10);
    CHILD_CHECK(r < 0);
    r = dvs_sendrec_T(10, &m, 200);
    CHILD_CHECK(r < 0);
    // And it cannot see DC 0's process table entry as bound in DC 1.
    dvs_procinfo_t pi{};
    int pr = dvs_getprocinfo(1, 10, &pi);
    CHILD_CHECK(pr < 0 || (pi.p_rts_flags & DVS_SLOT_FREE));
    return 0;
  });
  EXPECT_TRUE(s1.wait_ok());
  EXPECT_TRUE(r0.wait_ok());
}

TEST_F(CrossDc, SameEndpointInTwoDcsAreTwoProcesses) {
  const std::string sock = sock_;
  Pipe ready, sent;
  auto r0 = run_in_child("dc0-10", [&, sock] {
    CHILD_CHECK_EQ(10, open_and_bind(sock, 0, 10));
    ready.send(1);
    CHILD_CHECK(sent.recv().has_value());
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 200));
    return 0;
  });
  auto r1 = run_in_child("dc1-10", [&, sock] {
    CHILD_CHECK_EQ(10, open_and_bind(sock, 1, 10));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(11, m.m_source);
    CHILD_CHECK_EQ(5, m.m_type);
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(1, 10, &pi));
    CHILD_CHECK_EQ(1, pi.p_dcid);
    CHILD_CHECK_EQ(getpid(), pi.p_lpid);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  ASSERT_TRUE(ready.recv());
  auto s1 = run_in_child("dc1-11", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 1, 11));
    dvs_message_t m = make_msg(5);
    CHILD_CHECK_EQ(0, dvs_send_T(10, &m, 5000));
    sent.send(1);
    return 0;
  });
  EXPECT_TRUE(s1.wait_ok());
  EXPECT_TRUE(r1.wait_ok());
  EXPECT_TRUE(r0.wait_ok());
}

TEST_F(CrossDc, UserEndpointFromAnotherDcIsInvalid) {
  const std::string sock = sock_;
  Pipe ready, sent;
  auto u0 = run_in_child("dc0-user", [&, sock] {
    int ep = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep);
    ready.send(ep);
    CHILD_CHECK(sent.recv().has_value());
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 200));
    return 0;
  });
  auto ep = ready.recv();
  ASSERT_TRUE(ep);
  const int uep = static_cast<int>(*ep);
  auto s1 = run_in_child("dc1-sender", [&, sock, uep] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 1, 11));
    dvs_message_t m = make_msg(1);
    int r = dvs_send_T(uep, &m, 200);
    sent.send(r);
    CHILD_CHECK(r < 0);
    return 0;
  });
  EXPECT_TRUE(s1.wait_ok());
  EXPECT_TRUE(u0.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// privileges

using Privileges = DvsdTest;

constexpr int kAdmin = 3;   // a root process that changes privileges (as root may: authority.hpp)
constexpr int kCaller = 7;  // system process whose ipc_to is restricted
constexpr int kX = 8;       // denied system destination
constexpr int kY = 9;       // still allowed system destination
constexpr int kUser = 40;   // user destination (never checked)

bool ipc_to_bit(const dvs_priv_t& p, int idx) { return (p.ipc_to[idx / 64] >> (idx % 64)) & 1u; }
void clear_ipc_to_bit(dvs_priv_t& p, int idx) { p.ipc_to[idx / 64] &= ~(uint64_t{1} << (idx % 64)); }

TEST_F(Privileges, ClearedIpcToBitDeniesThatSystemDestinationOnly) {
  const std::string sock = sock_;
  Pipe ready, restricted, done;
  // Destinations: X (denied), Y (allowed), a user process.
  auto x = run_in_child("X", [&, sock] {
    CHILD_CHECK_EQ(kX, open_and_bind(sock, 0, kX));
    ready.send(1);
    dvs_message_t m{};
    // Nothing from the caller may arrive (not even a notify).
    CHILD_CHECK(done.recv(milliseconds(15000)).has_value());
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  auto y = run_in_child("Y", [&, sock] {
    CHILD_CHECK_EQ(kY, open_and_bind(sock, 0, kY));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(kCaller, m.m_source);
    CHILD_CHECK_EQ(21, m.m_type);
    return 0;
  });
  auto u = run_in_child("user", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, kUser));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(kCaller, m.m_source);
    CHILD_CHECK_EQ(22, m.m_type);
    return 0;
  });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ready.recv());
  auto caller = run_in_child("caller", [&, sock] {
    CHILD_CHECK_EQ(kCaller, open_and_bind(sock, 0, kCaller));
    ready.send(1);
    CHILD_CHECK(restricted.recv().has_value());
    dvs_message_t m = make_msg(20);
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSTRAPDENIED, dvs_send_T(kX, &m, 1000));
    CHILD_CHECK_EQ(EDVSTRAPDENIED, dvs_sendrec_T(kX, &m, 1000));
    CHILD_CHECK_EQ(EDVSTRAPDENIED, dvs_notify(kX));
    CHILD_CHECK(ms_since(t0) < 1000);  // refused at once
    m = make_msg(21);
    CHILD_CHECK_EQ(0, dvs_send_T(kY, &m, 5000));
    dvs_message_t mu = make_msg(22);
    const int uep = proc_ep(0, kUser);
    CHILD_CHECK_OK(uep);
    CHILD_CHECK_EQ(0, dvs_send_T(uep, &mu, 5000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto admin = run_in_child("admin", [&, sock] {
    CHILD_CHECK_EQ(kAdmin, open_and_bind(sock, 0, kAdmin));
    dvs_priv_t p{};
    CHILD_CHECK_OK(dvs_getpriv(0, kCaller, &p));
    const int idx_x = kX + kDefTasks, idx_y = kY + kDefTasks;
    CHILD_CHECK(ipc_to_bit(p, idx_x));  // allowed by default
    CHILD_CHECK(ipc_to_bit(p, idx_y));
    clear_ipc_to_bit(p, idx_x);
    CHILD_CHECK_OK(dvs_setpriv(0, kCaller, &p));
    dvs_priv_t q{};
    CHILD_CHECK_OK(dvs_getpriv(0, kCaller, &q));
    CHILD_CHECK(!ipc_to_bit(q, idx_x));
    CHILD_CHECK(ipc_to_bit(q, idx_y));
    CHILD_CHECK_EQ(p.level, q.level);
    CHILD_CHECK(std::memcmp(p.ipc_to, q.ipc_to, sizeof p.ipc_to) == 0);
    restricted.send(1);
    return 0;
  });
  EXPECT_TRUE(admin.wait_ok());
  EXPECT_TRUE(caller.wait_ok());
  done.send(1);
  EXPECT_TRUE(x.wait_ok());
  EXPECT_TRUE(y.wait_ok());
  EXPECT_TRUE(u.wait_ok());
}

TEST_F(Privileges, ReplyToADeniedSystemDestinationIsRefused) {
  const std::string sock = sock_;
  StartGate gate;
  Pipe restricted, refused;
  // X sendrecs to the caller; the caller's ipc_to no longer allows X, so its reply is refused.
  auto x = run_in_child("X", [&, sock] {
    CHILD_CHECK_EQ(kX, open_and_bind(sock, 0, kX));
    gate.arrive_and_wait();
    CHILD_CHECK(restricted.recv().has_value());
    dvs_message_t m = make_msg(1);
    int r = dvs_sendrec_T(kCaller, &m, 10000);
    CHILD_CHECK(refused.readable());  // the reply was refused before we were woken
    CHILD_CHECK_EQ(EDVSWOKENUP, r);     // the refused reply was not delivered
    return 0;
  });
  auto caller = run_in_child("caller", [&, sock] {
    CHILD_CHECK_EQ(kCaller, open_and_bind(sock, 0, kCaller));
    gate.arrive_and_wait();
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(kX, m.m_source);
    CHILD_CHECK_EQ(EDVSTRAPDENIED, dvs_reply_T(kX, &m, 1000));
    refused.send(1);
    // Release X by other means: wake it up.
    CHILD_CHECK_OK(dvs_wakeup(0, kX));
    return 0;
  });
  auto admin = run_in_child("admin", [&, sock] {
    CHILD_CHECK_EQ(kAdmin, open_and_bind(sock, 0, kAdmin));
    gate.arrive_and_wait();
    dvs_priv_t p{};
    CHILD_CHECK_OK(dvs_getpriv(0, kCaller, &p));
    clear_ipc_to_bit(p, kX + kDefTasks);
    CHILD_CHECK_OK(dvs_setpriv(0, kCaller, &p));
    restricted.send(1);
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(admin.wait_ok());
  EXPECT_TRUE(caller.wait_ok());
  EXPECT_TRUE(x.wait_ok(milliseconds(15000)));
}

TEST_F(CrossDc, VcopyCannotReachAnotherDcsProcess) {
  const std::string sock = sock_;
  Pipe info, done;
  // A DC 0 user process, blocked receiving, offers a buffer.
  auto owner = run_in_child("dc0-owner", [&, sock] {
    int ep = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep);
    std::vector<uint8_t> buf(256, 0);
    info.send(ep);
    info.send(static_cast<int64_t>(reinterpret_cast<uintptr_t>(buf.data())));
    dvs_message_t m{};
    int r = dvs_receive_T(DVS_ANY, &m, 15000);  // stays blocked receiving until released
    (void)r;
    for (uint8_t b : buf) CHILD_CHECK_EQ(0, b);
    return 0;
  });
  auto ep = info.recv();
  auto addr = info.recv();
  ASSERT_TRUE(ep && addr);
  const int oep = static_cast<int>(*ep);
  const uint64_t oaddr = static_cast<uint64_t>(*addr);
  auto rq = run_in_child("dc1-requester", [&, sock, oep, oaddr] {
    CHILD_CHECK_EQ(3, open_and_bind(sock, 1, 3));
    std::vector<uint8_t> mine(256, 0xab);
    long r = dvs_vcopy(3, mine.data(), oep, reinterpret_cast<void*>(oaddr), mine.size());
    if (r >= 0) fprintf(stderr, "vcopy from DC 1 into DC 0's endpoint %d copied %ld bytes\n", oep, r);
    CHILD_CHECK(r < 0);
    return 0;
  });
  EXPECT_TRUE(rq.wait_ok());
  // Release the owner (a DC 0 process sends it a message).
  auto rel = run_in_child("dc0-release", [&, sock, oep] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_send_T(oep, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(rel.wait_ok());
  EXPECT_TRUE(owner.wait_ok());
}

}  // namespace
