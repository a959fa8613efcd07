// libFuzzer target: the listener's side of the link handshake (core/dvsd/proxy/link_handshake.hpp),
// fed the frames a dialer without the key could send, and the handshake payload parsers. This is
// the first code every connection to a dvsd listener reaches. Seeds:
// fuzz-corpus/dvs_link_handshake_fuzz/.
//
// Input: byte 0 picks the parsers' or the listener's run; for the listener, the rest is a list of
// frames, each a 2-byte little-endian length and that many bytes, returned by a link in memory one
// per recv (then: the dialer closed it).
//
// Invariants: a payload that parses as a challenge, response or proof is exactly what the matching
// builder writes for what was parsed; the listener never authenticates a dialer (the key is random
// per run and never in the input), never accepts a claim longer than a HELLO may carry, and always
// answers with a reason when it refuses.
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dvsd/proxy/link_auth.hpp"
#include "core/dvsd/proxy/link_handshake.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "core/testkit/fuzz_check.hpp"
#include "dvs/errors.h"

namespace {

using namespace dvs::linkauth;

// A link whose peer sent `frames`; what this side sends is dropped.
class ScriptedLink final : public dvs::transport::Link {
 public:
  explicit ScriptedLink(std::vector<std::string> frames) : frames_(std::move(frames)) {}
  int send(std::span<const iovec>) override { return 0; }
  long recv(std::span<const std::byte>* frame, int) override {
    if (next_ >= frames_.size()) return EDVSNOTCONN;
    const std::string& f = frames_[next_++];
    if (f.empty()) return EDVSTIMEDOUT;  // an empty entry: nothing came in time
    *frame = std::as_bytes(std::span<const char>(f.data(), f.size()));
    return static_cast<long>(f.size());
  }
  void close() override {}
  int poll_fd() const override { return -1; }
  std::string peer() const override { return "fuzz"; }
  int inject_raw_for_test(std::span<const std::byte>) override { return EDVSNOSYS; }

 private:
  std::vector<std::string> frames_;
  size_t next_ = 0;
};

void parsers(std::string_view text) {
  Nonce n{};
  Mac m{};
  std::string_view inner;
  if (parse_challenge(text, &n, &inner)) DVS_FUZZ_CHECK(challenge_payload(n, inner) == text);
  if (parse_response(text, &n, &m)) DVS_FUZZ_CHECK(response_payload(n, m) == text);
  if (parse_proof(text, &m)) DVS_FUZZ_CHECK(proof_payload(m) == text);
  if (parse_challenge(text, &n, &inner) || parse_response(text, &n, &m) || parse_proof(text, &m))
    DVS_FUZZ_CHECK(is_handshake_payload(text));
}

void listener(const uint8_t* data, size_t size) {
  std::vector<std::string> frames;
  for (size_t at = 0; at + 2 <= size && frames.size() < 8;) {
    const size_t len = static_cast<size_t>(data[at]) | static_cast<size_t>(data[at + 1]) << 8;
    at += 2;
    const size_t take = std::min(len, size - at);
    frames.emplace_back(reinterpret_cast<const char*>(data + at), take);
    at += take;
  }
  static const Key key = [] {
    Key k{};
    const Nonce r = fresh_nonce();
    std::memcpy(k.data(), r.data(), k.size());
    return k;
  }();
  ScriptedLink link(frames);
  AcceptedHello a;
  const KeyFor key_for = [](int, std::string_view, std::string*) { return std::optional<Key>(key); };
  const std::string why = accept_handshake(link, 1, key_for, 1000, &a);
  DVS_FUZZ_CHECK(!why.empty());  // without the key no input may get through
  DVS_FUZZ_CHECK(!a.authenticated);
  // Without a key (dvsd --no-auth) the listener takes a plain HELLO's claim, within a HELLO's
  // bound, from a node other than itself, and never an authenticating one.
  ScriptedLink same(std::move(frames));
  AcceptedHello plain;
  if (accept_handshake(same, 1, KeyFor{}, 1000, &plain).empty()) {
    DVS_FUZZ_CHECK(plain.inner.size() <= dvs::wire::kMaxHelloPayload);
    DVS_FUZZ_CHECK(plain.dialer_node != 1 && !plain.authenticated && !is_handshake_payload(plain.inner));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) parsers(dvs::fuzz::as_text(data + 1, size - 1));
  else listener(data + 1, size - 1);
  return 0;
}
