// Every primitive works under every wait strategy (spin, spin-then-block, block).
#include <gtest/gtest.h>

#include <string>
#include <tuple>
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

enum class Prim { SendReceive, Sendrec, NotifyReceive, RcvrqstReply };

#ifdef DVS_SANITIZED
constexpr int kRounds = 100;
#else
constexpr int kRounds = 500;
#endif
constexpr int kSrv = 10;
constexpr int kCli = 11;  // system too, so notify works both ways
constexpr uint32_t kSpinNs = DVS_DEFAULT_SPIN_NS;

const char* mode_name(dvs_wait_mode_t m) {
  switch (m) {
    case DVS_WAIT_SPIN: return "Spin";
    case DVS_WAIT_SPIN_THEN_BLOCK: return "SpinThenBlock";
    case DVS_WAIT_BLOCK: return "Block";
  }
  return "?";
}
const char* prim_name(Prim p) {
  switch (p) {
    case Prim::SendReceive: return "SendReceive";
    case Prim::Sendrec: return "Sendrec";
    case Prim::NotifyReceive: return "NotifyReceive";
    case Prim::RcvrqstReply: return "RcvrqstReply";
  }
  return "?";
}

int set_mode(dvs_wait_mode_t mode, int p_nr) {
  CHILD_CHECK_OK(dvs_set_wait(mode, kSpinNs));
  dvs_procinfo_t pi{};
  CHILD_CHECK_OK(dvs_getprocinfo(0, p_nr, &pi));
  CHILD_CHECK_EQ(static_cast<int>(mode), pi.p_wait_mode);
  return 0;
}

// The server stays bound until the client took its last answer: a process that leaves takes the
// notifications it left pending with it (unbind drops them), so leaving right after the last
// notify could drop it.
int server_body(const std::string& sock, Prim prim, dvs_wait_mode_t mode, Pipe& ready, Pipe& client_done) {
  CHILD_CHECK_EQ(kSrv, open_and_bind(sock, 0, kSrv));
  if (int rc = set_mode(mode, kSrv)) return rc;
  ready.send(1);
  for (int i = 0; i < kRounds; ++i) {
    dvs_message_t m{};
    switch (prim) {
      case Prim::SendReceive:
        CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
        CHILD_CHECK_EQ(kCli, m.m_source);
        CHILD_CHECK_EQ(i, m.m_type);
        m.m_type = i + 1;
        CHILD_CHECK_EQ(0, dvs_send_T(kCli, &m, 10000));
        break;
      case Prim::Sendrec:
        CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
        CHILD_CHECK_EQ(kCli, m.m_source);
        CHILD_CHECK_EQ(i, m.m_type);
        m.m_type = i + 1;
        CHILD_CHECK_EQ(0, dvs_reply_T(kCli, &m, 10000));
        break;
      case Prim::RcvrqstReply:
        CHILD_CHECK_EQ(0, dvs_rcvrqst_T(&m, 10000));
        CHILD_CHECK_EQ(kCli, m.m_source);
        CHILD_CHECK_EQ(i, m.m_type);
        m.m_type = i + 1;
        CHILD_CHECK_EQ(0, dvs_reply_T(kCli, &m, 10000));
        break;
      case Prim::NotifyReceive:
        CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
        CHILD_CHECK_EQ(kCli, m.m_source);
        CHILD_CHECK_EQ(DVS_NOTIFY_FROM(kCli), m.m_type);
        CHILD_CHECK_EQ(0, dvs_notify(kCli));
        break;
    }
  }
  CHILD_CHECK(client_done.recv(milliseconds(30000)).has_value());
  return 0;
}

int client_body(const std::string& sock, Prim prim, dvs_wait_mode_t mode, Pipe& done) {
  CHILD_CHECK_EQ(kCli, open_and_bind(sock, 0, kCli));
  if (int rc = set_mode(mode, kCli)) return rc;
  for (int i = 0; i < kRounds; ++i) {
    dvs_message_t m = make_msg(i, i);
    switch (prim) {
      case Prim::SendReceive:
        CHILD_CHECK_EQ(0, dvs_send_T(kSrv, &m, 10000));
        CHILD_CHECK_EQ(0, dvs_receive_T(kSrv, &m, 10000));
        CHILD_CHECK_EQ(kSrv, m.m_source);
        CHILD_CHECK_EQ(i + 1, m.m_type);
        CHILD_CHECK(payload_ok(m, i));
        break;
      case Prim::Sendrec:
      case Prim::RcvrqstReply:
        CHILD_CHECK_EQ(0, dvs_sendrec_T(kSrv, &m, 10000));
        CHILD_CHECK_EQ(kSrv, m.m_source);
        CHILD_CHECK_EQ(i + 1, m.m_type);
        CHILD_CHECK(payload_ok(m, i));
        break;
      case Prim::NotifyReceive:
        CHILD_CHECK_EQ(0, dvs_notify(kSrv));
        CHILD_CHECK_EQ(0, dvs_receive_T(kSrv, &m, 10000));
        CHILD_CHECK_EQ(kSrv, m.m_source);
        CHILD_CHECK_EQ(DVS_NOTIFY_FROM(kSrv), m.m_type);
        break;
    }
  }
  done.send(1);
  return 0;
}

using P = std::tuple<Prim, dvs_wait_mode_t, dvs_wait_mode_t>;  // primitive, server, client mode

class WaitModes : public DvsdTest, public ::testing::WithParamInterface<P> {};

TEST_P(WaitModes, PingPong) {
  const auto [prim, smode, cmode] = GetParam();
  const std::string sock = sock_;
  Pipe ready, client_done;
  auto server = run_in_child("server", [&, sock] { return server_body(sock, prim, smode, ready, client_done); });
  ASSERT_TRUE(ready.recv());
  auto client = run_in_child("client", [&, sock] { return client_body(sock, prim, cmode, client_done); });
  EXPECT_TRUE(client.wait_ok(milliseconds(30000)));
  EXPECT_TRUE(server.wait_ok(milliseconds(30000)));
}

std::string wm_name(const ::testing::TestParamInfo<P>& i) {
  const auto [prim, s, c] = i.param;
  std::string n = std::string(prim_name(prim)) + "_" + mode_name(s);
  if (s != c) n += std::string("_client") + mode_name(c);
  return n;
}

std::vector<P> same_mode_cases() {
  std::vector<P> v;
  for (Prim p : {Prim::SendReceive, Prim::Sendrec, Prim::NotifyReceive, Prim::RcvrqstReply})
    for (dvs_wait_mode_t m : {DVS_WAIT_SPIN, DVS_WAIT_SPIN_THEN_BLOCK, DVS_WAIT_BLOCK})
      v.emplace_back(p, m, m);
  return v;
}

// Both sides in the same mode: every primitive x every mode.
INSTANTIATE_TEST_SUITE_P(SameMode, WaitModes, ::testing::ValuesIn(same_mode_cases()), wm_name);

// A spinning and a blocking side together.
INSTANTIATE_TEST_SUITE_P(Mixed, WaitModes,
                         ::testing::Values(P{Prim::Sendrec, DVS_WAIT_BLOCK, DVS_WAIT_SPIN},
                                           P{Prim::Sendrec, DVS_WAIT_SPIN, DVS_WAIT_BLOCK},
                                           P{Prim::NotifyReceive, DVS_WAIT_SPIN, DVS_WAIT_BLOCK}),
                         wm_name);

}  // namespace
