// The tipc transport: tipc://TYPE:INSTANCE, connection-oriented TIPC (SOCK_STREAM) sockets
// addressed by service name (tipc_uri.hpp for the URI grammar, README.md for the design).
// Frames use the tcp transport's stream framing and link (tcp_frame.hpp, tcp_link.hpp): an
// 8-byte validated header, gather sends, max_frame 16 MiB.
// Capabilities: reliable, ordered, message boundaries, max_frame 16 MiB, no RMA, any node of the
// TIPC cluster. probe() says unavailable (with the reason) where the kernel has no AF_TIPC.
#pragma once

#include "transports/transport.hpp"

namespace dvs::transport {

void register_tipc();

}  // namespace dvs::transport
