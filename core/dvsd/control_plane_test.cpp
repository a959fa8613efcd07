// dvsd's control plane against bad clients and libdvs against a bad dvsd (real dvsd, real
// processes, raw control sockets built from core/ipc/control.hpp; no mocks).
//
// Every wait is bounded. Children that use libdvs set DVS_CONTROL_TIMEOUT_MS to a short bound so
// that a control call that gets no answer fails within about a second.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/ipc/control.hpp"
#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/poll_until.hpp"
#include "core/testkit/test_message.hpp"
#include "core/testkit/raw_control.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using dvs::core::Op;
using dvs::core::Reply;
using dvs::core::Request;

constexpr const char* kShortBoundMs = "800";  // DVS_CONTROL_TIMEOUT_MS in the children
constexpr long kShortBound = 800;

// ---- raw control sockets (no libdvs) ----

// A listening SOCK_SEQPACKET socket at path (backlog as given), or -1.
int raw_listen(const std::string& path, int backlog) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, backlog) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends requests without reading a reply until dvsd stops taking them (the socket stays unwritable
// for 300 ms) or 20000 were sent. Returns how many were sent.
int flood_without_reading(int fd) {
  const Request rq = make_request(Op::GetDcInfo, 0);
  const auto deadline = Clock::now() + Millis(4000);
  int sent = 0;
  while (sent < 20000 && Clock::now() < deadline) {
    if (send(fd, &rq, sizeof rq, MSG_DONTWAIT | MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof rq)) {
      ++sent;
      continue;
    }
    if (errno != EAGAIN) break;
    if (!(wait_for(fd, POLLOUT, Millis(300)) & POLLOUT)) break;
  }
  return sent;
}

// ---- dvsd as a process ----

// utime + stime of pid in seconds (all its threads), or -1.
double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = all.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(all.substr(paren + 1));
  std::vector<std::string> fields;
  for (std::string w; rest >> w;) fields.push_back(w);
  if (fields.size() < 13) return -1;  // fields[0] is field 3 (state); utime is 14, stime 15
  return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

char process_state(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = all.rfind(')');
  return paren == std::string::npos || paren + 2 >= all.size() ? '?' : all[paren + 2];
}

// The descriptor numbers pid has open.
std::vector<int> open_fds(pid_t pid) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec))
    out.push_back(std::stoi(e.path().filename().string()));
  return out;
}

// The descriptor numbers of pid that are pidfds.
std::vector<int> pidfds_of(pid_t pid) {
  std::vector<int> out;
  for (int fd : open_fds(pid)) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), ec);
    if (!ec && target.string().find("pidfd") != std::string::npos) out.push_back(fd);
  }
  return out;
}

// The descriptor limit under which exactly `room` numbers are free, given the open ones (numbers
// open at or above it stay open: the limit only stops new ones).
rlim_t limit_leaving_free(const std::vector<int>& open, int room) {
  int n = 0;
  for (int free_seen = 0; free_seen < room; ++n)
    if (std::find(open.begin(), open.end(), n) == open.end()) ++free_seen;
  return static_cast<rlim_t>(n);
}

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// In a child: a short control bound, so that a call nobody answers fails quickly.
void use_short_control_bound() { setenv("DVS_CONTROL_TIMEOUT_MS", kShortBoundMs, 1); }

