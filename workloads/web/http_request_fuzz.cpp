// libFuzzer target of the front end's request parsing (http_request.hpp): any bytes as a request
// head, as a target and as a Range value. Checks, beyond "no crash, no sanitizer report":
//   - a parsed head is a GET-like request line: an upper-case method, a target without spaces,
//     HTTP/1.0 or 1.1, a Host for 1.1, a Content-Length of at most 18 digits;
//   - a decoded path starts with '/', has no NUL and no ".." segment, is at most the limit, and
//     joined to a root never normalizes to anything outside it;
//   - a range lies within the file ([first, last] with last < size), a 416 comes with no range,
//     and range_start() is where a satisfiable range starts.
// Build by hand: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined http_request_fuzz.cpp http_request.cpp
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "workloads/web/http_request.hpp"  // beside it: the target builds without the rest of the workload

namespace {

namespace web = dvs::workloads::web;

constexpr size_t kMaxPath = 1024;  // web.hpp's kMaxPath, without its includes

void check(bool ok) {
  if (!ok) std::abort();
}

void check_path(const std::string& target) {
  const std::string p = web::decode_path(target, kMaxPath);
  if (p.empty()) return;
  check(p[0] == '/' && p.size() <= kMaxPath && p.find('\0') == std::string::npos);
  check(p.back() != '/');  // a directory means its index.html
  for (size_t at = 0; at != std::string::npos;) {
    const size_t next = p.find('/', at + 1);
    check(p.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1) != "..");
    at = next;
  }
  const std::string root = "/srv/www";
  const std::string joined = std::filesystem::path(root + p).lexically_normal().string();
  check(joined.rfind(root + "/", 0) == 0);
}

void check_range(const std::string& v) {
  const std::optional<uint64_t> start = web::range_start(v);
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{36}, uint64_t{65536}, (uint64_t{8} << 20) + 12345,
                        UINT64_MAX}) {
    bool unsat = true;
    const std::optional<web::Range> r = web::parse_range(v, size, &unsat);
    if (unsat) {
      check(!r.has_value());
      continue;
    }
    if (!r) continue;
    check(r->first <= r->last && r->last < size);
    if (start) check(*start == r->first);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const std::string head = in.substr(0, in.find("\r\n\r\n"));
  web::Request r;
  const int status = web::parse_head(head, &r);
  check(status == 0 || status == 400);
  if (status == 0) {
    check(!r.method.empty() && !r.target.empty() && r.target.find(' ') == std::string::npos);
    for (char c : r.method) check(c >= 'A' && c <= 'Z');
    check(r.version == "HTTP/1.1" || r.version == "HTTP/1.0");
    check(r.version != "HTTP/1.1" || r.has_host);
    check(r.content_length <= 999'999'999'999'999'999u && (r.has_content_length || r.content_length == 0));
    check_path(r.target);
    if (r.range) {
      check(r.range->find("\r\n") == std::string::npos);
      check_range(*r.range);
    }
  }
  // The same bytes as a target, a Range value and a Content-Length value by themselves.
  check_path(in);
  check_range(in);
  uint64_t n = 0;
  if (web::parse_content_length(in, &n)) check(n <= 999'999'999'999'999'999u);
  return 0;
}
