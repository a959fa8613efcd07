// gtest helpers for tests of transports that a machine may lack (tipc, rdma): skip with probe()'s
// reason, or fail where $DVS_REQUIRE_TRANSPORTS names the transport (the lab tests set it, so a
// lab run cannot pass by skipping).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "transports/transport_util.hpp"

// In a gtest SetUp(): skips the test with probe()'s reason when the Transport* t is unavailable
// here, or fails it if $DVS_REQUIRE_TRANSPORTS names it (a lab run cannot pass by skipping).
#define DVS_SKIP_UNLESS_AVAILABLE(t)                                                                  \
  do {                                                                                                \
    const ::dvs::transport::Availability dvs_avail_ = (t)->probe();                                   \
    if (!dvs_avail_.available) {                                                                      \
      if (::dvs::transport::transport_required((t)->scheme()))                                        \
        FAIL() << (t)->scheme() << " is required here (DVS_REQUIRE_TRANSPORTS) but unavailable: "     \
               << dvs_avail_.reason;                                                                  \
      GTEST_SKIP() << (t)->scheme() << " unavailable: " << dvs_avail_.reason;                         \
    }                                                                                                 \
  } while (0)

namespace dvs::transport {

// A fixture whose tests need the transport of `scheme` (registered with register_fn if it is not
// yet): t_ is set, and the test is skipped (or failed) if the transport is unavailable here.
class AvailableTransportTest : public ::testing::Test {
 protected:
  AvailableTransportTest(std::string_view scheme, void (*register_fn)()) : scheme_(scheme), register_(register_fn) {}
  void SetUp() override {
    t_ = registered(scheme_, register_);
    ASSERT_NE(t_, nullptr) << "no transport " << scheme_;
    DVS_SKIP_UNLESS_AVAILABLE(t_);
  }
  Transport* t_ = nullptr;

 private:
  std::string scheme_;
  void (*register_)();
};

}  // namespace dvs::transport