// A child that does dvs_open + dvs_bind(ANY) + dvs_unbind and reports how long it took.
ForkedChild bind_unbind_child(const std::string& sock) {
  return run_in_child("bind-unbind", [sock] {
    use_short_control_bound();
    int ep = open_and_bind(sock, 0, DVS_ANY);
    CHILD_CHECK_OK(ep);
    CHILD_CHECK_EQ(0, dvs_unbind(0, ep));
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------
// A client that never reads its replies

using SlowReader = DvsdTest;

TEST_F(SlowReader, OthersAreServedWhileOneClientNeverReads) {
  int bad = raw_connect(sock_);
  ASSERT_GE(bad, 0);
  const int sent = flood_without_reading(bad);
  EXPECT_GT(sent, 100) << "dvsd should take requests until its replies fill the client's buffer";
  const auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) {
    auto c = bind_unbind_child(sock_);
    ASSERT_TRUE(c.wait_ok(Millis(5000))) << "dvsd stalled behind a client that never reads";
  }
  EXPECT_LT(ms_since(t0), 5000.0);
  close(bad);
}

class SlowReaderShortBound : public DvsdTest {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.extra_args = {"--reply-timeout-ms", "700"};
    return o;
  }
};

TEST_F(SlowReaderShortBound, ConnectionThatDrainsNothingIsClosedAndUnbound) {
  int bad = raw_connect(sock_);
  ASSERT_GE(bad, 0);
  Request bind_rq = make_request(Op::Bind, 0);
  bind_rq.p_nr = 50;
  Reply rp;
  ASSERT_EQ(0, raw_call(bad, bind_rq, &rp));
  const int ep = rp.ep;
  ASSERT_GT(flood_without_reading(bad), 100);
  const auto t0 = Clock::now();
  // dvsd closes the connection once a reply has waited the bound: the peer sees it hung up.
  EXPECT_TRUE(wait_for(bad, POLLRDHUP, Millis(5000)) & (POLLRDHUP | POLLHUP)) << "not closed";
  EXPECT_LT(ms_since(t0), 5000.0);
  const std::string sock = sock_;
  auto checker = run_in_child("checker", [sock, ep] {
    use_short_control_bound();
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK(poll_until([&] { return proc_ep(0, 50) != ep; }, Millis(3000)));
    CHILD_CHECK_EQ(EDVSNOTBIND, proc_ep(0, 50));
    return 0;
  });
  EXPECT_TRUE(checker.wait_ok(Millis(6000)));
  EXPECT_NE(std::string::npos, dvsd_->stderr_output().find("closing connection of pid"));
  close(bad);
}

TEST_F(SlowReaderShortBound, ParkedRequestIsAnsweredBeforeTheConnectionsNextRequests) {
  // One request per connection is in service at a time: requests sent behind a parked
  // wait4bindep wait for it; its reply (sent when the endpoint is bound) comes first.
  int c = raw_connect(sock_);
  ASSERT_GE(c, 0);
  Request w = make_request(Op::Wait4BindEp, 0);
  w.ep = 25;
  w.timeout_ms = 5000;
  ASSERT_EQ(0, dvs::core::send_record(c, &w, sizeof w, -1));
  for (int dc : {0, 7, 0}) {
    Request rq = make_request(Op::GetDcInfo, dc);
    ASSERT_EQ(0, dvs::core::send_record(c, &rq, sizeof rq, -1));
  }
  Reply rp;
  EXPECT_EQ(1, recv_reply(c, &rp, Millis(300))) << "answered while the wait4bindep is parked";
  const std::string sock = sock_;
  auto binder = run_in_child("bind-25", [sock] {
    use_short_control_bound();
    CHILD_CHECK_EQ(25, open_and_bind(sock, 0, 25));
    return 0;
  });
  EXPECT_TRUE(binder.wait_ok(Millis(5000)));
  ASSERT_EQ(0, recv_reply(c, &rp));
  EXPECT_EQ(25, rp.ep) << "the first reply must answer the wait4bindep";
  EXPECT_EQ(0, recv_reply(c, &rp));
  EXPECT_EQ(EDVSBADDCID, recv_reply(c, &rp));
  EXPECT_EQ(0, recv_reply(c, &rp));
  close(c);
}

TEST_F(SlowReaderShortBound, SlowButSteadyReaderGetsEveryReplyInOrder) {
  // The outbox delays replies, never drops or reorders them: a client that sends a burst and
  // then reads it all gets one reply per request, each for the DC it asked about.
  int c = raw_connect(sock_);
  ASSERT_GE(c, 0);
  const int n = 2000;
  int sent = 0, got = 0;
  const auto deadline = Clock::now() + Millis(8000);
  while (got < n && Clock::now() < deadline) {
    while (sent < n) {
      Request rq = make_request(Op::GetDcInfo, sent % 2 == 0 ? 0 : 7);
      if (send(c, &rq, sizeof rq, MSG_DONTWAIT | MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof rq)) break;
      ++sent;
    }
    Reply rp;
    int rc = recv_reply(c, &rp, Millis(2000));
    ASSERT_NE(1, rc) << "no reply after " << got << " of " << sent;
    ASSERT_EQ(got % 2 == 0 ? 0 : EDVSBADDCID, rc) << "reply " << got << " answers another request";
    ++got;
  }
  EXPECT_EQ(n, got);
  close(c);
}

// ---------------------------------------------------------------------------------------------
// dvsd at its descriptor limit

using DescriptorLimit = DvsdTest;

TEST_F(DescriptorLimit, DvsdStaysIdleServesItsClientsAndRecovers) {
  const std::string sock = sock_;
  const pid_t dvsd = dvsd_->pid();
  Pipe bound, go, result, quit;
  auto old_client = run_in_child("bound-client", [&, sock] {
    use_short_control_bound();
    CHILD_CHECK_EQ(20, open_and_bind(sock, 0, 20));
    bound.send(1);
    if (!go.recv()) return 20;
    dvs_dcinfo_t info{};
    int rc = dvs_getdcinfo(0, &info);
    result.send(rc == 0 && proc_ep(0, 20) == 20 ? 0 : (rc < 0 ? rc : 1));
    if (!quit.recv()) return 21;
    return 0;
  });
  ASSERT_TRUE(bound.recv());

  // Room for three more descriptors in dvsd, then far more clients than that.
  rlimit old_lim{};
  ASSERT_EQ(0, prlimit(dvsd, RLIMIT_NOFILE, nullptr, &old_lim));
  rlimit lim{limit_leaving_free(open_fds(dvsd), 3), old_lim.rlim_max};
  ASSERT_EQ(0, prlimit(dvsd, RLIMIT_NOFILE, &lim, nullptr)) << strerror(errno);
  std::vector<int> extra;
  for (int i = 0; i < 16; ++i) {
    int fd = raw_connect(sock, true);
    if (fd >= 0) extra.push_back(fd);
  }
  EXPECT_GE(extra.size(), 8u);
  std::this_thread::sleep_for(Millis(200));

  const double cpu0 = cpu_seconds(dvsd);
  std::this_thread::sleep_for(Millis(1000));
  const double cpu = cpu_seconds(dvsd) - cpu0;
  EXPECT_LT(cpu, 0.25) << "dvsd burns CPU at its descriptor limit";

  go.send(1);
  auto served = result.recv(Millis(5000));
  ASSERT_TRUE(served) << "the bound client's control call did not return";
  EXPECT_RC(0, *served) << "a client connected before the limit is still served";

  auto refused = run_in_child("new-client", [sock] {
    use_short_control_bound();
    const auto t0 = Clock::now();
    int rc = dvs_open(sock.c_str());
    if (rc == 0) rc = dvs_bind(0, DVS_ANY);
    CHILD_CHECK(rc < 0);
    CHILD_CHECK(ms_since(t0) < 3 * kShortBound);
    return 0;
  });
  EXPECT_TRUE(refused.wait_ok(Millis(5000)));

  for (int fd : extra) close(fd);
  EXPECT_TRUE(poll_until(
      [&] {
        auto again = bind_unbind_child(sock);
        return static_cast<bool>(again.wait_ok(Millis(5000)));
      },
      Millis(5000)))
      << "a new client is not served once descriptors are free";
  quit.send(1);
  EXPECT_TRUE(old_client.wait_ok());
  const std::string err = dvsd_->stderr_output();
  EXPECT_EQ(1u, count_of(err, "out of descriptors")) << err;
  prlimit(dvsd, RLIMIT_NOFILE, &old_lim, nullptr);
}

// ---------------------------------------------------------------------------------------------
// libdvs against a dvsd that never answers

class DeafDvsd : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dvst-deaf-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    path_ = dir_ + "/dvsd.sock";
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  int keep(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  // A listener that never accepts; with a full backlog a connect cannot even complete.
  void listen_never_accept(bool full_backlog) {
    int l = keep(raw_listen(path_, 0));
    ASSERT_GE(l, 0);
    if (full_backlog) {
      ASSERT_GE(keep(raw_connect(path_, true)), 0);
    }
  }
  // A "dvsd" child that answers Hello and decides per request whether to answer the rest:
  // answer(rq, nth) -> delay in ms before answering (negative: never). The reply echoes rq.dcid.
  ForkedChild fake(std::function<long(const Request&, int)> answer) {
    int l = keep(raw_listen(path_, 16));
    return run_in_child("fake-dvsd", [l, answer] {
      std::vector<pollfd> conns;
      std::vector<std::pair<int64_t, std::pair<int, Reply>>> later;  // due (ms since start), fd, reply
      const auto t0 = Clock::now();
      int nth = 0;
      for (;;) {
        std::vector<pollfd> p = conns;
        p.push_back({l, POLLIN, 0});
        poll(p.data(), p.size(), 10);
        const int64_t now = static_cast<int64_t>(ms_since(t0));
        for (auto it = later.begin(); it != later.end();) {
          if (it->first > now) {
            ++it;
            continue;
          }
          dvs::core::send_record(it->second.first, &it->second.second, sizeof(Reply), -1);
          it = later.erase(it);
        }
        if (p.back().revents & POLLIN) {
          int c = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
          if (c >= 0) conns.push_back({c, POLLIN, 0});
        }
        for (size_t i = 0; i + 1 < p.size(); ++i) {
          if (!(p[i].revents & (POLLIN | POLLHUP))) continue;
          Request rq;
          int in_fd = -1;
          long n = dvs::core::recv_record(p[i].fd, &rq, sizeof rq, &in_fd);
          if (n != static_cast<long>(sizeof rq)) {
            conns[i].fd = -1;  // poll ignores it from now on; the descriptor stays open
            continue;
          }
          Reply rp;
          rp.node_id = 0;
          rp.dcid = rq.dcid;
          rp.dcinfo.dcid = rq.dcid;
          long delay = static_cast<Op>(rq.op) == Op::Hello ? 0 : answer(rq, nth++);
          if (delay == 0) dvs::core::send_record(p[i].fd, &rp, sizeof rp, -1);
          else if (delay > 0) later.push_back({now + delay, {p[i].fd, rp}});
        }
      }
      return 0;
    });
  }
  std::string dir_, path_;
  std::vector<int> fds_;
};

// In a child: call returns expected after between min_ms and max_ms.
#define CHILD_CHECK_TIMED(expected, call, min_ms, max_ms)                                           \
  do {                                                                                             \
    const auto t0_ = Clock::now();                                                                 \
    CHILD_CHECK_EQ(expected, call);                                                                \
    const double took_ = ms_since(t0_);                                                            \
    if (took_ < (min_ms) || took_ > (max_ms)) {                                                    \
      ::dvs::testing::child_fail(__FILE__, __LINE__, std::string(#call) + " took " +               \
                                                         std::to_string(took_) + " ms");           \
      return 15;                                                                                   \
    }                                                                                              \
  } while (0)

TEST_F(DeafDvsd, OpenFailsWithinTheBoundWhenConnectCannotComplete) {
  listen_never_accept(true);
  const std::string path = path_;
  auto c = run_in_child("client", [path] {
    use_short_control_bound();
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_open(path.c_str()), kShortBound - 100, 3 * kShortBound);
    setenv("DVS_SOCKET", path.c_str(), 1);
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_bind(0, DVS_ANY), kShortBound - 100, 3 * kShortBound);
    return 0;
  });
  EXPECT_TRUE(c.wait_ok(Millis(8000)));
}

