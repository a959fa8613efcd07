// What the original M3-IPC promises when a process is unbound while blocked, leaves with
// notifications pending, moves on before a late reply, is interrupted by a signal, forks, asks for
// a huge timeout, or finds its slot lock held past the lock bound: each checked with real
// processes on a real dvsd.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "core/ipc/shm_table.hpp"
#include "core/libdvs/libdvs_internal.h"
#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

using Semantics = DvsdTest;

constexpr int kSrv = 10;    // a system slot: endpoint == p_nr
constexpr int kAdmin = 12;  // a system process that unbinds others
constexpr int kUser = 40;   // a user slot

// ---------------------------------------------------------------------------------------------
// Unbinding a blocked process ends its call with EDVSSHUTDOWN; nothing is delivered.

TEST_F(Semantics, UnbindingABlockedReceiverFailsItsReceiveWithoutAStaleCopy) {
  const std::string sock = sock_;
  Pipe took_first, ready;
  auto receiver = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(7, m.m_type);
    took_first.send(1);
    dvs_message_t again{};
    const int rc = dvs_receive_T(DVS_ANY, &again, 10000);  // unbound while blocked here
    CHILD_CHECK_EQ(EDVSSHUTDOWN, rc);
    CHILD_CHECK_EQ(0, again.m_type);  // no second copy of the first message
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_receive_T(DVS_ANY, &again, DVS_TIMEOUT_NOWAIT));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_notify(kAdmin));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto sender = run_in_child("sender", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    dvs_message_t m = make_msg(7, 1);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 5000));
    return 0;
  });
  ASSERT_TRUE(took_first.recv());
  auto admin = run_in_child("admin", [&, sock] {
    CHILD_CHECK_EQ(kAdmin, open_and_bind(sock, 0, kAdmin));
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    CHILD_CHECK_EQ(0, dvs_unbind(0, kSrv));
    return 0;
  });
  EXPECT_TRUE(sender.wait_ok());
  EXPECT_TRUE(admin.wait_ok());
  EXPECT_TRUE(receiver.wait_ok());
}

