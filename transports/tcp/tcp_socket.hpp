// Socket plumbing of the tcp transport: errno mapping, per-link options, gather writes that
// survive partial writes and EINTR, and connect with a timeout. No state; every function is
// safe to call from any thread on its own fd.
#pragma once

#include <netdb.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>

#include "transports/tcp/tcp_options.hpp"

namespace dvs::transport::tcp {

// errno -> negative EDVS code (ECONNREFUSED -> EDVSCONNREFUSED, EPIPE -> EDVSNOTCONN, ...).
int errno_to_dvs(int e);

// TCP_NODELAY, SO_KEEPALIVE with the keepalive timers, TCP_USER_TIMEOUT. 0 or an EDVS code.
int apply_link_options(int fd, const TcpOptions& o);

// Writes all of iov[0..n) to fd (blocking socket), looping over partial writes, EINTR and
// IOV_MAX. Modifies the iovec array (it advances through it); the bytes are not copied.
// 0, or an EDVS code (the stream is then in an unknown state: the caller closes the link).
int write_all(int fd, iovec* iov, size_t n);

// Connects a new socket to one resolved address within timeout_ms (-1 forever). On success
// returns 0 and *fd_out is a connected, blocking, close-on-exec socket; otherwise an EDVS code
// (EDVSTIMEDOUT when the time ran out) and no fd.
int connect_with_timeout(const addrinfo* ai, int timeout_ms, int* fd_out);

// getaddrinfo() error -> EDVS code (unknown name -> EDVSDSTNOTRCH).
int gai_to_dvs(int gai_error);

// The peer's address as "tcp://host:port", or "tcp://?" if unknown.
std::string peer_uri(int fd);

}  // namespace dvs::transport::tcp
