#include "transports/registry.hpp"

#include "dvs/errors.h"


namespace dvs::transport {

namespace {
struct Registered {
  std::unique_ptr<Transport> transport;
  HarnessTraits traits;
};
std::vector<Registered>& table() {
  static std::vector<Registered> t;
  return t;
}
Registered* find(std::string_view scheme) {
  for (auto& r : table())
    if (r.transport->scheme() == scheme) return &r;
  return nullptr;
}
}  // namespace

void register_transport(std::unique_ptr<Transport> t, HarnessTraits traits) {
  if (Registered* r = find(t->scheme()))
    *r = {std::move(t), std::move(traits)};
  else
    table().push_back({std::move(t), std::move(traits)});
}

Transport* find_transport(std::string_view scheme) {
  Registered* r = find(scheme);
  return r ? r->transport.get() : nullptr;
}

const HarnessTraits* find_harness_traits(std::string_view scheme) {
  Registered* r = find(scheme);
  return r ? &r->traits : nullptr;
}

std::vector<Transport*> all_transports() {
  std::vector<Transport*> out;
  for (auto& r : table()) out.push_back(r.transport.get());
  return out;
}

std::unique_ptr<Link> Transport::adopt(int /*fd*/, int* err) {
  if (err) *err = EDVSNOSYS;
  return nullptr;
}

bool split_uri(std::string_view uri, std::string_view* scheme, std::string_view* rest) {
  size_t p = uri.find("://");
  if (p == std::string_view::npos || p == 0) return false;
  *scheme = uri.substr(0, p);
  *rest = uri.substr(p + 3);
  return true;
}

bool for_each_query_pair(std::string_view query,
                         const std::function<bool(std::string_view key, std::string_view value)>& take) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos || !take(kv.substr(0, eq), kv.substr(eq + 1))) return false;
  }
  return true;
}

}  // namespace dvs::transport
