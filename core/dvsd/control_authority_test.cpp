// dvsd's authority over its control plane (docs/ARCHITECTURE.md, "Authority"), tried from real
// processes with other identities against a real dvsd: children of the test (root) give
// themselves an uid and gid no account has (core/testkit/identity.hpp) and try every management
// call. Each is refused with EDVSPRIVILEGES and leaves the DC as it was (observed from the test
// process over a raw control connection), while the same call from root, from a member of the
// admin group or from a holder of CAP_SYS_ADMIN goes through. Without the rights to change
// identity (not root) every test skips, saying so.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "core/ipc/control.hpp"
#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/poll_until.hpp"
#include "core/testkit/test_message.hpp"
#include "core/testkit/identity.hpp"
#include "core/testkit/raw_control.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using dvs::core::Op;
using dvs::core::Reply;
using dvs::core::Request;

// ---- what the test process sees of a DC (raw control connection: it never opens libdvs)

struct SlotState {
  int ep;
  uint32_t flags;
  pid_t pid;
  bool operator==(const SlotState&) const = default;
};

struct DcState {
  uint32_t nodes = 0;
  std::map<int, SlotState> taken;  // p_nr -> state, for every slot that is not FREE
  bool operator==(const DcState&) const = default;

  // The same without the slots bound by pid (a child's own binding, expected to be there).
  DcState without(pid_t pid) const {
    DcState out = *this;
    std::erase_if(out.taken, [pid](const auto& kv) { return kv.second.pid == pid; });
    return out;
  }
  std::string describe() const {
    std::ostringstream o;
    o << "nodes " << nodes << "; taken:";
    for (const auto& [p, s] : taken) o << " " << p << "(ep " << s.ep << " flags " << s.flags << " pid " << s.pid << ")";
    return o.str();
  }
};

std::ostream& operator<<(std::ostream& o, const DcState& s) { return o << s.describe(); }

DcState observe(const std::string& sock, int dc = 0) {
  DcState st;
  int fd = raw_connect(sock);
  EXPECT_GE(fd, 0) << "cannot connect to " << sock;
  if (fd < 0) return st;
  Reply rp;
  EXPECT_EQ(0, raw_call(fd, make_request(Op::GetDcInfo, dc), &rp));
  st.nodes = rp.dcinfo.nodes;
  for (int p = -rp.dcinfo.nr_tasks, end = rp.dcinfo.nr_procs; p < end; ++p) {
    Request rq = make_request(Op::GetProcInfo, dc);
    rq.p_nr = p;
    Reply pi;
    EXPECT_EQ(0, raw_call(fd, rq, &pi));
    if (!(pi.procinfo.p_rts_flags & DVS_SLOT_FREE))
      st.taken[p] = SlotState{pi.procinfo.p_endpoint, pi.procinfo.p_rts_flags, pi.procinfo.p_lpid};
  }
  close(fd);
  return st;
}

dvs_priv_t observe_priv(const std::string& sock, int ep) {
  int fd = raw_connect(sock);
  Request rq = make_request(Op::GetPriv, 0);
  rq.ep = ep;
  Reply rp;
  EXPECT_EQ(0, raw_call(fd, rq, &rp));
  close(fd);
  return rp.priv;
}

bool same_priv(const dvs_priv_t& a, const dvs_priv_t& b) {
  return a.level == b.level && std::equal(std::begin(a.ipc_to), std::end(a.ipc_to), std::begin(b.ipc_to));
}

// ---- children with another identity

// A child that takes identity id and then runs body (which opens dvs itself).
ForkedChild as(const Identity& id, std::string name, std::function<int()> body, bool keep_sys_admin = false) {
  return run_in_child(std::move(name), [id, body, keep_sys_admin] {
    if (auto err = become(id, keep_sys_admin); !err.empty()) {
      child_fail(__FILE__, __LINE__, "cannot take the identity: " + err);
      return 30;
    }
    return body();
  });
}

