#include "transports/registry.hpp"

#include "dvs/errors.h"

#include <algorithm>

namespace dvs::transport {

namespace {
std::vector<std::unique_ptr<Transport>>& table() {
  static std::vector<std::unique_ptr<Transport>> t;
  return t;
}
}  // namespace

void register_transport(std::unique_ptr<Transport> t) {
  auto& v = table();
  auto same = [&](const std::unique_ptr<Transport>& x) { return x->scheme() == t->scheme(); };
  auto it = std::find_if(v.begin(), v.end(), same);
  if (it != v.end())
    *it = std::move(t);
  else
    v.push_back(std::move(t));
}

Transport* find_transport(std::string_view scheme) {
  for (auto& t : table())
    if (t->scheme() == scheme) return t.get();
  return nullptr;
}

std::vector<Transport*> all_transports() {
  std::vector<Transport*> out;
  for (auto& t : table()) out.push_back(t.get());
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
