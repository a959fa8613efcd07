// Endpoint encoding, binding and identity (real dvsd, real forked processes).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/poll_until.hpp"
#include "core/testkit/test_message.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// Encoding macros (no dvsd)

TEST(Endpoint, GenSizeIsTheOriginals) {
  EXPECT_EQ(35570, DVS_GEN_SIZE);
  EXPECT_EQ(35, DVS_NR_TASKS_MAX);
  EXPECT_EQ(0x7ace, DVS_ANY);
  EXPECT_EQ(0x6ace, DVS_NONE);
  EXPECT_EQ(0x8ace, DVS_SELF);
}

TEST(Endpoint, RoundTripsIncludingTasks) {
  for (int gen = 0; gen < 6; ++gen) {
    for (int p = -DVS_NR_TASKS_MAX; p < 512; ++p) {
      const int e = DVS_ENDPOINT(gen, p);
      ASSERT_EQ(p, DVS_ENDPOINT_P(e)) << "gen " << gen << " p_nr " << p;
      ASSERT_EQ(gen, DVS_ENDPOINT_G(e)) << "gen " << gen << " p_nr " << p;
    }
  }
  // Generation 0 endpoints are the slot numbers themselves.
  EXPECT_EQ(-35, DVS_ENDPOINT(0, -35));
  EXPECT_EQ(28, DVS_ENDPOINT(0, 28));
  // Known values (2013-era logs used GEN_SIZE 35539: p_nr 1 -> 35540; here 35571).
  EXPECT_EQ(35571, DVS_ENDPOINT(1, 1));
  EXPECT_EQ(35565, DVS_ENDPOINT(1, -5));
  EXPECT_EQ(-5, DVS_ENDPOINT_P(35565));
  EXPECT_EQ(1, DVS_ENDPOINT_G(35565));
  EXPECT_EQ(2 * 35570 + 200, DVS_ENDPOINT(2, 200));
}

