#include "transports/tcp/tcp_uri.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>


#include "dvs/errors.h"
#include "transports/transport_util.hpp"

namespace dvs::transport::tcp {

namespace {

// "k=v&k=v" into o.
bool parse_query(std::string_view q, TcpOptions* o) {
  return for_each_query_pair(q, [o](std::string_view k, std::string_view v) {
    long n = 0;
    if (k == "keepidle" && parse_long(v, 1, 32767, &n))
      o->keepidle_s = static_cast<int>(n);
    else if (k == "keepintvl" && parse_long(v, 1, 32767, &n))
      o->keepintvl_s = static_cast<int>(n);
    else if (k == "keepcnt" && parse_long(v, 1, 127, &n))
      o->keepcnt = static_cast<int>(n);
    else if (k == "user_timeout_ms" && parse_long(v, 0, 0x7fffffff, &n))
      o->user_timeout_ms = static_cast<int>(n);
    else
      return false;
    return true;
  });
}

}  // namespace

int parse_tcp_uri(std::string_view uri, const TcpOptions& defaults, TcpAddress* out) {
  TcpAddress a;
  a.options = defaults;
  std::string_view rest;
  if (!split_uri_query(uri, "tcp", &rest, &a.query, [&](std::string_view q) { return parse_query(q, &a.options); }))
    return EDVSINVAL;
  std::string_view host, port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return EDVSINVAL;
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
    if (host.empty()) return EDVSINVAL;
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return EDVSINVAL;
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return EDVSINVAL;  // IPv6 needs brackets
  }
  if (host.find_first_of("/ \t@") != std::string_view::npos) return EDVSINVAL;
  long p = 0;
  if (!parse_long(port, 0, 65535, &p)) return EDVSINVAL;
  a.host = std::string(host);
  a.port = static_cast<uint16_t>(p);
  *out = std::move(a);
  return 0;
}

std::string format_tcp_uri(const sockaddr* sa, socklen_t len) {
  char buf[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    port = ntohs(in->sin_port);
    return "tcp://" + std::string(buf) + ":" + std::to_string(port);
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    port = ntohs(in6->sin6_port);
    return "tcp://[" + std::string(buf) + "]:" + std::to_string(port);
  }
  return "tcp://?";
}

}  // namespace dvs::transport::tcp
