// Garbage in shared memory: a corrupt slot or out-of-range index makes the affected call fail
// with an error (never a crash, never an unbounded hang), and dvsd keeps serving the others.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "core/dvsd/table_admin.hpp"
#include "core/ipc/primitives.hpp"
#include "core/ipc/shm_table.hpp"
#include "core/libdvs/libdvs_internal.h"
#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"

namespace dvs::core {
namespace {

struct InProcessTable : ::testing::Test {
  DcTable t;
  void SetUp() override {
    DcGeometry g;
    g.nr_procs = 8;
    g.nr_tasks = 2;
    g.nr_sysprocs = 6;
    ASSERT_EQ(t.create(g), 0);
    set_lock_bound_ns(50'000'000);
  }
  void TearDown() override { set_lock_bound_ns(2'000'000'000); }
  Caller bind(int index) {
    int ep = DVS_NONE;
    EXPECT_EQ(admin_bind(t, index, getpid(), gettid(), false, &ep), 0);
    Caller c;
    c.table = &t;
    c.index = index;
    c.endpoint = ep;
    c.wait_mode = DVS_WAIT_SPIN;
    return c;
  }
};

TEST_F(InProcessTable, OutOfRangeQueueHeadFailsThatReceiveOnly) {
  Caller a = bind(4);
  Caller b = bind(5);
  t.slot(4).q_head.store(9999);
  dvs_message_t m{};
  EXPECT_EQ(ipc_receive(a, DVS_ANY, &m, DVS_TIMEOUT_NOWAIT), EDVSBADSRCDST);
  // The other endpoint is unaffected.
  EXPECT_EQ(ipc_receive(b, DVS_ANY, &m, DVS_TIMEOUT_NOWAIT), EDVSTIMEDOUT);
  // Repairing the field repairs the channel.
  t.slot(4).q_head.store(kNoSlot);
  EXPECT_EQ(ipc_receive(a, DVS_ANY, &m, DVS_TIMEOUT_NOWAIT), EDVSTIMEDOUT);
}

TEST_F(InProcessTable, CyclicQueueIsDetectedNotFollowedForever) {
  Caller a = bind(4);
  bind(5);
  bind(6);
  t.slot(4).q_head.store(5);
  t.slot(5).q_next.store(6);
  t.slot(6).q_next.store(5);  // a loop that never reaches the wanted sender
  dvs_message_t m{};
  Caller c7 = bind(7);
  EXPECT_EQ(ipc_receive(a, c7.endpoint, &m, DVS_TIMEOUT_NOWAIT), EDVSBADSRCDST);
}

TEST_F(InProcessTable, GarbageMutexBytesGiveABoundedError) {
  Caller a = bind(4);
  Caller b = bind(5);
  std::memset(static_cast<void*>(&t.slot(5).lock), 0x5a, sizeof(pthread_mutex_t));
  dvs_message_t m{};
  auto t0 = std::chrono::steady_clock::now();
  int rc = ipc_send(a, b.endpoint, &m, 100);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(rc, 0) << dvs_errname(rc);
  EXPECT_LT(ms, 5000.0);
}

TEST_F(InProcessTable, BadSendtoInATimedOutSenderIsReported) {
  Caller a = bind(4);
  Caller b = bind(5);
  dvs_message_t m{};
  std::thread corrupt([&] {
    // Wait until a is queued on b, then point its sendto at garbage.
    while (!(t.slot(4).flags.load() & DVS_SENDING)) std::this_thread::yield();
    t.slot(4).sendto.store(-77);
  });
  int rc = ipc_send(a, b.endpoint, &m, 50);
  corrupt.join();
  EXPECT_LT(rc, 0);
}

TEST_F(InProcessTable, MappingRejectsAForeignOrDamagedHeader) {
  int fd = memfd_create("junk", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 1 << 16), 0);
  DcTable other;
  EXPECT_EQ(other.map_fd(fd), EDVSBADVALUE);  // all zero: no magic
}

// A client scribbles over the slots of DC 0 in dvsd's shared table; dvsd and the untouched
// endpoints keep working, and calls on the damaged slots fail with an error.
TEST(CorruptionWithDvsd, DvsdSurvivesGarbageAndKeepsServing) {
  dvs::testing::DvsdProcess d(dvs::testing::DvsdOptions{0, {"0,procs=16,tasks=2,sysprocs=8"}});
  ASSERT_TRUE(d.start());
  const std::string sock = d.socket_path();
  dvs::testing::Pipe ready;
  // The vandal: binds p_nr 3, corrupts slots of p_nr 4 and 5 (index 6, 7), then exits.
  auto vandal = dvs::testing::run_in_child("vandal", [&] {
    if (dvs::testing::open_and_bind(sock, 0, 3) < 0) return 10;
    int fd = dvs_internal_table_fd(0);
    if (fd < 0) return 11;
    size_t len = static_cast<size_t>(lseek(fd, 0, SEEK_END));
    void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return 12;
    // header + slots; scribble over slot indexes 6 and 7 completely.
    char* slots = static_cast<char*>(base) + table_header_bytes();
    std::memset(slots + 6 * sizeof(Slot), 0xa5, 2 * sizeof(Slot));
    return 0;
  });
  ASSERT_TRUE(vandal.wait_ok());
  // A caller touching the damaged slot gets an error within a bound.
  auto victim = dvs::testing::run_in_child("victim", [&] {
    if (dvs::testing::open_and_bind(sock, 0, 2) < 0) return 20;
    dvs_message_t m{};
    int rc = dvs_send_T(4, &m, 200);
    if (rc >= 0) return 21;
    return 0;
  });
  ASSERT_TRUE(victim.wait_ok(dvs::testing::Millis(15000)));
  // Clean endpoints still rendezvous through the same dvsd.
  auto server = dvs::testing::run_in_child("server", [&] {
    if (dvs::testing::open_and_bind(sock, 0, 1) < 0) return 30;
    ready.send(1);
    dvs_message_t m{};
    if (dvs_receive_T(DVS_ANY, &m, 5000) != 0) return 31;
    m.m_type += 1;
    return dvs_reply(m.m_source, &m) == 0 ? 0 : 32;
  });
  ASSERT_TRUE(ready.recv().has_value());
  auto client = dvs::testing::run_in_child("client", [&] {
    if (dvs::testing::open_and_bind(sock, 0, 0) < 0) return 40;
    dvs_message_t m{};
    m.m_type = 41;
    if (dvs_sendrec_T(1, &m, 5000) != 0) return 41;
    return m.m_type == 42 ? 0 : 42;
  });
  ASSERT_TRUE(client.wait_ok());
  ASSERT_TRUE(server.wait_ok());
  EXPECT_TRUE(d.running()) << d.stderr_output();
}

}  // namespace
}  // namespace dvs::core
