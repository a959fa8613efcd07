#include "transports/tipc/tipc_uri.hpp"

#include <charconv>

#include "dvs/errors.h"
#include "transports/transport_util.hpp"

namespace dvs::transport::tipc {

namespace {

// Decimal or 0x-hex, lo .. hi, the whole string.
bool parse_u32(std::string_view s, uint64_t lo, uint64_t hi, uint64_t* out) {
  const bool hex = s.starts_with("0x") || s.starts_with("0X");
  if (hex) s.remove_prefix(2);
  const char* end = s.data() + s.size();
  uint64_t v = 0;
  // from_chars takes no sign for an unsigned type: "+1" and "-1" fail here.
  const auto r = std::from_chars(s.data(), end, v, hex ? 16 : 10);
  const bool ok = !s.empty() && r.ec == std::errc() && r.ptr == end && v >= lo && v <= hi;
  if (ok) *out = v;
  return ok;
}

bool parse_query(std::string_view q, TipcAddress* a) {
  return for_each_query_pair(q, [a](std::string_view k, std::string_view v) {
    uint64_t n = 0;
    if (k == "scope" && (v == "cluster" || v == "node")) {
      a->node_scope = v == "node";
      return true;
    }
    if (k == "wait_ms" && parse_u32(v, 0, 3'600'000, &n)) {
      a->wait_ms = static_cast<int>(n);
      return true;
    }
    return false;
  });
}

}  // namespace

int parse_tipc_uri(std::string_view uri, TipcAddress* out) {
  TipcAddress a;
  std::string_view rest;
  if (!split_uri_query(uri, "tipc", &rest, &a.query, [&](std::string_view q) { return parse_query(q, &a); }))
    return EDVSINVAL;
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return EDVSINVAL;
  uint64_t type = 0, instance = 0;
  if (!parse_u32(rest.substr(0, colon), kFirstUserType, 0xffffffffu, &type) ||
      !parse_u32(rest.substr(colon + 1), 0, 0xffffffffu, &instance))
    return EDVSINVAL;
  a.type = static_cast<uint32_t>(type);
  a.instance = static_cast<uint32_t>(instance);
  *out = std::move(a);
  return 0;
}

std::string format_tipc_uri(uint32_t type, uint32_t instance, std::string_view query) {
  return "tipc://" + std::to_string(type) + ":" + std::to_string(instance) + std::string(query);
}

}  // namespace dvs::transport::tipc
