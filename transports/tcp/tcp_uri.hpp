// Parsing and printing of tcp URIs: tcp://HOST:PORT[?key=value&...]
//   HOST is a DNS name, an IPv4 literal, or an IPv6 literal in brackets ([::1]); empty only for
//   listen (all IPv4 addresses). PORT is 0 .. 65535 (0 only for listen: the kernel picks one).
//   Query keys: keepidle, keepintvl, keepcnt, user_timeout_ms (see tcp_options.hpp).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "transports/tcp/tcp_options.hpp"

namespace dvs::transport::tcp {

struct TcpAddress {
  std::string host;   // without brackets; "" means any address
  uint16_t port = 0;
  TcpOptions options;
  std::string query;  // the original "?..." suffix (empty if none), kept for Listener::uri()
};

// Parses a full URI ("tcp://..."); options not in the query keep the values of `defaults`.
// 0, or EDVSINVAL for a wrong scheme, a malformed host or port, an unknown query key or an
// out-of-range value.
int parse_tcp_uri(std::string_view uri, const TcpOptions& defaults, TcpAddress* out);

// "tcp://1.2.3.4:5" or "tcp://[::1]:5" for a socket address (numeric, always dialable).
std::string format_tcp_uri(const sockaddr* sa, socklen_t len);

}  // namespace dvs::transport::tcp
