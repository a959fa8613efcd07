// The UNIX socket side of an shm link: abstract-namespace addresses, the hello message that
// carries the region's memfd (SCM_RIGHTS), and doorbells.
//
// The socket (SOCK_SEQPACKET, connected) is the link's liveness channel: peer death or close =
// EOF/POLLHUP on it. After the hello it carries only 1-byte doorbells from the peer's producer.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace dvs::transport::shm {

// "\0dvs-shm/<name>" in the abstract namespace. False if the name does not fit.
bool abstract_address(std::string_view name, sockaddr_un* addr, socklen_t* len);

// The hello a dialer sends right after connect, with the region's memfd attached.
struct Hello {
  uint64_t magic;    // kMagic
  uint32_t version;  // kVersion
  uint32_t reserved;
};

// Sends the hello with `fd` attached. 0 or EDVSNOTCONN.
int send_hello(int sock, int fd);
// Receives a hello (non-blocking socket; the caller polled it readable). Returns 0 and the
// received fd (close-on-exec) in *fd; EDVSTIMEDOUT if nothing is there yet; EDVSBADVALUE for a
// malformed hello (any received fds are closed); EDVSNOTCONN on EOF.
int recv_hello(int sock, int* fd);

// Sends one doorbell byte, never blocking (a full socket already means "readable"). 0, or
// EDVSNOTCONN if the peer is gone.
int send_doorbell(int sock);
// Reads every pending doorbell without blocking. Returns 0, or EDVSNOTCONN on EOF / error.
int drain_doorbells(int sock);

}  // namespace dvs::transport::shm
