// tipc-specific tests: URI grammar (everywhere); probe's reason where the kernel has no TIPC; and,
// where it has (the VM lab), what the topology service adds: exclusive names, picking a free
// instance, dial waiting for a service to be published. Behaviour shared by all transports is in
// transports/conformance.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>
#include <thread>

#include "core/testkit/test_time.hpp"
#include "dvs/errors.h"
#include "transports/registry.hpp"
#include "transports/tipc/tipc_transport.hpp"
#include "transports/tipc/tipc_uri.hpp"
#include "transports/transport_testing.hpp"

namespace dvs::transport::tipc {
namespace {

using ::dvs::testing::Clock;
using ::dvs::testing::ms_since;

TEST(TipcUri, ParsesTypeInstanceAndOptions) {
  TipcAddress a;
  ASSERT_EQ(0, parse_tipc_uri("tipc://18888:17", &a));
  EXPECT_EQ(a.type, 18888u);
  EXPECT_EQ(a.instance, 17u);
  EXPECT_FALSE(a.node_scope);
  EXPECT_EQ(a.wait_ms, 0);
  EXPECT_EQ(a.query, "");
  ASSERT_EQ(0, parse_tipc_uri("tipc://0x40:0xffffffff?scope=node", &a));
  EXPECT_EQ(a.type, 64u);
  EXPECT_EQ(a.instance, 0xffffffffu);
  EXPECT_TRUE(a.node_scope);
  EXPECT_EQ(a.query, "?scope=node");
  ASSERT_EQ(0, parse_tipc_uri("tipc://4294967295:0?wait_ms=2500&scope=cluster", &a));
  EXPECT_EQ(a.type, 4294967295u);
  EXPECT_EQ(a.instance, 0u);
  EXPECT_EQ(a.wait_ms, 2500);
  EXPECT_FALSE(a.node_scope);
  EXPECT_EQ(format_tipc_uri(3000, 17, "?scope=node"), "tipc://3000:17?scope=node");
}

TEST(TipcUri, RejectsMalformed) {
  TipcAddress a;
  for (const char* bad :
       {"tipc://", "tipc://1000", "tipc://1000:", "tipc://:5", "tipc://63:1", "tipc://4294967296:1",
        "tipc://1000:4294967296", "tipc://1000:-1", "tipc://1000:+1", "tipc://1000:1x", "tipc://0x:1",
        "tipc://1000:1?scope=zone", "tipc://1000:1?wait_ms=-1", "tipc://1000:1?wait_ms=3600001",
        "tipc://1000:1?bogus=1", "tipc://1000:1?scope", "tcp://1000:1", "1000:1", "tipc://a:b"})
    EXPECT_EQ(EDVSINVAL, parse_tipc_uri(bad, &a)) << bad;
}

Transport* tipc_transport() { return registered("tipc", register_tipc); }

TEST(TipcProbe, SaysWhyWhenUnavailable) {
  Transport* t = tipc_transport();
  ASSERT_NE(t, nullptr);
  Availability a = t->probe();
  int fd = ::socket(AF_TIPC, SOCK_STREAM, 0);
  const int e = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(a.available, fd >= 0);
  if (fd < 0 && e == EAFNOSUPPORT) {
    EXPECT_NE(a.reason.find("AF_TIPC not supported by this kernel (EAFNOSUPPORT)"), std::string::npos) << a.reason;
  }
  // Bad URIs are refused before any socket is made, so on any machine.
  int err = 0;
  EXPECT_EQ(t->dial("tipc://1000:0", 100, &err), nullptr);  // instance 0 is listen-only
  EXPECT_EQ(err, EDVSINVAL);
  EXPECT_EQ(t->listen("tipc://1000:5?wait_ms=10", &err), nullptr);
  EXPECT_EQ(err, EDVSINVAL);
}

class TipcLive : public AvailableTransportTest {
 protected:
  TipcLive() : AvailableTransportTest("tipc", register_tipc) {}
  // A service type of its own per process, so parallel runs never meet.
  uint32_t type() const { return 20000 + static_cast<uint32_t>(getpid() % 100000); }
};

TEST_F(TipcLive, ANameHasOneListener) {
  int err = 0;
  const std::string uri = format_tipc_uri(type(), 7);
  auto a = t_->listen(uri, &err);
  ASSERT_NE(a, nullptr) << dvs_errname(err);
  EXPECT_EQ(a->uri(), uri);
  EXPECT_EQ(t_->listen(uri, &err), nullptr);
  EXPECT_EQ(err, EDVSADDRINUSE);
  a.reset();  // the name is withdrawn with the socket
  auto b = t_->listen(uri, &err);
  EXPECT_NE(b, nullptr) << dvs_errname(err);
}

TEST_F(TipcLive, InstanceZeroPicksDistinctFreeInstances) {
  std::vector<std::unique_ptr<Listener>> ls;
  std::set<std::string> uris;
  for (int i = 0; i < 5; ++i) {
    int err = 0;
    ls.push_back(t_->listen(format_tipc_uri(type(), 0, "?scope=node"), &err));
    ASSERT_NE(ls.back(), nullptr) << dvs_errname(err);
    TipcAddress a;
    ASSERT_EQ(0, parse_tipc_uri(ls.back()->uri(), &a)) << ls.back()->uri();
    EXPECT_NE(a.instance, 0u);
    EXPECT_TRUE(a.node_scope);
    uris.insert(ls.back()->uri());
  }
  EXPECT_EQ(uris.size(), 5u);
}

TEST_F(TipcLive, DialWaitsForTheServiceToBePublished) {
  const std::string uri = format_tipc_uri(type(), 9);
  int err = 0;
  auto t0 = Clock::now();
  EXPECT_EQ(t_->dial(uri + "?wait_ms=300", 5000, &err), nullptr);  // nobody publishes it
  EXPECT_EQ(err, EDVSCONNREFUSED);
  EXPECT_GE(ms_since(t0), 250.0);
  EXPECT_LT(ms_since(t0), 3000.0);
  // A late listener. TIPC completes a connection only when the listener accept()s it, so the
  // dial runs in a thread while this one listens and accepts.
  std::unique_ptr<Link> k;
  int derr = 0;
  std::thread dialer([&] { k = t_->dial(uri + "?wait_ms=5000", 10000, &derr); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the dial is waiting by then (not ordering)
  auto l = t_->listen(uri, &err);
  ASSERT_NE(l, nullptr) << dvs_errname(err);
  auto acc = l->accept(10000, &err);
  dialer.join();
  ASSERT_NE(k, nullptr) << dvs_errname(derr);
  ASSERT_NE(acc, nullptr) << dvs_errname(err);
  EXPECT_EQ(k->peer().rfind(uri + " (tipc-port://", 0), 0u) << k->peer();
  EXPECT_EQ(acc->peer().rfind("tipc-port://", 0), 0u) << acc->peer();
}

}  // namespace
}  // namespace dvs::transport::tipc
