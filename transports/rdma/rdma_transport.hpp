// The rdma transport: rdma://ADDR:PORT (rdma_uri.hpp), frames over a reliable connected QP
// (libibverbs; rdma_link.hpp for flow control and waiting, rdma_frame.hpp for the wire format),
// connected by an exchange over a TCP control connection (rdma_handshake.hpp). README.md has the
// design and its limits.
// Capabilities: reliable, ordered, message boundaries, max_frame 16 MiB, no RMA (yet), any host.
// probe() says unavailable, with the reason, where there is no RDMA device (or dvs was built
// without libibverbs); the conformance cases then skip with that reason.
#pragma once

#include "transports/transport.hpp"

namespace dvs::transport {

void register_rdma();

}  // namespace dvs::transport
