#include "transports/tcp/tcp_link.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "dvs/errors.h"
#include "transports/tcp/tcp_deadline.hpp"
#include "transports/tcp/tcp_frame.hpp"
#include "transports/tcp/tcp_socket.hpp"
#include "transports/transport_util.hpp"

namespace dvs::transport::tcp {

Capabilities link_capabilities() {
  return Capabilities{.reliable = true, .ordered = true, .message_boundaries = true, .max_frame = kMaxFrame,
                      .rma = false, .same_host_only = false};
}

TcpLink::TcpLink(int fd, size_t max_frame) : TcpLink(fd, max_frame, peer_uri(fd)) {}

TcpLink::TcpLink(int fd, size_t max_frame, std::string peer)
    : fd_(fd), max_frame_(max_frame), peer_(std::move(peer)), rx_(kHeaderSize + max_frame) {}

TcpLink::~TcpLink() {
  if (!keep_connection_.load()) close();
  ::close(fd_);
}

void TcpLink::close() {
  if (!closed_.exchange(true)) ::shutdown(fd_, SHUT_RDWR);
}

long TcpLink::fail(long code) {
  close();
  return code;
}

int TcpLink::send(std::span<const iovec> frame) {
  const long total = frame_length(frame, max_frame_);
  if (total < 0) return static_cast<int>(total);
  if (closed_.load(std::memory_order_relaxed)) return EDVSNOTCONN;

  std::byte hdr[kHeaderSize];
  encode_header(static_cast<uint32_t>(total), hdr);
  // The gather list sent: our header, then the caller's pieces (their bytes are not copied).
  std::array<iovec, 16> small;
  std::vector<iovec> big;
  iovec* iov = small.data();
  if (frame.size() + 1 > small.size()) {
    big.resize(frame.size() + 1);
    iov = big.data();
  }
  iov[0] = {hdr, kHeaderSize};
  for (size_t i = 0; i < frame.size(); ++i) iov[i + 1] = frame[i];

  std::lock_guard<std::mutex> lock(send_mu_);
  int rc = write_all(fd_, iov, frame.size() + 1);
  // A failed write leaves the stream mid-frame: the link cannot be used any more.
  if (rc < 0) return static_cast<int>(fail(EDVSNOTCONN));
  return 0;
}

int TcpLink::inject_raw_for_test(std::span<const std::byte> bytes) {
  if (closed_.load(std::memory_order_relaxed)) return EDVSNOTCONN;
  iovec v{const_cast<std::byte*>(bytes.data()), bytes.size()};
  std::lock_guard<std::mutex> lock(send_mu_);
  int rc = write_all(fd_, &v, 1);
  return rc < 0 ? static_cast<int>(fail(EDVSNOTCONN)) : 0;
}

long TcpLink::recv(std::span<const std::byte>* frame, int timeout_ms) {
  if (closed_.load(std::memory_order_relaxed)) return EDVSNOTCONN;
  rx_.consume(handed_out_);  // the caller's view of the previous frame ends here
  handed_out_ = 0;
  Deadline dl(timeout_ms);
  for (;;) {
    size_t need = kHeaderSize;
    if (rx_.size() >= kHeaderSize) {
      long len = decode_header(rx_.data(), max_frame_);
      if (len < 0) return fail(EDVSBADVALUE);
      need += static_cast<size_t>(len);
      if (rx_.size() >= need) {
        set_rcvlowat(1);
        *frame = std::span<const std::byte>(rx_.data() + kHeaderSize, static_cast<size_t>(len));
        handed_out_ = need;
        return len;
      }
    }
    rx_.make_room(need);
    const size_t missing = need - rx_.size();
    set_rcvlowat(rx_.size() >= kHeaderSize && missing >= kLowatMin ? missing : 1);
    int rc = read_some(dl);
    if (rc < 0) return rc == EDVSTIMEDOUT ? rc : fail(rc);
  }
}

void TcpLink::set_rcvlowat(size_t bytes) {
  if (lowat_off_) bytes = 1;
  if (bytes == rcvlowat_) return;
  const int v = static_cast<int>(std::min<size_t>(bytes, INT32_MAX / 2));
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) == 0) rcvlowat_ = bytes;
}

int TcpLink::read_some(const Deadline& dl) {
  for (;;) {
    auto space = rx_.free_space();
    int timeout_ms = dl.remaining_ms();
    // With a low-water mark set, never wait longer than kLowatSafetyMs at a time (see below).
    const bool lowat = rcvlowat_ > 1;
    if (lowat && (timeout_ms < 0 || timeout_ms > kLowatSafetyMs)) timeout_ms = kLowatSafetyMs;
    // -1: a plain blocking read (one syscall; close() wakes it through shutdown()).
    // 0 / >0: non-blocking read, after waiting for readability when a wait is allowed.
    if (timeout_ms > 0) {
      // Data already there (the common case under load): take it without a poll() first.
      ssize_t n = ::recv(fd_, space.data(), space.size(), MSG_DONTWAIT);
      if (n > 0) {
        rx_.commit(static_cast<size_t>(n));
        return 0;
      }
      if (n == 0) return EDVSNOTCONN;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return EDVSNOTCONN;
      pollfd p{fd_, POLLIN, 0};
      int pr = ::poll(&p, 1, timeout_ms);
      if (pr < 0 && errno == EINTR) continue;  // the caller's deadline is rechecked next round
      if (pr == 0 && lowat) {
        // The rest of the frame did not arrive within the safety bound. Older kernels (Debian
        // 12's 6.1) can stall a receiver whose low-water mark the peer cannot reach (the window
        // stops just short of it); a slow network looks the same. Either way the mark is not
        // worth it on this link: drop it for good and keep waiting the caller's time.
        lowat_off_ = true;
        set_rcvlowat(1);
        continue;
      }
      if (pr == 0) return EDVSTIMEDOUT;
      if (pr < 0) return EDVSNOTCONN;
    }
    ssize_t n = ::recv(fd_, space.data(), space.size(), timeout_ms < 0 ? 0 : MSG_DONTWAIT);
    if (n > 0) {
      rx_.commit(static_cast<size_t>(n));
      return 0;
    }
    if (n == 0) return EDVSNOTCONN;  // orderly shutdown by the peer, or our own close()
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (timeout_ms == 0) return EDVSTIMEDOUT;
      continue;  // spurious readiness; poll again (bounded by the caller's deadline)
    }
    return EDVSNOTCONN;
  }
}

}  // namespace dvs::transport::tcp
