#include "workloads/web/http_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dvs::workloads::web {
namespace {

int parse(const std::string& head, Request* r) { return parse_head(head, r); }

TEST(HttpRequestTest, ParsesARequestLineAndItsHeaders) {
  Request r;
  ASSERT_EQ(parse("GET /a/b.txt?x=1 HTTP/1.1\r\nHost: h\r\nRange: bytes=1-2 \r\nContent-Length: 3", &r), 0);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/a/b.txt?x=1");
  EXPECT_EQ(r.version, "HTTP/1.1");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_TRUE(r.has_host);
  ASSERT_TRUE(r.range.has_value());
  EXPECT_EQ(*r.range, "bytes=1-2");
  EXPECT_TRUE(r.has_content_length);
  EXPECT_EQ(r.content_length, 3u);
  EXPECT_FALSE(r.chunked);
}

TEST(HttpRequestTest, KeepAliveFollowsTheVersionAndConnection) {
  Request a, b, c, d;
  ASSERT_EQ(parse("GET / HTTP/1.0", &a), 0);  // 1.0: no Host needed, closes
  EXPECT_FALSE(a.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive", &b), 0);
  EXPECT_TRUE(b.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nhost: x\r\nCONNECTION: close", &c), 0);
  EXPECT_FALSE(c.keep_alive);
  ASSERT_EQ(parse("HEAD / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", &d), 0);
  EXPECT_TRUE(d.chunked);
}

TEST(HttpRequestTest, MalformedHeadsAre400) {
  Request r;
  for (const char* h : {"GARBAGE", "GET /", "GET / HTTP/9.9\r\nHost: x", "get / HTTP/1.1\r\nHost: x", " / HTTP/1.1",
                        "GET  HTTP/1.1\r\nHost: x", "GET / x HTTP/1.1\r\nHost: x", "GET / HTTP/1.1",  // no Host
                        "GET / HTTP/1.1\r\nHost x", "GET / HTTP/1.1\r\n Host: x", "GET / HTTP/1.1\r\n: x\r\nHost: x",
                        "GET / HTTP/1.1\r\nHo st: x", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5",
                        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 41",
                        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4",
                        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1234567890123456789"}) {
    SCOPED_TRACE(h);
    Request fresh;
    EXPECT_EQ(parse(h, &fresh), 400);
  }
}

TEST(HttpRequestTest, ContentLengthIsOneNumberOrTheSameNumberRepeated) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_content_length("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_content_length("5, 5,5", &v));
  EXPECT_EQ(v, 5u);
  EXPECT_TRUE(parse_content_length("999999999999999999", &v));
  EXPECT_EQ(v, 999999999999999999u);
  for (const char* bad : {"", " ", "5,", ",5", "5, 6", "+5", "0x10", "1e3", "5 5", "1234567890123456789"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_content_length(bad, &v));
  }
  Request r;  // the same length in two fields is one length
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\nContent-Length: 3", &r), 0);
  EXPECT_EQ(r.content_length, 3u);
}

TEST(HttpRequestTest, DecodePathStaysUnderTheRoot) {
  EXPECT_EQ(decode_path("/sub/a.txt", 1024), "/sub/a.txt");
  EXPECT_EQ(decode_path("/", 1024), "/index.html");
  EXPECT_EQ(decode_path("/sub/?q=1#f", 1024), "/sub/index.html");
  EXPECT_EQ(decode_path("/a%20b%2Fc", 1024), "/a b/c");
  EXPECT_EQ(decode_path("/a..b/..c/c..", 1024), "/a..b/..c/c..");  // dots inside names are names
  for (const char* bad : {"", "a.txt", "*", "http://h/a", "/..", "/../etc/passwd", "/sub/../../x", "/%2e%2e/x",
                          "/sub/%2E%2e", "/%2", "/%zz", "/%00", "/a%", "/a\tb", "/a\x7f"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(decode_path(bad, 1024), "");
  }
  EXPECT_EQ(decode_path(std::string("/a.txt\0.html", 12), 1024), "");  // found by the fuzz target
  EXPECT_EQ(decode_path("/a%09b", 1024), "/a\tb");                      // encoded, a name may have one
  EXPECT_EQ(decode_path("/" + std::string(20, 'a'), 21), "/" + std::string(20, 'a'));
  EXPECT_EQ(decode_path("/" + std::string(21, 'a'), 21), "");  // longer than max_path
}

TEST(HttpRequestTest, RangesLieWithinTheFile) {
  bool unsat = false;
  auto r = parse_range("bytes=2-5", 36, &unsat);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 2u);
  EXPECT_EQ(r->last, 5u);
  r = parse_range("bytes=30-", 36, &unsat);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 30u);
  EXPECT_EQ(r->last, 35u);
  r = parse_range("bytes=30-1000", 36, &unsat);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->last, 35u);
  r = parse_range("bytes=-3", 36, &unsat);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 33u);
  EXPECT_EQ(r->last, 35u);
  r = parse_range("bytes=-100", 36, &unsat);  // a suffix longer than the file: all of it
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 0u);
  // 416: a start at or past the end, an empty suffix, any suffix of an empty file.
  for (const char* v : {"bytes=36-", "bytes=36-40", "bytes=-0"}) {
    SCOPED_TRACE(v);
    EXPECT_FALSE(parse_range(v, 36, &unsat).has_value());
    EXPECT_TRUE(unsat);
  }
  EXPECT_FALSE(parse_range("bytes=-5", 0, &unsat).has_value());
  EXPECT_TRUE(unsat);
  // Ignored (the whole file): malformed, several ranges, last < first.
  for (const char* v : {"bytes=0-1,4-5", "bytes=5-3", "items=1-2", "bytes=", "bytes=-", "bytes=a-b", "bytes=1",
                        "bytes=1234567890123456789-"}) {
    SCOPED_TRACE(v);
    EXPECT_FALSE(parse_range(v, 36, &unsat).has_value());
    EXPECT_FALSE(unsat);
  }
}

TEST(HttpRequestTest, RangeStartIsWhereASatisfiableRangeBegins) {
  EXPECT_EQ(range_start("bytes=200000-700000"), std::optional<uint64_t>(200000));
  EXPECT_EQ(range_start("bytes=7-"), std::optional<uint64_t>(7));
  EXPECT_EQ(range_start("bytes= 7-9"), std::optional<uint64_t>(7));
  for (const char* v : {"bytes=-3", "bytes=0-1,4-5", "items=1-", "bytes=x-", "bytes=1234567890123456789-"}) {
    SCOPED_TRACE(v);
    EXPECT_FALSE(range_start(v).has_value());
  }
}

}  // namespace
}  // namespace dvs::workloads::web
