#include "workloads/web/http_request.hpp"  // beside it: the fuzz target builds it alone

#include <strings.h>

#include <algorithm>
#include <cctype>

namespace dvs::workloads::web {

bool iequals(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool parse_content_length(const std::string& value, uint64_t* out) {
  std::optional<uint64_t> seen;
  for (size_t at = 0; at <= value.size();) {
    const size_t comma = value.find(',', at);
    const std::string item = trim(value.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (item.empty() || item.size() > 18 || item.find_first_not_of("0123456789") != std::string::npos) return false;
    const uint64_t v = std::stoull(item);
    if (seen && *seen != v) return false;
    seen = v;
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  *out = *seen;
  return true;
}

int parse_head(const std::string& head, Request* r) {
  size_t eol = head.find("\r\n");
  const std::string line = head.substr(0, eol);
  const size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == std::string::npos || s2 == s1) return 400;
  r->method = line.substr(0, s1);
  r->target = line.substr(s1 + 1, s2 - s1 - 1);
  r->version = line.substr(s2 + 1);
  if (r->method.empty() || r->target.empty() || r->target.find(' ') != std::string::npos) return 400;
  for (char c : r->method)
    if (c < 'A' || c > 'Z') return 400;
  if (r->version != "HTTP/1.1" && r->version != "HTTP/1.0") return 400;
  r->keep_alive = r->version == "HTTP/1.1";
  while (eol != std::string::npos) {
    const size_t start = eol + 2;
    eol = head.find("\r\n", start);
    const std::string h = head.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
    if (h.empty()) continue;
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || h[0] == ' ' || h[0] == '\t') return 400;
    const std::string name = h.substr(0, colon), value = trim(h.substr(colon + 1));
    if (name.find_first_of(" \t") != std::string::npos) return 400;
    if (iequals(name, "host")) r->has_host = true;
    else if (iequals(name, "connection")) {
      if (iequals(value, "close")) r->keep_alive = false;
      else if (iequals(value, "keep-alive")) r->keep_alive = true;
    } else if (iequals(name, "range")) r->range = value;
    else if (iequals(name, "transfer-encoding")) r->chunked = true;
    else if (iequals(name, "content-length")) {
      // Two lengths that differ (in one field or in several) would let a request hide inside
      // another's body for any party that read the other length: 400, as nginx answers.
      uint64_t v = 0;
      if (!parse_content_length(value, &v)) return 400;
      if (r->has_content_length && v != r->content_length) return 400;
      r->has_content_length = true;
      r->content_length = v;
    }
  }
  if (r->version == "HTTP/1.1" && !r->has_host) return 400;
  return 0;
}

std::string decode_path(const std::string& target, size_t max_path) {
  if (target.empty() || target[0] != '/') return "";
  std::string t = target.substr(0, target.find_first_of("?#")), out;
  for (size_t i = 0; i < t.size(); ++i) {
    // Control bytes are no part of a target (RFC 9112 §3.2); a NUL would cut the path that
    // open() sees short of the one checked here ("/a.txt\0.html").
    if (uint8_t(t[i]) < 0x21 || uint8_t(t[i]) == 0x7f) return "";
    if (t[i] == '%') {
      if (i + 2 >= t.size() || !isxdigit(uint8_t(t[i + 1])) || !isxdigit(uint8_t(t[i + 2]))) return "";
      const char c = char(std::stoi(t.substr(i + 1, 2), nullptr, 16));
      if (c == '\0') return "";
      out += c;
      i += 2;
    } else {
      out += t[i];
    }
  }
  // No ".." segment may climb out of the root.
  for (size_t p = 0; p != std::string::npos;) {
    const size_t n = out.find('/', p + 1);
    if (out.substr(p + 1, n == std::string::npos ? std::string::npos : n - p - 1) == "..") return "";
    p = n;
  }
  if (out.back() == '/') out += "index.html";
  return out.size() > max_path ? "" : out;
}

std::optional<Range> parse_range(const std::string& v, uint64_t size, bool* unsatisfiable) {
  *unsatisfiable = false;
  if (v.rfind("bytes=", 0) != 0 || v.find(',') != std::string::npos) return std::nullopt;
  const std::string spec = trim(v.substr(6));
  const size_t dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto num = [](const std::string& s) -> std::optional<uint64_t> {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoull(s);
  };
  if (a.empty()) {
    const auto n = num(b);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) {
      *unsatisfiable = true;
      return std::nullopt;
    }
    return Range{size - std::min(*n, size), size - 1};
  }
  const auto f = num(a);
  if (!f) return std::nullopt;
  std::optional<uint64_t> l = b.empty() ? std::optional<uint64_t>(UINT64_MAX) : num(b);
  if (!l || *l < *f) return std::nullopt;
  if (*f >= size) {
    *unsatisfiable = true;
    return std::nullopt;
  }
  return Range{*f, std::min(*l, size - 1)};
}

std::optional<uint64_t> range_start(const std::string& v) {
  if (v.rfind("bytes=", 0) != 0 || v.find(',') != std::string::npos) return std::nullopt;
  const std::string spec = trim(v.substr(6));
  const size_t dash = spec.find('-');
  if (dash == std::string::npos || dash == 0 || dash > 18) return std::nullopt;
  const std::string a = spec.substr(0, dash);
  if (a.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(a);
}

}  // namespace dvs::workloads::web
