// The link handshake's cryptography and messages (pure: no sockets). A mutual challenge-response
// proving both ends hold the same key before any frame of the dialer is accepted:
//
//   dialer   -> listener  HELLO  payload: challenge  = tag, 1, Nd (32 random bytes), inner
//   listener -> dialer    HELLO  payload: response   = tag, 2, Nl (32 random bytes), MAC(K', "listener" | T)
//   dialer   -> listener  HELLO  payload: proof      = tag, 3, MAC(K', "dialer" | T)
//
// T = BLAKE2b-256 of (label, dialer node, listener node, Nd, Nl, inner): the transcript, so a MAC
// is good for one connection and one claim only (both nonces fresh: a replayed challenge or proof
// fails; the node ids and the inner payload — what the dialer claims to be, e.g. "a process link
// to endpoint E of DC D" — cannot be altered). MAC = HMAC-SHA-512-256 (libsodium crypto_auth);
// the roles are labelled, so one side's MAC is never the other's.
//
// K' is the cluster key for node links; for a process link of the direct path (dialed by a
// process, not by dvsd) it is process_link_key(cluster key, dialer node, DC): dvsd gives each DC's
// processes only the key of their own node and DC, so a process can open process links of that
// DC and nothing else (docs/SECURITY.md).
//
// session_keys() derives from K' and T one key per direction for the sealed link option
// (core/dvsd/proxy/sealed_link.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/dvsd/proxy/cluster_key.hpp"

namespace dvs::linkauth {

inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kMacBytes = 32;
using Nonce = std::array<uint8_t, kNonceBytes>;
using Mac = std::array<uint8_t, kMacBytes>;
using Hash = std::array<uint8_t, 32>;

// The tag opening every handshake payload (8 bytes), then the step number.
inline constexpr std::string_view kTag = "dvs-auth";

enum class Role : uint8_t { kDialer, kListener };

struct Transcript {
  int dialer_node = -1;
  int listener_node = -1;
  Nonce nd{};
  Nonce nl{};
  std::string_view inner;  // the dialer's claim (its HELLO payload without the challenge)
};

// Initialises libsodium (idempotent, thread-safe). False if it cannot (no entropy source).
bool crypto_ready();
Nonce fresh_nonce();
Hash transcript_hash(const Transcript& t);
Mac prove(const Key& k, Role who, const Hash& t);
// Constant-time comparison with the MAC `who` should have made.
bool verify(const Key& k, Role who, const Hash& t, const Mac& m);

struct SessionKeys {
  Key dialer_to_listener{};
  Key listener_to_dialer{};
};
SessionKeys session_keys(const Key& k, const Hash& t);

// The key of process links dialed by processes of DC dcid on node `node` (libsodium's KDF, one
// subkey per (node, DC)).
Key process_link_key(const Key& cluster, int node, int dcid);

std::string challenge_payload(const Nonce& nd, std::string_view inner);
std::string response_payload(const Nonce& nl, const Mac& listener_mac);
std::string proof_payload(const Mac& dialer_mac);
// Parses; false if payload is not that step's message. *inner views payload.
bool parse_challenge(std::string_view payload, Nonce* nd, std::string_view* inner);
bool parse_response(std::string_view payload, Nonce* nl, Mac* listener_mac);
bool parse_proof(std::string_view payload, Mac* dialer_mac);
// Whether payload is any step of the handshake (starts with kTag).
bool is_handshake_payload(std::string_view payload);

}  // namespace dvs::linkauth
