// Parsing and printing of tipc URIs: tipc://TYPE:INSTANCE[?key=value&...]
//   TYPE      the TIPC service type, 64 .. 4294967295 (0 .. 63 are reserved by TIPC), decimal or
//             0x-hex.
//   INSTANCE  the service instance, 1 .. 4294967295, decimal or 0x-hex; 0 only for listen, where
//             it means "pick a free instance" (Listener::uri() then names the one picked).
//   Query keys:
//     scope=cluster|node   listen: publish the service cluster-wide (default) or on this node
//                          only. Ignored by dial (so a listener's uri() is dialable as it is).
//     wait_ms=N            dial: wait up to N ms (bounded by the dial timeout) for the service to
//                          be published somewhere in the cluster, watching the TIPC topology
//                          service, before connecting. Default 0: a service nobody publishes is
//                          refused at once (EDVSCONNREFUSED).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dvs::transport::tipc {

struct TipcAddress {
  uint32_t type = 0;
  uint32_t instance = 0;
  bool node_scope = false;  // scope=node
  int wait_ms = 0;          // 0 .. 3600000
  std::string query;        // the original "?..." suffix (empty if none), kept for Listener::uri()
};

inline constexpr uint32_t kFirstUserType = 64;  // TIPC_RESERVED_TYPES

// Parses a full URI ("tipc://..."). 0, or EDVSINVAL for a wrong scheme, a missing or malformed
// number, a reserved type, an unknown query key or an out-of-range value. Instance 0 is accepted
// here; dial() refuses it.
int parse_tipc_uri(std::string_view uri, TipcAddress* out);

// "tipc://TYPE:INSTANCE" (decimal) followed by query.
std::string format_tipc_uri(uint32_t type, uint32_t instance, std::string_view query = {});

}  // namespace dvs::transport::tipc
