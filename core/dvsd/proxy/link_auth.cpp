#include "core/dvsd/proxy/link_auth.hpp"

#include <sodium.h>

#include <cstring>
#include <mutex>

namespace dvs::linkauth {
namespace {

constexpr std::string_view kTranscriptLabel = "dvs link transcript 1";
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "dvsplink";
static_assert(crypto_auth_KEYBYTES == kKeyBytes && crypto_auth_BYTES == kMacBytes);
static_assert(crypto_kdf_KEYBYTES == kKeyBytes);

enum Step : char { kChallenge = 1, kResponse = 2, kProof = 3 };

std::string opening(Step s) {
  std::string out(kTag);
  out += static_cast<char>(s);
  return out;
}

// payload = tag, step, then exactly `fixed` bytes (and, if rest, anything after them).
bool open_step(std::string_view payload, Step s, size_t fixed, bool rest, std::string_view* body) {
  const size_t head = kTag.size() + 1;
  if (payload.size() < head + fixed || (!rest && payload.size() != head + fixed)) return false;
  if (payload.substr(0, kTag.size()) != kTag || payload[kTag.size()] != static_cast<char>(s)) return false;
  *body = payload.substr(head);
  return true;
}

template <size_t N> void take(std::string_view from, std::array<uint8_t, N>* to) { std::memcpy(to->data(), from.data(), N); }

template <size_t N> void append(std::string* out, const std::array<uint8_t, N>& a) {
  out->append(reinterpret_cast<const char*>(a.data()), N);
}

const char* role_label(Role who) { return who == Role::kDialer ? "dialer" : "listener"; }

}  // namespace

bool crypto_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

Nonce fresh_nonce() {
  Nonce n{};
  crypto_ready();
  randombytes_buf(n.data(), n.size());
  return n;
}

Hash transcript_hash(const Transcript& t) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof(Hash));
  auto feed = [&](const void* p, size_t n) { crypto_generichash_update(&st, static_cast<const unsigned char*>(p), n); };
  feed(kTranscriptLabel.data(), kTranscriptLabel.size());
  const uint8_t nodes[2] = {static_cast<uint8_t>(t.dialer_node), static_cast<uint8_t>(t.listener_node)};
  feed(nodes, sizeof nodes);
  feed(t.nd.data(), t.nd.size());
  feed(t.nl.data(), t.nl.size());
  const uint32_t len = static_cast<uint32_t>(t.inner.size());
  feed(&len, sizeof len);
  feed(t.inner.data(), t.inner.size());
  Hash h{};
  crypto_generichash_final(&st, h.data(), h.size());
  return h;
}

Mac prove(const Key& k, Role who, const Hash& t) {
  crypto_auth_hmacsha512256_state st;
  crypto_auth_hmacsha512256_init(&st, k.data(), k.size());
  const char* label = role_label(who);
  crypto_auth_hmacsha512256_update(&st, reinterpret_cast<const unsigned char*>(label), std::strlen(label) + 1);
  crypto_auth_hmacsha512256_update(&st, t.data(), t.size());
  Mac m{};
  crypto_auth_hmacsha512256_final(&st, m.data());
  return m;
}

bool verify(const Key& k, Role who, const Hash& t, const Mac& m) {
  const Mac expected = prove(k, who, t);
  return sodium_memcmp(expected.data(), m.data(), m.size()) == 0;
}

SessionKeys session_keys(const Key& k, const Hash& t) {
  SessionKeys s;
  auto derive = [&](const char* label, Key* out) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, k.data(), k.size(), out->size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label), std::strlen(label) + 1);
    crypto_generichash_update(&st, t.data(), t.size());
    crypto_generichash_final(&st, out->data(), out->size());
  };
  derive("seal dialer to listener", &s.dialer_to_listener);
  derive("seal listener to dialer", &s.listener_to_dialer);
  return s;
}

Key process_link_key(const Key& cluster, int node, int dcid) {
  Key k{};
  crypto_ready();
  const uint64_t subkey_id = (static_cast<uint64_t>(node & 0xff) << 8) | static_cast<uint64_t>(dcid & 0xff);
  crypto_kdf_derive_from_key(k.data(), k.size(), subkey_id, kKdfContext, cluster.data());
  return k;
}

std::string challenge_payload(const Nonce& nd, std::string_view inner) {
  std::string out = opening(kChallenge);
  append(&out, nd);
  out.append(inner);
  return out;
}

std::string response_payload(const Nonce& nl, const Mac& listener_mac) {
  std::string out = opening(kResponse);
  append(&out, nl);
  append(&out, listener_mac);
  return out;
}

std::string proof_payload(const Mac& dialer_mac) {
  std::string out = opening(kProof);
  append(&out, dialer_mac);
  return out;
}

bool parse_challenge(std::string_view payload, Nonce* nd, std::string_view* inner) {
  std::string_view body;
  if (!open_step(payload, kChallenge, kNonceBytes, true, &body)) return false;
  take(body, nd);
  *inner = body.substr(kNonceBytes);
  return true;
}

bool parse_response(std::string_view payload, Nonce* nl, Mac* listener_mac) {
  std::string_view body;
  if (!open_step(payload, kResponse, kNonceBytes + kMacBytes, false, &body)) return false;
  take(body, nl);
  take(body.substr(kNonceBytes), listener_mac);
  return true;
}

bool parse_proof(std::string_view payload, Mac* dialer_mac) {
  std::string_view body;
  if (!open_step(payload, kProof, kMacBytes, false, &body)) return false;
  take(body, dialer_mac);
  return true;
}

bool is_handshake_payload(std::string_view payload) { return payload.substr(0, kTag.size()) == kTag; }

}  // namespace dvs::linkauth