TEST_F(Semantics, UnbindingABlockedSenderFailsItsSendAndDeliversNothing) {
  const std::string sock = sock_;
  Pipe ready, unbound, sender_ep;
  auto receiver = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    CHILD_CHECK(unbound.recv().has_value());
    dvs_message_t m{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 500));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto sender = run_in_child("sender", [&, sock] {
    const int ep = open_and_bind(sock, 0, kUser);
    CHILD_CHECK_OK(ep);
    sender_ep.send(ep);
    dvs_message_t m = make_msg(3, 4);
    const auto t0 = Clock::now();
    CHILD_CHECK_EQ(EDVSSHUTDOWN, dvs_send_T(kSrv, &m, 8000));
    CHILD_CHECK(ms_since(t0) < 5000);
    return 0;
  });
  auto ep = sender_ep.recv();
  ASSERT_TRUE(ep.has_value());
  const int sep = static_cast<int>(*ep);
  auto admin = run_in_child("admin", [&, sock, sep] {
    CHILD_CHECK_EQ(kAdmin, open_and_bind(sock, 0, kAdmin));
    CHILD_CHECK_EQ(0, wait_sending(0, kUser, kSrv));
    CHILD_CHECK_EQ(0, dvs_unbind(0, sep));
    unbound.send(1);
    return 0;
  });
  EXPECT_TRUE(admin.wait_ok());
  EXPECT_TRUE(sender.wait_ok());
  EXPECT_TRUE(receiver.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// Notifications a process left pending go with it, even if its slot is bound again at once.

TEST_F(Semantics, NotificationsOfAProcessThatLeftAreDropped) {
  const std::string sock = sock_;
  Pipe ready, notified, rebound_ep, successor_bound, server_checked;
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    CHILD_CHECK(successor_bound.recv().has_value());
    dvs_message_t m{};
    // The notifier left and a new process holds its slot; its notify was dropped with it.
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 300));
    // A notify of the new process arrives as its own.
    server_checked.send(1);
    auto ep = rebound_ep.recv();
    CHILD_CHECK(ep.has_value());
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(*ep, m.m_source);
    CHILD_CHECK_EQ(DVS_NOTIFY_FROM(kUser), m.m_type);
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 200));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto notifier = run_in_child("notifier", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, kUser));
    CHILD_CHECK_EQ(0, dvs_notify(kSrv));  // the server is not receiving: the bit stays pending
    notified.send(1);
    return 0;  // exits: dvsd unbinds it
  });
  ASSERT_TRUE(notified.recv());
  ASSERT_TRUE(notifier.wait_ok());
  auto successor = run_in_child("successor", [&, sock] {
    // Bind the same user slot as soon as dvsd has freed it (a new generation).
    int ep = EDVSSLOTUSED;
    const auto t0 = Clock::now();
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    while ((ep = dvs_bind(0, kUser)) == EDVSSLOTUSED && ms_since(t0) < 5000) usleep(1000);
    CHILD_CHECK_OK(ep);
    successor_bound.send(1);
    CHILD_CHECK(server_checked.recv().has_value());
    rebound_ep.send(ep);
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    CHILD_CHECK_EQ(0, dvs_notify(kSrv));
    return 0;
  });
  EXPECT_TRUE(successor.wait_ok());
  EXPECT_TRUE(server.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// reply() completes only a wait for the replier: a client that timed out and moved on to a
// receive(ANY) does not take the late reply as a new message.

TEST_F(Semantics, ALateReplyDoesNotReachAClientThatMovedOn) {
  const std::string sock = sock_;
  Pipe ready, moved_on, client_ep;
  auto server = run_in_child("server", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    dvs_message_t rq{};
    CHILD_CHECK_EQ(0, dvs_rcvrqst_T(&rq, 5000));
    const int client = rq.m_source;
    CHILD_CHECK(moved_on.recv().has_value());
    CHILD_CHECK_EQ(0, wait_receiving(0, kUser));
    dvs_message_t rp = make_msg(99, 5);
    CHILD_CHECK_EQ(EDVSPROCSTS, dvs_reply(client, &rp));
    // A client waiting for exactly this server (send, then receive(server)) takes a reply.
    CHILD_CHECK_EQ(0, dvs_rcvrqst_T(&rq, 5000));
    CHILD_CHECK_EQ(0, wait_procinfo(0, kUser, [](const dvs_procinfo_t& pi) {
                     return (pi.p_rts_flags & DVS_RECEIVING) && pi.p_getfrom == kSrv;
                   }));
    CHILD_CHECK_EQ(0, dvs_reply(rq.m_source, &rp));
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, kUser));
    dvs_message_t m = make_msg(1, 1);
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_sendrec_T(kSrv, &m, 300));
    moved_on.send(1);
    dvs_message_t got{};
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &got, 1500));  // not the stale reply
    m = make_msg(2, 2);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 5000));
    CHILD_CHECK_EQ(0, dvs_receive_T(kSrv, &got, 5000));
    CHILD_CHECK_EQ(99, got.m_type);
    return 0;
  });
  EXPECT_TRUE(client.wait_ok());
  EXPECT_TRUE(server.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// A caught signal ends a blocked call with EDVSINTR (with or without SA_RESTART, like select(2)),
// and the caller leaves its wait: nothing is delivered to it afterwards.

std::atomic<int> g_signals{0};
void count_signal(int) { g_signals.fetch_add(1); }

void catch_usr1(int flags) {
  struct sigaction sa {};
  sa.sa_handler = count_signal;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
}

TEST_F(Semantics, ACaughtSignalInterruptsABlockedCall) {
  const std::string sock = sock_;
  Pipe blocked, done;
  auto waiter = run_in_child("waiter", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    for (int restart : {0, SA_RESTART}) {
      catch_usr1(restart);
      for (long timeout : {5000L, static_cast<long>(DVS_TIMEOUT_FOREVER)}) {
        const int before = g_signals.load();
        blocked.send(1);
        dvs_message_t m{};
        const auto t0 = Clock::now();
        CHILD_CHECK_EQ(EDVSINTR, dvs_receive_T(DVS_ANY, &m, timeout));
        CHILD_CHECK(ms_since(t0) < 3000);
        CHILD_CHECK_EQ(before + 1, g_signals.load());
        dvs_procinfo_t pi{};
        CHILD_CHECK_OK(dvs_getprocinfo(0, kSrv, &pi));
        CHILD_CHECK_EQ(0, pi.p_rts_flags & (DVS_RECEIVING | DVS_SENDING));
      }
    }
    // A sender that comes later is queued, and the next receive takes its message.
    done.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(21, m.m_type);
    return 0;
  });
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(blocked.recv());
    std::this_thread::sleep_for(milliseconds(300));
    waiter.signal(SIGUSR1);
  }
  ASSERT_TRUE(done.recv());
  auto sender = run_in_child("sender", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    dvs_message_t m = make_msg(21, 0);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 5000));
    return 0;
  });
  EXPECT_TRUE(sender.wait_ok());
  EXPECT_TRUE(waiter.wait_ok(milliseconds(15000)));
}

// ---------------------------------------------------------------------------------------------
// A timeout too large to add to the clock means "very long", never "already passed".

TEST_F(Semantics, AHugeTimeoutMeansVeryLongNotNow) {
  const std::string sock = sock_;
  Pipe ready;
  auto receiver = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    ready.send(1);
    for (long timeout : {LONG_MAX, LONG_MAX / 2, LONG_MAX / 1'000'000}) {
      dvs_message_t m{};
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, timeout));
      CHILD_CHECK_EQ(5, m.m_type);
    }
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto sender = run_in_child("sender", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    for (int i = 0; i < 3; ++i) {
      CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
      std::this_thread::sleep_for(milliseconds(100));  // well after the receive would have failed
      dvs_message_t m = make_msg(5, 0);
      CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, LONG_MAX));
    }
    return 0;
  });
  EXPECT_TRUE(sender.wait_ok());
  EXPECT_TRUE(receiver.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// A forked child has neither the parent's table mapping nor its descriptor; it gets a table only
// by binding in that DC.

class SemanticsTwoDcs : public DvsdTest {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.dcs = {"0", "1"};
    return o;
  }
};

