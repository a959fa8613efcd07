// The shm:// transport: two processes on one host exchange frames through a shared memory
// region (shm_layout.hpp) after a rendezvous on an abstract UNIX socket.
//
// Rendezvous: the listener binds SOCK_SEQPACKET "\0dvs-shm/NAME" and listens. A dialer connects,
// creates the region (sealed memfd) and sends a Hello carrying it (SCM_RIGHTS); dial() returns at
// once (the link is usable before the listener accepts: frames wait in the ring). accept()
// receives the Hello, validates the region (shm_region.hpp) and maps it; a dialer that sends no
// valid Hello within kHelloTimeoutMs is dropped and accept() keeps waiting.
#pragma once

#include <memory>

#include "transports/transport.hpp"

namespace dvs::transport::shm {

inline constexpr int kHelloTimeoutMs = 2000;

std::unique_ptr<Transport> make_shm_transport();

}  // namespace dvs::transport::shm