TEST(Endpoint, LargeGenerationsRoundTrip) {
  for (int gen : {100, 1000, 30000, 60000}) {
    for (int p : {-35, -1, 0, 28, 29, 220}) {
      const int e = DVS_ENDPOINT(gen, p);
      EXPECT_EQ(p, DVS_ENDPOINT_P(e));
      EXPECT_EQ(gen, DVS_ENDPOINT_G(e));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Binding

using Bind = DvsdTest;

TEST_F(Bind, SystemSlotsHaveEndpointEqualToPnr) {
  const std::string sock = sock_;
  std::vector<ForkedChild> kids;
  for (int p : {0, 5, 28}) {
    kids.push_back(run_in_child("bind" + std::to_string(p), [sock, p] {
      int ep = open_and_bind(sock, 0, p);
      CHILD_CHECK_EQ(p, ep);
      CHILD_CHECK_EQ(ep, dvs_self());
      return 0;
    }));
  }
  for (auto& k : kids) EXPECT_TRUE(k.wait_ok());
}

// Task slots (p_nr -35..-1) are system slots too: generation 0, endpoint == p_nr, which is
// negative. dvs.h says bind "returns the endpoint" and "< 0 an EDVS* code": for tasks the two
// ranges overlap (-35 == EDVSDEADLK), so the caller must be able to tell success by other means
// (dvs_self()) and the slot must be usable and freed like any other.
TEST_F(Bind, TaskSlotsBindWithTheirNegativeEndpoint) {
  const std::string sock = sock_;
  for (int round = 0; round < 2; ++round) {  // round 2: the slots were freed at exit
    std::vector<ForkedChild> kids;
    for (int p : {-35, -2, -1}) {
      kids.push_back(run_in_child("task" + std::to_string(p), [sock, p] {
        CHILD_CHECK_OK(dvs_open(sock.c_str()));
        int ep = dvs_bind(0, p);
        CHILD_CHECK_EQ(p, ep);
        CHILD_CHECK_EQ(p, dvs_self());
        dvs_procinfo_t pi{};
        CHILD_CHECK_OK(dvs_getprocinfo(0, p, &pi));
        CHILD_CHECK_EQ(p, pi.p_endpoint);
        CHILD_CHECK_EQ(getpid(), pi.p_lpid);
        return 0;
      }));
    }
    for (auto& k : kids) EXPECT_TRUE(k.wait_ok()) << "round " << round;
  }
}

TEST_F(Bind, TaskCanTalkToAServer) {
  const std::string sock = sock_;
  Pipe ready;
  auto srv = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(10, open_and_bind(sock, 0, 10));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(-2, m.m_source);
    CHILD_CHECK_EQ(0, dvs_reply_T(-2, &m, 5000));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto task = run_in_child("task", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    dvs_bind(0, -2);
    CHILD_CHECK_EQ(-2, dvs_self());
    dvs_message_t m = make_msg(4);
    CHILD_CHECK_EQ(0, dvs_sendrec_T(10, &m, 5000));
    CHILD_CHECK_EQ(10, m.m_source);
    return 0;
  });
  EXPECT_TRUE(task.wait_ok());
  EXPECT_TRUE(srv.wait_ok());
}

TEST_F(Bind, UserSlotEndpointEncodesPnr) {
  const std::string sock = sock_;
  auto k = run_in_child("user", [sock] {
    int ep = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep);
    CHILD_CHECK_EQ(40, DVS_ENDPOINT_P(ep));
    CHILD_CHECK_EQ(ep, dvs_self());
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, 40, &pi));
    CHILD_CHECK_EQ(40, pi.p_nr);
    CHILD_CHECK_EQ(ep, pi.p_endpoint);
    CHILD_CHECK_EQ(0, pi.p_dcid);
    CHILD_CHECK_EQ(getpid(), pi.p_lpid);
    CHILD_CHECK_EQ(0, pi.p_rts_flags & DVS_SLOT_FREE);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Bind, RebindGivesNewGenerationAndOldEndpointIsStale) {
  const std::string sock = sock_;
  Pipe eps;     // the user process reports its old and new endpoints
  Pipe rebound; // go for the checker
  auto user = run_in_child("user", [&, sock] {
    int ep1 = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep1);
    CHILD_CHECK_OK(dvs_unbind(0, ep1));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_self());
    int ep2 = dvs_bind(0, 40);
    CHILD_CHECK_OK(ep2);
    CHILD_CHECK_EQ(40, DVS_ENDPOINT_P(ep2));
    CHILD_CHECK(ep1 != ep2);
    CHILD_CHECK(DVS_ENDPOINT_G(ep1) != DVS_ENDPOINT_G(ep2));
    eps.send(ep1);
    eps.send(ep2);
    // Serve one message sent to the new endpoint, none to the old one.
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(7, m.m_type);
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 0));
    return 0;
  });
  auto ep1 = eps.recv();
  auto ep2 = eps.recv();
  ASSERT_TRUE(ep1 && ep2);
  auto checker = run_in_child("checker", [&, sock] {
    CHILD_CHECK_EQ(10, open_and_bind(sock, 0, 10));
    dvs_message_t m = make_msg(6);
    CHILD_CHECK_EQ(EDVSENDPOINT, dvs_send_T(static_cast<int>(*ep1), &m, 1000));
    CHILD_CHECK_EQ(EDVSENDPOINT, dvs_sendrec_T(static_cast<int>(*ep1), &m, 1000));
    m = make_msg(7);
    CHILD_CHECK_EQ(0, dvs_send_T(static_cast<int>(*ep2), &m, 5000));
    return 0;
  });
  EXPECT_TRUE(checker.wait_ok());
  EXPECT_TRUE(user.wait_ok());
}

TEST_F(Bind, SlotUsedOutOfRangeUnknownDcAlreadyBound) {
  const std::string sock = sock_;
  Pipe bound, done;
  auto holder = run_in_child("holder", [&, sock] {
    CHILD_CHECK_EQ(10, open_and_bind(sock, 0, 10));
    int u = dvs_bind(0, 41);
    CHILD_CHECK_EQ(EDVSBUSY, u);  // a process binds once (threads use tbind)
    bound.send(1);
    done.recv(milliseconds(10000));
    return 0;
  });
  ASSERT_TRUE(bound.recv());
  auto other = run_in_child("other", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(EDVSSLOTUSED, dvs_bind(0, 10));
    CHILD_CHECK_EQ(EDVSBADPROC, dvs_bind(0, kDefProcs));      // 221: one past the end
    CHILD_CHECK_EQ(EDVSBADPROC, dvs_bind(0, -kDefTasks - 1)); // -36
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_bind(5, 10));            // only DC 0 exists
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_bind(-1, 10));
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_bind(DVS_NR_DCS, 10));
    // The failures did not bind us.
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_self());
    // A failed bind leaves us free to bind elsewhere.
    CHILD_CHECK_EQ(11, dvs_bind(0, 11));
    return 0;
  });
  EXPECT_TRUE(other.wait_ok());
  done.send(1);
  EXPECT_TRUE(holder.wait_ok());
}

