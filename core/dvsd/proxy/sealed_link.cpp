#include "core/dvsd/proxy/sealed_link.hpp"

#include <sodium.h>

#include <cstring>

#include "dvs/errors.h"

namespace dvs::linkauth {
namespace {

static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kSealOverhead);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeyBytes);

// The nonce of frame number n: n little-endian in the first 8 bytes, the rest zero.
void nonce_of(uint64_t n, unsigned char out[crypto_aead_chacha20poly1305_ietf_NPUBBYTES]) {
  std::memset(out, 0, crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(n >> (8 * i));
}

}  // namespace

SealedLink::SealedLink(std::unique_ptr<transport::Link> inner, const Key& send_key, const Key& recv_key)
    : inner_(std::move(inner)), send_key_(send_key), recv_key_(recv_key) {
  crypto_ready();
}

SealedLink::~SealedLink() {
  sodium_memzero(send_key_.data(), send_key_.size());
  sodium_memzero(recv_key_.data(), recv_key_.size());
}

int SealedLink::send(std::span<const iovec> frame) {
  size_t total = 0;
  for (const iovec& v : frame) total += v.iov_len;
  if (total == 0) return EDVSINVAL;
  std::lock_guard<std::mutex> g(send_mu_);
  sealed_.resize(total + kSealOverhead);
  size_t at = 0;
  for (const iovec& v : frame) {
    if (v.iov_len) std::memcpy(sealed_.data() + at, v.iov_base, v.iov_len);
    at += v.iov_len;
  }
  unsigned char nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
  nonce_of(send_n_++, nonce);
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(sealed_.data(), sealed_.data() + total, nullptr, sealed_.data(),
                                                     total, nullptr, 0, nullptr, nonce, send_key_.data());
  iovec out{sealed_.data(), sealed_.size()};
  return inner_->send(std::span<const iovec>(&out, 1));
}

long SealedLink::recv(std::span<const std::byte>* frame, int timeout_ms) {
  std::span<const std::byte> in;
  const long n = inner_->recv(&in, timeout_ms);
  if (n <= 0) return n;
  if (in.size() <= kSealOverhead) {
    inner_->close();
    return EDVSBADVALUE;
  }
  const size_t len = in.size() - kSealOverhead;
  opened_.resize(len);
  unsigned char nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
  nonce_of(recv_n_, nonce);
  const auto* c = reinterpret_cast<const unsigned char*>(in.data());
  if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(opened_.data(), nullptr, c, len, c + len, nullptr, 0, nonce,
                                                         recv_key_.data()) != 0) {
    inner_->close();  // forged, replayed or reordered: the link is done
    return EDVSBADVALUE;
  }
  ++recv_n_;
  *frame = std::span<const std::byte>(reinterpret_cast<const std::byte*>(opened_.data()), len);
  return static_cast<long>(len);
}

std::unique_ptr<transport::Link> seal(std::unique_ptr<transport::Link> link, const SessionKeys& keys, Role self) {
  const bool dialer = self == Role::kDialer;
  return std::make_unique<SealedLink>(std::move(link), dialer ? keys.dialer_to_listener : keys.listener_to_dialer,
                                      dialer ? keys.listener_to_dialer : keys.dialer_to_listener);
}

}  // namespace dvs::linkauth
