// The web workload against the real curl binary, real dvsd nodes and real processes (no mocks):
// statuses and methods, malformed / oversized / slow requests, keep-alive, ranges, layouts A-F,
// an 8 MiB file byte-identical across two nodes, `dvs web serve` end to end.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/poll_until.hpp"
#include "core/testkit/test_shell.hpp"
#include "core/testkit/test_temp_dir.hpp"
#include "harness/commands/web_command.hpp"

#include <nlohmann/json.hpp>

namespace {

namespace wl = dvs::workloads::web;
using dvs::testing::TempDir;

using Out = dvs::testing::Ran;

Out run(const std::string& cmd) { return dvs::testing::run_shell(cmd + " 2>&1"); }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_file(const std::filesystem::path& p, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng());
  std::ofstream(p, std::ios::binary) << s;
}

// One server with its nodes, files under root.
struct Site {
  TempDir dir{"dvs-web-test"};
  std::unique_ptr<dvs::web::WebNodes> nodes;
  wl::WebServer server;
  std::string base;
  size_t fs_cache_bytes = size_t{8} << 20;  // WebConfig's defaults unless a test sets them
  int fs_cache_ttl_ms = 1000;
  wl::Layout layout;  // set by start()

  ::testing::AssertionResult start(char layout_letter, int request_timeout_ms = 5000, int workers = 4, int servers = 2) {
    std::filesystem::create_directories(dir / "root" / "sub");
    std::ofstream(dir / "root" / "index.html") << "<html>hello dvs</html>\n";
    std::ofstream(dir / "root" / "sub" / "a.txt") << "0123456789abcdefghijklmnopqrstuvwxyz";
    write_file(dir / "root" / "big.bin", (size_t{8} << 20) + 12345, 7);
    nodes = std::make_unique<dvs::web::WebNodes>(dvs::testing::dvsd_binary(), dir.path().string());
    wl::WebConfig cfg;
    cfg.root = (dir / "root").string();
    if (!wl::layout_of(layout_letter, &cfg.layout)) return ::testing::AssertionFailure() << "layout";
    layout = cfg.layout;
    cfg.chunk = 256 * 1024;
    cfg.workers = workers;
    cfg.fs_servers = cfg.disk_servers = servers;
    cfg.request_timeout_ms = request_timeout_ms;
    cfg.fs_cache_bytes = fs_cache_bytes;
    cfg.fs_cache_ttl_ms = fs_cache_ttl_ms;
    if (auto e = nodes->up("tcp", &cfg); !e.empty()) return ::testing::AssertionFailure() << e;
    std::string err;
    if (!server.start(cfg, &err)) return ::testing::AssertionFailure() << err;
    base = "http://127.0.0.1:" + std::to_string(server.port());
    return ::testing::AssertionSuccess();
  }
  // curl's status code for args (-o body file).
  std::string code(const std::string& args, const std::string& path, const std::string& body = "/dev/null") {
    return run("curl -s --max-time 20 -o " + body + " -w '%{http_code}' " + args + " '" + base + path + "'").out;
  }
};

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Send raw bytes, read the answer until the server closes or timeout_ms.
std::string raw(int port, const std::string& req, int timeout_ms = 5000) {
  const int fd = connect_to(port);
  if (fd < 0) return "connect failed";
  if (!req.empty() && send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0) return "send failed";
  std::string out;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, int(left)) <= 0) break;
    char b[4096];
    const ssize_t n = recv(fd, b, sizeof b, 0);
    if (n <= 0) break;
    out.append(b, size_t(n));
  }
  close(fd);
  return out;
}

// A TCP socket of this network namespace as /proc/net/tcp shows it (IPv4, loopback here).
struct TcpSocket {
  int local_port = 0, remote_port = 0, state = 0;
  long tx_queue = 0, rx_queue = 0;  // bytes not yet acked by the peer / not yet read by the owner
};
constexpr int kTcpEstablished = 0x01, kTcpListen = 0x0A;  // include/net/tcp_states.h

std::vector<TcpSocket> tcp_sockets() {
  std::vector<TcpSocket> out;
  std::ifstream f("/proc/net/tcp");
  std::string line;
  std::getline(f, line);  // the header
  while (std::getline(f, line)) {
    unsigned lport = 0, rport = 0, st = 0;
    unsigned long tx = 0, rx = 0;
    // "  0: 0100007F:1F90 0100007F:C2A4 01 00000000:00000000 ..."
    if (std::sscanf(line.c_str(), " %*d: %*x:%x %*x:%x %x %lx:%lx", &lport, &rport, &st, &tx, &rx) == 5)
      out.push_back({int(lport), int(rport), int(st), long(tx), long(rx)});
  }
  return out;
}

int local_port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  return getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0 ? ntohs(a.sin_port) : -1;
}

// Polls (at most timeout) until the server listening on port has accepted at least n connections
// and read everything sent on them so far: its accept queue and the receive queues of its
// connections are empty. A server that is waiting for its clients is in exactly this state.
::testing::AssertionResult server_read_all(int port, size_t n, int timeout_ms = 10000) {
  std::string last;
  const bool ok = dvs::testing::poll_until(
      [&] {
        size_t accepted = 0;
        for (const TcpSocket& t : tcp_sockets()) {
          if (t.local_port != port) continue;
          if (t.state == kTcpListen && t.rx_queue != 0) return last = "connections not yet accepted", false;
          if (t.state != kTcpEstablished) continue;
          if (t.rx_queue != 0) return last = "a connection with unread bytes", false;
          ++accepted;
        }
        last = std::to_string(accepted) + " connections accepted";
        return accepted >= n;
      },
      std::chrono::milliseconds(timeout_ms));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "server on port " << port << " did not read all of " << n
                                       << " connections within " << timeout_ms << " ms: " << last;
}