TEST_F(Bind, UnboundCallerGetsNotBind) {
  const std::string sock = sock_;
  Pipe bound, done;
  auto peer = run_in_child("peer", [&, sock] {
    CHILD_CHECK_EQ(10, open_and_bind(sock, 0, 10));
    bound.send(1);
    done.recv(milliseconds(10000));
    return 0;
  });
  ASSERT_TRUE(bound.recv());
  auto k = run_in_child("unbound", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_self());
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_send_T(10, &m, 100));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_receive_T(DVS_ANY, &m, 100));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_sendrec_T(10, &m, 100));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_notify(10));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_rcvrqst_T(&m, 0));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_reply_T(10, &m, 0));
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
  done.send(1);
  EXPECT_TRUE(peer.wait_ok());
}

TEST(BindNoDaemon, OpenWithoutDvsdFails) {
  char tmpl[] = "/tmp/dvst-nodvsd-XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(tmpl));
  const std::string dir = tmpl;
  const std::string path = dir + "/nobody.sock";
  auto k = run_in_child("open", [path] {
    CHILD_CHECK_EQ(EDVSDVSINIT, dvs_nodeid());
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSDVSINIT, dvs_open(path.c_str()));
    CHILD_CHECK(ms_since(t0) < 5000);
    CHILD_CHECK_EQ(EDVSDVSINIT, dvs_nodeid());
    // A path that exists but is not a socket.
    CHILD_CHECK_EQ(EDVSDVSINIT, dvs_open("/dev/null"));
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
  rmdir(tmpl);
}

class BindNode3 : public DvsdTest {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.node = 3;
    return o;
  }
};

TEST_F(BindNode3, NodeidAndOpenIsIdempotent) {
  const std::string sock = sock_;
  auto k = run_in_child("nodeid", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_OK(dvs_open(sock.c_str()));  // idempotent
    CHILD_CHECK_EQ(3, dvs_nodeid());
    int ep = dvs_bind(0, 12);
    CHILD_CHECK_EQ(12, ep);
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, 12, &pi));
    CHILD_CHECK_EQ(3, pi.p_nodeid);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Bind, AnyPicksAFreeUserSlot) {
  const std::string sock = sock_;
  Pipe eps, done;
  std::vector<ForkedChild> kids;
  for (int i = 0; i < 3; ++i) {
    kids.push_back(run_in_child("any" + std::to_string(i), [&, sock] {
      int ep = open_and_bind(sock, 0, DVS_ANY);
      CHILD_CHECK_OK(ep);
      int p = DVS_ENDPOINT_P(ep);
      CHILD_CHECK(p >= kFirstUser && p < kDefProcs);
      CHILD_CHECK_EQ(ep, dvs_self());
      eps.send(ep);
      done.recv(milliseconds(10000));
      return 0;
    }));
  }
  std::set<int> slots;
  for (int i = 0; i < 3; ++i) {
    auto ep = eps.recv();
    ASSERT_TRUE(ep);
    slots.insert(DVS_ENDPOINT_P(static_cast<int>(*ep)));
  }
  EXPECT_EQ(3u, slots.size()) << "DVS_ANY gave the same slot twice";
  for (int i = 0; i < 3; ++i) done.send(1);
  for (auto& k : kids) EXPECT_TRUE(k.wait_ok());
}