// The calling thread binds as a thread to p_nr: its endpoint or the error (a task's endpoint is
// negative: dvs_self() tells them apart, as documented in dvs.h).
int tbind_in_thread(int p_nr) {
  int rc = 0;
  std::thread t([&] {
    rc = dvs_tbind(0, p_nr);
    if (rc < 0 && dvs_self() != rc) return;
    dvs_unbind(0, rc);
  });
  t.join();
  return rc;
}

constexpr int kSystem = 10;                      // a system process slot
constexpr int kTask = -5;                        // a task slot
constexpr int kLastSystem = kFirstUser - 1;      // the highest system p_nr
constexpr int kUser = kFirstUser + 20;           // a user slot
constexpr int kPeerNode = 0;                     // the DC spans it (dvsd's --peer)

class Authority : public DvsdTest {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.node = 1;
    o.extra_args = {"--listen",      "tcp://127.0.0.1:0", "--peer", std::to_string(kPeerNode), "--socket-mode", "0666",
                    "--admin-group", std::to_string(admin_gid_), "--verbose"};
    return o;
  }
  void SetUp() override {
    if (auto why = cannot_change_identity(); !why.empty()) GTEST_SKIP() << why;
    DvsdTest::SetUp();
    if (HasFatalFailure()) return;
    // Every uid may reach the socket's directory: the socket's own mode says who may connect.
    ASSERT_EQ(0, chmod(dvsd_->temp_dir().c_str(), 0755));
  }
  // The other side of a test: a root process bound to p_nr until done is signalled.
  ForkedChild bound_until(int p_nr, Pipe& ready, Pipe& done) {
    const std::string sock = sock_;
    return run_in_child("root@" + std::to_string(p_nr), [&, sock, p_nr] {
      const int ep = open_and_bind(sock, 0, p_nr);
      CHILD_CHECK_OK(ep);
      ready.send(ep);
      CHILD_CHECK(done.recv(Millis(20000)).has_value());
      return 0;
    });
  }

  const Identity stranger_ = stranger();
  const gid_t admin_gid_ = unused_gid();
};

// ---------------------------------------------------------------------------------------------
// Escalations: each refused with EDVSPRIVILEGES, nothing left behind, the same call fine for root

TEST_F(Authority, UnprivilegedProcessCannotBindASystemSlot) {
  const std::string sock = sock_;
  const DcState before = observe(sock);
  Pipe refused, go;
  auto attacker = as(stranger_, "stranger", [&, sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    for (int p : {kSystem, kTask, -kDefTasks, kLastSystem, DVS_ENDPOINT(1, kSystem)})
      CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_bind(0, p));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, tbind_in_thread(kSystem));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, tbind_in_thread(kTask));
    refused.send(1);
    CHILD_CHECK(go.recv().has_value());
    // User slots are its to take.
    CHILD_CHECK_EQ(kFirstUser, DVS_ENDPOINT_P(dvs_bind(0, kFirstUser)));
    CHILD_CHECK_EQ(kUser, DVS_ENDPOINT_P(tbind_in_thread(kUser)));
    return 0;
  });
  ASSERT_TRUE(refused.recv());
  EXPECT_EQ(before, observe(sock));
  go.send(1);
  EXPECT_TRUE(attacker.wait_ok());

  auto root = run_in_child("root", [sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(kTask, tbind_in_thread(kTask));
    CHILD_CHECK_EQ(kLastSystem, tbind_in_thread(kLastSystem));
    CHILD_CHECK_EQ(kSystem, dvs_bind(0, kSystem));
    return 0;
  });
  EXPECT_TRUE(root.wait_ok());
}