TEST_F(DeafDvsd, OpenFailsWithinTheBoundWhenHelloIsNeverAnswered) {
  listen_never_accept(false);
  const std::string path = path_;
  auto c = run_in_child("client", [path] {
    use_short_control_bound();
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_open(path.c_str()), kShortBound - 100, 3 * kShortBound);
    setenv("DVS_SOCKET", path.c_str(), 1);
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_nodeid(), kShortBound - 100, 3 * kShortBound);
    return 0;
  });
  EXPECT_TRUE(c.wait_ok(Millis(8000)));
}

TEST_F(DeafDvsd, ControlCallsFailWithinTheBoundWhenRequestsAreNeverAnswered) {
  auto f = fake([](const Request&, int) { return -1L; });
  const std::string path = path_;
  auto c = run_in_child("client", [path] {
    use_short_control_bound();
    CHILD_CHECK_EQ(0, dvs_open(path.c_str()));
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_bind(0, DVS_ANY), kShortBound - 100, 3 * kShortBound);
    dvs_dcinfo_t info{};
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_getdcinfo(0, &info), kShortBound - 100, 3 * kShortBound);
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_getep(getpid()), kShortBound - 100, 3 * kShortBound);
    return 0;
  });
  EXPECT_TRUE(c.wait_ok(Millis(10000)));
}

