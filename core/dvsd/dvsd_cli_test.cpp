// dvsd's command line: ready line, DC specs, bad arguments, SIGTERM.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Exit code 2 and exactly one line on stderr that mentions `needle` (case-insensitive).
::testing::AssertionResult rejected(const std::vector<std::string>& args, const std::string& needle) {
  RunResult r = run_dvsd(args, milliseconds(10000));
  std::string cmd = "dvsd";
  for (const auto& a : args) cmd += " " + a;
  if (r.timed_out) return ::testing::AssertionFailure() << cmd << ": did not exit within 10 s";
  if (r.exit_code() != 2)
    return ::testing::AssertionFailure() << cmd << ": exit code " << r.exit_code() << " (status "
                                         << r.status << "), expected 2; stderr: " << r.err;
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  if (err.empty()) return ::testing::AssertionFailure() << cmd << ": nothing on stderr";
  if (err.find('\n') != std::string::npos)
    return ::testing::AssertionFailure() << cmd << ": more than one line on stderr:\n" << r.err;
  if (lower(err).find(lower(needle)) == std::string::npos)
    return ::testing::AssertionFailure() << cmd << ": stderr '" << err << "' does not name '" << needle << "'";
  return ::testing::AssertionSuccess();
}

std::string tmp_sock() { return "/tmp/dvst-cli-" + std::to_string(getpid()) + ".sock"; }

TEST(DvsdCli, DvsdBinIsSet) { ASSERT_FALSE(dvsd_binary().empty()) << "DVSD_BIN is not set"; }

TEST(DvsdCli, UnknownOptionIsRejected) { EXPECT_TRUE(rejected({"--bogus-option"}, "bogus-option")); }

TEST(DvsdCli, BadNodeIsRejected) {
  EXPECT_TRUE(rejected({"--node", "abc", "--socket", tmp_sock()}, "node"));
  EXPECT_TRUE(rejected({"--node", "-1", "--socket", tmp_sock()}, "node"));
  EXPECT_TRUE(rejected({"--node", "32", "--socket", tmp_sock()}, "node"));  // NR_NODES = 32
}

TEST(DvsdCli, BadDcSpecsAreRejected) {
  const std::string s = tmp_sock();
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--dc", "x"}, "x"));
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--dc", "0,bogus=3"}, "bogus"));
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--dc", "0,procs=abc"}, "procs"));
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--dc", "32"}, "32"));      // NR_DCS = 32
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--dc", "0,tasks=36"}, "tasks"));  // > NR_TASKS
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--dc", "0,procs=600"}, "procs")); // > 512 slots
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--dc", "0", "--dc", "0"}, "0"));  // twice
}

TEST(DvsdCli, MissingConfigFileIsRejected) {
  EXPECT_TRUE(rejected({"--node", "0", "--socket", tmp_sock(), "--config", "/nonexistent/dvs.toml"},
                       "/nonexistent/dvs.toml"));
}

TEST(DvsdCli, BadAuthorityOptionsAreRejected) {
  const std::string s = tmp_sock();
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--admin-group", "no-such-group-of-dvs"}, "--admin-group"));
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--socket-group", "no-such-group-of-dvs"}, "--socket-group"));
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--socket-mode", "0999"}, "--socket-mode"));
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--socket-mode", "1777"}, "--socket-mode"));
  EXPECT_TRUE(rejected({"--node", "0", "--socket", s, "--socket-mode", "rw"}, "--socket-mode"));
}

TEST(DvsdCli, ReadyLineAndCleanStopOnSigterm) {
  DvsdOptions o;
  o.node = 5;
  DvsdProcess d(o);
  ASSERT_TRUE(d.start());  // checks "dvsd: node 5 ready on PATH" exactly
  EXPECT_TRUE(d.running());
  int st = d.stop(milliseconds(5000));
  EXPECT_FALSE(d.stop_needed_sigkill()) << "dvsd ignored SIGTERM for 5 s";
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
      << "dvsd on SIGTERM: status " << st << " (exited=" << WIFEXITED(st)
      << " code=" << (WIFEXITED(st) ? WEXITSTATUS(st) : -1)
      << " signal=" << (WIFSIGNALED(st) ? WTERMSIG(st) : 0) << ")";
}

