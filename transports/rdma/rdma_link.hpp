// One rdma link: an RC QP (frames as SEND messages, rdma_frame.hpp) plus the TCP control
// connection it was set up over (rdma_handshake.hpp), kept open to learn of the peer's end.
//
// Flow control (never a SEND without a receive posted for it at the peer; the QP runs with
// rnr_retry 0, so a violation would be a link error, not a silent retry):
//  * Each side posts data_slots + ctrl_slots receives of slot_bytes. A sender holds one *data
//    credit* per data slot the peer has free and one *control credit* per control slot; a FIRST
//    or MORE message costs a data credit, a CREDIT message a control credit.
//  * The receiver re-posts a data slot when recv() is done with it (small frames are handed out
//    in place, so at the next recv(); chunks of large frames at once after copying them out) and
//    returns the credits in the header of the next message it sends, or in a CREDIT message once
//    kCreditBatch have accumulated. CREDIT messages are re-posted on arrival; their control credits
//    only ride along on other messages, so credit messages never answer each other.
//  * Bulk frames (larger than one slot, at most the peer's landing area: 1 MiB by default, so
//    dvsd's vcopy chunks) go by RDMA WRITE: the sender copies the frame into its registered
//    staging area, WRITEs it into the peer's landing area (address and rkey from the peer's
//    Hello) and then SENDs a header-only LANDED message (a data credit, like FIRST). It holds one
//    *landing credit*: the receiver hands the frame out in place and returns the credit (in a
//    header, or at once in a CREDIT message) when recv() is done with it, as it does with slots.
//    A sender never waits for that credit: without it the frame goes as chunks (below).
//  * Larger frames are cut into slot-sized chunks (FIRST, MORE, ...) sent back to back under the
//    send mutex; the receiver copies them into a link-owned buffer (grows to max_frame). One copy
//    on each side, like tcp.
// Completions: two CQs (send, receive) on one completion channel. A thread that must wait
// (recv() for a frame, send() for a credit or a free send slot) polls the CQs, optionally spins
// for poll_us, then arms the CQ it needs and sleeps in poll() on the channel and the control
// socket, bounded by its timeout; one thread sleeps in the kernel at a time, the others on a
// condition variable it signals. Any thread may reap completions (under mu_).
// Peer death: the control socket reaches EOF (a killed process's kernel closes it), or a work
// request fails (a QP error: the peer's QP vanished or went to error). Frames that arrived whole
// are still handed out, then EDVSNOTCONN. close(): waits (bounded) for posted sends to complete,
// then shuts the control socket down and moves the QP to the error state: blocked calls return
// EDVSNOTCONN and the peer learns of it at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "transports/rdma/rdma_frame.hpp"
#include "transports/rdma/rdma_verbs.hpp"
#include "transports/tcp/tcp_deadline.hpp"
#include "transports/transport.hpp"

namespace dvs::transport::rdma {

// The geometry of every rdma link (both sides advertise it in their Hello and must agree).
struct LinkGeometry {
  uint32_t data_slots = 32;
  uint32_t ctrl_slots = 4;
  uint32_t slot_bytes = 16384;
  uint32_t landing_bytes = 1u << 20;  // our landing area for bulk frames (advertised in the Hello)
};

// The peer's landing area (from its Hello): bytes 0 means it takes no RDMA WRITEs.
struct PeerLanding {
  uint64_t addr = 0;
  uint32_t rkey = 0;
  uint32_t bytes = 0;
};
inline constexpr uint32_t kCreditBatch = 8;  // data credits returned by a CREDIT message at least
// Largest frame (Capabilities::max_frame): 16 MiB, as tcp.
inline constexpr size_t kMaxFrame = size_t{16} << 20;

struct LinkOptions {
  int poll_us = 0;  // spin polling the CQs this long before sleeping (0: sleep at once)
};

class RdmaLink final : public Link {
 public:
  // Takes ownership of a connected endpoint (QP in RTS, nothing posted yet) and of ctl_fd, the
  // connected control socket. Posts the receives.
  RdmaLink(std::unique_ptr<Endpoint> ep, int ctl_fd, LinkGeometry geo, LinkOptions opt, std::string peer,
           PeerLanding landing = {});
  ~RdmaLink() override;
  RdmaLink(const RdmaLink&) = delete;
  RdmaLink& operator=(const RdmaLink&) = delete;

  // 0, or an EDVS code if the receives could not be posted (the link is then unusable).
  int start();

  int send(std::span<const iovec> frame) override;
  long recv(std::span<const std::byte>* frame, int timeout_ms) override;
  void close() override;
  int poll_fd() const override;
  std::string peer() const override { return peer_; }
  int inject_raw_for_test(std::span<const std::byte> bytes) override;
  // Frames this link sent by RDMA WRITE (bulk) so far; for tests and statistics.
  uint64_t frames_written() const { return frames_written_; }