TEST_F(DeafDvsd, BlockingCallsWaitTheirTimeoutPlusTheBound) {
  auto f = fake([](const Request&, int) { return -1L; });
  const std::string path = path_;
  auto c = run_in_child("client", [path] {
    use_short_control_bound();
    CHILD_CHECK_EQ(0, dvs_open(path.c_str()));
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_wait4bind_T(600), 600 + kShortBound - 100, 600 + 3 * kShortBound);
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_wait4bindep_T(0, 60, 600), 600 + kShortBound - 100, 600 + 3 * kShortBound);
    return 0;
  });
  EXPECT_TRUE(c.wait_ok(Millis(10000)));
}

TEST_F(DeafDvsd, LateReplyIsNeverTakenForTheAnswerOfALaterCall) {
  // The first introspection request is answered after twice the bound, the rest at once.
  auto f = fake([](const Request&, int nth) { return nth == 0 ? 2 * kShortBound : 0L; });
  const std::string path = path_;
  auto c = run_in_child("client", [path] {
    use_short_control_bound();
    CHILD_CHECK_EQ(0, dvs_open(path.c_str()));
    dvs_dcinfo_t info{};
    CHILD_CHECK_TIMED(EDVSDVSINIT, dvs_getdcinfo(5, &info), kShortBound - 100, 3 * kShortBound);
    for (int dc : {7, 8, 9}) {
      info = dvs_dcinfo_t{};
      CHILD_CHECK_EQ(0, dvs_getdcinfo(dc, &info));
      CHILD_CHECK_EQ(dc, info.dcid);
      usleep(static_cast<useconds_t>(kShortBound) * 1000 / 2);  // the late reply falls due meanwhile
    }
    return 0;
  });
  EXPECT_TRUE(c.wait_ok(Millis(10000)));
}

