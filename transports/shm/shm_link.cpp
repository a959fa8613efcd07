#include "transports/shm/shm_link.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "dvs/errors.h"
#include "transports/shm/shm_socket.hpp"
#include "transports/shm/shm_wait.hpp"
#include "transports/transport_util.hpp"

namespace dvs::transport::shm {

std::unique_ptr<ShmLink> ShmLink::make(int sock, Region region, Side side, int64_t spin_ns,
                                       std::string peer, int* err) {
  std::unique_ptr<ShmLink> l(new ShmLink(sock, std::move(region), side, spin_ns, std::move(peer)));
  l->epfd_ = epoll_create1(EPOLL_CLOEXEC);
  l->self_efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  bool ok = l->epfd_ >= 0 && l->self_efd_ >= 0;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = sock;
  ok = ok && epoll_ctl(l->epfd_, EPOLL_CTL_ADD, sock, &ev) == 0;
  ev.data.fd = l->self_efd_;
  ok = ok && epoll_ctl(l->epfd_, EPOLL_CTL_ADD, l->self_efd_, &ev) == 0;
  if (!ok) {
    *err = EDVSMFILE;
    return nullptr;  // the destructor closes what was opened
  }
  // Start armed, so the first frame rings; frames the peer sent before we existed need a signal.
  if (l->arm()) l->self_signal();
  return l;
}

ShmLink::ShmLink(int sock, Region region, Side side, int64_t spin_ns, std::string peer)
    : sock_(sock), region_(std::move(region)), side_(side), spin_ns_(spin_ns), peer_(std::move(peer)) {
  ShmHeader* h = region_.header();
  const uint64_t cap = region_.capacity();
  const int other = 1 - side;
  out_ = RingWriter(&h->ring[side], region_.ring_data(side), cap);
  in_ = RingReader(&h->ring[other], region_.ring_data(other), cap);
}

ShmLink::~ShmLink() {
  close();
  if (epfd_ >= 0) ::close(epfd_);
  if (self_efd_ >= 0) ::close(self_efd_);
  if (sock_ >= 0) ::close(sock_);
}

void ShmLink::close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  region_.header()->closed[side_].store(1, std::memory_order_seq_cst);
  ::shutdown(sock_, SHUT_RDWR);  // wakes our pollers and tells the peer
  RingCtl* c = out_.ctl();       // wakes our own sender sleeping for space
  c->space_seq.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_shared(&c->space_seq);
}

bool ShmLink::peer_closed() const {
  return peer_gone_.load(std::memory_order_acquire) ||
         region_.header()->closed[1 - side_].load(std::memory_order_acquire) != 0;
}

