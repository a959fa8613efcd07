// Parsing and printing of rdma URIs: rdma://HOST:PORT[?poll_us=N]
//   HOST  an IPv4 literal, or an IPv6 literal in brackets: an IP address of an RDMA device's
//         netdev (it selects the device: RoCE v2 GIDs are the netdev's addresses). Names are
//         refused. Empty only for listen: the first IPv4 address of an RDMA device.
//   PORT  the TCP port of the link's control connection, 1 .. 65535; 0 only for listen (the
//         kernel picks one; Listener::uri() names it).
//   poll_us=N  spin polling the completion queues up to N microseconds (0 .. 1000000) before
//              sleeping on the completion channel. Default 0: sleep at once (no CPU burnt).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "transports/rdma/rdma_link.hpp"

namespace dvs::transport::rdma {

struct RdmaAddress {
  std::string host;  // without brackets; "" = pick (listen only)
  uint16_t port = 0;
  LinkOptions options;
  std::string query;  // the original "?..." suffix (empty if none), kept for Listener::uri()
};

// Parses a full URI ("rdma://..."). 0, or EDVSINVAL for a wrong scheme, a host that is not an
// IP literal, a malformed port, an unknown query key or an out-of-range value.
int parse_rdma_uri(std::string_view uri, RdmaAddress* out);

// Fills *ss with host:port (an IPv4 or IPv6 literal). False if host is not one.
bool to_sockaddr(const std::string& host, uint16_t port, sockaddr_storage* ss, socklen_t* len);

// "rdma://1.2.3.4:5" or "rdma://[fe80::1]:5" for a socket address, followed by query.
std::string format_rdma_uri(const sockaddr* sa, socklen_t len, std::string_view query = {});

}  // namespace dvs::transport::rdma