// Against a real dvsd the blocking calls get dvsd's own answer after their timeout, even when the
// timeout is longer than the control bound.
using BlockingCalls = DvsdTest;

TEST_F(BlockingCalls, TimeoutLongerThanTheBoundGetsDvsdsAnswer) {
  const std::string sock = sock_;
  auto c = run_in_child("client", [sock] {
    use_short_control_bound();
    CHILD_CHECK_EQ(0, dvs_open(sock.c_str()));
    CHILD_CHECK_TIMED(EDVSTIMEDOUT, dvs_wait4bind_T(2 * kShortBound), 2 * kShortBound - 50, 2 * kShortBound + 1500);
    CHILD_CHECK_TIMED(EDVSTIMEDOUT, dvs_wait4bindep_T(0, 60, 2 * kShortBound), 2 * kShortBound - 50,
                      2 * kShortBound + 1500);
    // The connection is still the same one: nothing was dropped.
    CHILD_CHECK_EQ(22, dvs_bind(0, 22));
    return 0;
  });
  EXPECT_TRUE(c.wait_ok(Millis(10000)));
}

// ---------------------------------------------------------------------------------------------
// getep is answered only within the caller's DC

class Getep : public DvsdTest {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.dcs = {"0", "1"};
    return o;
  }
};

TEST_F(Getep, AnsweredOnlyToCallersBoundInTheTargetsDc) {
  const std::string sock = sock_;
  Pipe ep_pipe, done;
  auto target = run_in_child("target-dc0", [&, sock] {
    use_short_control_bound();
    int ep = open_and_bind(sock, 0, 15);
    CHILD_CHECK_OK(ep);
    ep_pipe.send(ep);
    done.recv(Millis(10000));
    return 0;
  });
  auto ep = ep_pipe.recv();
  ASSERT_TRUE(ep);
  const pid_t tpid = target.pid();
  auto same_dc = run_in_child("same-dc", [tpid, sock, ep] {
    use_short_control_bound();
    CHILD_CHECK_EQ(16, open_and_bind(sock, 0, 16));
    CHILD_CHECK_EQ(*ep, dvs_getep(tpid));
    return 0;
  });
  auto thread_in_dc = run_in_child("thread-bound-in-dc0", [tpid, sock, ep] {
    use_short_control_bound();
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    int rc = 0;
    std::thread t([&] {
      rc = dvs_tbind(0, 17);
      if (rc >= 0) rc = dvs_getep(tpid);
    });
    t.join();
    CHILD_CHECK_EQ(*ep, rc);
    return 0;
  });
  auto other_dc = run_in_child("other-dc", [tpid, sock] {
    use_short_control_bound();
    CHILD_CHECK_EQ(15, open_and_bind(sock, 1, 15));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_getep(tpid));
    CHILD_CHECK_EQ(15, dvs_getep(getpid()));  // its own binding, in DC 1
    return 0;
  });
  auto unbound = run_in_child("unbound", [tpid, sock] {
    use_short_control_bound();
    CHILD_CHECK_OK(dvs_open(sock.c_str()));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_getep(tpid));
    CHILD_CHECK_EQ(EDVSNOTBIND, dvs_getep(getpid()));
    return 0;
  });
  EXPECT_TRUE(same_dc.wait_ok());
  EXPECT_TRUE(thread_in_dc.wait_ok());
  EXPECT_TRUE(other_dc.wait_ok());
  EXPECT_TRUE(unbound.wait_ok());
  done.send(1);
  EXPECT_TRUE(target.wait_ok());
}