// Polls (at most timeout) until n of the server's connections on port each hold at least
// min_unsent bytes their clients have not taken (the server has to wait for those clients).
::testing::AssertionResult server_waiting_on_clients(int port, size_t n, long min_unsent, int timeout_ms = 10000) {
  size_t waiting = 0;
  const bool ok = dvs::testing::poll_until(
      [&] {
        waiting = 0;
        for (const TcpSocket& t : tcp_sockets())
          if (t.local_port == port && t.state == kTcpEstablished && t.tx_queue >= min_unsent) ++waiting;
        return waiting >= n;
      },
      std::chrono::milliseconds(timeout_ms));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "only " << waiting << " of " << n << " connections on port " << port
                                       << " hold >= " << min_unsent << " unsent bytes after " << timeout_ms << " ms";
}

// Polls (at most timeout) until the server on port has closed its end of the connection whose
// client socket is fd (its socket has left ESTABLISHED, or is gone after a reset).
::testing::AssertionResult server_closed(int port, int fd, int timeout_ms) {
  const int client_port = local_port_of(fd);
  const bool ok = dvs::testing::poll_until(
      [&] {
        for (const TcpSocket& t : tcp_sockets())
          if (t.local_port == port && t.remote_port == client_port) return t.state != kTcpEstablished;
        return true;
      },
      std::chrono::milliseconds(timeout_ms));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the server still holds the connection from port " << client_port << " after "
                                       << timeout_ms << " ms";
}

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

