// The transports the harness can link two dvsd nodes by: every registered transport (the built-in
// ones of DVS_TRANSPORTS, and any a test registers) with its HarnessTraits. The harness keeps no
// list of schemes: it asks these. "local" is the harness's own name for no transport (both
// endpoints on one dvsd node); it is defined here and nowhere else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "transports/harness_traits.hpp"

namespace dvs::cluster {

inline constexpr const char* kLocalTransport = "local";

// The schemes of the registered transports, in registration order (the order tables and figures
// use). Registers the built-in transports first (idempotent).
std::vector<std::string> node_transports();
// The traits of `scheme`'s transport; nullptr if no registered transport has that scheme (and
// for "local").
const transport::HarnessTraits* node_transport_traits(std::string_view scheme);
// "tcp, shm, tipc or rdma" (quoted: "\"tcp\", ... or \"rdma\""), for error messages.
std::string node_transport_choices(bool quoted = false);

}  // namespace dvs::cluster
