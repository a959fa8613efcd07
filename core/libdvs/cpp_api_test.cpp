// The C++ layer (dvs.hpp) over real processes and a real dvsd.
#include <gtest/gtest.h>

#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "dvs/dvs.hpp"

namespace {
using dvs::testing::DvsdProcess;
using dvs::testing::Pipe;
using dvs::testing::run_in_child;

TEST(CppApi, SendrecThroughEndpointsAndErrorCodes) {
  DvsdProcess d;
  ASSERT_TRUE(d.start());
  const std::string sock = d.socket_path();
  Pipe ready;
  auto server = run_in_child("server", [&] {
    try {
      auto ep = dvs::Endpoint::process(0, 3, sock);
      ep.set_wait(dvs::Wait::block);
      ready.send(ep.endpoint());
      dvs::Message m{};
      if (ep.receive(DVS_ANY, m, 5000)) return 10;
      m.m_type *= 2;
      return ep.reply(m.m_source, m) ? 11 : 0;
    } catch (const dvs::Error&) {
      return 12;
    }
  });
  auto srv_ep = ready.recv();
  ASSERT_TRUE(srv_ep.has_value());
  EXPECT_EQ(*srv_ep, 3);  // a system slot: endpoint == p_nr
  auto client = run_in_child("client", [&] {
    auto ep = dvs::Endpoint::thread(0, DVS_ANY, sock);
    dvs::Message m{};
    m.m_type = 21;
    if (ep.sendrec(3, m, 5000)) return 20;
    if (m.m_type != 42 || m.m_source != 3) return 21;
    std::error_code ec = ep.receive(DVS_ANY, m, DVS_TIMEOUT_NOWAIT);
    if (ec.value() != EDVSTIMEDOUT || ec.category().name() != std::string("dvs")) return 22;
    if (ec.message().find("EDVSTIMEDOUT") == std::string::npos) return 23;
    return ep.unbind() ? 24 : 0;
  });
  EXPECT_TRUE(client.wait_ok());
  EXPECT_TRUE(server.wait_ok());
}

TEST(CppApi, BindingAnUnknownDcThrows) {
  DvsdProcess d;
  ASSERT_TRUE(d.start());
  const std::string sock = d.socket_path();
  auto child = run_in_child("binder", [&] {
    try {
      auto ep = dvs::Endpoint::process(7, 3, sock);
      return 1;
    } catch (const dvs::Error& e) {
      return e.code().value() == EDVSBADDCID ? 0 : 2;
    }
  });
  EXPECT_TRUE(child.wait_ok());
}
}  // namespace