TEST_F(Bind, GetepOfABoundPid) {
  const std::string sock = sock_;
  Pipe ep_pipe, done;
  auto target = run_in_child("target", [&, sock] {
    int ep = open_and_bind(sock, 0, 45);
    CHILD_CHECK_OK(ep);
    ep_pipe.send(ep);
    done.recv(milliseconds(10000));
    return 0;
  });
  auto ep = ep_pipe.recv();
  ASSERT_TRUE(ep);
  const pid_t tpid = target.pid();
  auto asker = run_in_child("asker", [&, sock, tpid] {
    CHILD_CHECK_EQ(10, open_and_bind(sock, 0, 10));
    CHILD_CHECK_EQ(*ep, dvs_getep(tpid));
    CHILD_CHECK_EQ(10, dvs_getep(getpid()));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_getep(getppid()));  // the test process is not bound
    return 0;
  });
  EXPECT_TRUE(asker.wait_ok());
  done.send(1);
  EXPECT_TRUE(target.wait_ok());
}

TEST_F(Bind, LclbindAndWait4bind) {
  const std::string sock = sock_;
  Pipe waiting, ep_pipe;
  auto waiter = run_in_child("waiter", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    waiting.send(1);
    int ep = dvs_wait4bind_T(5000);
    CHILD_CHECK_OK(ep);
    CHILD_CHECK_EQ(46, DVS_ENDPOINT_P(ep));
    CHILD_CHECK_EQ(ep, dvs_self());
    ep_pipe.send(ep);
    // The binding is usable for IPC.
    dvs_message_t m = make_msg(33, 3);
    CHILD_CHECK_EQ(0, dvs_send_T(2, &m, 5000));
    return 0;
  });
  ASSERT_TRUE(waiting.recv());
  const pid_t wpid = waiter.pid();
  auto binder = run_in_child("binder", [&, sock, wpid] {
    CHILD_CHECK_EQ(2, open_and_bind(sock, 0, 2));
    int ep = dvs_lclbind(0, wpid, 46);
    CHILD_CHECK_OK(ep);
    CHILD_CHECK_EQ(46, DVS_ENDPOINT_P(ep));
    auto reported = ep_pipe.recv(milliseconds(5000));
    CHILD_CHECK(reported.has_value());
    CHILD_CHECK_EQ(ep, *reported);
    CHILD_CHECK_EQ(ep, dvs_getep(wpid));
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(ep, m.m_source);
    CHILD_CHECK_EQ(33, m.m_type);
    CHILD_CHECK(payload_ok(m, 3));
    return 0;
  });
  EXPECT_TRUE(binder.wait_ok());
  EXPECT_TRUE(waiter.wait_ok());
}

TEST_F(Bind, Wait4bindTimesOut) {
  const std::string sock = sock_;
  auto k = run_in_child("w4b", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_wait4bind_T(50));
    double ms = ms_since(t0);
    CHILD_CHECK(ms >= 40 && ms < 3000);
    t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_wait4bindep_T(0, 13, 50));
    ms = ms_since(t0);
    CHILD_CHECK(ms >= 40 && ms < 3000);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Bind, Wait4bindepReturnsWhenBound) {
  const std::string sock = sock_;
  Pipe waiting;
  auto waiter = run_in_child("waiter", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    waiting.send(1);
    int r = dvs_wait4bindep_T(0, 13, 5000);
    CHILD_CHECK_EQ(13, r);
    // Already bound: returns at once.
    auto t0 = Clock::now();
    CHILD_CHECK_EQ(13, dvs_wait4bindep_T(0, 13, 5000));
    CHILD_CHECK(ms_since(t0) < 1000);
    return 0;
  });
  ASSERT_TRUE(waiting.recv());
  Pipe done;
  auto binder = run_in_child("binder", [&, sock] {
    CHILD_CHECK_EQ(13, open_and_bind(sock, 0, 13));
    done.recv(milliseconds(10000));
    return 0;
  });
  EXPECT_TRUE(waiter.wait_ok());
  done.send(1);
  EXPECT_TRUE(binder.wait_ok());
}