TEST_F(Authority, UnprivilegedProcessCannotLclbind) {
  const std::string sock = sock_;
  const DcState before = observe(sock);
  Pipe refused, go;
  auto attacker = as(stranger_, "stranger", [&, sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    // Bound nowhere, then bound to a user slot: neither may bind another process, nor itself.
    for (int round = 0; round < 2; ++round) {
      CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_lclbind(0, 1, kUser));
      CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_lclbind(0, getppid(), kUser));
      CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_lclbind(0, getpid(), kUser + 1));
      CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_lclbind(0, getpid(), kSystem));
      CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_lclbind(7, getpid(), kSystem));  // authority is checked first
      if (round == 0) CHILD_CHECK_OK(dvs_bind(0, DVS_ANY));
    }
    refused.send(1);
    CHILD_CHECK(go.recv().has_value());
    return 0;
  });
  ASSERT_TRUE(refused.recv());
  EXPECT_EQ(before, observe(sock).without(attacker.pid()));
  go.send(1);
  EXPECT_TRUE(attacker.wait_ok());

  Pipe ep_pipe;
  auto waiter = run_in_child("waiter", [&, sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    const int ep = dvs_wait4bind_T(10000);
    CHILD_CHECK_EQ(kUser, DVS_ENDPOINT_P(ep));
    ep_pipe.send(ep);
    return 0;
  });
  const pid_t wpid = waiter.pid();
  auto root = run_in_child("root", [&, sock, wpid] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    const int ep = dvs_lclbind(0, wpid, kUser);
    CHILD_CHECK_EQ(kUser, DVS_ENDPOINT_P(ep));
    auto taken = ep_pipe.recv();
    CHILD_CHECK(taken.has_value());
    CHILD_CHECK_EQ(ep, *taken);
    return 0;
  });
  EXPECT_TRUE(root.wait_ok());
  EXPECT_TRUE(waiter.wait_ok());
}

TEST_F(Authority, UnprivilegedProcessCannotRmtbind) {
  const std::string sock = sock_;
  const DcState before = observe(sock);
  auto attacker = as(stranger_, "stranger", [sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_rmtbind(0, kUser, kPeerNode));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_rmtbind(0, kSystem, kPeerNode));
    CHILD_CHECK_OK(dvs_bind(0, DVS_ANY));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_rmtbind(0, kUser, kPeerNode));
    return 0;
  });
  EXPECT_TRUE(attacker.wait_ok());
  EXPECT_TRUE(poll_until([&] { return observe(sock) == before; })) << observe(sock);

  auto root = run_in_child("root", [sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(0, dvs_rmtbind(0, kSystem, kPeerNode));
    return 0;
  });
  EXPECT_TRUE(root.wait_ok());
  const DcState after = observe(sock);
  ASSERT_EQ(1u, after.taken.count(kSystem)) << after;
  EXPECT_TRUE(after.taken.at(kSystem).flags & DVS_REMOTE) << after;
}

TEST_F(Authority, UnprivilegedProcessCannotAddOrDeleteNodes) {
  const std::string sock = sock_;
  const DcState before = observe(sock);
  ASSERT_EQ((1u << kPeerNode) | (1u << 1), before.nodes);
  auto attacker = as(stranger_, "stranger", [sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_del_node(0, kPeerNode));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_add_node(0, kPeerNode));
    CHILD_CHECK_OK(dvs_bind(0, DVS_ANY));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_del_node(0, kPeerNode));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_add_node(0, 5));
    return 0;
  });
  EXPECT_TRUE(attacker.wait_ok());
  EXPECT_TRUE(poll_until([&] { return observe(sock) == before; })) << observe(sock);

  Pipe deleted, checked;
  auto root = run_in_child("root", [&, sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(0, dvs_del_node(0, kPeerNode));
    deleted.send(1);
    CHILD_CHECK(checked.recv().has_value());
    CHILD_CHECK_EQ(0, dvs_add_node(0, kPeerNode));
    return 0;
  });
  ASSERT_TRUE(deleted.recv());
  EXPECT_EQ(1u << 1, observe(sock).nodes);
  checked.send(1);
  EXPECT_TRUE(root.wait_ok());
  EXPECT_EQ(before, observe(sock));
}

