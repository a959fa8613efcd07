// One tcp link: a connected stream socket carrying frames (tcp_frame.hpp). Nothing in it is
// TCP-specific: the tipc transport uses it for its TIPC SOCK_STREAM sockets too.
//  * send(): header + the caller's iovecs in one gather sendmsg() loop (no payload copy), under
//    a mutex so concurrent senders never interleave frames. Blocks while the socket buffer is
//    full (the peer is slow); fails with EDVSNOTCONN once the link is closed or the peer gone.
//  * recv(): reads into the link's RxBuffer (grows up to header + max_frame), validates each
//    header and returns a view of the payload inside that buffer, valid until the next recv()
//    or the link's destruction. A timeout leaves a partly received frame buffered (the link stays
//    usable); a bad header closes the link (EDVSBADVALUE, then EDVSNOTCONN).
//    While the rest of a large frame is outstanding (>= kLowatMin bytes), SO_RCVLOWAT is set to
//    that remainder, so the kernel wakes the receiver once when the frame is complete instead of
//    once per segment (on a VM each of those wake-ups is an IPI the sender's CPU pays for).
//    A wait with the mark set lasts at most kLowatSafetyMs; if the frame has not completed by
//    then, the link stops using the mark (some kernels can stall a receiver on it).
//  * close(): shutdown(SHUT_RDWR): a recv() or send() blocked in another thread returns
//    EDVSNOTCONN. The fd itself is closed only by the destructor, so poll_fd() stays valid (and
//    readable) until then and no other thread can ever use a recycled fd number.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "transports/tcp/rx_buffer.hpp"
#include "transports/tcp/tcp_deadline.hpp"
#include "transports/transport.hpp"

namespace dvs::transport::tcp {

// What a TcpLink guarantees, whatever stream socket it runs on: reliable, ordered, message
// boundaries (the header restores them), max_frame 16 MiB, no RMA, any host.
Capabilities link_capabilities();

class TcpLink final : public Link {
 public:
  // Takes ownership of fd: a connected, blocking stream socket with its options applied.
  TcpLink(int fd, size_t max_frame);
  // The same for any connected stream socket; peer is what peer() reports.
  TcpLink(int fd, size_t max_frame, std::string peer);
  ~TcpLink() override;
  TcpLink(const TcpLink&) = delete;
  TcpLink& operator=(const TcpLink&) = delete;

  int send(std::span<const iovec> frame) override;
  long recv(std::span<const std::byte>* frame, int timeout_ms) override;
  void close() override;
  int poll_fd() const override { return fd_; }
  std::string peer() const override { return peer_; }
  int handover_fd() override { return rx_.size() == handed_out_ ? fd_ : -1; }
  bool has_buffered() override { return rx_.size() > handed_out_; }
  void keep_connection_on_close() override { keep_connection_.store(true); }
  int inject_raw_for_test(std::span<const std::byte> bytes) override;

 private:
  // Reads what is available into rx_ (waits at most until the deadline). 0, EDVSTIMEDOUT, or
  // EDVSNOTCONN (peer closed, socket error, or close() called).
  int read_some(const Deadline& dl);
  // SO_RCVLOWAT = bytes (1 = the default); a no-op when already so. Failures are ignored: the
  // option only saves wake-ups.
  void set_rcvlowat(size_t bytes);
  static constexpr size_t kLowatMin = 32 * 1024;
  static constexpr int kLowatSafetyMs = 5;  // longest wait with a mark set (see read_some)
  // Marks the link dead and shuts the socket down; returns code.
  long fail(long code);

  const int fd_;
  const size_t max_frame_;
  const std::string peer_;
  std::atomic<bool> closed_{false};  // close() was called or the link died
  std::atomic<bool> keep_connection_{false};  // the destructor closes the fd only (no shutdown)
  std::mutex send_mu_;               // one frame on the wire at a time
  RxBuffer rx_;                      // receiving thread only
  size_t handed_out_ = 0;            // bytes of the frame the last recv() returned (receiving thread)
  size_t rcvlowat_ = 1;              // current SO_RCVLOWAT (receiving thread)
  bool lowat_off_ = false;           // a wait with the mark stalled once: never set it again
};

}  // namespace dvs::transport::tcp
