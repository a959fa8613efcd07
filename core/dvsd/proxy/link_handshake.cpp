#include "core/dvsd/proxy/link_handshake.hpp"

#include <time.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "core/dvsd/wire/wire.hpp"
#include "dvs/dvs.h"
#include "dvs/errors.h"

namespace dvs::linkauth {
namespace {

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

std::string_view as_text(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// One HELLO from `from` to `to` carrying payload, as a frame of its own. 0 or an EDVS code.
int send_hello(transport::Link& link, int from, int to, std::string_view payload) {
  wire::Command c;
  c.hdr.command = wire::CMD_HELLO;
  c.hdr.src_node = static_cast<uint8_t>(from);
  c.hdr.dst_node = static_cast<uint8_t>(to);
  c.hdr.src_ep = DVS_NONE;
  c.hdr.dst_ep = DVS_NONE;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  c.hdr.timestamp_ns = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
  c.payload = std::as_bytes(std::span<const char>(payload.data(), payload.size()));
  std::vector<std::byte> frame;
  if (wire::encode_frame(c, frame) != wire::WireError::kOk) return EDVSBADVALUE;
  iovec iov{frame.data(), frame.size()};
  return link.send(std::span<const iovec>(&iov, 1));
}

// The next frame, which must be one lone HELLO, within the deadline. "" and *hello (its payload
// copied into *payload), or a reason.
std::string recv_hello(transport::Link& link, int64_t deadline_ms, wire::WireHeader* hello, std::string* payload) {
  std::span<const std::byte> frame;
  const int64_t left = std::max<int64_t>(0, deadline_ms - now_ms());
  const long n = link.recv(&frame, static_cast<int>(left));
  if (n == EDVSTIMEDOUT) return "no HELLO in time";
  if (n <= 0) return "link failed during the handshake (error " + std::to_string(n) + ")";
  wire::DecodedFrame df;
  if (auto e = wire::decode_frame(frame, &df); e != wire::WireError::kOk) return std::string("bad frame (") + wire::reason(e) + ")";
  if (df.commands.size() != 1 || df.commands[0].hdr.command != wire::CMD_HELLO) return "the first frames must be HELLOs";
  *hello = df.commands[0].hdr;
  *payload = std::string(as_text(df.commands[0].payload));
  return "";
}

}  // namespace

std::string dial_handshake(transport::Link& link, const DialerHello& h, int timeout_ms, SessionKeys* keys) {
  const int64_t deadline = now_ms() + timeout_ms;
  if (!h.key) {
    if (send_hello(link, h.self_node, h.peer_node, h.inner) != 0) return "cannot send HELLO";
    return "";
  }
  if (!crypto_ready()) return "libsodium cannot initialise";
  Transcript t;
  t.dialer_node = h.self_node;
  t.listener_node = h.peer_node;
  t.nd = fresh_nonce();
  t.inner = h.inner;
  if (send_hello(link, h.self_node, h.peer_node, challenge_payload(t.nd, h.inner)) != 0) return "cannot send HELLO";
  wire::WireHeader hdr;
  std::string payload;
  if (std::string why = recv_hello(link, deadline, &hdr, &payload); !why.empty()) return why;
  Mac listener_mac{};
  if (hdr.src_node != h.peer_node || hdr.dst_node != h.self_node || !parse_response(payload, &t.nl, &listener_mac))
    return "the peer does not authenticate (no challenge response from node " + std::to_string(h.peer_node) + ")";
  const Hash th = transcript_hash(t);
  if (!verify(*h.key, Role::kListener, th, listener_mac))
    return "node " + std::to_string(h.peer_node) + " does not hold the cluster key";
  if (send_hello(link, h.self_node, h.peer_node, proof_payload(prove(*h.key, Role::kDialer, th))) != 0)
    return "cannot send the handshake proof";
  if (keys) *keys = session_keys(*h.key, th);
  return "";
}

std::string accept_handshake(transport::Link& link, int self_node, const KeyFor& key_for, int timeout_ms,
                             AcceptedHello* out) {
  const int64_t deadline = now_ms() + timeout_ms;
  wire::WireHeader hdr;
  std::string payload;
  if (std::string why = recv_hello(link, deadline, &hdr, &payload); !why.empty()) return why;
  if (hdr.dst_node != self_node) return "HELLO for node " + std::to_string(hdr.dst_node);
  if (hdr.src_node >= DVS_NR_NODES || hdr.src_node == self_node) return "HELLO from node " + std::to_string(hdr.src_node);
  AcceptedHello a;
  a.dialer_node = hdr.src_node;
  if (!key_for) {
    if (is_handshake_payload(payload)) return "the dialer authenticates; this node runs without a cluster key";
    a.inner = std::move(payload);
    *out = std::move(a);
    return "";
  }
  Transcript t;
  t.dialer_node = a.dialer_node;
  t.listener_node = self_node;
  std::string_view inner;
  if (!parse_challenge(payload, &t.nd, &inner))
    return "node " + std::to_string(a.dialer_node) + " did not authenticate (plain HELLO; this cluster needs its key)";
  a.inner = std::string(inner);
  t.inner = a.inner;
  std::string why;
  const std::optional<Key> key = key_for(a.dialer_node, a.inner, &why);
  if (!key) return why.empty() ? "claim refused" : why;
  if (!crypto_ready()) return "libsodium cannot initialise";
  t.nl = fresh_nonce();
  const Hash th = transcript_hash(t);
  if (send_hello(link, self_node, a.dialer_node, response_payload(t.nl, prove(*key, Role::kListener, th))) != 0)
    return "cannot send the challenge response";
  if (why = recv_hello(link, deadline, &hdr, &payload); !why.empty()) return why;
  Mac dialer_mac{};
  if (hdr.src_node != a.dialer_node || hdr.dst_node != self_node || !parse_proof(payload, &dialer_mac))
    return "no handshake proof from the dialer";
  if (!verify(*key, Role::kDialer, th, dialer_mac))
    return "the dialer claiming node " + std::to_string(a.dialer_node) + " does not hold the key";
  a.authenticated = true;
  a.keys = session_keys(*key, th);
  *out = std::move(a);
  return "";
}

}  // namespace dvs::linkauth
