// Small helpers shared by transport implementations (not part of the seam itself): the failure
// convention of listen()/dial(), an owned descriptor, the length checks every send() makes, URI
// splitting, and the rule for unavailable transports in tests (transport_testing.hpp uses it).
#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "dvs/errors.h"
#include "transports/registry.hpp"
#include "transports/transport.hpp"

namespace dvs::transport {

// nullptr with *err = code: how listen(), dial() and accept() report a failure.
template <class T>
std::unique_ptr<T> fail_with(int* err, int code) {
  if (err) *err = code;
  return nullptr;
}

// A descriptor owned (closed on destruction) until release().
struct OwnedFd {
  int fd = -1;
  OwnedFd() = default;
  explicit OwnedFd(int f) : fd(f) {}
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int release() {
    const int f = fd;
    fd = -1;
    return f;
  }
};

// The length of the frame frame[0..n) (the sum of the pieces) if send() may take it: >= 1, or
// EDVSINVAL (empty) or EDVSMSGSIZE (above max_frame); in both cases nothing may be sent.
inline long frame_length(std::span<const iovec> frame, size_t max_frame) {
  size_t total = 0;
  for (const iovec& v : frame) {
    if (v.iov_len > max_frame) return EDVSMSGSIZE;  // also keeps the sum from overflowing
    total += v.iov_len;
  }
  if (total == 0) return EDVSINVAL;
  if (total > max_frame) return EDVSMSGSIZE;
  return static_cast<long>(total);
}

// Splits "SCHEME://REST[?QUERY]" for the given scheme: *rest is REST, *query the "?QUERY" suffix as
// written ("" if none, kept for Listener::uri()), and parse_query(QUERY) reads the options. False
// for another scheme or a query parse_query refuses.
template <class ParseQuery>
bool split_uri_query(std::string_view uri, std::string_view scheme, std::string_view* rest, std::string* query,
                     ParseQuery parse_query) {
  std::string_view s;
  if (!split_uri(uri, &s, rest) || s != scheme) return false;
  const size_t qm = rest->find('?');
  if (qm == std::string_view::npos) return true;
  *query = std::string(rest->substr(qm));
  *rest = rest->substr(0, qm);
  return parse_query(std::string_view(*query).substr(1));
}

// A decimal integer lo .. hi, the whole string. False otherwise.
inline bool parse_long(std::string_view s, long lo, long hi, long* out) {
  long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// The registered transport of `scheme`, registering it with register_fn first if needed (tests
// of one transport that do not want every built-in one).
inline Transport* registered(std::string_view scheme, void (*register_fn)()) {
  if (!find_transport(scheme)) register_fn();
  return find_transport(scheme);
}

// Is `scheme` named in $DVS_REQUIRE_TRANSPORTS (a comma list, e.g. "tipc,rdma")? The lab tests set
// it: a test of a required transport must fail, not skip, when probe() says unavailable.
inline bool transport_required(std::string_view scheme) {
  const char* req = std::getenv("DVS_REQUIRE_TRANSPORTS");
  return req && ("," + std::string(req) + ",").find("," + std::string(scheme) + ",") != std::string::npos;
}

}  // namespace dvs::transport
