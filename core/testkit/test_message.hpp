// Messages whose payload a test can recognize after a trip through dvs.
#ifndef DVS_TESTING_TEST_MESSAGE_HPP
#define DVS_TESTING_TEST_MESSAGE_HPP

#include "dvs/dvs.h"

namespace dvs::testing {

// A message with m_type and a recognizable payload (raw[i] = seed + i).
dvs_message_t make_msg(int type, int seed = 0);
// Does m carry the payload make_msg(_, seed) wrote?
bool payload_ok(const dvs_message_t& m, int seed);

}  // namespace dvs::testing

#endif
