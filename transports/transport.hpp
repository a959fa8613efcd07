// The transport seam: how two dvsd nodes (or two test processes) move frames between them.
// A transport is selected by URI scheme (tcp://host:port, shm://name, tipc://type:instance,
// rdma://addr:port) and registered explicitly (see registry.hpp); it must pass the one
// conformance suite in transports/conformance/, which is its definition.
//
// Errors are negative EDVS codes (dvs/errors.h):
//   EDVSNOTCONN      the link is closed or the peer is gone (the link is dead from then on)
//   EDVSTIMEDOUT     nothing happened within the timeout (the link is still usable)
//   EDVSMSGSIZE      a frame larger than Capabilities::max_frame (nothing was sent)
//   EDVSBADVALUE     the peer sent bytes that are not a valid frame: the link is closed
//   EDVSINVAL        a malformed URI
//   EDVSADDRINUSE / EDVSCONNREFUSED / EDVSDSTNOTRCH   listen or dial failed
//   EDVSAFNOSUPPORT  the transport is not available on this machine (see probe())
// A frame is 1 .. max_frame bytes; the transport frames it, the content is opaque to it.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace dvs::transport {

// What a transport guarantees. It must tell the truth: the conformance suite checks it.
struct Capabilities {
  bool reliable = false;            // a frame sent while the link is up is delivered or the link dies
  bool ordered = false;             // frames arrive in send order
  bool message_boundaries = false;  // frames arrive whole, never merged or split
  size_t max_frame = 0;             // largest frame send() accepts, in bytes
  bool rma = false;                 // can move bulk data by remote memory access (zero copy)
  bool same_host_only = false;      // peers must run on the same host
};

struct Availability {
  bool available = false;
  std::string reason;  // why not, in one line (e.g. "AF_TIPC not supported by this kernel")
};

// One bidirectional, connected link to one peer.
// Threading: one thread may send while another receives; concurrent send() calls are
// serialized by the link; concurrent recv() calls are not allowed.
class Link {
 public:
  virtual ~Link() = default;  // closes the link

  // Sends one frame: the concatenation of frame[0..n). Blocks until the whole frame is handed to
  // the transport (the caller may reuse its buffers on return) or the link fails. 0 or an error;
  // an empty frame (total length 0) is refused with EDVSINVAL, like EDVSMSGSIZE nothing is sent.
  virtual int send(std::span<const iovec> frame) = 0;

  // Receives the next frame. On success returns its length (>= 1) and *frame views bytes owned by
  // the link, valid until the next recv() or close(). timeout_ms: -1 forever, 0 poll.
  virtual long recv(std::span<const std::byte>* frame, int timeout_ms) = 0;

  // Closes both directions; a recv() blocked in another thread returns EDVSNOTCONN. Idempotent.
  virtual void close() = 0;

  // A file descriptor that becomes readable when recv() may have something (or the link died),
  // for event loops; -1 if the transport has none.
  virtual int poll_fd() const = 0;

  // The peer, as a URI-like string for logs.
  virtual std::string peer() const = 0;

  // Handing a link to another process (dvsd gives a process the links that carry its endpoint's
  // remote traffic, docs/REMOTE_PATHS.md): the descriptor that is the whole link, if the transport
  // can hand it over (Transport::adopt) and nothing received is buffered in this object; -1 else.
  // The receiving thread's call (it reads the receive state).
  virtual int handover_fd() { return -1; }
  // Whether received bytes wait in this object (recv(0) may return a frame without the descriptor
  // becoming readable again). Conservative default: true. The receiving thread's call.
  virtual bool has_buffered() { return true; }
  // After this, destroying the object closes its descriptor without shutting the connection down:
  // another process holds the same connection. Idempotent.
  virtual void keep_connection_on_close() {}

  // Test hook for the conformance suite: puts raw bytes on the wire, bypassing framing, so a
  // test can play a peer that sends garbage or a truncated frame. 0 or an error.
  virtual int inject_raw_for_test(std::span<const std::byte> bytes) = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;  // stops listening
  // The next incoming link; nullptr and *err = EDVSTIMEDOUT / EDVSNOTCONN (closed) otherwise.
  virtual std::unique_ptr<Link> accept(int timeout_ms, int* err) = 0;
  // The URI peers dial (with the real port when port 0 was asked for).
  virtual std::string uri() const = 0;
  virtual int poll_fd() const = 0;  // readable when accept() would not block
  // Stops listening; an accept() blocked in another thread returns nullptr with EDVSNOTCONN.
  // Links already accepted are not affected. Idempotent.
  virtual void close() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string_view scheme() const = 0;  // "tcp", "shm", ...
  virtual Capabilities capabilities() const = 0;
  // Run-time check that the machine supports it (kernel module, device); cheap, no side effects.
  virtual Availability probe() const = 0;
  // nullptr and *err on failure.
  virtual std::unique_ptr<Listener> listen(const std::string& uri, int* err) = 0;
  virtual std::unique_ptr<Link> dial(const std::string& uri, int timeout_ms, int* err) = 0;
  // A link of a descriptor another process handed over (Link::handover_fd there), owned from now
  // on. nullptr and *err = EDVSNOSYS if this transport cannot.
  virtual std::unique_ptr<Link> adopt(int fd, int* err);
};

// "tcp://127.0.0.1:4000" -> scheme "tcp", rest "127.0.0.1:4000". False if there is no "://".
bool split_uri(std::string_view uri, std::string_view* scheme, std::string_view* rest);

// Calls take(key, value) for each "key=value" of a URI query "k=v&k=v" (without the '?'). False
// as soon as a pair has no '=' or take() returns false (an unknown key, a bad value).
bool for_each_query_pair(std::string_view query,
                         const std::function<bool(std::string_view key, std::string_view value)>& take);

}  // namespace dvs::transport