TEST(WebServer, StatusesMethodsAndRanges) {
  Site s;
  ASSERT_TRUE(s.start('C', 800));
  const auto body = (s.dir / "body").string();
  // GET, with the file's bytes; "/" is index.html; a query string is ignored.
  EXPECT_EQ(s.code("", "/sub/a.txt", body), "200");
  EXPECT_EQ(slurp(body), "0123456789abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(s.code("", "/?x=1", body), "200");
  EXPECT_EQ(slurp(body), "<html>hello dvs</html>\n");
  // HEAD: the headers of the GET, no body.
  Out h = run("curl -s --max-time 10 -I '" + s.base + "/sub/a.txt'");
  EXPECT_NE(h.out.find("HTTP/1.1 200 OK"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("Content-Length: 36"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("Accept-Ranges: bytes"), std::string::npos) << h.out;
  // 404, 405 (with Allow), 400.
  EXPECT_EQ(s.code("", "/nope.txt"), "404");
  EXPECT_EQ(s.code("", "/sub"), "404");  // a directory
  Out p = run("curl -s --max-time 10 -i -X POST '" + s.base + "/sub/a.txt'");
  EXPECT_NE(p.out.find("HTTP/1.1 405"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("Allow: GET, HEAD"), std::string::npos) << p.out;
  EXPECT_EQ(s.code("-X DELETE", "/sub/a.txt"), "405");
  EXPECT_EQ(s.code("-H 'Host:'", "/sub/a.txt"), "400");          // HTTP/1.1 without Host
  EXPECT_EQ(s.code("--path-as-is", "/../../etc/passwd"), "400");  // out of the root
  EXPECT_EQ(s.code("--path-as-is", "/sub/%2e%2e/%2e%2e/etc/passwd"), "400");
  EXPECT_EQ(s.code("", "/bad%zz"), "400");
  // 413: a head above 8 KiB, a body above 64 KiB.
  EXPECT_EQ(s.code("-H 'X-Big: " + std::string(10000, 'x') + "'", "/sub/a.txt"), "413");
  write_file(s.dir / "upload", 100000, 3);
  EXPECT_EQ(s.code("-X GET --data-binary @" + (s.dir / "upload").string(), "/sub/a.txt"), "413");
  // A small body is read and skipped: the connection stays usable.
  EXPECT_EQ(s.code("-X GET --data-binary abc", "/sub/a.txt", body), "200");
  // Ranges: 206 with the bytes, 416 beyond the end, several ranges -> the whole file.
  EXPECT_EQ(s.code("-r 2-5", "/sub/a.txt", body), "206");
  EXPECT_EQ(slurp(body), "2345");
  EXPECT_EQ(s.code("-r 30-", "/sub/a.txt", body), "206");
  EXPECT_EQ(slurp(body), "uvwxyz");
  EXPECT_EQ(s.code("-r -3", "/sub/a.txt", body), "206");
  EXPECT_EQ(slurp(body), "xyz");
  EXPECT_EQ(s.code("-r 30-1000", "/sub/a.txt", body), "206");
  EXPECT_EQ(slurp(body), "uvwxyz");
  Out r = run("curl -s --max-time 10 -i -r 36- '" + s.base + "/sub/a.txt'");
  EXPECT_NE(r.out.find("HTTP/1.1 416"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Content-Range: bytes */36"), std::string::npos) << r.out;
  EXPECT_EQ(s.code("-r 0-1,4-5", "/sub/a.txt", body), "200");
  EXPECT_EQ(slurp(body).size(), 36u);
  // A range of the 8 MiB file crossing chunk boundaries.
  EXPECT_EQ(s.code("-r 200000-700000", "/big.bin", body), "206");
  EXPECT_EQ(slurp(body), slurp(s.dir / "root" / "big.bin").substr(200000, 500001));
  // Keep-alive: two requests on one connection.
  Out k = run("curl -sv --max-time 10 -o /dev/null -o /dev/null '" + s.base + "/sub/a.txt' '" + s.base + "/index.html'");
  EXPECT_NE(k.out.find("Re-using existing connection"), std::string::npos) << k.out;
  // Raw malformed requests.
  const int port = s.server.port();
  EXPECT_EQ(raw(port, "GARBAGE\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(raw(port, "GET / HTTP/9.9\r\nHost: x\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(raw(port, "GET / HTTP/1.1\r\nHost x\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(raw(port, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  // Two Content-Lengths that differ (RFC 9112 §6.3): 400, and the "body" is never run as a request.
  const std::string smuggled = raw(port, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 41\r\n\r\n"
                                         "GET /sub/a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(smuggled.substr(0, 12), "HTTP/1.1 400") << smuggled;
  EXPECT_EQ(smuggled.find("HTTP/1.1", 1), std::string::npos) << smuggled;
  EXPECT_EQ(raw(port, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(raw(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc")
                .substr(0, 12),
            "HTTP/1.1 200");  // the same length repeated is one length
  EXPECT_EQ(raw(port, "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(raw(port, "GET / HTTP/1.0\r\n\r\n").substr(0, 12), "HTTP/1.1 200");  // 1.0: no Host needed, closes
  EXPECT_EQ(raw(port, std::string(20000, 'G')).substr(0, 12), "HTTP/1.1 413");
  // A request head that never completes: 408 after the request timeout (800 ms).
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(raw(port, "GET / HTTP/1.1\r\nHost: x\r\n", 5000).substr(0, 12), "HTTP/1.1 408");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  // A body that never completes: 408 and closed after the request timeout (nginx's
  // client_body_timeout), holding no worker meanwhile (SlowBodiesDoNotBlockOthers).
  const auto t1 = std::chrono::steady_clock::now();
  const std::string cut = raw(port, "GET /sub/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", 5000);
  EXPECT_EQ(cut.substr(0, 12), "HTTP/1.1 408") << cut;
  EXPECT_EQ(cut.find("0123456789abcdef"), std::string::npos) << cut;  // never answered with the file
  EXPECT_GT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(700));
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(3));
  // A body that comes in pieces is read and dropped; the requests before and after it are answered.
  const int fd = connect_to(port);
  ASSERT_GE(fd, 0);
  const std::string first = "GET /sub/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234";
  ASSERT_GT(send(fd, first.data(), first.size(), MSG_NOSIGNAL), 0);
  ASSERT_TRUE(server_read_all(port, 1));  // the first piece read: the server waits for the rest
  const std::string second = "56789GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_GT(send(fd, second.data(), second.size(), MSG_NOSIGNAL), 0);
  std::string both;
  pollfd pf{fd, POLLIN, 0};
  for (char b[4096]; poll(&pf, 1, 5000) > 0;) {
    const ssize_t n = recv(fd, b, sizeof b, 0);
    if (n <= 0) break;
    both.append(b, size_t(n));
  }
  close(fd);
  EXPECT_EQ(count_of(both, "HTTP/1.1 200 OK"), 2u) << both;
  EXPECT_NE(both.find("\r\n\r\n0123456789abcdefghijklmnopqrstuvwxyz"), std::string::npos) << both;
  EXPECT_NE(both.find("<html>hello dvs</html>"), std::string::npos) << both;
  // Still serving after all that.
  EXPECT_EQ(s.code("", "/sub/a.txt"), "200");
  EXPECT_EQ(s.server.check(), "");
}

TEST(WebServer, SlowClientsDoNotBlockOthers) {
  Site s;
  ASSERT_TRUE(s.start('B', 10000, 3));
  // Twelve slow clients, four times as many as the workers, for up to the 10 s request timeout:
  // six send nothing, six half a request line. A connection waiting for its client holds no
  // worker, so other clients are served at once.
  std::vector<int> slow;
  for (int i = 0; i < 12; ++i) {
    const int fd = connect_to(s.server.port());
    ASSERT_GE(fd, 0);
    if (i % 2 == 1) {
      ASSERT_GT(send(fd, "GET / HT", 8, MSG_NOSIGNAL), 0);
    }
    slow.push_back(fd);
  }
  ASSERT_TRUE(server_read_all(s.server.port(), slow.size()));  // all twelve accepted, waiting for their clients
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(s.code("", "/sub/a.txt"), "200");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  }
  // The half-sent heads are still waited for: completed now, they are answered.
  const std::string rest = "TP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_GT(send(slow[1], rest.data(), rest.size(), MSG_NOSIGNAL), 0);
  std::string got;
  pollfd p{slow[1], POLLIN, 0};
  for (char b[4096]; poll(&p, 1, 5000) > 0;) {
    const ssize_t n = recv(slow[1], b, sizeof b, 0);
    if (n <= 0) break;
    got.append(b, size_t(n));
  }
  EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos) << got;
  EXPECT_NE(got.find("<html>hello dvs</html>"), std::string::npos) << got;
  for (int fd : slow) close(fd);
}

// Long downloads do not hold the workers: four slow readers (curl at 256 KiB/s) of a 48 MiB file
// — far more than the loopback socket buffers take, so the server has to wait for them — on a
// front end of two workers; small requests are still answered at once, and a download completes
// byte-identical meanwhile.
TEST(WebServer, LongDownloadsDoNotHoldTheWorkers) {
  Site s;
  ASSERT_TRUE(s.start('B', 10000, 2));
  write_file(s.dir / "root" / "huge.bin", size_t{48} << 20, 11);
  std::vector<pid_t> slow;
  for (int i = 0; i < 4; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const std::string url = s.base + "/huge.bin";
      execlp("curl", "curl", "-s", "--limit-rate", "256K", "-o", "/dev/null", url.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    slow.push_back(pid);
  }
  // All four are streaming with full buffers: each of their connections holds data curl has not
  // taken (the socket buffers of the loopback hold far less than 48 MiB).
  ASSERT_TRUE(server_waiting_on_clients(s.server.port(), 4, 64 * 1024));
  for (int i = 0; i < 4; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(s.code("", "/sub/a.txt"), "200");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  }
  const auto body = (s.dir / "body").string();
  EXPECT_EQ(s.code("", "/big.bin", body), "200");
  EXPECT_TRUE(slurp(body) == slurp(s.dir / "root" / "big.bin"));
  for (pid_t pid : slow) {
    int st = 0;
    EXPECT_EQ(waitpid(pid, &st, WNOHANG), 0) << "a slow download ended early";
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
  }
}

// One GET of path on its own connection (Connection: close), as a normal client makes it under
// attack: its status line, whole-answer size and time.
struct Timed {
  std::string status;
  size_t bytes = 0;
  double ms = 0;
};
Timed timed_get(int port, const std::string& path, int timeout_ms = 5000) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out = raw(port, "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", timeout_ms);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return {out.substr(0, out.find("\r\n")), out.size(), ms};
}

// The normal client: n GETs of /sub/a.txt, one after another, each expected to be a whole 200
// within bound_ms. Stops early once one is far over (the test has failed). Latencies in ms.
std::vector<double> normal_client(int port, int n, double bound_ms) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const Timed t = timed_get(port, "/sub/a.txt");
    ms.push_back(t.ms);
    EXPECT_EQ(t.status, "HTTP/1.1 200 OK") << "request " << i << " after " << t.ms << " ms";
    EXPECT_LT(t.ms, bound_ms) << "request " << i;
    if (t.ms > 2 * bound_ms) break;
  }
  return ms;
}

std::string summary(std::vector<double> ms) {
  if (ms.empty()) return "no requests";
  std::sort(ms.begin(), ms.end());
  char b[160];
  std::snprintf(b, sizeof b, "%zu requests: median %.2f ms, max %.2f ms", ms.size(), ms[ms.size() / 2], ms.back());
  return b;
}

// Hostile clients that send a request with a body and then dribble it, a byte per client every
// 50 ms (far below what completes it), until stopped.
class SlowBodies {
 public:
  SlowBodies(int port, int n) {
    for (int i = 0; i < n; ++i) {
      const int fd = connect_to(port);
      if (fd < 0) continue;
      const std::string head = "GET /sub/a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\nx";
      if (send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0) fds_.push_back(fd);
      else close(fd);
    }
    t_ = std::thread([this] {
      while (!stop_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        for (int fd : fds_) (void)!send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
    });
  }
  ~SlowBodies() {
    stop_.store(true);
    t_.join();
    for (int fd : fds_) close(fd);
  }
  size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread t_;
};

// Hostile clients that each send `pipelined` requests for path at once and never read.
struct NonReaders {
  std::vector<int> fds;
  NonReaders(int port, int n, const std::string& path, int pipelined) {
    std::string req;
    for (int i = 0; i < pipelined; ++i) req += "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n";
    for (int i = 0; i < n; ++i) {
      const int fd = connect_to(port);
      if (fd < 0) continue;
      if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) > 0) fds.push_back(fd);
      else close(fd);
    }
  }
  ~NonReaders() {
    for (int fd : fds) close(fd);
  }
};

// What a socket still gives until EOF or reset, for at most timeout_ms: bytes, and whether it ended.
std::pair<size_t, bool> drain(int fd, int timeout_ms) {
  size_t got = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (char b[65536];;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, int(left)) <= 0) return {got, false};
    const ssize_t n = recv(fd, b, sizeof b, 0);
    if (n <= 0) return {got, true};
    got += size_t(n);
  }
}

// Debian's nginx on the site's files, for the same scenario ("" when it is not installed).
std::string nginx_figures(Site& s, const std::function<std::vector<double>(int port)>& scenario) {
  if (run("command -v nginx").status != 0) return "nginx not installed";
  dvs::web::Nginx ng;
  if (auto e = ng.start((s.dir / "ng").string(), (s.dir / "root").string()); !e.empty()) return e;
  return summary(scenario(ng.port()));
}

// Sixteen clients dribbling request bodies, four times the workers, for up to the 10 s request
// timeout: a body being read holds no worker, so a normal client's requests are answered at once
// (the front end before this test read bodies with a blocking read in the worker: all four held,
// the normal client's requests waiting seconds).
TEST(WebServer, SlowBodiesDoNotBlockOthers) {
  Site s;
  ASSERT_TRUE(s.start('B', 10000, 4));
  auto scenario = [](int port) {
    SlowBodies slow(port, 16);
    EXPECT_EQ(slow.size(), 16u);
    EXPECT_TRUE(server_read_all(port, slow.size()));  // every head read: the server waits for the bodies
    return normal_client(port, 40, 1000);
  };
  const std::string dvs = summary(scenario(s.server.port()));
  EXPECT_EQ(s.server.check(), "");
  const std::string ng = nginx_figures(s, scenario);
  std::printf("normal client beside 16 slow bodies: dvs %s; nginx %s\n", dvs.c_str(), ng.c_str());
  RecordProperty("dvs", dvs);
  RecordProperty("nginx", ng);
}

// Forty-eight clients that pipeline twenty requests each for the 8 MiB file and never read: an
// answer the socket does not take waits on its own connection (a bounded queue, the rest fetched
// again from the file when the socket takes more), so a normal client's requests are answered at
// once (before: the sends held the workers and streamers until the send timeout, ~5 s per
// request), and each stalled connection is closed once it took nothing for the send timeout.
// Meanwhile a client that reads late — a large answer and many pipelined small ones — gets every
// byte, in order.
TEST(WebServer, NonReadingClientsDoNotBlockOthers) {
  Site s;
  ASSERT_TRUE(s.start('B', 10000, 4));
  const int port = s.server.port();
  {
    NonReaders hostile(port, 48, "/big.bin", 20);
    EXPECT_EQ(hostile.fds.size(), 48u);
    // Every request read, and every hostile connection holding answer bytes its client does not take.
    ASSERT_TRUE(server_read_all(port, hostile.fds.size()));
    ASSERT_TRUE(server_waiting_on_clients(port, hostile.fds.size(), 1));
    const std::string dvs = summary(normal_client(port, 40, 1000));
    // A late reader of the large file: paused past the stall grace twice, then read whole.
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    const std::string req = "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /sub/a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    ASSERT_GT(send(fd, req.data(), req.size(), MSG_NOSIGNAL), 0);
    std::string got;
    for (int pause = 0; pause < 2; ++pause) {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      char b[65536];
      const ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
      if (n > 0) got.append(b, size_t(n));
    }
    pollfd p{fd, POLLIN, 0};
    for (char b[65536]; poll(&p, 1, 5000) > 0;) {
      const ssize_t n = recv(fd, b, sizeof b, 0);
      if (n <= 0) break;
      got.append(b, size_t(n));
    }
    close(fd);
    const std::string big = slurp(s.dir / "root" / "big.bin");
    const size_t body = got.find("\r\n\r\n") + 4;
    ASSERT_GE(got.size(), body + big.size()) << got.substr(0, 300);
    EXPECT_TRUE(got.compare(body, big.size(), big) == 0) << "the late reader's 8 MiB differ";
    EXPECT_NE(got.find("\r\n\r\n0123456789abcdefghijklmnopqrstuvwxyz", body + big.size()), std::string::npos);
    // Many small answers to a client that reads only once all are sent: all of them, in order.
    std::string many;
    for (int i = 0; i < 3000; ++i) many += i % 2 ? "GET /sub/a.txt HTTP/1.1\r\nHost: t\r\n\r\n" : "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    many += "GET /sub/a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    const std::string all = raw(port, many, 10000);
    EXPECT_EQ(count_of(all, "HTTP/1.1 200 OK"), 3001u);
    EXPECT_EQ(count_of(all, "\r\n\r\n0123456789abcdefghijklmnopqrstuvwxyz"), 1501u);
    EXPECT_EQ(count_of(all, "\r\n\r\n<html>hello dvs</html>\n"), 1500u);
    // The stalled connections are closed once they took nothing for the send timeout (5 s), well
    // before the server has sent what they asked for (20 x 8 MiB).
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(server_closed(port, hostile.fds[size_t(i) * 16], 15000));
      const auto [bytes, ended] = drain(hostile.fds[size_t(i) * 16], 3000);
      EXPECT_TRUE(ended) << "a non-reading connection is still open after the send timeout (" << bytes << " B)";
      EXPECT_LT(bytes, size_t{20} * big.size());
    }
    EXPECT_EQ(s.server.check(), "");
    std::printf("normal client beside 48 non-reading clients: dvs %s\n", dvs.c_str());
    RecordProperty("dvs", dvs);
  }
  const std::string ng = nginx_figures(s, [](int ng_port) {
    NonReaders hostile(ng_port, 48, "/big.bin", 20);
    EXPECT_TRUE(server_read_all(ng_port, hostile.fds.size()));
    EXPECT_TRUE(server_waiting_on_clients(ng_port, hostile.fds.size(), 1));
    return normal_client(ng_port, 40, 1000);
  });
  std::printf("normal client beside 48 non-reading clients: nginx %s\n", ng.c_str());
  RecordProperty("nginx", ng);
}

TEST(WebServer, LayoutsAtoFServeTheSameBytes) {
  for (char l : {'A', 'B', 'C', 'D', 'E', 'F'}) {
    SCOPED_TRACE(std::string("layout ") + l);
    Site s;
    ASSERT_TRUE(s.start(l));
    const auto body = (s.dir / "body").string();
    EXPECT_EQ(s.code("", "/sub/a.txt", body), "200");
    EXPECT_EQ(slurp(body), "0123456789abcdefghijklmnopqrstuvwxyz");
    EXPECT_EQ(s.code("-r 1-2", "/sub/a.txt", body), "206");
    EXPECT_EQ(slurp(body), "12");
    EXPECT_EQ(s.code("", "/missing"), "404");
  }
}

TEST(WebServer, LargeFileByteIdenticalAcrossTwoNodes) {
  for (char l : {'E', 'F', 'D'}) {
    SCOPED_TRACE(std::string("layout ") + l);
    Site s;
    ASSERT_TRUE(s.start(l));
    const auto body = (s.dir / "body").string();
    EXPECT_EQ(s.code("", "/big.bin", body), "200");
    const std::string want = run("sha256sum < " + (s.dir / "root" / "big.bin").string()).out;
    const std::string got = run("sha256sum < " + body).out;
    EXPECT_EQ(got, want);
    EXPECT_EQ(std::filesystem::file_size(body), (size_t{8} << 20) + 12345);
  }
}

// n pipelined GETs of path on one connection (the last one closes it): the whole exchange.
std::string pipelined_gets(int port, const std::string& path, int n) {
  std::string req;
  for (int i = 0; i < n; ++i)
    req += "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + (i + 1 == n ? "Connection: close\r\n" : "") + "\r\n";
  return raw(port, req);
}

// The file server's cache (layout C): repeated reads of a small file reach a disk server only to
// fill it (at most once per file server of the pool within the ttl); a file changed on disk is
// served as it is now once the ttl has passed.
TEST(WebServer, FileServerCacheAnswersRepeatedReadsUntilTheTtl) {
  {
    Site s;
    s.fs_cache_ttl_ms = 60000;
    ASSERT_TRUE(s.start('C'));
    const std::string a = "0123456789abcdefghijklmnopqrstuvwxyz";
    const auto c0 = s.server.counts();
    const std::string out = pipelined_gets(s.server.port(), "/sub/a.txt", 12);
    EXPECT_EQ(count_of(out, "HTTP/1.1 200 OK"), 12u) << out.substr(0, 400);
    EXPECT_EQ(count_of(out, "\r\n\r\n" + a), 12u);
    const auto c1 = s.server.counts();
    EXPECT_EQ(c1.fs_requests - c0.fs_requests, 12u);
    EXPECT_GE(c1.disk_requests - c0.disk_requests, 1u);
    EXPECT_LE(c1.disk_requests - c0.disk_requests, 2u);  // a pool of two file servers, one fill each
  }
  // Changed under the cache: the new bytes once the ttl has passed.
  Site s;
  s.fs_cache_ttl_ms = 300;
  ASSERT_TRUE(s.start('C'));
  const auto body = (s.dir / "body").string();
  for (int i = 0; i < 2; ++i) ASSERT_EQ(s.code("", "/sub/a.txt", body), "200");  // both servers filled
  std::ofstream(s.dir / "root" / "sub" / "a.txt", std::ios::trunc) << "changed";
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s.code("", "/sub/a.txt", body), "200");
    EXPECT_EQ(slurp(body), "changed");
  }
}

// With the cache off, every read reaches a disk server; files around the cache's size limit
// (kCacheFileMax: cached whole / read through) are served byte-identical, whole and by ranges.
TEST(WebServer, FileServerCacheOffAndFilesAroundItsLimit) {
  Site off;
  off.fs_cache_bytes = 0;
  ASSERT_TRUE(off.start('C'));
  const auto c0 = off.server.counts();
  const std::string out = pipelined_gets(off.server.port(), "/sub/a.txt", 12);
  EXPECT_EQ(count_of(out, "HTTP/1.1 200 OK"), 12u) << out.substr(0, 400);
  EXPECT_EQ(off.server.counts().disk_requests - c0.disk_requests, 12u);

  for (char l : {'C', 'D', 'F'}) {
    SCOPED_TRACE(std::string("layout ") + l);
    Site s;
    ASSERT_TRUE(s.start(l));
    for (size_t size : {wl::kCacheFileMax - 1, wl::kCacheFileMax, wl::kCacheFileMax + 1, 3 * wl::kCacheFileMax}) {
      SCOPED_TRACE("size " + std::to_string(size));
      const auto file = s.dir / "root" / ("f" + std::to_string(size));
      write_file(file, size, uint32_t(size));
      const std::string want = slurp(file);
      const auto body = (s.dir / "body").string();
      for (int i = 0; i < 3; ++i) {  // the fill, then from the cache (or through, when larger)
        ASSERT_EQ(s.code("", "/" + file.filename().string(), body), "200");
        EXPECT_TRUE(slurp(body) == want);
      }
      ASSERT_EQ(s.code("-r 1000-", "/" + file.filename().string(), body), "206");
      EXPECT_TRUE(slurp(body) == want.substr(1000));
      ASSERT_EQ(s.code("-r 60000-65600", "/" + file.filename().string(), body), "206");
      EXPECT_TRUE(slurp(body) == want.substr(60000, std::min<size_t>(5601, size - 60000)));
    }
  }
}

// Polls (bounded) until the request for the FIFO was taken by the last server of its layout's
// chain (the disk server where the layout has one, else the file server): that server is then
// blocked in open() until a writer comes. c0: the counts before the request.
::testing::AssertionResult stuck_in_open(Site& s, const wl::WebServer::Counts& c0) {
  const bool has_disk = s.layout.disk_node >= 0;
  wl::WebServer::Counts now;
  const bool ok = dvs::testing::poll_until(
      [&] {
        now = s.server.counts();
        return has_disk ? now.disk_requests > c0.disk_requests : now.fs_requests > c0.fs_requests;
      },
      std::chrono::milliseconds(10000));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no " << (has_disk ? "disk" : "file") << " server took the request in 10 s (fs " << now.fs_requests << ", disk "
                                       << now.disk_requests << ")";
}

// The file-server pool serves at once: one request stuck in its file server (and disk server, C) —
// open() of a FIFO blocks until a writer comes — does not hold up requests for other files, which
// go to the other server of the pool. With a pool of one, the same fast request waits for it.
TEST(WebServer, PoolServesFastFilesWhileOneServerIsStuck) {
  for (char l : {'B', 'C', 'F'}) {
    SCOPED_TRACE(std::string("layout ") + l);
    Site s;
    ASSERT_TRUE(s.start(l, 5000, 4, 2));
    const auto fifo = s.dir / "root" / "slow.fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    std::string slow_code;
    const auto c0 = s.server.counts();
    std::thread slow([&] { slow_code = s.code("", "/slow.fifo"); });
    ASSERT_TRUE(stuck_in_open(s, c0));
    for (int i = 0; i < 4; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      EXPECT_EQ(s.code("", "/sub/a.txt"), "200");
      EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    }
    EXPECT_TRUE(slow_code.empty());  // still stuck
    // Release the stuck server: a writer opens the FIFO; the reader's open returns, it is no
    // regular file: 404.
    const int w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    EXPECT_GE(w, 0) << strerror(errno);
    if (w >= 0) close(w);
    slow.join();
    EXPECT_EQ(slow_code, "404");
    EXPECT_EQ(s.server.check(), "");
  }
  // A pool of one: the fast request waits behind the stuck one (what the pool removes).
  Site s;
  ASSERT_TRUE(s.start('B', 5000, 4, 1));
  const auto fifo = s.dir / "root" / "slow.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string slow_code, fast_code;
  std::atomic<bool> fast_done{false};
  const auto c0 = s.server.counts();
  std::thread slow([&] { slow_code = s.code("", "/slow.fifo"); });
  ASSERT_TRUE(stuck_in_open(s, c0));
  std::thread fast([&] {
    fast_code = s.code("", "/sub/a.txt");
    fast_done.store(true);
  });
  // The fast request read by the front end (both connections accepted, nothing left unread), and
  // not taken by the pool's only file server, which is stuck: it is not answered.
  EXPECT_TRUE(server_read_all(s.server.port(), 2));
  EXPECT_EQ(s.server.counts().fs_requests, c0.fs_requests + 1);
  EXPECT_FALSE(fast_done.load());
  const int w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  EXPECT_GE(w, 0) << strerror(errno);
  if (w >= 0) close(w);
  slow.join();
  fast.join();
  EXPECT_EQ(slow_code, "404");
  EXPECT_EQ(fast_code, "200");
}

TEST(WebCommand, ServeEndToEndAndBadInput) {
  TempDir dir("dvs-web-cmd");
  std::filesystem::create_directories(dir / "root");
  std::ofstream(dir / "root" / "f.txt") << "served by dvs web\n";
  const std::string cli = DVS_CLI_PATH;
  Out bad = run(cli + " web serve --root " + (dir / "root").string() + " --layout Z");
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("--layout must be one of"), std::string::npos) << bad.out;
  Out nodir = run(cli + " web serve --root /nonexistent-dir");
  EXPECT_EQ(nodir.status, 2) << nodir.out;
  Out ttl = run(cli + " web serve --root " + (dir / "root").string() + " --fs-cache-ttl-ms 0");
  EXPECT_EQ(ttl.status, 2) << ttl.out;
  EXPECT_NE(ttl.out.find("ttl must be"), std::string::npos) << ttl.out;
  // Serve for 3 s on a free port (layout E: two nodes) and fetch a file meanwhile.
  FILE* p = popen((cli + " web serve --root " + (dir / "root").string() + " --layout E --port 0 --duration 4 --dir " +
                   (dir / "run").string() + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[512] = {0};
  ASSERT_NE(fgets(line, sizeof line, p), nullptr);
  const std::string l = line;
  const auto at = l.find("http://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << l;
  const std::string url = l.substr(at, l.find('/', at + 17) - at) + "/f.txt";
  Out got = run("curl -s --max-time 10 '" + url + "'");
  EXPECT_EQ(got.out, "served by dvs web\n");
  std::string rest;
  while (fgets(line, sizeof line, p) != nullptr) rest += line;
  const int st = pclose(p);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << rest;
  EXPECT_NE(rest.find("dvs web: stopped"), std::string::npos) << rest;
}

}  // namespace

namespace {

std::vector<nlohmann::json> rows_of(const std::filesystem::path& out) {
  std::vector<nlohmann::json> rows;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    std::ifstream f(e.path() / "runs.jsonl");
    for (std::string line; std::getline(f, line);) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

nlohmann::json meta_of(const std::filesystem::path& out) {
  for (const auto& e : std::filesystem::directory_iterator(out))
    return nlohmann::json::parse(slurp(e.path() / "meta.json"));
  return {};
}

TEST(WebCommand, BenchAgainstNginxWritesResults) {
  if (run("command -v wrk && command -v nginx").status != 0) GTEST_SKIP() << "wrk or nginx not installed (install-deps.sh)";
  TempDir dir("dvs-web-bench");
  // The scenario file's keys, with the command line winning for the duration and repetitions.
  Out b = run(std::string(DVS_CLI_PATH) + " web bench --scenario " + DVS_SCENARIOS_DIR +
              "/web-small.toml --duration 1 --repetitions 1 --connections 4 --layout BC --out " + (dir / "out").string());
  EXPECT_EQ(b.status, 0) << b.out;
  EXPECT_NE(b.out.find("median of 1"), std::string::npos) << b.out;
  const auto rows = rows_of(dir / "out");
  ASSERT_EQ(rows.size(), 4u) << b.out;  // (nginx, dvs) x (B, C)
  for (const auto& r : rows) {
    EXPECT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["kind"], "web");
    EXPECT_EQ(r["schema_version"], 2);
    EXPECT_GT(r["requests_per_s"].get<double>(), 0);
  }
  EXPECT_EQ(rows[1]["cell"], "web/dvs/B/get1024B/c4");
  EXPECT_EQ(rows[1]["baseline"], rows[0]["cell"]);
  EXPECT_GT(rows[1]["ratio_to_baseline"].get<double>(), 0);
  EXPECT_EQ(rows[3]["web"]["disk_servers"], 2);
  // Layout C with the file server's cache (the default): its disk servers see only the fills.
  EXPECT_EQ(rows[3]["web"]["fs_cache_bytes"], 8u << 20);
  EXPECT_GT(rows[3]["web"]["fs_requests"].get<uint64_t>(), 100u) << rows[3].dump();
  EXPECT_LT(rows[3]["web"]["disk_requests_per_http_request"].get<double>(), 0.1) << rows[3].dump();
  EXPECT_EQ(rows[1]["web"]["fs_cache_bytes"], 0u);  // B: no disk server, no cache
  // wrk's whole latency record: one histograms.jsonl line per row, its tail in the row.
  std::vector<nlohmann::json> hists;
  for (const auto& e : std::filesystem::directory_iterator(dir / "out")) {
    std::ifstream f(e.path() / "histograms.jsonl");
    for (std::string line; std::getline(f, line);) hists.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(hists.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(hists[i]["cell"], rows[i]["cell"]);
    uint64_t n = 0;
    for (const auto& bucket : hists[i]["buckets"]) n += bucket[1].get<uint64_t>();
    EXPECT_EQ(n, rows[i]["latency"]["recorded"].get<uint64_t>());
    EXPECT_GE(n, rows[i]["latency"]["n"].get<uint64_t>() / 2) << rows[i]["latency"].dump();
    EXPECT_GE(rows[i]["latency"]["p99_9"].get<double>(), 0.99 * rows[i]["latency"]["p99"].get<double>());
  }
  const auto meta = meta_of(dir / "out");
  EXPECT_EQ(meta["command"], "dvs web bench");
  EXPECT_EQ(meta["scenario"]["name"], "web-small");
  EXPECT_EQ(meta["finished"], true);
  EXPECT_EQ(meta["summary"].size(), 2u);
  Out bad = run(std::string(DVS_CLI_PATH) + " web bench --threads 9 --connections 4");
  EXPECT_EQ(bad.status, 2) << bad.out;
  Out badl = run(std::string(DVS_CLI_PATH) + " web bench --layout BX");
  EXPECT_EQ(badl.status, 2) << badl.out;
}

// --large: a file across two nodes (in their own namespaces where possible) against the raw TCP
// stream between them, rows for both.
TEST(WebCommand, BenchLargeAgainstRawTcp) {
  TempDir dir("dvs-web-large");
  Out b = run(std::string(DVS_CLI_PATH) + " web bench --large --large-bytes 8000000 --layout E --repetitions 1 --out " +
              (dir / "out").string());
  EXPECT_EQ(b.status, 0) << b.out;
  const auto rows = rows_of(dir / "out");
  ASSERT_EQ(rows.size(), 2u) << b.out;
  EXPECT_EQ(rows[0]["cell"], "web/baseline/tcp_stream/1048576B/paired-E");
  EXPECT_EQ(rows[0]["kind"], "copy");
  EXPECT_GT(rows[0]["mb_per_s"].get<double>(), 0);
  EXPECT_EQ(rows[1]["cell"], "web/dvs/E/large8000000B/tcp");
  EXPECT_EQ(rows[1]["status"], "ok") << rows[1].dump();
  EXPECT_GT(rows[1]["mb_per_s"].get<double>(), 0);
  EXPECT_GT(rows[1]["ratio_to_baseline"].get<double>(), 0);
  EXPECT_EQ(rows[1]["network"], rows[0]["network"]);
}

}  // namespace