// How many mappings and open descriptors of this process are DC d's table.
int table_mappings(int dc) {
  std::ifstream maps("/proc/self/maps");
  const std::string name = "memfd:dvs-dc" + std::to_string(dc) + " ";
  int n = 0;
  for (std::string l; std::getline(maps, l);) n += (l + " ").find(name) != std::string::npos;
  return n;
}
int table_descriptors(int dc) {
  const std::string name = "/memfd:dvs-dc" + std::to_string(dc) + " ";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && (target.string() + " ").find(name) != std::string::npos) ++n;
  }
  return n;
}

TEST_F(SemanticsTwoDcs, AForkedChildInheritsNeitherTheTableNorItsDescriptor) {
  const std::string sock = sock_;
  auto parent = run_in_child("parent", [sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, kUser));
    CHILD_CHECK(table_mappings(0) >= 1);
    CHILD_CHECK(table_descriptors(0) >= 1);
    const pid_t child = fork();
    if (child == 0) {
      int rc = 0;
      if (table_mappings(0) != 0 || table_descriptors(0) != 0) rc = 20;
      if (rc == 0 && open_and_bind(sock, 1, kUser) < 0) rc = 21;
      if (rc == 0 && (table_mappings(1) < 1 || table_mappings(0) != 0 || table_descriptors(0) != 0)) rc = 22;
      _exit(rc);
    }
    CHILD_CHECK(child > 0);
    int status = 0;
    CHILD_CHECK_EQ(child, waitpid(child, &status, 0));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      std::fprintf(stderr, "forked child: status %d (20: inherited DC 0's table, 21: bind, 22: tables after bind)\n",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    CHILD_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHILD_CHECK(table_mappings(0) >= 1);  // the parent keeps its own
    return 0;
  });
  EXPECT_TRUE(parent.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// A caller that times out while its own slot lock is held past the lock bound abandons the call:
// a sender arriving after the lock is free is not delivered into the abandoned receive (and so
// lost); it is queued, and the caller's next receive takes it.

TEST_F(Semantics, ASlotLockHeldPastTheBoundAbandonsTheCallAndLosesNoMessage) {
  const std::string sock = sock_;
  Pipe ready, first_done, released, go;
  auto receiver = run_in_child("receiver", [&, sock] {
    CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
    dvs::core::set_lock_bound_ns(300'000'000);
    ready.send(1);
    dvs_message_t m{};
    const auto t0 = Clock::now();
    // The holder takes our lock while we wait; at the timeout we cannot take it within the bound.
    const int rc = dvs_receive_T(DVS_ANY, &m, 1500);
    first_done.send(rc);
    CHILD_CHECK_EQ(EDVSBUSY, rc);
    CHILD_CHECK(ms_since(t0) < 4000);
    CHILD_CHECK(go.recv().has_value());
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));
    CHILD_CHECK_EQ(31, m.m_type);
    CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, 200));  // exactly once
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto holder = run_in_child("lock holder", [&, sock] {
    CHILD_CHECK_EQ(kAdmin, open_and_bind(sock, 0, kAdmin));
    dvs::core::DcTable t;
    CHILD_CHECK_EQ(0, t.map_fd(dup(dvs_internal_table_fd(0))));
    dvs::core::Slot& target = t.slot(t.geometry().index_of(kSrv));
    CHILD_CHECK_EQ(0, wait_receiving(0, kSrv));
    CHILD_CHECK_EQ(0, dvs::core::lock_slot(target));
    auto first = first_done.recv();  // the receive gave up while we hold its lock
    std::this_thread::sleep_for(milliseconds(100));
    dvs::core::unlock_slot(target);
    released.send(first.value_or(1));
    return 0;
  });
  auto first = released.recv(milliseconds(15000));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(EDVSBUSY, *first);
  auto sender = run_in_child("sender", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    dvs_message_t m = make_msg(31, 0);
    CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 10000));
    return 0;
  });
  // The sender must wait for the next receive, not be delivered into the abandoned one.
  auto sender_state = run_in_child("observer", [&, sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(0, wait_sending(0, 11, kSrv));
    std::this_thread::sleep_for(milliseconds(200));
    CHILD_CHECK_EQ(0, wait_sending(0, 11, kSrv, milliseconds(100)));
    go.send(1);
    return 0;
  });
  EXPECT_TRUE(sender_state.wait_ok());
  EXPECT_TRUE(sender.wait_ok());
  EXPECT_TRUE(holder.wait_ok());
  EXPECT_TRUE(receiver.wait_ok());
}

}  // namespace