 private:
  struct Rx {
    uint32_t slot;
    uint32_t len;  // bytes received, header included
    bool bad;      // not one of our messages: recv() fails the link when it gets here
  };
  enum : uint64_t { kSendData = 1, kSendCtrl = 2, kSendWrite = 3 };  // wr_id >> 32 of sends (low half: slot)

  // All *_locked functions need mu_.
  void drain_locked();
  void on_recv_locked(const ibv_wc& wc);
  void on_send_locked(const ibv_wc& wc);
  // Takes one pending completion event off the channel (if any) and acknowledges it.
  void consume_event_locked();
  void check_control_locked();
  void arm_locked(ibv_cq* cq, bool* armed);
  // Re-posts data slot `slot` and counts its credit for return.
  void repost_data_locked(uint32_t slot);
  void maybe_send_credit_locked();
  // Fills in the returned credits of the header at `msg` and posts it. 0 or EDVSNOTCONN.
  int post_locked(uint64_t wr_id, std::byte* msg, uint32_t len);
  // Why the link cannot carry frames any more (0: it can): our close(), the peer's end, a QP
  // error, bad input.
  int failure_locked() const;
  // Waits until done() holds (0), the deadline passes (EDVSTIMEDOUT) or the link fails (its
  // failure code). for_send: also wake for send completions (credits come on receives anyway).
  template <class Done>
  int wait_locked(std::unique_lock<std::mutex>& lk, Done done, const tcp::Deadline& dl, bool for_send);
  // Reserves a data credit and a send slot (blocking); the slot index or an EDVS code.
  long acquire_send_slot();
  // Copies [header][bytes] into send slot `slot` and posts it. 0 or EDVSNOTCONN.
  int post_data(uint32_t slot, const MsgHeader& h, const iovec* iov, size_t n_iov, size_t* piece, size_t* off,
                size_t len);
  long fail(long code);
  // Takes the landing credit if the peer has returned it (never waits: a sender waiting for it
  // could wait on a peer that waits for ours, each from its receiving thread; the frame then goes
  // as chunks). True if taken.
  bool take_landing_credit();
  // A bulk frame, the landing credit taken: WRITE into the peer's landing area, then LANDED.
  // 0 or an EDVS code.
  int send_landed(std::span<const iovec> frame, size_t total);
  void update_poll_fd_locked();

  std::unique_ptr<Endpoint> ep_;
  const int ctl_fd_;
  const LinkGeometry geo_;
  const LinkOptions opt_;
  const std::string peer_;
  const size_t chunk_;  // payload bytes per message: slot_bytes - header

  std::mutex send_mu_;  // one frame's chunks at a time
  std::mutex mu_;       // everything below, and every verbs call on the QP and CQs
  std::condition_variable cv_;
  bool closed_ = false;      // close() was called
  bool peer_gone_ = false;   // the control socket ended
  int fault_ = 0;            // EDVSNOTCONN (a QP error) or EDVSBADVALUE (bad input), 0 if none
  bool poisoned_ = false;    // a bad message arrived: later ones are not looked at
  uint32_t data_credits_ = 0, ctrl_credits_ = 0;
  uint32_t data_to_return_ = 0, ctrl_to_return_ = 0;
  PeerLanding peer_landing_;  // set once in the constructor
  uint32_t landing_credit_ = 0;     // 1: we may WRITE into the peer's landing area
  uint32_t landing_to_return_ = 0;  // 1: recv() is done with our landing area's frame
  bool held_landing_ = false;       // receiving thread: the frame handed out last is in the landing area
  uint64_t frames_written_ = 0;
  std::vector<uint32_t> free_send_, free_ctrl_;
  uint32_t sends_posted_ = 0;  // posted, not completed
  std::deque<Rx> ready_;       // data messages not yet consumed by recv(), in order
  bool recv_armed_ = false, send_armed_ = false;
  bool sleeper_ = false;  // a thread sleeps in poll() for the others
  // poll_fd(): created on first use (an epoll set of the channel, the control socket and an
  // eventfd that is readable while ready_ is not empty or the link failed).
  mutable int epoll_fd_ = -1;
  mutable int ready_fd_ = -1;
  bool ready_signalled_ = false;

  // Receiving thread only: the frame handed out last, and a large frame being reassembled.
  int64_t held_slot_ = -1;
  bool assembling_ = false;
  size_t asm_total_ = 0, asm_got_ = 0;
  std::unique_ptr<std::byte[]> asm_buf_;
  size_t asm_cap_ = 0;
};

}  // namespace dvs::transport::rdma