TEST_F(Authority, UnprivilegedProcessCannotSetPrivileges) {
  const std::string sock = sock_;
  Pipe ready, done;
  auto server = bound_until(kSystem, ready, done);
  ASSERT_TRUE(ready.recv());
  const dvs_priv_t before = observe_priv(sock, kSystem);
  const int denied_index = kSystem + 1 + kDefTasks;  // a system destination the server may reach
  auto attacker = as(stranger_, "stranger", [sock, denied_index] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    dvs_priv_t p{};
    CHILD_CHECK_EQ(0, dvs_getpriv(0, kSystem, &p));  // asking is allowed
    p.ipc_to[denied_index / 64] &= ~(uint64_t{1} << (denied_index % 64));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_setpriv(0, kSystem, &p));
    const int own = dvs_bind(0, DVS_ANY);
    CHILD_CHECK_OK(own);
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_setpriv(0, kSystem, &p));
    dvs_priv_t mine{};
    CHILD_CHECK_EQ(0, dvs_getpriv(0, own, &mine));
    mine.level = DVS_LEVEL_SYSTEM;  // raising its own level does not work either
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_setpriv(0, own, &mine));
    CHILD_CHECK_EQ(0, dvs_getpriv(0, own, &mine));
    CHILD_CHECK_EQ(DVS_LEVEL_USER, mine.level);
    return 0;
  });
  EXPECT_TRUE(attacker.wait_ok());
  EXPECT_TRUE(same_priv(before, observe_priv(sock, kSystem)));

  // Authority is the process's, not an endpoint's: root changes them bound nowhere.
  auto root = run_in_child("root", [sock, denied_index] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    dvs_priv_t p{};
    CHILD_CHECK_EQ(0, dvs_getpriv(0, kSystem, &p));
    p.ipc_to[denied_index / 64] &= ~(uint64_t{1} << (denied_index % 64));
    CHILD_CHECK_EQ(0, dvs_setpriv(0, kSystem, &p));
    return 0;
  });
  EXPECT_TRUE(root.wait_ok());
  EXPECT_FALSE(same_priv(before, observe_priv(sock, kSystem)));
  done.send(1);
  EXPECT_TRUE(server.wait_ok());
}

TEST_F(Authority, UnprivilegedProcessUnbindsOnlyItsOwnEndpoints) {
  const std::string sock = sock_;
  Pipe ready, done;
  auto root_victim = bound_until(kSystem, ready, done);
  ASSERT_TRUE(ready.recv());
  // A victim of the same uid as the attacker: it is still another process.
  auto peer_victim = as(stranger_, "stranger-victim", [&, sock] {
    const int ep = open_and_bind(sock, 0, DVS_ANY);
    CHILD_CHECK_OK(ep);
    ready.send(ep);
    CHILD_CHECK(done.recv(Millis(20000)).has_value());
    return 0;
  });
  auto peer_ep = ready.recv();
  ASSERT_TRUE(peer_ep);
  const int victim_ep = static_cast<int>(*peer_ep);
  const DcState before = observe(sock);
  Pipe refused, go;
  auto attacker = as(stranger_, "stranger", [&, sock, victim_ep] {
    const int own = open_and_bind(sock, 0, DVS_ANY);
    CHILD_CHECK_OK(own);
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_unbind(0, kSystem));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_unbind(0, victim_ep));
    refused.send(1);
    CHILD_CHECK(go.recv().has_value());
    CHILD_CHECK_EQ(0, dvs_unbind(0, own));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_self());
    return 0;
  });
  ASSERT_TRUE(refused.recv());
  EXPECT_EQ(before, observe(sock).without(attacker.pid()));
  go.send(1);
  EXPECT_TRUE(attacker.wait_ok());
  EXPECT_EQ(before, observe(sock));

  auto root = run_in_child("root", [sock, victim_ep] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(0, dvs_unbind(0, victim_ep));
    return 0;
  });
  EXPECT_TRUE(root.wait_ok());
  EXPECT_EQ(0u, observe(sock).taken.count(DVS_ENDPOINT_P(victim_ep)));
  done.send(1);
  done.send(1);
  EXPECT_TRUE(root_victim.wait_ok());
  EXPECT_TRUE(peer_victim.wait_ok());
}