bool ShmLink::socket_hung_up() {
  pollfd p{sock_, 0, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) {
    peer_gone_.store(true, std::memory_order_release);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- send

int ShmLink::send(std::span<const iovec> frame) {
  const long total = frame_length(frame, kMaxFrame);
  if (total < 0) return static_cast<int>(total);
  std::lock_guard<std::mutex> lk(send_mu_);
  if (closed_.load(std::memory_order_acquire)) return EDVSNOTCONN;
  if (peer_closed()) {
    close();
    return EDVSNOTCONN;
  }
  const FrameHeader h{kFrameMagic, static_cast<uint32_t>(total)};
  int rc = write_bytes(&h, sizeof h);
  for (size_t i = 0; rc == 0 && i < frame.size(); ++i)
    rc = write_bytes(frame[i].iov_base, frame[i].iov_len);
  if (rc < 0) return rc;
  return publish_out();
}

int ShmLink::inject_raw_for_test(std::span<const std::byte> bytes) {
  std::lock_guard<std::mutex> lk(send_mu_);
  if (closed_.load(std::memory_order_acquire)) return EDVSNOTCONN;
  int rc = write_bytes(bytes.data(), bytes.size());
  if (rc < 0) return rc;
  return publish_out();
}

int ShmLink::write_bytes(const void* p, size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  while (n > 0) {
    long k = out_.write_some(b, n);
    if (k < 0) {
      close();
      return static_cast<int>(k);
    }
    if (k == 0) {
      // Full: let the reader see what we wrote (it may be one piece of a large frame), then wait.
      int rc = publish_out();
      if (rc == 0) rc = wait_space();
      if (rc < 0) return rc;
      continue;
    }
    b += k;
    n -= static_cast<size_t>(k);
  }
  return 0;
}

int ShmLink::publish_out() {
  if (!out_.publish()) return 0;
  if (send_doorbell(sock_) == 0) return 0;
  peer_gone_.store(true, std::memory_order_release);
  close();
  return EDVSNOTCONN;
}

int ShmLink::wait_space() {
  RingCtl* c = out_.ctl();
  const Deadline spin_until = Deadline::after_ns(spin_ns_);
  const int64_t yield_after = now_ns() + kPureSpinNs;
  for (;;) {
    for (int i = 0; i < 64; ++i) cpu_relax();
    long f = out_.refresh_free();
    if (f < 0) {
      close();
      return static_cast<int>(f);
    }
    if (f > 0) return 0;
    if (closed_.load(std::memory_order_acquire)) return EDVSNOTCONN;
    if (spin_until.passed()) break;
    if (now_ns() >= yield_after) sched_yield();
  }
  for (;;) {
    const uint32_t seq = c->space_seq.load(std::memory_order_seq_cst);
    c->writer_sleeping.store(1, std::memory_order_seq_cst);
    long f = out_.refresh_free();
    if (f != 0) {
      c->writer_sleeping.store(0, std::memory_order_relaxed);
      if (f > 0) return 0;
      close();
      return static_cast<int>(f);
    }
    if (closed_.load(std::memory_order_acquire)) return EDVSNOTCONN;
    if (peer_closed() || socket_hung_up()) {
      close();
      return EDVSNOTCONN;
    }
    futex_wait_shared(&c->space_seq, seq, int64_t{kSpaceSliceMs} * 1000000);
  }
}

// ---------------------------------------------------------------- recv

long ShmLink::recv(std::span<const std::byte>* frame, int timeout_ms) {
  if (closed_.load(std::memory_order_acquire)) return EDVSNOTCONN;
  const Deadline deadline = Deadline::after_ms(timeout_ms);
  bool spun = timeout_ms == 0;
  for (;;) {
    const long r = frames_.poll(in_);
    if (in_.publish()) wake_writer();
    if (r > 0) {
      *frame = frames_.frame();
      if (timeout_ms == 0) keep_poll_fd_level();
      return r;
    }
    if (r < 0) {
      close();
      return r;
    }
    if (closed_.load(std::memory_order_acquire)) return EDVSNOTCONN;
    // Nothing (more) to read right now.
    if (peer_closed()) {
      // Deliver what the peer published before it went away, then report it gone.
      if (in_.available() != 0) continue;
      close();
      return EDVSNOTCONN;
    }
    if (!spun) {
      spun = true;
      if (spin_for_data(Deadline::after_ns(spin_ns_).min(deadline))) continue;
    }
    if (arm()) continue;
    if (deadline.passed()) return EDVSTIMEDOUT;
    sleep_on_socket(deadline);
  }
}

bool ShmLink::spin_for_data(const Deadline& until) {
  if (spin_ns_ <= 0) return false;
  const int64_t yield_after = now_ns() + kPureSpinNs;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (in_.maybe_nonempty()) return true;
      cpu_relax();
    }
    if (closed_.load(std::memory_order_relaxed) || peer_closed()) return true;  // loop notices
    const int64_t now = now_ns();
    if (!until.forever() && now >= until.at_ns) return false;
    // Past the first microseconds, give the CPU to a runnable thread that may be the very peer
    // we wait for (woken onto our CPU): on few cores, pure spinning would only delay it.
    if (now >= yield_after) sched_yield();
  }
}

bool ShmLink::arm() {
  std::atomic<uint32_t>& flag = in_.ctl()->reader_sleeping;
  if (!(armed_ && flag.load(std::memory_order_relaxed) == 1)) {
    flag.store(1, std::memory_order_seq_cst);
    armed_ = true;
    // Wake-ups sent before the store are stale: drop them. One sent after it stays pending or
    // was already drained here, and then the head it published is visible below.
    if (drain_doorbells(sock_) < 0) peer_gone_.store(true, std::memory_order_release);
    if (self_signaled_) {
      uint64_t v;
      (void)!::read(self_efd_, &v, sizeof v);
      self_signaled_ = false;
    }
  }
  return in_.available() != 0 || peer_closed();
}

void ShmLink::sleep_on_socket(const Deadline& deadline) {
  pollfd p{sock_, POLLIN, 0};
  const int n = ::poll(&p, 1, deadline.poll_ms());
  if (n <= 0) return;  // timeout or EINTR: the caller re-checks
  if (p.revents & POLLIN) {
    if (drain_doorbells(sock_) < 0) peer_gone_.store(true, std::memory_order_release);
  }
  if (p.revents & (POLLHUP | POLLERR)) peer_gone_.store(true, std::memory_order_release);
  armed_ = false;  // the doorbell (if any) is consumed: no pending wake-up is known any more
}

void ShmLink::keep_poll_fd_level() {
  if (in_.available() != 0) {
    // Frames remain. A doorbell is pending iff the producer took our armed flag since we last
    // drained; otherwise make poll_fd readable ourselves.
    const bool doorbell_pending =
        armed_ && in_.ctl()->reader_sleeping.load(std::memory_order_seq_cst) == 0;
    if (!doorbell_pending) self_signal();
  } else if (arm()) {
    self_signal();  // data raced in while arming: it may have rung nobody
  }
}

void ShmLink::self_signal() {
  if (self_signaled_) return;
  const uint64_t one = 1;
  (void)!::write(self_efd_, &one, sizeof one);
  self_signaled_ = true;
}

void ShmLink::wake_writer() {
  RingCtl* c = in_.ctl();
  c->space_seq.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_shared(&c->space_seq);
}

}  // namespace dvs::transport::shm
