// The opening of every link between nodes and of the direct path's process links, over a
// transport::Link: the dialer's HELLO and, when the cluster authenticates (a key is given), the
// challenge-response of core/dvsd/proxy/link_auth.hpp. Nothing else is read from a link before this
// returns success; both sides bound it by one deadline.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/dvsd/proxy/link_auth.hpp"
#include "transports/transport.hpp"

namespace dvs::linkauth {

struct DialerHello {
  int self_node = -1;
  int peer_node = -1;
  std::string inner;       // the HELLO payload the dialer claims with (direct URI, process link...)
  const Key* key = nullptr;  // null: the unauthenticated opening (one plain HELLO)
};

// Sends the dialer's HELLO and, with a key, completes the handshake within timeout_ms. "" on
// success (*keys = the session keys; untouched without a key), else a one-line reason: the link
// must then be closed.
std::string dial_handshake(transport::Link& link, const DialerHello& h, int timeout_ms, SessionKeys* keys);

struct AcceptedHello {
  int dialer_node = -1;
  std::string inner;           // the dialer's claim
  bool authenticated = false;  // it proved the key
  SessionKeys keys;            // when authenticated
};

// The key the listener expects of a dialer claiming `inner` from node dialer_node; nullopt refuses
// the claim (unknown node, malformed claim...), with the reason in *why.
using KeyFor = std::function<std::optional<Key>(int dialer_node, std::string_view inner, std::string* why)>;

// Reads the dialer's HELLO addressed to self_node and, if key_for is set, runs the listener's side of
// the handshake; without key_for a plain HELLO is taken as is (and an authenticating one refused).
// Every read is bounded by the one deadline timeout_ms from now. "" and *out, or a reason.
std::string accept_handshake(transport::Link& link, int self_node, const KeyFor& key_for, int timeout_ms,
                             AcceptedHello* out);

}  // namespace dvs::linkauth
