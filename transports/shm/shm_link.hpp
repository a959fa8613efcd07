// ShmLink: one shm:// link end. Frames go through the outgoing ring of the shared region, come
// from the incoming one; the connected UNIX socket is the liveness channel and carries doorbells.
//
// Waiting (one design, held fixed; see docs in transports/shm/README.md):
//  * recv: spin on the incoming head for spin_ns (cpu_relax between polls; sched_yield too after
//    kPureSpinNs, for the case where the peer was woken onto our CPU), then arm the
//    doorbell (reader_sleeping = 1, seq_cst; re-check head) and poll() the UNIX socket. The
//    peer's producer, after publishing, takes an armed flag and sends one 1-byte doorbell. EOF or
//    POLLHUP on the socket = the peer is gone. A spinning reader costs the producer no syscall.
//  * send, when the outgoing ring is full: spin for spin_ns re-reading the tail, then set
//    writer_sleeping and FUTEX_WAIT on the ring's space_seq (process-shared futex) in slices of
//    kSpaceSliceMs, checking the socket for POLLHUP between slices (a dead peer is noticed within
//    one slice). The consumer, after storing its tail, takes the flag and futex-wakes.
//  * close() (any thread): marks the link closed, sets our closed flag in the region, shuts the
//    socket down (our pollers and the peer see POLLHUP) and futex-wakes our own sleeping sender.
//
// poll_fd(): an epoll fd over {the socket, a private eventfd}. It is readable when the peer rang
// (data may be there), when the link died, or when recv(..., 0) left frames behind in the ring.
// Contract: after recv(..., 0) returns (a frame or EDVSTIMEDOUT), poll_fd is readable whenever
// another recv(..., 0) may return something other than EDVSTIMEDOUT; readiness may be spurious.
// A blocking recv (timeout != 0) that returns a frame does not maintain this (it keeps its fast
// path free of syscalls): call recv(..., 0) once before polling again. A new link starts armed.
//
// Peer data is validated (shm_ring.hpp, shm_frame.hpp): a bad head/tail or frame header makes
// recv/send return EDVSBADVALUE and closes the link.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "transports/shm/shm_frame.hpp"
#include "transports/shm/shm_region.hpp"
#include "transports/shm/shm_ring.hpp"
#include "transports/shm/shm_wait.hpp"
#include "transports/transport.hpp"

namespace dvs::transport::shm {

inline constexpr int kSpaceSliceMs = 10;
// A waiting side spins purely for this long, then calls sched_yield() between polls for the rest
// of its spin budget (so a peer woken onto the same CPU can run).
inline constexpr int64_t kPureSpinNs = 1'000;

class ShmLink final : public Link {
 public:
  // Takes ownership of `sock` (connected SOCK_SEQPACKET, non-blocking) and the region. `side` is
  // ours; spin_ns is the spin budget before sleeping (0: sleep at once). nullptr and *err on
  // failure (sock is closed then too).
  static std::unique_ptr<ShmLink> make(int sock, Region region, Side side, int64_t spin_ns,
                                       std::string peer, int* err);
  ~ShmLink() override;

  int send(std::span<const iovec> frame) override;
  long recv(std::span<const std::byte>* frame, int timeout_ms) override;
  void close() override;
  int poll_fd() const override { return epfd_; }
  std::string peer() const override { return peer_; }
  int inject_raw_for_test(std::span<const std::byte> bytes) override;

  // Test hooks: the shared header (to corrupt it) and our side.
  ShmHeader* header_for_test() const { return region_.header(); }
  Side side() const { return side_; }

 private:
  ShmLink(int sock, Region region, Side side, int64_t spin_ns, std::string peer);

  // --- sender side (send_mu_ held) ---
  int write_bytes(const void* p, size_t n);
  int publish_out();  // publish head; ring the doorbell if the reader armed it
  int wait_space();
  // --- receiver side (the single recv caller) ---
  bool spin_for_data(const Deadline& until);
  bool arm();  // arm the doorbell, drain stale wake-ups; true if data is already there
  void sleep_on_socket(const Deadline& deadline);
  void keep_poll_fd_level();
  void self_signal();
  void wake_writer();
  // --- either ---
  bool peer_closed() const;     // the peer closed cleanly or the socket said it is gone
  bool socket_hung_up();        // poll(sock, 0): POLLHUP/POLLERR

  int sock_ = -1;
  int epfd_ = -1;
  int self_efd_ = -1;
  Region region_;
  Side side_;
  int64_t spin_ns_;
  std::string peer_;

  std::mutex send_mu_;
  RingWriter out_;

  RingReader in_;
  FrameReader frames_;
  bool armed_ = false;          // we stored reader_sleeping = 1 and have not seen it taken
  bool self_signaled_ = false;  // self_efd_ holds an undrained signal

  std::atomic<bool> closed_{false};
  std::atomic<bool> peer_gone_{false};
};

}  // namespace dvs::transport::shm
