// dvs return codes in test failures, by name: "EDVSTIMEDOUT(-61)" instead of -61.
#ifndef DVS_TESTING_RC_STR_HPP
#define DVS_TESTING_RC_STR_HPP

#include <gtest/gtest.h>

#include <string>

namespace dvs::testing {

// "EDVSTIMEDOUT(-61)" or "42".
std::string rc_str(long rc);

}  // namespace dvs::testing

// Assert on a dvs return code in the parent with readable names.
#define EXPECT_RC(expected, actual) \
  EXPECT_EQ(::dvs::testing::rc_str(expected), ::dvs::testing::rc_str(actual))
#define ASSERT_RC(expected, actual) \
  ASSERT_EQ(::dvs::testing::rc_str(expected), ::dvs::testing::rc_str(actual))

#endif
