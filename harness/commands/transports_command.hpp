// `dvs transports [--json]`: the transports this binary has registered (transports/CMakeLists.txt
// DVS_TRANSPORTS, in that order) with their HarnessTraits and whether this machine has what each
// needs (its probe()). The harness's "local" (one node, no transport) is not one of them.
// --json: {"local": "local", "transports": [{"scheme", "label", "order", "network",
// "pingpong_baseline", "stream_baseline", "crosses_network_namespaces", "lab", "available",
// "unavailable_reason", "listen_uri_example"}]}; "order" counts from 1 (local is 0). Exit 0.
#ifndef DVS_HARNESS_COMMANDS_TRANSPORTS_COMMAND_HPP
#define DVS_HARNESS_COMMANDS_TRANSPORTS_COMMAND_HPP

#include "harness/commands/command.hpp"

namespace dvs::cli {

Command make_transports_command();

}  // namespace dvs::cli

#endif
