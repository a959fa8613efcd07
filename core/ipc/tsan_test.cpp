// Threads of ONE process, each dvs_tbind'ed to its own slot, hammering the primitives between
// each other, plus concurrent bind/unbind. Built with -fsanitize=thread in the TSan build
// (target dvs_tsan_tests, label tsan). dvsd runs as a child process started before any thread.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/poll_until.hpp"
#include "core/testkit/rc_str.hpp"
#include "core/testkit/test_message.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;

#ifdef DVS_TSAN
constexpr int kRounds = 1000;
#else
constexpr int kRounds = 2000;
#endif
constexpr long kTo = 10000;  // ms: every call is bounded so a broken peer cannot hang the suite

class Threads : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dvsd_ = new DvsdProcess();
    auto r = dvsd_->start();
    if (!r) {
      start_error_ = new std::string(r.message());
      return;
    }
    open_rc_ = dvs_open(dvsd_->socket_path().c_str());
  }
  static void TearDownTestSuite() {
    dvs_close();
    delete dvsd_;
    dvsd_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(nullptr, start_error_) << *start_error_;
    ASSERT_EQ(0, open_rc_ < 0 ? open_rc_ : 0) << "dvs_open: " << rc_str(open_rc_);
  }
  void TearDown() override { EXPECT_TRUE(dvsd_->running()) << "dvsd died during the test"; }

  static DvsdProcess* dvsd_;
  static std::string* start_error_;
  static int open_rc_;
};
DvsdProcess* Threads::dvsd_ = nullptr;
std::string* Threads::start_error_ = nullptr;
int Threads::open_rc_ = 0;

// Bind the calling thread to p_nr; false (with a gtest failure) if that fails.
bool tbind_or_fail(int p_nr) {
  int ep = dvs_tbind(0, p_nr);
  EXPECT_EQ(rc_str(p_nr), rc_str(ep)) << "tbind(0, " << p_nr << ")";
  EXPECT_EQ(rc_str(ep), rc_str(dvs_self()));
  return ep == p_nr;
}

TEST_F(Threads, PairsHammerSendrecAndSendReceive) {
  std::atomic<int> bound{0};
  auto wait_all = [&] { return poll_until([&] { return bound.load() == 4; }, Millis(10000)); };
  std::vector<std::thread> th;
  // 10 <-> 11: sendrec / receive + reply.   12 <-> 13: send / receive both ways.
  th.emplace_back([&] {
    if (!tbind_or_fail(10)) return;
    bound++;
    ASSERT_TRUE(wait_all());
    for (int i = 0; i < kRounds; ++i) {
      dvs_message_t m = make_msg(i, i);
      ASSERT_EQ(0, dvs_sendrec_T(11, &m, kTo)) << "round " << i;
      ASSERT_EQ(11, m.m_source);
      ASSERT_EQ(i + 1, m.m_type);
      ASSERT_TRUE(payload_ok(m, i));
    }
    EXPECT_EQ(0, dvs_unbind(0, 10));
  });
  th.emplace_back([&] {
    if (!tbind_or_fail(11)) return;
    bound++;
    ASSERT_TRUE(wait_all());
    for (int i = 0; i < kRounds; ++i) {
      dvs_message_t m{};
      ASSERT_EQ(0, dvs_receive_T(DVS_ANY, &m, kTo)) << "round " << i;
      ASSERT_EQ(10, m.m_source);
      ASSERT_EQ(i, m.m_type);
      m.m_type = i + 1;
      ASSERT_EQ(0, dvs_reply_T(10, &m, kTo));
    }
    EXPECT_EQ(0, dvs_unbind(0, 11));
  });
  for (int side = 0; side < 2; ++side) {
    th.emplace_back([&, side] {
      const int me = 12 + side, peer = 13 - side;
      if (!tbind_or_fail(me)) return;
      bound++;
      ASSERT_TRUE(wait_all());
      for (int i = 0; i < kRounds; ++i) {
        dvs_message_t m = make_msg(i * 2 + side, side);
        if (side == 0) {
          ASSERT_EQ(0, dvs_send_T(peer, &m, kTo)) << "round " << i;
          ASSERT_EQ(0, dvs_receive_T(peer, &m, kTo));
        } else {
          dvs_message_t r{};
          ASSERT_EQ(0, dvs_receive_T(peer, &r, kTo)) << "round " << i;
          ASSERT_EQ(i * 2, r.m_type);
          ASSERT_EQ(0, dvs_send_T(peer, &m, kTo));
          continue;
        }
        ASSERT_EQ(peer, m.m_source);
        ASSERT_EQ(i * 2 + 1, m.m_type);
        ASSERT_TRUE(payload_ok(m, 1));
      }
      EXPECT_EQ(0, dvs_unbind(0, me));
    });
  }
  for (auto& t : th) t.join();
}