// The kernel's record of each request's sender decides, never the connection's history nor a
// field of the request: a connection root made serves its holder no better once it is not root.
TEST_F(Authority, AuthorityIsJudgedForEachRequestFromItsSender) {
  const std::string sock = sock_;
  const DcState before = observe(sock);
  const Identity who = stranger_;
  auto child = run_in_child("root-then-stranger", [sock, who] {
    const int fd = raw_connect(sock);
    CHILD_CHECK(fd >= 0);
    Reply rp;
    CHILD_CHECK_EQ(0, raw_call(fd, make_request(Op::Hello), &rp));
    if (auto err = become(who); !err.empty()) {
      child_fail(__FILE__, __LINE__, err);
      return 30;
    }
    Request bind = make_request(Op::Bind);
    bind.p_nr = kSystem;
    bind.pid = 1;  // fields that look like a requester are no such thing
    bind.tid = 1;
    CHILD_CHECK_EQ(EDVSPRIVILEGES, raw_call(fd, bind, &rp));
    Request lcl = make_request(Op::LclBind);
    lcl.pid = getpid();
    lcl.p_nr = kUser;
    CHILD_CHECK_EQ(EDVSPRIVILEGES, raw_call(fd, lcl, &rp));
    Request del = make_request(Op::DelNode);
    del.node = kPeerNode;
    del.pid = 1;
    CHILD_CHECK_EQ(EDVSPRIVILEGES, raw_call(fd, del, &rp));
    close(fd);
    return 0;
  });
  EXPECT_TRUE(child.wait_ok());
  EXPECT_EQ(before, observe(sock));
}

// ---------------------------------------------------------------------------------------------
// What a process without authority does: IPC as usual

