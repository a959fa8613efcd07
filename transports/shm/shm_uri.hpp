// shm:// URIs:  shm://NAME[?ring=BYTES][&spin_us=N]   (options in any order, '&'-separated)
//   NAME     1..64 characters of [A-Za-z0-9._-]; the rendezvous is the abstract UNIX socket
//            "\0dvs-shm/NAME". A listener given an empty NAME ("shm://") picks a unique one
//            (see Listener::uri()).
//   ring     bytes per ring direction, a power of two in [4 KiB, 1 GiB], with an optional k/m/g
//            suffix (binary). Decided by the dialer, who creates the region. Default 4m.
//   spin_us  how long a waiting recv/send spins before it sleeps, 0 .. 1000000. Default 50:
//            about the cost of a cross-core futex/socket wake-up on the reference machine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "transports/shm/shm_layout.hpp"

namespace dvs::transport::shm {

inline constexpr int64_t kDefaultSpinNs = 50'000;
inline constexpr size_t kMaxNameLen = 64;

struct ShmUri {
  std::string name;
  uint64_t ring = kDefaultRing;
  int64_t spin_ns = kDefaultSpinNs;
};

// 0, or EDVSINVAL for a malformed URI (wrong scheme, bad name, unknown or bad option).
int parse_shm_uri(std::string_view uri, bool allow_empty_name, ShmUri* out);

}  // namespace dvs::transport::shm
