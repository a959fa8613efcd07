#include "core/testkit/rc_str.hpp"

#include "dvs/errors.h"

namespace dvs::testing {

std::string rc_str(long rc) {
  if (rc < 0) return std::string(dvs_errname(static_cast<int>(rc))) + "(" + std::to_string(rc) + ")";
  return std::to_string(rc);
}

}  // namespace dvs::testing
