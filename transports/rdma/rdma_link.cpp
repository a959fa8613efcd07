#include "transports/rdma/rdma_link.hpp"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "dvs/errors.h"
#include "transports/transport_util.hpp"

namespace dvs::transport::rdma {

namespace {

using Clock = std::chrono::steady_clock;

// How long close() lets sends already posted reach the peer before it cuts the link.
constexpr auto kCloseFlush = std::chrono::milliseconds(1000);

uint64_t wr_id(uint64_t kind, uint32_t slot) { return (kind << 32) | slot; }

}  // namespace

RdmaLink::RdmaLink(std::unique_ptr<Endpoint> ep, int ctl_fd, LinkGeometry geo, LinkOptions opt, std::string peer,
                   PeerLanding landing)
    : ep_(std::move(ep)), ctl_fd_(ctl_fd), geo_(geo), opt_(opt), peer_(std::move(peer)),
      chunk_(geo.slot_bytes - kMsgHeader), peer_landing_(landing) {
  // Without our own staging area we cannot post WRITEs: the peer's area goes unused.
  if (ep_->staging() == nullptr) peer_landing_ = PeerLanding{};
  landing_credit_ = peer_landing_.bytes > 0 ? 1 : 0;
  data_credits_ = geo_.data_slots;
  ctrl_credits_ = geo_.ctrl_slots;
  for (uint32_t i = geo_.data_slots; i-- > 0;) free_send_.push_back(i);
  for (uint32_t i = geo_.ctrl_slots; i-- > 0;) free_ctrl_.push_back(i);
}

int RdmaLink::start() {
  std::lock_guard<std::mutex> g(mu_);
  for (uint32_t i = 0; i < geo_.data_slots + geo_.ctrl_slots; ++i)
    if (int rc = ep_->post_recv(i); rc < 0) return rc;
  return 0;
}

RdmaLink::~RdmaLink() {
  close();
  ep_.reset();  // destroys the QP first, then acknowledges what is left in the channel
  ::close(ctl_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (ready_fd_ >= 0) ::close(ready_fd_);
}

void RdmaLink::close() {
  std::unique_lock<std::mutex> lk(mu_);
  if (closed_) return;
  closed_ = true;  // no new posts from here on
  // Frames already posted reach the peer before it hears of the close: a send completion means
  // the peer's QP acknowledged it, so it is in the peer's CQ before our FIN reaches it.
  const auto until = Clock::now() + kCloseFlush;
  while (sends_posted_ > 0 && !peer_gone_ && fault_ == 0 && Clock::now() < until) {
    lk.unlock();
    const timespec gap{0, 50'000};
    nanosleep(&gap, nullptr);
    lk.lock();
    drain_locked();
  }
  ::shutdown(ctl_fd_, SHUT_RDWR);  // wakes a poll() sleeper; the peer reads EOF
  ep_->set_error();                // flushes our receives; the peer's sends to us fail
  update_poll_fd_locked();
  cv_.notify_all();
}

int RdmaLink::failure_locked() const {
  if (closed_) return EDVSNOTCONN;
  if (fault_ != 0) return fault_;
  if (peer_gone_) return EDVSNOTCONN;
  return 0;
}

long RdmaLink::fail(long code) {
  close();
  return code;
}

// ---- completions ----

void RdmaLink::drain_locked() {
  ibv_wc wc[16];
  for (;;) {
    int n = ibv_poll_cq(ep_->recv_cq(), 16, wc);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) on_recv_locked(wc[i]);
  }
  for (;;) {
    int n = ibv_poll_cq(ep_->send_cq(), 16, wc);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) on_send_locked(wc[i]);
  }
  maybe_send_credit_locked();
  update_poll_fd_locked();
}

void RdmaLink::on_recv_locked(const ibv_wc& wc) {
  if (wc.status != IBV_WC_SUCCESS) {
    if (closed_) return;  // our close() flushed the receives
    // A message larger than a slot is the peer's doing (not one of ours); anything else is a
    // QP error (the peer vanished, our close raced with it, ...).
    if (wc.status == IBV_WC_LOC_LEN_ERR && !poisoned_) {
      ready_.push_back({0, 0, true});
      poisoned_ = true;
    } else if (fault_ == 0) {
      fault_ = EDVSNOTCONN;
    }
    return;
  }
  if (poisoned_) return;
  const uint32_t slot = static_cast<uint32_t>(wc.wr_id);
  MsgHeader h;
  bool ok = slot < geo_.data_slots + geo_.ctrl_slots && decode_message(ep_->recv_slot(slot), wc.byte_len, &h);
  // Credits can only come back for messages we sent: never more than the slots (and the one
  // landing area). A LANDED frame must fit our landing area.
  ok = ok && data_credits_ + h.data_credits <= geo_.data_slots && ctrl_credits_ + h.ctrl_credits <= geo_.ctrl_slots &&
       landing_credit_ + h.landing_credits <= (peer_landing_.bytes > 0 ? 1u : 0u) &&
       (h.kind != MsgKind::Landed || (ep_->landing() != nullptr && h.value <= ep_->config().landing_bytes));
  if (!ok) {
    ready_.push_back({slot, wc.byte_len, true});
    poisoned_ = true;
    return;
  }
  data_credits_ += h.data_credits;
  ctrl_credits_ += h.ctrl_credits;
  landing_credit_ += h.landing_credits;
  if (h.kind == MsgKind::Credit) {
    if (ep_->post_recv(slot) < 0 && fault_ == 0) fault_ = EDVSNOTCONN;
    ++ctrl_to_return_;
    return;
  }
  ready_.push_back({slot, wc.byte_len, false});
}

void RdmaLink::on_send_locked(const ibv_wc& wc) {
  if (sends_posted_ > 0) --sends_posted_;
  const uint32_t slot = static_cast<uint32_t>(wc.wr_id);
  if ((wc.wr_id >> 32) == kSendCtrl)
    free_ctrl_.push_back(slot);
  else if ((wc.wr_id >> 32) == kSendData)
    free_send_.push_back(slot);  // a WRITE holds no slot (the landing credit covers its area)
  // A failed send: the peer's QP is gone or in error (retries exhausted), or we flushed it.
  if (wc.status != IBV_WC_SUCCESS && !closed_ && fault_ == 0) fault_ = EDVSNOTCONN;
}

void RdmaLink::consume_event_locked() {
  ibv_cq* cq = nullptr;
  void* ctx = nullptr;
  if (ibv_get_cq_event(ep_->channel(), &cq, &ctx) != 0) return;  // EAGAIN: the channel is non-blocking
  ibv_ack_cq_events(cq, 1);
  if (cq == ep_->recv_cq()) recv_armed_ = false;
  if (cq == ep_->send_cq()) send_armed_ = false;
}

void RdmaLink::check_control_locked() {
  if (peer_gone_) return;
  char b;
  ssize_t n = ::recv(ctl_fd_, &b, 1, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    peer_gone_ = true;
  } else if (n > 0 && fault_ == 0) {
    fault_ = EDVSBADVALUE;  // the control connection carries nothing after the handshake
  }
}

void RdmaLink::arm_locked(ibv_cq* cq, bool* armed) {
  if (*armed) return;
  if (ibv_req_notify_cq(cq, 0) == 0) *armed = true;
  else if (fault_ == 0) fault_ = EDVSNOTCONN;
}

// ---- credits and posting ----

int RdmaLink::post_locked(uint64_t id, std::byte* msg, uint32_t len) {
  // The returned credits go into the header at the last moment, so none is returned twice.
  const uint32_t data = std::min<uint32_t>(data_to_return_, 0xffff);
  const uint32_t ctrl = std::min<uint32_t>(ctrl_to_return_, 0xff);
  const uint32_t landing = landing_to_return_;
  set_returned_credits(static_cast<uint8_t>(ctrl), static_cast<uint16_t>(data), static_cast<uint8_t>(landing), msg);
  if (ep_->post_send(id, msg, len) < 0) {
    if (fault_ == 0) fault_ = EDVSNOTCONN;
    return EDVSNOTCONN;
  }
  data_to_return_ -= data;
  ctrl_to_return_ -= ctrl;
  landing_to_return_ -= landing;
  ++sends_posted_;
  return 0;
}

void RdmaLink::repost_data_locked(uint32_t slot) {
  if (closed_) return;
  if (ep_->post_recv(slot) < 0) {
    if (fault_ == 0) fault_ = EDVSNOTCONN;
    return;
  }
  ++data_to_return_;
  maybe_send_credit_locked();
}

void RdmaLink::maybe_send_credit_locked() {
  // A landing credit goes back at once: the peer may be waiting for it to send its next bulk frame.
  if ((data_to_return_ < kCreditBatch && landing_to_return_ == 0) || ctrl_credits_ == 0 || free_ctrl_.empty() ||
      failure_locked() != 0)
    return;
  const uint32_t slot = free_ctrl_.back();
  std::byte* msg = ep_->ctrl_slot(slot);
  encode_message_header(MsgHeader{MsgKind::Credit, 0, 0, 0, 0}, msg);
  if (post_locked(wr_id(kSendCtrl, slot), msg, kMsgHeader) == 0) {
    free_ctrl_.pop_back();
    --ctrl_credits_;
  }
}

// ---- waiting ----

template <class Done>
int RdmaLink::wait_locked(std::unique_lock<std::mutex>& lk, Done done, const tcp::Deadline& dl, bool for_send) {
  const auto spin_until = Clock::now() + std::chrono::microseconds(opt_.poll_us);
  for (;;) {
    drain_locked();
    if (done()) return 0;
    if (int f = failure_locked()) return f;
    const int left = dl.remaining_ms();
    if (left == 0) {
      // Before saying "nothing yet", look once whether the peer is gone.
      check_control_locked();
      drain_locked();
      if (done()) return 0;
      if (int f = failure_locked()) return f;
      return EDVSTIMEDOUT;
    }
    if (opt_.poll_us > 0 && Clock::now() < spin_until) {
      lk.unlock();
      sched_yield();
      lk.lock();
      continue;
    }
    if (for_send) arm_locked(ep_->send_cq(), &send_armed_);
    if (sleeper_) {  // another thread sleeps in poll() and wakes us when it returns
      if (left < 0)
        cv_.wait(lk);
      else
        cv_.wait_for(lk, std::chrono::milliseconds(left));
      continue;
    }
    arm_locked(ep_->recv_cq(), &recv_armed_);
    drain_locked();  // what completed before the CQs were armed raises no event
    if (done()) return 0;
    if (int f = failure_locked()) return f;
    sleeper_ = true;
    lk.unlock();
    pollfd p[2] = {{ep_->channel()->fd, POLLIN, 0}, {ctl_fd_, POLLIN, 0}};
    const int pr = ::poll(p, 2, left);
    lk.lock();
    sleeper_ = false;
    if (pr > 0) {
      if (p[0].revents) consume_event_locked();  // one per wake-up: another keeps the fd readable
      if (p[1].revents) check_control_locked();
    }
    cv_.notify_all();
  }
}

// ---- send ----

long RdmaLink::acquire_send_slot() {
  std::unique_lock<std::mutex> lk(mu_);
  if (int f = failure_locked()) return f;  // a dead link takes nothing, even with credits left
  const tcp::Deadline forever(-1);
  int rc = wait_locked(lk, [&] { return data_credits_ > 0 && !free_send_.empty(); }, forever, true);
  if (rc < 0) return rc;
  const uint32_t slot = free_send_.back();
  free_send_.pop_back();
  --data_credits_;
  return slot;
}

int RdmaLink::post_data(uint32_t slot, const MsgHeader& h, const iovec* iov, size_t n_iov, size_t* piece,
                        size_t* off, size_t len) {
  std::byte* msg = ep_->send_slot(slot);
  encode_message_header(h, msg);
  // Gather `len` bytes from the caller's pieces, starting at (*piece, *off).
  std::byte* dst = msg + kMsgHeader;
  size_t need = len;
  while (need > 0 && *piece < n_iov) {
    const size_t avail = iov[*piece].iov_len - *off;
    const size_t n = std::min(avail, need);
    std::memcpy(dst, static_cast<const std::byte*>(iov[*piece].iov_base) + *off, n);
    dst += n;
    need -= n;
    *off += n;
    if (*off == iov[*piece].iov_len) {
      ++*piece;
      *off = 0;
    }
  }
  std::lock_guard<std::mutex> g(mu_);
  int rc = failure_locked();
  if (rc == 0) rc = post_locked(wr_id(kSendData, slot), msg, static_cast<uint32_t>(kMsgHeader + len));
  if (rc < 0) {  // not sent: the slot and the credit are ours again
    free_send_.push_back(slot);
    ++data_credits_;
    return EDVSNOTCONN;
  }
  return 0;
}

int RdmaLink::send(std::span<const iovec> frame) {
  const long len = frame_length(frame, kMaxFrame);
  if (len < 0) return static_cast<int>(len);
  const size_t total = static_cast<size_t>(len);
  std::lock_guard<std::mutex> frame_lock(send_mu_);
  if (total > chunk_ && total <= peer_landing_.bytes && take_landing_credit()) return send_landed(frame, total);
  size_t piece = 0, off = 0, sent = 0;
  while (sent < total) {
    const size_t n = std::min(total - sent, chunk_);
    const long slot = acquire_send_slot();
    if (slot < 0) return slot == EDVSBADVALUE ? EDVSNOTCONN : static_cast<int>(slot);
    const MsgHeader h{sent == 0 ? MsgKind::First : MsgKind::More, 0, 0,
                      static_cast<uint32_t>(sent == 0 ? total : sent), 0};
    if (int rc = post_data(static_cast<uint32_t>(slot), h, frame.data(), frame.size(), &piece, &off, n); rc < 0) {
      // Part of the frame may be out: the peer could not tell where the next one starts.
      if (sent > 0) close();
      return rc;
    }
    sent += n;
  }
  return 0;
}

bool RdmaLink::take_landing_credit() {
  std::lock_guard<std::mutex> g(mu_);
  drain_locked();
  if (landing_credit_ == 0 || failure_locked() != 0) return false;
  --landing_credit_;
  return true;
}

int RdmaLink::send_landed(std::span<const iovec> frame, size_t total) {
  // The staging area is ours: the previous WRITE was placed before its LANDED message, which
  // the peer took before returning the credit.
  std::byte* dst = ep_->staging();
  for (const iovec& v : frame) {
    std::memcpy(dst, v.iov_base, v.iov_len);
    dst += v.iov_len;
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    int rc = failure_locked();
    if (rc == 0 && ep_->post_write(wr_id(kSendWrite, 0), ep_->staging(), static_cast<uint32_t>(total), peer_landing_.addr,
                                   peer_landing_.rkey) < 0) {
      if (fault_ == 0) fault_ = EDVSNOTCONN;
      rc = EDVSNOTCONN;
    }
    if (rc != 0) {
      ++landing_credit_;
      return EDVSNOTCONN;
    }
    ++sends_posted_;
  }
  const long slot = acquire_send_slot();
  if (slot >= 0) {
    std::byte* msg = ep_->send_slot(static_cast<uint32_t>(slot));
    encode_message_header(MsgHeader{MsgKind::Landed, 0, 0, static_cast<uint32_t>(total), 0}, msg);
    std::lock_guard<std::mutex> g(mu_);
    int rc = failure_locked();
    if (rc == 0) rc = post_locked(wr_id(kSendData, static_cast<uint32_t>(slot)), msg, static_cast<uint32_t>(kMsgHeader));
    if (rc == 0) {
      ++frames_written_;
      return 0;
    }
    free_send_.push_back(static_cast<uint32_t>(slot));
    ++data_credits_;
  }
  // The bytes may be in the peer's area without their LANDED: the link cannot go on.
  close();
  return EDVSNOTCONN;
}

int RdmaLink::inject_raw_for_test(std::span<const std::byte> bytes) {
  if (bytes.empty()) return EDVSINVAL;
  if (bytes.size() > geo_.slot_bytes) return EDVSMSGSIZE;
  std::lock_guard<std::mutex> frame_lock(send_mu_);
  const long slot = acquire_send_slot();
  if (slot < 0) return EDVSNOTCONN;
  std::byte* msg = ep_->send_slot(static_cast<uint32_t>(slot));
  std::memcpy(msg, bytes.data(), bytes.size());
  std::lock_guard<std::mutex> g(mu_);
  // Posted as it is: no credits are filled in (the bytes are not a header).
  if (failure_locked() != 0 ||
      ep_->post_send(wr_id(kSendData, static_cast<uint32_t>(slot)), msg, static_cast<uint32_t>(bytes.size())) < 0) {
    free_send_.push_back(static_cast<uint32_t>(slot));
    ++data_credits_;
    return EDVSNOTCONN;
  }
  ++sends_posted_;
  return 0;
}

// ---- recv ----

long RdmaLink::recv(std::span<const std::byte>* frame, int timeout_ms) {
  const tcp::Deadline dl(timeout_ms);
  std::unique_lock<std::mutex> lk(mu_);
  if (closed_) return EDVSNOTCONN;
  if (held_slot_ >= 0) {  // the caller's view of the previous frame ends here
    repost_data_locked(static_cast<uint32_t>(held_slot_));
    held_slot_ = -1;
  }
  if (held_landing_) {  // ... also when it was in the landing area: the peer may write the next
    held_landing_ = false;
    ++landing_to_return_;
    maybe_send_credit_locked();
  }
  for (;;) {
    int rc = wait_locked(lk, [&] { return !ready_.empty(); }, dl, false);
    if (rc == EDVSTIMEDOUT) {
      update_poll_fd_locked();
      return rc;
    }
    if (rc < 0) {
      lk.unlock();
      return fail(rc);
    }
    const Rx m = ready_.front();
    ready_.pop_front();
    update_poll_fd_locked();
    lk.unlock();
    MsgHeader h;
    const std::byte* msg = ep_->recv_slot(m.slot);
    if (m.bad || !decode_message(msg, m.len, &h)) return fail(EDVSBADVALUE);
    const size_t n = m.len - kMsgHeader;
    if (!assembling_ && h.kind == MsgKind::Landed) {  // its size was checked on arrival
      lk.lock();
      repost_data_locked(m.slot);  // a header-only message: its slot is free at once
      held_landing_ = true;
      *frame = std::span<const std::byte>(ep_->landing(), h.value);
      return static_cast<long>(h.value);
    }
    if (!assembling_) {
      if (h.kind != MsgKind::First || h.value == 0 || h.value > kMaxFrame || n > h.value) return fail(EDVSBADVALUE);
      if (n == h.value) {  // the whole frame in one slot: handed out in place
        held_slot_ = m.slot;
        *frame = std::span<const std::byte>(msg + kMsgHeader, n);
        return static_cast<long>(n);
      }
      if (asm_cap_ < h.value) {
        asm_cap_ = std::max<size_t>(h.value, std::min(kMaxFrame, asm_cap_ * 2));
        asm_buf_ = std::make_unique_for_overwrite<std::byte[]>(asm_cap_);
      }
      assembling_ = true;
      asm_total_ = h.value;
      asm_got_ = 0;
    } else if (h.kind != MsgKind::More || h.value != asm_got_ || n > asm_total_ - asm_got_) {
      return fail(EDVSBADVALUE);
    }
    std::memcpy(asm_buf_.get() + asm_got_, msg + kMsgHeader, n);
    asm_got_ += n;
    lk.lock();
    repost_data_locked(m.slot);
    if (asm_got_ == asm_total_) {
      assembling_ = false;
      *frame = std::span<const std::byte>(asm_buf_.get(), asm_total_);
      return static_cast<long>(asm_total_);
    }
  }
}

// ---- poll_fd ----

int RdmaLink::poll_fd() const {
  auto* self = const_cast<RdmaLink*>(this);
  std::lock_guard<std::mutex> g(self->mu_);
  if (epoll_fd_ < 0) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    ready_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || ready_fd_ < 0) return -1;
    for (int fd : {ep_->channel()->fd, ctl_fd_, ready_fd_}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      (void)epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
    self->update_poll_fd_locked();
  }
  return epoll_fd_;
}

void RdmaLink::update_poll_fd_locked() {
  if (epoll_fd_ < 0) return;
  // While nothing is queued, a new message must make the channel readable: keep the CQ armed.
  if (ready_.empty() && !recv_armed_ && failure_locked() == 0) {
    arm_locked(ep_->recv_cq(), &recv_armed_);
    ibv_wc wc[16];
    int n;
    while ((n = ibv_poll_cq(ep_->recv_cq(), 16, wc)) > 0)
      for (int i = 0; i < n; ++i) on_recv_locked(wc[i]);
  }
  const bool want = !ready_.empty() || failure_locked() != 0;
  if (want && !ready_signalled_) {
    const uint64_t one = 1;
    if (::write(ready_fd_, &one, sizeof one) == sizeof one) ready_signalled_ = true;
  } else if (!want && ready_signalled_) {
    uint64_t v = 0;
    if (::read(ready_fd_, &v, sizeof v) == sizeof v) ready_signalled_ = false;
  }
}

}  // namespace dvs::transport::rdma
