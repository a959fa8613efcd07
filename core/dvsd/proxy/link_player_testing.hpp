// Test helper: plays a peer node, or a peer node's process, on one link to a real dvsd (header
// only; the test links dvs_testing and dvs_transports).
#pragma once

#include <gtest/gtest.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dvsd/proxy/cluster_key.hpp"
#include "core/dvsd/proxy/link_auth.hpp"
#include "core/dvsd/proxy/link_handshake.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "dvs/errors.h"
#include "transports/registry.hpp"

namespace dvs::testing {

// The key every DvsdProcess of this test process holds (test_cluster_key()).
inline linkauth::Key test_key() {
  linkauth::Key k{};
  EXPECT_EQ("", linkauth::load_cluster_key(test_cluster_key(), &k));
  return k;
}

// Dials a dvsd as node `self`, opens the link (plainly or with a key; the claim says whether it is
// a node link or a process link: wire::direct_hello_payload), sends commands and reads the dvsd's.
// Single-threaded: one caller at a time.
struct Player {
  std::unique_ptr<transport::Link> link;
  int self = 0, peer = 1;
  bool acked = false;  // a HELLO_ACK came (read by next / wait_ack)

  // "" once this side of the handshake is done, or why not.
  std::string dial(const std::string& uri, const linkauth::Key* key, std::string_view claim = "") {
    transport::register_builtin_transports();
    int err = 0;
    link = transport::find_transport("tcp")->dial(uri, 3000, &err);
    if (!link) return "dial failed";
    return linkauth::dial_handshake(*link, {self, peer, std::string(claim), key}, 3000, nullptr);
  }
  bool send(wire::Command c) {
    c.hdr.src_node = static_cast<uint8_t>(self);
    c.hdr.dst_node = static_cast<uint8_t>(peer);
    std::vector<std::byte> f;
    if (wire::encode_frame(c, f) != wire::WireError::kOk) return false;
    iovec iov{f.data(), f.size()};
    return link->send(std::span<const iovec>(&iov, 1)) == 0;
  }
  // The next command that is not a HELLO / HELLO_ACK (nullopt: none in time, or the link closed;
  // *closed tells which). A HELLO_ACK read on the way sets `acked`.
  std::optional<wire::Command> next(int timeout_ms, bool* closed = nullptr, std::vector<std::byte>* payload = nullptr) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (closed) *closed = false;
    while (std::chrono::steady_clock::now() < until) {
      std::span<const std::byte> frame;
      const long n = link->recv(&frame, 20);
      if (n == EDVSTIMEDOUT) continue;
      if (n < 0) {
        if (closed) *closed = true;
        return std::nullopt;
      }
      wire::DecodedFrame df;
      if (wire::decode_frame(frame, &df) != wire::WireError::kOk) return std::nullopt;
      for (const auto& c : df.commands) {
        if (c.hdr.command == wire::CMD_HELLO_ACK) acked = true;
        if (c.hdr.command == wire::CMD_HELLO || c.hdr.command == wire::CMD_HELLO_ACK) continue;
        if (payload) payload->assign(c.payload.begin(), c.payload.end());
        return c;
      }
    }
    return std::nullopt;
  }
  // Whether a HELLO_ACK came within timeout_ms (a command other than HELLO read meanwhile is lost).
  bool wait_ack(int timeout_ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool closed = false;
    while (!acked && !closed && std::chrono::steady_clock::now() < until) next(20, &closed);
    return acked;
  }
  // Whether the dvsd closed the link within timeout_ms (reading and dropping whatever comes).
  bool closed_within(int timeout_ms) {
    bool closed = false;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!closed && std::chrono::steady_clock::now() < until) next(100, &closed);
    return closed;
  }
};

}  // namespace dvs::testing