// ---------------------------------------------------------------------------------------------
// Events of one epoll batch whose descriptor was closed (and its number reused) earlier in it

using EventDispatch = DvsdTest;

// dvsd is stopped while four events queue up in this order: a bound process A closes its
// connection (X), new connections arrive (the listener), a raw client Q asks to bind, A exits
// (its pidfd P). Handling X unbinds A and closes P; the new connections take every free number
// below P, so Q's pidfd gets P's number; A's exit event, still in the same batch, must not be
// taken for Q's pidfd.
TEST_F(EventDispatch, StaleEventOfAClosedPidfdDoesNotUnbindALiveProcess) {
  const std::string sock = sock_;
  const pid_t dvsd = dvsd_->pid();
  Pipe a_bound, a_close, a_closed, a_exit;
  auto a = run_in_child("A", [&, sock] {
    use_short_control_bound();
    CHILD_CHECK_EQ(20, open_and_bind(sock, 0, 20));
    a_bound.send(1);
    if (!a_close.recv()) return 20;
    dvs_close();
    a_closed.send(1);
    if (!a_exit.recv()) return 21;
    return 0;
  });
  ASSERT_TRUE(a_bound.recv());
  int q = raw_connect(sock);
  ASSERT_GE(q, 0);
  Reply rp;
  ASSERT_EQ(0, raw_call(q, make_request(Op::Hello), &rp));
  auto pidfds = pidfds_of(dvsd);
  ASSERT_EQ(1u, pidfds.size()) << "dvsd should watch A only";
  const int p = pidfds[0];
  auto fds = open_fds(dvsd);
  int free_below_p = 0;
  for (int n = 0; n < p; ++n)
    if (std::find(fds.begin(), fds.end(), n) == fds.end()) ++free_below_p;

  ASSERT_EQ(0, kill(dvsd, SIGSTOP));
  ASSERT_TRUE(poll_until([&] { return process_state(dvsd) == 'T'; }, Millis(3000)));
  a_close.send(1);
  ASSERT_TRUE(a_closed.recv());
  std::vector<int> fillers;
  for (int i = 0; i < free_below_p + 1; ++i) fillers.push_back(raw_connect(sock, true));
  Request bind_rq = make_request(Op::Bind, 0);
  bind_rq.p_nr = 21;
  ASSERT_EQ(0, dvs::core::send_record(q, &bind_rq, sizeof bind_rq, -1));
  a_exit.send(1);
  EXPECT_TRUE(a.wait_ok());
  ASSERT_EQ(0, kill(dvsd, SIGCONT));

  ASSERT_EQ(0, recv_reply(q, &rp)) << "Q's bind";
  const int q_ep = rp.ep;
  Request info = make_request(Op::GetProcInfo, 0);
  info.p_nr = 21;
  ASSERT_EQ(0, raw_call(q, info, &rp));
  EXPECT_EQ(0u, rp.procinfo.p_rts_flags & DVS_SLOT_FREE) << "Q, alive, was unbound";
  EXPECT_EQ(q_ep, rp.procinfo.p_endpoint);
  EXPECT_EQ(getpid(), rp.procinfo.p_lpid);
  for (int fd : fillers)
    if (fd >= 0) close(fd);
  close(q);
}

