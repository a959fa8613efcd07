// The tcp transport: tcp://HOST:PORT (see tcp_uri.hpp for the URI grammar, tcp_frame.hpp for
// the wire format, tcp_link.hpp for the link's behaviour).
// Capabilities: reliable, ordered, message boundaries, max_frame 16 MiB, no RMA, any host.
// register_tcp() registers one with default TcpOptions; make_tcp_transport() builds one with
// other defaults (e.g. shorter keepalive timers for a lab), to register under the same scheme.
#pragma once

#include <memory>

#include "transports/tcp/tcp_options.hpp"
#include "transports/transport.hpp"

namespace dvs::transport {

void register_tcp();

namespace tcp {
std::unique_ptr<Transport> make_tcp_transport(TcpOptions defaults = {});
}  // namespace tcp

}  // namespace dvs::transport
