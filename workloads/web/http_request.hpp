// The web front end's HTTP/1.1 request parsing (RFC 9112 / 9110), pure functions of their input:
// no sockets, no files, so that they can be unit-tested and fuzzed (http_request_fuzz.cpp).
#ifndef DVS_WORKLOADS_WEB_HTTP_REQUEST_HPP
#define DVS_WORKLOADS_WEB_HTTP_REQUEST_HPP

#include <cstdint>
#include <optional>
#include <string>

namespace dvs::workloads::web {

// A parsed request head.
struct Request {
  std::string method, target, version;
  bool keep_alive = true;
  bool has_host = false;
  std::optional<std::string> range;  // the Range header's value, if any
  uint64_t content_length = 0;
  bool has_content_length = false;
  bool chunked = false;  // a Transfer-Encoding header (of any value)
};

// Case-insensitive ASCII comparison.
bool iequals(const std::string& a, const char* b);
// s without leading and trailing spaces and tabs.
std::string trim(const std::string& s);

// A Content-Length value: one decimal number (at most 18 digits), or a list of the same number
// ("5, 5"). False for anything else, different numbers included (RFC 9112 §6.3: the framing is
// then invalid).
bool parse_content_length(const std::string& value, uint64_t* out);

// Parse the head (without the final CRLFCRLF) into *r. 0, or the status to answer with (400).
int parse_head(const std::string& head, Request* r);

// Decode the origin-form target into a path under the served root ("/a/b.txt"; a path ending in
// '/' gets "index.html"; the query and fragment are dropped): "" if malformed (not starting with
// '/', a control byte (raw, NUL included), a bad or NUL %xx, a ".." segment, longer than max_path).
std::string decode_path(const std::string& target, size_t max_path);

// A single byte range of "bytes=a-b" / "bytes=a-" / "bytes=-n" against size: [first, last], both
// within [0, size). nullopt: ignore the header (malformed, or several ranges: the whole file,
// RFC 9110 §14.2), or, with *unsatisfiable set, answer 416 (a start at or past the end, "-0").
struct Range {
  uint64_t first, last;
};
std::optional<Range> parse_range(const std::string& v, uint64_t size, bool* unsatisfiable);

// The offset a of a single "bytes=a-" / "bytes=a-b" range (where the answer's bytes start if the
// range is satisfiable), so that the first fetch can already bring them; nullopt otherwise.
std::optional<uint64_t> range_start(const std::string& v);

}  // namespace dvs::workloads::web

#endif
