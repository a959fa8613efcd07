#include "transports/shm/shm_uri.hpp"

#include <charconv>

#include "dvs/errors.h"

namespace dvs::transport::shm {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool parse_u64(std::string_view s, uint64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_size(std::string_view s, uint64_t* v) {
  unsigned shift = 0;
  if (!s.empty()) {
    switch (s.back()) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      default: break;
    }
    if (shift) s.remove_suffix(1);
  }
  if (!parse_u64(s, v) || *v > (UINT64_MAX >> shift)) return false;
  *v <<= shift;
  return true;
}

}  // namespace

int parse_shm_uri(std::string_view uri, bool allow_empty_name, ShmUri* out) {
  constexpr std::string_view kScheme = "shm://";
  if (uri.substr(0, kScheme.size()) != kScheme) return EDVSINVAL;
  uri.remove_prefix(kScheme.size());
  const size_t q = uri.find('?');
  std::string_view name = uri.substr(0, q);
  std::string_view opts = q == std::string_view::npos ? std::string_view() : uri.substr(q + 1);
  if (name.size() > kMaxNameLen || (name.empty() && !allow_empty_name)) return EDVSINVAL;
  for (char c : name)
    if (!name_char(c)) return EDVSINVAL;
  ShmUri r;
  r.name = std::string(name);
  while (q != std::string_view::npos) {
    const size_t amp = opts.find('&');
    std::string_view kv = opts.substr(0, amp);
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) return EDVSINVAL;
    std::string_view k = kv.substr(0, eq), v = kv.substr(eq + 1);
    uint64_t n = 0;
    if (k == "ring") {
      if (!parse_size(v, &n) || !valid_capacity(n)) return EDVSINVAL;
      r.ring = n;
    } else if (k == "spin_us") {
      if (!parse_u64(v, &n) || n > 1000000) return EDVSINVAL;
      r.spin_ns = static_cast<int64_t>(n) * 1000;
    } else {
      return EDVSINVAL;
    }
    if (amp == std::string_view::npos) break;
    opts.remove_prefix(amp + 1);
  }
  *out = std::move(r);
  return 0;
}

}  // namespace dvs::transport::shm