TEST_F(Bind, TbindGivesEachThreadItsOwnEndpoint) {
  const std::string sock = sock_;
  auto k = run_in_child("threads", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    constexpr int kThreads = 3;
    std::atomic<int> failures{0};
    std::atomic<int> bound{0};
    std::vector<std::thread> th;
    for (int i = 0; i < kThreads; ++i) {
      th.emplace_back([&, i] {
        auto fail = [&](const char* what, long v) {
          fprintf(stderr, "thread %d: %s (%s)\n", i, what, rc_str(v).c_str());
          failures++;
        };
        int ep = dvs_tbind(0, 10 + i);
        if (ep != 10 + i) return fail("tbind", ep);
        if (dvs_self() != ep) return fail("dvs_self", dvs_self());
        bound++;
        // Ring: thread i sends to i+1, receives from i-1.
        if (!poll_until([&] { return bound.load() == kThreads; }))
          return fail("others did not bind", bound.load());
        const int next = 10 + (i + 1) % kThreads;
        const int prev = 10 + (i + kThreads - 1) % kThreads;
        dvs_message_t m = make_msg(100 + i, i);
        if (i == 0) {
          int r = dvs_send_T(next, &m, 5000);
          if (r != 0) return fail("send", r);
          r = dvs_receive_T(prev, &m, 5000);
          if (r != 0) return fail("receive", r);
          if (m.m_source != prev) return fail("m_source", m.m_source);
        } else {
          int r = dvs_receive_T(prev, &m, 5000);
          if (r != 0) return fail("receive", r);
          if (m.m_source != prev) return fail("m_source", m.m_source);
          m = make_msg(100 + i, i);
          r = dvs_send_T(next, &m, 5000);
          if (r != 0) return fail("send", r);
        }
      });
    }
    for (auto& t : th) t.join();
    CHILD_CHECK_EQ(0, failures.load());
    // The main thread has no binding of its own and the process is not bound.
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_self());
    // Bind the process: unbound threads act as the process, tbound ones as themselves.
    int pep = dvs_bind(0, 47);
    CHILD_CHECK_OK(pep);
    CHILD_CHECK_EQ(pep, dvs_self());
    int seen_plain = 0, seen_tbound = 0;
    std::thread plain([&] { seen_plain = dvs_self(); });
    plain.join();
    std::thread tb([&] {
      int e = dvs_tbind(0, 20);
      seen_tbound = e == 20 ? dvs_self() : e;
    });
    tb.join();
    CHILD_CHECK_EQ(pep, seen_plain);
    CHILD_CHECK_EQ(20, seen_tbound);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok(milliseconds(20000)));
}

TEST_F(Bind, CloseUnbindsAndSlotIsFreeAgain) {
  const std::string sock = sock_;
  auto a = run_in_child("a", [sock] {
    CHILD_CHECK_EQ(14, open_and_bind(sock, 0, 14));
    dvs_close();
    return 0;
  });
  ASSERT_TRUE(a.wait_ok());
  auto b = run_in_child("b", [sock] {
    CHILD_CHECK_EQ(14, open_and_bind(sock, 0, 14));
    CHILD_CHECK_OK(dvs_unbind(0, 14));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_self());
    CHILD_CHECK_EQ(14, dvs_bind(0, 14));
    return 0;
  });
  EXPECT_TRUE(b.wait_ok());
}