TEST_F(Threads, NotifyStormThenDone) {
  constexpr int kTarget = 17;
  constexpr int kNotifiers = 3;
  std::atomic<bool> target_bound{false};
  std::vector<std::thread> th;
  th.emplace_back([&] {
    if (!tbind_or_fail(kTarget)) return;
    target_bound = true;
    int notes[kNotifiers] = {0, 0, 0};
    bool done[kNotifiers] = {false, false, false};
    int dones = 0;
    while (dones < kNotifiers) {
      dvs_message_t m{};
      int r = dvs_receive_T(DVS_ANY, &m, kTo);
      ASSERT_EQ(0, r) << rc_str(r);
      const int k = m.m_source - 14;
      ASSERT_TRUE(k >= 0 && k < kNotifiers) << "m_source " << m.m_source;
      if (DVS_IS_NOTIFY(m.m_type)) {
        ASSERT_EQ(DVS_NOTIFY_FROM(m.m_source), m.m_type);
        // Pending notifications come before queued messages: never one after its sender's done.
        ASSERT_FALSE(done[k]) << "notify from " << m.m_source << " after its done message";
        notes[k]++;
      } else {
        ASSERT_EQ(999, m.m_type);
        done[k] = true;
        dones++;
      }
    }
    for (int k = 0; k < kNotifiers; ++k) {
      EXPECT_GE(notes[k], 1) << "notifier " << 14 + k;
      EXPECT_LE(notes[k], kRounds) << "notifier " << 14 + k;
    }
    EXPECT_EQ(0, dvs_unbind(0, kTarget));
  });
  for (int k = 0; k < kNotifiers; ++k) {
    th.emplace_back([&, k] {
      if (!tbind_or_fail(14 + k)) return;
      ASSERT_TRUE(poll_until([&] { return target_bound.load(); }, Millis(10000)));
      for (int i = 0; i < kRounds; ++i) ASSERT_EQ(0, dvs_notify(kTarget)) << "round " << i;
      dvs_message_t m = make_msg(999);
      ASSERT_EQ(0, dvs_send_T(kTarget, &m, kTo));
      EXPECT_EQ(0, dvs_unbind(0, 14 + k));
    });
  }
  for (auto& t : th) t.join();
}

TEST_F(Threads, ConcurrentBindUnbindWhileOthersTalk) {
  constexpr int kBinders = 3;
#ifdef DVS_TSAN
  constexpr int kBindRounds = 300;
#else
  constexpr int kBindRounds = 500;
#endif
  std::atomic<bool> stop{false};
  std::atomic<int> pair_bound{0};
  std::vector<std::thread> th;
  // A talking pair (system 20, 21) keeps working while slots churn.
  th.emplace_back([&] {
    if (!tbind_or_fail(20)) return;
    pair_bound++;
    ASSERT_TRUE(poll_until([&] { return pair_bound.load() == 2; }, Millis(10000)));
    int i = 0;
    while (!stop.load() || i < 50) {
      dvs_message_t m = make_msg(i);
      ASSERT_EQ(0, dvs_sendrec_T(21, &m, kTo)) << "round " << i;
      ASSERT_EQ(i + 1, m.m_type);
      ++i;
    }
    dvs_message_t m = make_msg(-1);
    ASSERT_EQ(0, dvs_send_T(21, &m, kTo));
    EXPECT_EQ(0, dvs_unbind(0, 20));
  });
  th.emplace_back([&] {
    if (!tbind_or_fail(21)) return;
    pair_bound++;
    for (;;) {
      dvs_message_t m{};
      ASSERT_EQ(0, dvs_receive_T(20, &m, kTo));
      if (m.m_type == -1) break;
      m.m_type++;
      ASSERT_EQ(0, dvs_reply_T(20, &m, kTo));
    }
    EXPECT_EQ(0, dvs_unbind(0, 21));
  });
  std::mutex seen_mu;
  std::set<int> seen;
  for (int b = 0; b < kBinders; ++b) {
    th.emplace_back([&] {
      for (int i = 0; i < kBindRounds; ++i) {
        int ep = dvs_tbind(0, DVS_ANY);
        ASSERT_GE(ep, 0) << rc_str(ep) << " round " << i;
        const int p = DVS_ENDPOINT_P(ep);
        ASSERT_TRUE(p >= kFirstUser && p < kDefProcs) << p;
        ASSERT_EQ(ep, dvs_self());
        {
          std::lock_guard<std::mutex> g(seen_mu);
          ASSERT_TRUE(seen.insert(ep).second) << "endpoint " << ep << " handed out twice";
        }
        ASSERT_EQ(0, dvs_unbind(0, ep)) << "round " << i;
        ASSERT_EQ(EDVSNOTBIND, dvs_self());
      }
    });
  }
  // Two threads race for the same system slot each round: exactly one wins.
  std::barrier sync(2);
  std::atomic<int> winners{0};
  std::atomic<int> bad_rounds{0};
  for (int r = 0; r < 2; ++r) {
    th.emplace_back([&, r] {
      for (int i = 0; i < kBindRounds / 5; ++i) {
        sync.arrive_and_wait();
        int ep = dvs_tbind(0, 25);
        if (ep == 25)
          winners++;
        else
          EXPECT_EQ(rc_str(EDVSSLOTUSED), rc_str(ep));
        sync.arrive_and_wait();
        if (winners.load() != 1) bad_rounds++;
        sync.arrive_and_wait();
        if (r == 0) winners = 0;
        if (ep == 25) {
          EXPECT_EQ(0, dvs_unbind(0, 25));
        }
        sync.arrive_and_wait();
      }
    });
  }
  // Binder threads end by themselves; then release the talking pair.
  for (size_t i = 2; i < th.size(); ++i) th[i].join();
  stop = true;
  th[0].join();
  th[1].join();
  EXPECT_EQ(0, bad_rounds.load()) << "two threads bound the same slot in the same round";
}

}  // namespace
