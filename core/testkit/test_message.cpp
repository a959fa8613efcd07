#include "core/testkit/test_message.hpp"

#include <cstdint>

namespace dvs::testing {

dvs_message_t make_msg(int type, int seed) {
  dvs_message_t m{};
  m.m_source = 0x5a5a5a5a;  // garbage: every primitive must overwrite it
  m.m_type = type;
  for (int i = 0; i < DVS_MSG_PAYLOAD; ++i) m.m_u.raw[i] = static_cast<uint8_t>(seed + i);
  return m;
}

bool payload_ok(const dvs_message_t& m, int seed) {
  for (int i = 0; i < DVS_MSG_PAYLOAD; ++i)
    if (m.m_u.raw[i] != static_cast<uint8_t>(seed + i)) return false;
  return true;
}

}  // namespace dvs::testing