TEST_F(Authority, UnprivilegedProcessDoesIpcWithARootServer) {
  const std::string sock = sock_;
  Pipe ready;
  auto server = run_in_child("root-server", [&, sock] {
    CHILD_CHECK_EQ(kSystem, open_and_bind(sock, 0, kSystem));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    const int client = m.m_source;
    CHILD_CHECK(payload_ok(m, 7));
    m = make_msg(2, 9);
    CHILD_CHECK_EQ(0, dvs_reply_T(client, &m, 5000));
    CHILD_CHECK_EQ(0, dvs_notify(client));
    m = make_msg(3, 11);
    CHILD_CHECK_EQ(0, dvs_send_T(client, &m, 10000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = as(stranger_, "stranger-client", [sock] {
    const int ep = open_and_bind(sock, 0, DVS_ANY);
    CHILD_CHECK_OK(ep);
    dvs_message_t m = make_msg(1, 7);
    CHILD_CHECK_EQ(0, dvs_sendrec_T(kSystem, &m, 10000));
    CHILD_CHECK_EQ(2, m.m_type);
    CHILD_CHECK(payload_ok(m, 9));
    CHILD_CHECK_EQ(0, dvs_receive_T(kSystem, &m, 10000));  // the notify
    CHILD_CHECK_EQ(kSystem, m.m_source);
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(3, m.m_type);
    CHILD_CHECK(payload_ok(m, 11));
    return 0;
  });
  EXPECT_TRUE(client.wait_ok(Millis(15000)));
  EXPECT_TRUE(server.wait_ok(Millis(15000)));
}

// ---------------------------------------------------------------------------------------------
// Who holds authority besides root

// Every management call, expected to go through for the calling process. victim_ep: an endpoint
// of another process; waiter: a process waiting in wait4bind.
int manage_everything(const std::string& sock, int victim_ep, pid_t waiter) {
  CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
  CHILD_CHECK_EQ(kTask, tbind_in_thread(kTask));
  CHILD_CHECK_EQ(kSystem + 1, dvs_bind(0, kSystem + 1));
  CHILD_CHECK_EQ(kUser, DVS_ENDPOINT_P(dvs_lclbind(0, waiter, kUser)));
  CHILD_CHECK_EQ(0, dvs_rmtbind(0, kSystem + 2, kPeerNode));
  CHILD_CHECK_EQ(0, dvs_del_node(0, kPeerNode));
  CHILD_CHECK_EQ(0, dvs_add_node(0, kPeerNode));
  dvs_priv_t p{};
  CHILD_CHECK_EQ(0, dvs_getpriv(0, kSystem, &p));
  CHILD_CHECK_EQ(0, dvs_setpriv(0, kSystem, &p));
  CHILD_CHECK_EQ(0, dvs_unbind(0, victim_ep));
  return 0;
}

// Runs manage_everything in a child of identity id against a root victim and a waiter.
void expect_manages_everything(const std::string& sock, const Identity& id, bool keep_sys_admin) {
  Pipe ready, done, taken;
  auto victim = run_in_child("root-victim", [&, sock] {
    CHILD_CHECK_EQ(kSystem, open_and_bind(sock, 0, kSystem));
    ready.send(1);
    CHILD_CHECK(done.recv(Millis(20000)).has_value());
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto waiter = run_in_child("waiter", [&, sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(kUser, DVS_ENDPOINT_P(dvs_wait4bind_T(10000)));
    taken.send(1);
    return 0;
  });
  const pid_t wpid = waiter.pid();
  auto manager = as(id, "manager", [&, sock, wpid] {
    if (int rc = manage_everything(sock, kSystem, wpid); rc != 0) return rc;
    CHILD_CHECK(taken.recv().has_value());  // the lclbind is taken before this connection closes
    return 0;
  }, keep_sys_admin);
  EXPECT_TRUE(manager.wait_ok(Millis(15000)));
  EXPECT_TRUE(waiter.wait_ok());
  done.send(1);
  EXPECT_TRUE(victim.wait_ok());
}

TEST_F(Authority, SupplementaryMemberOfTheAdminGroupMayManage) {
  Identity member = stranger_;
  member.groups = {admin_gid_};
  expect_manages_everything(sock_, member, false);
}

TEST_F(Authority, PrimaryMemberOfTheAdminGroupMayManage) {
  Identity member = stranger_;
  member.gid = admin_gid_;
  expect_manages_everything(sock_, member, false);
}

TEST_F(Authority, HolderOfCapSysAdminMayManage) { expect_manages_everything(sock_, stranger_, true); }

// CAP_SYS_ADMIN counts only in dvsd's user namespace: a process that made its own has every
// capability there, and none over dvsd.
TEST_F(Authority, CapSysAdminOfAnotherUserNamespaceConfersNothing) {
  const std::string sock = sock_;
  const DcState before = observe(sock);
  constexpr int kNoUserNamespace = 40;
  auto child = as(stranger_, "stranger-in-own-userns", [sock] {
    if (unshare(CLONE_NEWUSER) != 0) {
      std::fprintf(stderr, "unshare(CLONE_NEWUSER): %s\n", std::strerror(errno));
      return kNoUserNamespace;
    }
    CHILD_CHECK(effective_capabilities() & (uint64_t{1} << CAP_SYS_ADMIN));
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_bind(0, kSystem));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_del_node(0, kPeerNode));
    CHILD_CHECK_EQ(EDVSPRIVILEGES, dvs_lclbind(0, getpid(), kUser));
    return 0;
  });
  const ChildStatus st = child.wait();
  if (st.exited && st.exit_code == kNoUserNamespace)
    GTEST_SKIP() << "this system does not let an unprivileged process create a user namespace";
  EXPECT_TRUE(st.exited && st.exit_code == 0) << st.describe();
  EXPECT_EQ(before, observe(sock));
}

// ---------------------------------------------------------------------------------------------
// lclbind cannot leak slots

TEST_F(Authority, LclbindNotTakenIsReleasedWithTheConnectionThatMadeIt) {
  const std::string sock = sock_;
  const DcState before = observe(sock);
  Pipe done;
  auto target = run_in_child("never-takes", [&] {
    CHILD_CHECK(done.recv(Millis(20000)).has_value());
    return 0;
  });
  const pid_t tpid = target.pid();
  Pipe reserved, leave;
  auto binder = run_in_child("binder", [&, sock, tpid] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(kUser, DVS_ENDPOINT_P(dvs_lclbind(0, tpid, kUser)));
    CHILD_CHECK_EQ(kSystem, dvs_lclbind(0, tpid, kSystem));
    CHILD_CHECK_EQ(-kDefTasks, dvs_lclbind(0, 1, -kDefTasks));
    reserved.send(1);
    CHILD_CHECK(leave.recv().has_value());
    return 0;
  });
  ASSERT_TRUE(reserved.recv());
  EXPECT_EQ(3u, observe(sock).taken.size() - before.taken.size());
  leave.send(1);
  EXPECT_TRUE(binder.wait_ok());
  EXPECT_TRUE(poll_until([&] { return observe(sock) == before; })) << observe(sock);
  done.send(1);
  EXPECT_TRUE(target.wait_ok());
}

// A taken lclbind belongs to the process that took it: it outlives the connection that made it and
// goes with the taker's own connection.
TEST_F(Authority, TakenLclbindBelongsToTheTaker) {
  const std::string sock = sock_;
  const DcState before = observe(sock);
  Pipe taken, binder_gone, closed, done;
  auto waiter = run_in_child("waiter", [&, sock] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    const int ep = dvs_wait4bind_T(10000);
    CHILD_CHECK_EQ(kUser, DVS_ENDPOINT_P(ep));
    taken.send(ep);
    CHILD_CHECK(binder_gone.recv().has_value());
    dvs_close();
    closed.send(1);
    CHILD_CHECK(done.recv(Millis(20000)).has_value());
    return 0;
  });
  const pid_t wpid = waiter.pid();
  auto binder = run_in_child("binder", [&, sock, wpid] {
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(kUser, DVS_ENDPOINT_P(dvs_lclbind(0, wpid, kUser)));
    CHILD_CHECK(taken.recv().has_value());
    return 0;
  });
  EXPECT_TRUE(binder.wait_ok());
  binder_gone.send(1);
  ASSERT_TRUE(closed.recv());
  EXPECT_TRUE(poll_until([&] { return observe(sock) == before; })) << observe(sock);
  // It went with the waiter's connection, not with the binder's, which closed first.
  const std::string log = dvsd_->stderr_output();
  EXPECT_NE(std::string::npos, log.find("pid " + std::to_string(wpid) + "): its control connection closed")) << log;
  EXPECT_EQ(std::string::npos, log.find("before it was taken")) << log;
  done.send(1);
  EXPECT_TRUE(waiter.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// The socket's permissions decide who may connect at all

class SocketAccess : public DvsdTest {
 protected:
  void SetUp() override {
    if (auto why = cannot_change_identity(); !why.empty()) GTEST_SKIP() << why;
    DvsdTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(0, chmod(dvsd_->temp_dir().c_str(), 0755));
  }
  // A stranger (with these supplementary groups) opens dvs and binds a user slot: its rc.
  int stranger_binds(std::vector<gid_t> groups) {
    Identity id = stranger();
    id.groups = std::move(groups);
    Pipe rc;
    const std::string sock = sock_;
    auto c = as(id, "stranger", [&, sock] {
      int r = dvs_open(sock.c_str());
      if (r == 0) r = dvs_bind(0, DVS_ANY);
      rc.send(r);
      return 0;
    });
    EXPECT_TRUE(c.wait_ok());
    auto r = rc.recv();
    return r ? static_cast<int>(*r) : 1;
  }
  struct stat socket_stat() const {
    struct stat st {};
    EXPECT_EQ(0, stat(sock_.c_str(), &st));
    return st;
  }
};

TEST_F(SocketAccess, ByDefaultOnlyDvsdsUserAndGroupMayConnect) {
  const struct stat st = socket_stat();
  EXPECT_EQ(0660u, st.st_mode & 07777);
  EXPECT_EQ(getegid(), st.st_gid);
  EXPECT_RC(EDVSDVSINIT, stranger_binds({}));
}

class SocketGroup : public SocketAccess {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.extra_args = {"--socket-group", std::to_string(group_)};
    return o;
  }
  const gid_t group_ = unused_gid();
};

TEST_F(SocketGroup, MembersOfTheSocketGroupMayConnect) {
  const struct stat st = socket_stat();
  EXPECT_EQ(0660u, st.st_mode & 07777);
  EXPECT_EQ(group_, st.st_gid);
  EXPECT_LE(0, stranger_binds({group_}));
  EXPECT_RC(EDVSDVSINIT, stranger_binds({}));
}

class SocketMode : public SocketAccess {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.extra_args = {"--socket-mode", "0600"};
    return o;
  }
};

TEST_F(SocketMode, ModeIsTheOneGiven) { EXPECT_EQ(0600u, socket_stat().st_mode & 07777); }

}  // namespace
