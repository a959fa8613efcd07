#include "transports/rdma/rdma_uri.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "dvs/errors.h"
#include "transports/tcp/tcp_uri.hpp"
#include "transports/transport_util.hpp"

namespace dvs::transport::rdma {

int parse_rdma_uri(std::string_view uri, RdmaAddress* out) {
  RdmaAddress a;
  auto option = [&a](std::string_view k, std::string_view v) {
    long n = 0;
    if (k != "poll_us" || !parse_long(v, 0, 1'000'000, &n)) return false;
    a.options.poll_us = static_cast<int>(n);
    return true;
  };
  std::string_view rest;
  if (!split_uri_query(uri, "rdma", &rest, &a.query, [&](std::string_view q) { return for_each_query_pair(q, option); }))
    return EDVSINVAL;
  // HOST:PORT has the tcp grammar ([IPv6] in brackets, port 0 .. 65535); the host must then be a
  // literal address, since it selects the RDMA device.
  tcp::TcpAddress t;
  if (tcp::parse_tcp_uri("tcp://" + std::string(rest), {}, &t) < 0) return EDVSINVAL;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!t.host.empty() && !to_sockaddr(t.host, t.port, &ss, &len)) return EDVSINVAL;
  a.host = t.host;
  a.port = t.port;
  *out = std::move(a);
  return 0;
}

bool to_sockaddr(const std::string& host, uint16_t port, sockaddr_storage* ss, socklen_t* len) {
  *ss = {};
  auto* in = reinterpret_cast<sockaddr_in*>(ss);
  if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string format_rdma_uri(const sockaddr* sa, socklen_t len, std::string_view query) {
  // tcp prints the same HOST:PORT forms; only the scheme differs.
  std::string t = tcp::format_tcp_uri(sa, len);
  return "rdma://" + t.substr(std::strlen("tcp://")) + std::string(query);
}

}  // namespace dvs::transport::rdma