// Churn: short-lived processes connect, bind and exit (connection close and pidfd exit close
// together) while a long-lived pair does sendrec and checks it is never unbound.
TEST_F(EventDispatch, ChurnNeverUnbindsALiveProcess) {
  const std::string sock = sock_;
  Pipe srv_ready;
  auto srv = run_in_child("server", [&, sock] {
    use_short_control_bound();
    CHILD_CHECK_EQ(10, open_and_bind(sock, 0, 10));
    srv_ready.send(1);
    for (;;) {
      dvs_message_t m{};
      int rc = dvs_receive_T(DVS_ANY, &m, 5000);
      if (rc == EDVSTIMEDOUT) return 0;
      CHILD_CHECK_EQ(0, rc);
      if (m.m_type == 99) {
        CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
        return 0;
      }
      CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
    }
  });
  ASSERT_TRUE(srv_ready.recv());
  auto cli = run_in_child("client", [sock] {
    use_short_control_bound();
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    const auto t0 = Clock::now();
    while (ms_since(t0) < 2500) {
      dvs_message_t m = make_msg(1);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(10, &m, 3000));
      CHILD_CHECK_EQ(11, dvs_self());
      CHILD_CHECK_EQ(11, proc_ep(0, 11));
    }
    dvs_message_t m = make_msg(99);
    CHILD_CHECK_EQ(0, dvs_sendrec_T(10, &m, 3000));
    return 0;
  });
  std::vector<ForkedChild> churners;
  for (int k = 0; k < 2; ++k) {
    churners.push_back(run_in_child("churn", [sock] {
      const auto t0 = Clock::now();
      int rounds = 0;
      while (ms_since(t0) < 2000) {
        auto g = run_in_child("short-lived", [sock] {
          use_short_control_bound();
          int ep = open_and_bind(sock, 0, DVS_ANY);
          CHILD_CHECK_OK(ep);
          usleep(2000);
          CHILD_CHECK_EQ(ep, proc_ep(0, DVS_ENDPOINT_P(ep)));  // still bound
          return 0;  // exits bound: dvsd sees its connection close and its pidfd at once
        });
        auto st = g.wait(Millis(5000));
        CHILD_CHECK(st.exited && st.exit_code == 0);
        ++rounds;
      }
      CHILD_CHECK(rounds > 5);
      return 0;
    }));
  }
  for (auto& c : churners) EXPECT_TRUE(c.wait_ok(Millis(8000)));
  EXPECT_TRUE(cli.wait_ok(Millis(8000)));
  EXPECT_TRUE(srv.wait_ok(Millis(8000)));
}

}  // namespace