TEST_F(Bind, GetdcinfoOfTheDefaultDc) {
  const std::string sock = sock_;
  auto k = run_in_child("info", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    dvs_dcinfo_t di{};
    CHILD_CHECK_OK(dvs_getdcinfo(0, &di));
    CHILD_CHECK_EQ(0, di.dcid);
    CHILD_CHECK_EQ(kDefProcs, di.nr_procs);
    CHILD_CHECK_EQ(kDefTasks, di.nr_tasks);
    CHILD_CHECK_EQ(kDefSysprocs, di.nr_sysprocs);
    CHILD_CHECK_EQ(kDefCopylen, di.max_copylen);
    CHILD_CHECK(di.nodes & 1u);
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_getdcinfo(1, &di));
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Bind, ForkedChildDoesNotInheritTheBinding) {
  const std::string sock = sock_;
  auto parent = run_in_child("bound-parent", [sock] {
    int ep = open_and_bind(sock, 0, 40);
    CHILD_CHECK_OK(ep);
    auto gc = run_in_child("grandchild", [sock, ep] {
      CHILD_CHECK_EQ(EDVSNOTBIND, dvs_self());  // the binding belongs to the parent
      dvs_message_t m = make_msg(1);
      CHILD_CHECK_EQ(EDVSNOTBIND, dvs_send_T(ep, &m, 100));
      CHILD_CHECK_OK(dvs_open(sock.c_str()));
      int mine = dvs_bind(0, 41);
      CHILD_CHECK_OK(mine);
      CHILD_CHECK(mine != ep);
      m = make_msg(2);
      CHILD_CHECK_EQ(0, dvs_send_T(ep, &m, 5000));
      return 0;
    });
    CHILD_CHECK_EQ(ep, dvs_self());
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(41, DVS_ENDPOINT_P(m.m_source));
    CHILD_CHECK_EQ(2, m.m_type);
    CHILD_CHECK(gc.wait_ok(milliseconds(5000)));
    // The grandchild's exit did not unbind the parent.
    CHILD_CHECK_EQ(ep, dvs_self());
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, 40, &pi));
    CHILD_CHECK_EQ(ep, pi.p_endpoint);
    CHILD_CHECK_EQ(getpid(), pi.p_lpid);
    return 0;
  });
  EXPECT_TRUE(parent.wait_ok(milliseconds(15000)));
}

TEST_F(Bind, SetWaitAndProcinfoArgumentChecks) {
  const std::string sock = sock_;
  auto k = run_in_child("k", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_set_wait(DVS_WAIT_BLOCK, 0));
    CHILD_CHECK_EQ(10, dvs_bind(0, 10));
    CHILD_CHECK_EQ(EDVSINVAL, dvs_set_wait(static_cast<dvs_wait_mode_t>(7), 0));
    CHILD_CHECK_EQ(0, dvs_set_wait(DVS_WAIT_BLOCK, 0));
    dvs_procinfo_t pi{};
    CHILD_CHECK_EQ(EDVSBADPROC, dvs_getprocinfo(0, kDefProcs, &pi));
    CHILD_CHECK_EQ(EDVSBADPROC, dvs_getprocinfo(0, -kDefTasks - 1, &pi));
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_getprocinfo(9, 10, &pi));
    CHILD_CHECK_OK(dvs_getprocinfo(0, 11, &pi));  // a free slot is reported as free
    CHILD_CHECK(pi.p_rts_flags & DVS_SLOT_FREE);
    CHILD_CHECK_OK(dvs_getprocinfo(0, 10, &pi));
    CHILD_CHECK_EQ(DVS_WAIT_BLOCK, pi.p_wait_mode);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Bind, PnrMayBeGivenAsAnEndpoint) {
  const std::string sock = sock_;
  auto k = run_in_child("k", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    int ep = dvs_bind(0, DVS_ENDPOINT(3, 50));  // slot 50, written as an endpoint
    CHILD_CHECK_OK(ep);
    CHILD_CHECK_EQ(50, DVS_ENDPOINT_P(ep));
    dvs_procinfo_t pi{};
    CHILD_CHECK_OK(dvs_getprocinfo(0, 50, &pi));
    CHILD_CHECK_EQ(ep, pi.p_endpoint);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
}

TEST_F(Bind, LclbindArgumentChecks) {
  const std::string sock = sock_;
  Pipe ready, done;
  auto holder = run_in_child("holder", [&, sock] {
    CHILD_CHECK_EQ(12, open_and_bind(sock, 0, 12));
    ready.send(1);
    done.recv();
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto k = run_in_child("binder", [&, sock] {
    CHILD_CHECK_EQ(2, open_and_bind(sock, 0, 2));
    const pid_t me = getpid();
    CHILD_CHECK_EQ(EDVSBADPID, dvs_lclbind(0, 0, 45));
    CHILD_CHECK_EQ(EDVSBADPID, dvs_lclbind(0, 0x3ffffff0, 45));  // no such pid
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_lclbind(7, getppid(), 45));
    CHILD_CHECK_EQ(EDVSBADPROC, dvs_lclbind(0, getppid(), kDefProcs));
    CHILD_CHECK_EQ(EDVSSLOTUSED, dvs_lclbind(0, getppid(), 12));
    (void)me;
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
  done.send(1);
  EXPECT_TRUE(holder.wait_ok());
}

}  // namespace
