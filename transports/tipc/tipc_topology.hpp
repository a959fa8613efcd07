// A client of the TIPC topology service (the kernel's name-table watcher, service {1, 1}):
// how many sockets publish a service name, and waiting for one to be published. listen() uses it
// to refuse a name that is already published (TIPC itself would silently share it between the
// two listeners) and to pick a free instance; dial() with ?wait_ms uses it to wait for a peer
// node to come up and publish its service (node discovery).
#pragma once

#include <cstdint>

namespace dvs::transport::tipc {

// Publications of {type, instance} visible from this node (the cluster-wide name table), counted
// through one topology subscription. >= 0, or a negative EDVS code (EDVSAFNOSUPPORT without
// TIPC). Waits a few milliseconds (the subscription's own timeout), bounded by 2 s in all.
int count_publications(uint32_t type, uint32_t instance);

// Waits until {type, instance} is published somewhere in the cluster: 0, EDVSTIMEDOUT after
// timeout_ms (1 .. 3600000), or a negative EDVS code.
int wait_published(uint32_t type, uint32_t instance, int timeout_ms);

}  // namespace dvs::transport::tipc