TEST(DvsdCli, TwoDaemonsOnTwoSocketsAreIndependent) {
  DvsdOptions a, b;
  a.node = 0;
  b.node = 1;
  DvsdProcess da(a), db(b);
  ASSERT_TRUE(da.start());
  ASSERT_TRUE(db.start());
  const std::string sa = da.socket_path(), sb = db.socket_path();
  auto k1 = run_in_child("on-a", [sa] {
    CHILD_CHECK_EQ(10, open_and_bind(sa, 0, 10));
    CHILD_CHECK_EQ(0, dvs_nodeid());
    return 0;
  });
  auto k2 = run_in_child("on-b", [sb] {
    CHILD_CHECK_EQ(10, open_and_bind(sb, 0, 10));  // same slot, other node's table
    CHILD_CHECK_EQ(1, dvs_nodeid());
    return 0;
  });
  EXPECT_TRUE(k1.wait_ok());
  EXPECT_TRUE(k2.wait_ok());
}

// A client in slot `slot` (unique in the DC across nodes) on `sock` (its node) makes one sendrec to
// endpoint 5 on node 2, once the link is up.
int sendrec_to_node2(const std::string& sock, int slot, int tag) {
  int ep = open_and_bind(sock, 0, slot);
  if (ep < 0) return ep;
  if (int rc = dvs_rmtbind(0, 5, 2); rc != 0) return rc;
  for (int i = 0; i < 500; ++i) {  // probe until the link is up (EDVSNOTCONN meanwhile)
    int rc = dvs_notify(5);
    if (rc == 0) break;
    if (rc != EDVSNOTCONN) return rc;
    usleep(20'000);
  }
  dvs_message_t m = make_msg(tag, tag);
  if (int rc = dvs_sendrec_T(5, &m, 5000); rc != 0) return rc;
  return m.m_type == tag + 1000 && payload_ok(m, tag) ? 0 : -1;
}

// Node 2 listens on tcp and on shm; node 0 dials its tcp URI, node 1 its shm URI: both links come
// up over the transport dialed, and a sendrec crosses each.
TEST(DvsdCli, EveryListenUriAcceptsAPeer) {
  DvsdOptions o2;
  o2.node = 2;
  const std::string shm = "shm://dvst-cli-" + std::to_string(getpid());
  o2.extra_args = {"--listen", "tcp://127.0.0.1:0", "--listen", shm, "--peer", "0", "--peer", "1"};
  DvsdProcess n2(o2);
  ASSERT_TRUE(n2.start());
  const auto uris = n2.listen_uris();
  ASSERT_EQ(2u, uris.size()) << "expected one 'listening on' line per --listen";
  EXPECT_EQ(0u, uris[0].rfind("tcp://127.0.0.1:", 0)) << uris[0];
  EXPECT_NE("tcp://127.0.0.1:0", uris[0]) << "port 0 not resolved";
  EXPECT_EQ(shm, uris[1]);
  EXPECT_EQ(uris[0], n2.listen_uri());
  DvsdOptions o0, o1;
  o0.node = 0;
  o0.extra_args = {"--peer", "2=" + uris[0]};
  o1.node = 1;
  o1.extra_args = {"--peer", "2=" + uris[1]};
  DvsdProcess n0(o0), n1(o1);
  ASSERT_TRUE(n0.start());
  ASSERT_TRUE(n1.start());

  const std::string s0 = n0.socket_path(), s1 = n1.socket_path(), s2 = n2.socket_path();
  Pipe ready;
  auto server = run_in_child("server@2", [&] {
    CHILD_CHECK_EQ(5, open_and_bind(s2, 0, 5));
    ready.send(1);
    for (int answered = 0; answered < 2;) {
      dvs_message_t m{};
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
      if (DVS_IS_NOTIFY(m.m_type)) continue;  // link probes
      m.m_type += 1000;
      CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
      ++answered;
    }
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto c0 = run_in_child("client@0", [&] { return sendrec_to_node2(s0, 10, 7) == 0 ? 0 : 1; });
  auto c1 = run_in_child("client@1", [&] { return sendrec_to_node2(s1, 11, 8) == 0 ? 0 : 1; });
  EXPECT_TRUE(c0.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(c1.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(server.wait_ok(milliseconds(20000)));
  const std::string log = n2.stderr_output();
  EXPECT_NE(std::string::npos, log.find("link to node 0 up (tcp://")) << log;
  EXPECT_NE(std::string::npos, log.find("link to node 1 up (shm://")) << log;
}

class CustomGeometry : public DvsdTest {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.dcs = {"0,procs=10,tasks=5,sysprocs=8,copylen=8192", "4,name=alpha"};
    return o;
  }
};

TEST_F(CustomGeometry, DcSpecsAreApplied) {
  const std::string sock = sock_;
  auto k = run_in_child("geometry", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    dvs_dcinfo_t d{};
    CHILD_CHECK_OK(dvs_getdcinfo(0, &d));
    CHILD_CHECK_EQ(10, d.nr_procs);
    CHILD_CHECK_EQ(5, d.nr_tasks);
    CHILD_CHECK_EQ(8, d.nr_sysprocs);
    CHILD_CHECK_EQ(8192, d.max_copylen);
    dvs_dcinfo_t a{};
    CHILD_CHECK_OK(dvs_getdcinfo(4, &a));
    CHILD_CHECK_EQ(4, a.dcid);
    CHILD_CHECK(std::string(a.name, strnlen(a.name, sizeof a.name)) == "alpha");
    CHILD_CHECK_EQ(221, a.nr_procs);  // defaults for the unspecified fields
    CHILD_CHECK_EQ(35, a.nr_tasks);
    CHILD_CHECK_EQ(64, a.nr_sysprocs);
    CHILD_CHECK_EQ(EDVSBADDCID, dvs_getdcinfo(1, &a));
    CHILD_CHECK_EQ(EDVSBADPROC, dvs_bind(0, 10));
    CHILD_CHECK_EQ(EDVSBADPROC, dvs_bind(0, -6));
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
  // Slots: tasks -5..-1, system p_nr + 5 < 8 (p_nr <= 2), user 3..9.
  auto t = run_in_child("task", [sock] {
    CHILD_CHECK_EQ(-5, open_and_bind(sock, 0, -5));
    return 0;
  });
  auto s = run_in_child("system", [sock] {
    CHILD_CHECK_EQ(2, open_and_bind(sock, 0, 2));
    return 0;
  });
  auto u = run_in_child("user", [sock] {
    int ep = open_and_bind(sock, 0, 3);
    CHILD_CHECK_OK(ep);
    CHILD_CHECK_EQ(3, DVS_ENDPOINT_P(ep));
    CHILD_CHECK_OK(dvs_unbind(0, ep));
    int ep2 = dvs_bind(0, 3);  // user slot: a new generation
    CHILD_CHECK_OK(ep2);
    CHILD_CHECK(ep2 != ep);
    CHILD_CHECK_OK(dvs_unbind(0, ep2));
    int any = dvs_bind(0, DVS_ANY);
    CHILD_CHECK_OK(any);
    CHILD_CHECK(DVS_ENDPOINT_P(any) >= 3 && DVS_ENDPOINT_P(any) < 10);
    return 0;
  });
  EXPECT_TRUE(t.wait_ok());
  EXPECT_TRUE(s.wait_ok());
  EXPECT_TRUE(u.wait_ok());
}

TEST_F(CustomGeometry, AnyFailsWhenAllUserSlotsAreTaken) {
  const std::string sock = sock_;
  Pipe bound, done;
  std::vector<ForkedChild> kids;
  for (int p = 3; p < 10; ++p) {
    kids.push_back(run_in_child("user" + std::to_string(p), [&, sock, p] {
      CHILD_CHECK_OK(open_and_bind(sock, 0, p));
      bound.send(1);
      done.recv(milliseconds(10000));
      return 0;
    }));
  }
  for (int p = 3; p < 10; ++p) ASSERT_TRUE(bound.recv());
  auto k = run_in_child("one-too-many", [sock] {
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK(dvs_bind(0, DVS_ANY) < 0);
    return 0;
  });
  EXPECT_TRUE(k.wait_ok());
  for (size_t i = 0; i < kids.size(); ++i) done.send(1);
  for (auto& c : kids) EXPECT_TRUE(c.wait_ok());
}

}  // namespace
