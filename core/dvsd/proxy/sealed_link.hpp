// The sealed link option: every frame on an authenticated link encrypted and authenticated with
// ChaCha20-Poly1305 (IETF, libsodium) under the session keys of the handshake (link_auth.hpp),
// one key per direction. The nonce is the frame's number in its direction (never sent: the
// transports are reliable and ordered), so a frame replayed, dropped, reordered or altered on the
// wire fails to open and the link is closed (EDVSBADVALUE, as for any invalid frame).
//
// A decorator over any transport::Link. Costs one copy of each frame each way plus the cipher;
// it cannot be handed to another process (handover_fd is -1: dvsd serves sealed process links
// itself).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "core/dvsd/proxy/link_auth.hpp"
#include "transports/transport.hpp"

namespace dvs::linkauth {

inline constexpr size_t kSealOverhead = 16;  // the Poly1305 tag per frame

class SealedLink final : public transport::Link {
 public:
  // send_key seals what this side sends, recv_key opens what it receives.
  SealedLink(std::unique_ptr<transport::Link> inner, const Key& send_key, const Key& recv_key);
  ~SealedLink() override;

  int send(std::span<const iovec> frame) override;
  long recv(std::span<const std::byte>* frame, int timeout_ms) override;
  void close() override { inner_->close(); }
  int poll_fd() const override { return inner_->poll_fd(); }
  std::string peer() const override { return inner_->peer(); }
  bool has_buffered() override { return inner_->has_buffered(); }
  int inject_raw_for_test(std::span<const std::byte> bytes) override { return inner_->inject_raw_for_test(bytes); }

 private:
  std::unique_ptr<transport::Link> inner_;
  Key send_key_;
  Key recv_key_;
  std::mutex send_mu_;  // guards send_n_ and sealed_
  uint64_t send_n_ = 0;
  std::vector<unsigned char> sealed_;
  uint64_t recv_n_ = 0;  // the receiving thread's
  std::vector<unsigned char> opened_;
};

// The link a side of an authenticated handshake uses: `link` itself, or sealed with keys in the
// direction of its role.
std::unique_ptr<transport::Link> seal(std::unique_ptr<transport::Link> link, const SessionKeys& keys, Role self);

}  // namespace dvs::linkauth
