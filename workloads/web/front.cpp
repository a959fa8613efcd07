// The HTTP/1.1 front end (see web.hpp): a pool of workers, each with its own endpoint, sharing one
// epoll set of connections: a worker takes a connection that has a request, serves what it can
// without waiting for the client, and parks it again (keep-alive). Every wait on a client is
// bounded; a connection waiting for its client holds no worker.
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <unordered_map>
#include <memory>
#include <mutex>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fmt/format.h>

#include "dvs/dvs.h"
#include "measure/clock.hpp"
#include "web/internal.hpp"

namespace dvs::workloads::web {

namespace {

constexpr uint64_t kMs = 1'000'000u;

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 416: return "Range Not Satisfiable";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    default: return "Error";
  }
}

const char* content_type(const std::string& path) {
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  if (ext == "html" || ext == "htm") return "text/html";
  if (ext == "txt") return "text/plain";
  if (ext == "css") return "text/css";
  if (ext == "js") return "application/javascript";
  if (ext == "json") return "application/json";
  return "application/octet-stream";
}

bool iequals(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

struct Request {
  std::string method, target, version;
  bool keep_alive = true;
  bool has_host = false;
  std::optional<std::string> range;
  uint64_t content_length = 0;
  bool has_content_length = false;
  bool chunked = false;
};

// A Content-Length value: one decimal number, or a list of the same number ("5, 5"). False for
// anything else, different numbers included (RFC 9112 §6.3: the framing is then invalid).
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

// Parse the head (without the final CRLFCRLF). 0 or the status to answer with.
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

// Decode the origin-form target into a path; "" if malformed.
std::string decode_path(const std::string& target) {
  if (target.empty() || target[0] != '/') return "";
  std::string t = target.substr(0, target.find_first_of("?#")), out;
  for (size_t i = 0; i < t.size(); ++i) {
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
  return out.size() > kMaxPath ? "" : out;
}

// Single byte range of "bytes=a-b" / "bytes=a-" / "bytes=-n" against size. nullopt: ignore the
// header (malformed or several ranges: the whole file, RFC 9110 §14.2); first > last: 416.
struct Range {
  uint64_t first, last;
};
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

// The offset a of a single "bytes=a-" / "bytes=a-b" range (where the answer's bytes start if the
// range is satisfiable), so that the first fetch can already bring them; nullopt otherwise.
std::optional<uint64_t> range_start(const std::string& v) {
  if (v.rfind("bytes=", 0) != 0 || v.find(',') != std::string::npos) return std::nullopt;
  const std::string spec = trim(v.substr(6));
  const size_t dash = spec.find('-');
  if (dash == std::string::npos || dash == 0 || dash > 18) return std::nullopt;
  const std::string a = spec.substr(0, dash);
  if (a.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(a);
}

// The file servers of the pool as the front end sees them: requests in flight to each.
struct Pool {
  int base = -1;  // first endpoint (-1: no file server, layout A)
  int n = 0;
  std::atomic<int> inflight[kMaxServers] = {};
};

// One read through the file server of the pool with the fewest requests in flight from this
// front end (ties: the caller's own turn, so that workers spread even when the pool is idle).
ReadReply pool_fetch(const WebConfig& cfg, Pool& pool, int index, const std::string& path, uint64_t off, uint32_t len,
                     char* dst) {
  if (pool.base < 0) return read_local(cfg.root, path, off, len, dst);
  int k = index % pool.n, best = pool.inflight[k].load(std::memory_order_relaxed);
  for (int i = 1; i < pool.n && best > 0; ++i) {
    const int j = (index + i) % pool.n, v = pool.inflight[j].load(std::memory_order_relaxed);
    if (v < best) k = j, best = v;
  }
  pool.inflight[k].fetch_add(1, std::memory_order_relaxed);
  ReadReply r = read_remote(pool.base + k, path, off, len, dst, cfg.ipc_timeout_ms);
  pool.inflight[k].fetch_sub(1, std::memory_order_relaxed);
  return r;
}

// A worker's second endpoint: a thread bound to its own user slot that fetches the next chunk of
// a large answer while the worker sends the current one to the client (two chunks in flight, as
// a streaming server double-buffers). The server's vcopy lands in this process whichever of its
// endpoints asked, so the buffer may be any of the worker's.
class Prefetcher {
 public:
  Prefetcher(const WebConfig& cfg, Pool& pool, int index) : cfg_(cfg), pool_(pool), index_(index) {
    t_ = std::thread([this] { main(); });
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return state_ != kStarting; });
  }
  ~Prefetcher() {
    {
      std::lock_guard lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    t_.join();
  }
  bool usable() {
    std::lock_guard lk(mu_);
    return state_ != kFailed;
  }
  void start(const std::string& path, uint64_t off, uint32_t len, char* dst) {
    {
      std::lock_guard lk(mu_);
      path_ = path, off_ = off, len_ = len, dst_ = dst;
      state_ = kBusy;
    }
    cv_.notify_all();
  }
  // The reply of the fetch started last (bounded: every dvs call is).
  ReadReply wait() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return state_ != kBusy; });
    return reply_;
  }

 private:
  enum State { kStarting, kIdle, kBusy, kFailed };
  void main() {
    const int ep = dvs_tbind(cfg_.dc, DVS_ANY);
    if (ep >= 0) dvs_set_wait(dvs_wait_mode_t(cfg_.front_wait), cfg_.spin_ns);
    {
      std::lock_guard lk(mu_);
      state_ = ep >= 0 ? kIdle : kFailed;
    }
    cv_.notify_all();
    if (ep < 0) return;
    std::unique_lock lk(mu_);
    for (;;) {
      cv_.wait(lk, [this] { return quit_ || state_ == kBusy; });
      if (quit_) break;
      lk.unlock();
      const ReadReply r = pool_fetch(cfg_, pool_, index_ + 1, path_, off_, len_, dst_);
      lk.lock();
      reply_ = r;
      state_ = kIdle;
      cv_.notify_all();
    }
  }

  const WebConfig& cfg_;
  Pool& pool_;
  int index_;
  std::thread t_;
  std::mutex mu_;
  std::condition_variable cv_;
  State state_ = kStarting;
  bool quit_ = false;
  std::string path_;
  uint64_t off_ = 0;
  uint32_t len_ = 0;
  char* dst_ = nullptr;
  ReadReply reply_{0, 0, 0};
};

// The whole answer of an error status (a short text body).
std::string error_answer(int status, bool keep, const std::string& extra = "") {
  const std::string body = fmt::format("{} {}\n", status, reason(status));
  return fmt::format(
      "HTTP/1.1 {} {}\r\nServer: dvs-web\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}{}"
      "Connection: {}\r\n\r\n{}",
      status, reason(status), body.size(), status == 405 ? "Allow: GET, HEAD\r\n" : "", extra,
      keep ? "keep-alive" : "close", body);
}

// The rest of an answer still to be streamed after its head and first chunk.
struct PendingStream {
  std::string path;
  uint64_t first = 0, sent = 0, count = 0;  // the answer is [first, first + count) of the file
  bool keep_alive = false;
};

enum class Next { kPark, kClose, kStream };

// A client connection. Between requests it is parked in the front end's epoll set and no thread
// holds it; while a request of it is served, exactly one worker holds it.
struct Conn {
  int fd = -1;
  std::string in;                // received, not yet consumed: a partial head, pipelined requests
  uint64_t head_started_ns = 0;  // when the first byte of the head in `in` arrived
  uint64_t deadline_ns = 0;      // parked: close when idle (in empty) or answer 408 (a head begun)
  bool registered = false;       // in the epoll set (armed or not)
  std::optional<PendingStream> stream;  // set while an answer is being streamed
  ~Conn() {
    if (fd >= 0) close(fd);
  }
};

// The parked connections and the listening socket, in one epoll set shared by every worker. A
// connection is armed once (EPOLLONESHOT) under a fresh id each time it is parked; the worker
// whose epoll_wait reports the id takes it (under the lock, so no connection is ever held by
// two), or the sweep closes it once its deadline has passed. Event 0 is the listening socket.
class Parking {
 public:
  explicit Parking(int listen_fd) : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    if (epfd_ >= 0 && epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
      close(epfd_);
      epfd_ = -1;
    }
  }
  ~Parking() {
    parked_.clear();  // closes them
    if (epfd_ >= 0) close(epfd_);
  }
  Parking(const Parking&) = delete;
  Parking& operator=(const Parking&) = delete;
  int epfd() const { return epfd_; }

  // Wait (in the set) for c's next request. false: the set refused it (c is closed).
  bool park(std::unique_ptr<Conn> c) {
    std::lock_guard lk(mu_);
    const uint64_t id = ++next_id_;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.u64 = id;
    if (epoll_ctl(epfd_, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0) return false;
    c->registered = true;
    parked_.emplace(id, std::move(c));
    return true;
  }
  // The connection parked under id, now held by the caller; null if the sweep closed it.
  std::unique_ptr<Conn> take(uint64_t id) {
    std::lock_guard lk(mu_);
    const auto it = parked_.find(id);
    if (it == parked_.end()) return nullptr;
    auto c = std::move(it->second);
    parked_.erase(it);
    return c;
  }
  // Close the parked connections whose deadline has passed (at most every 20 ms, by whichever
  // worker calls first): a head begun gets its 408, an idle keep-alive connection is closed.
  void sweep() {
    const uint64_t now = measure::now_ns();
    uint64_t last = last_sweep_.load(std::memory_order_relaxed);
    if (now < last + 20 * kMs || !last_sweep_.compare_exchange_strong(last, now)) return;
    std::vector<std::unique_ptr<Conn>> expired;
    {
      std::lock_guard lk(mu_);
      for (auto it = parked_.begin(); it != parked_.end();) {
        if (it->second->deadline_ns > now) {
          ++it;
          continue;
        }
        expired.push_back(std::move(it->second));
        it = parked_.erase(it);
      }
    }
    static const std::string timeout = error_answer(408, false);
    for (auto& c : expired)  // best effort: a client that does not read loses its 408, not our time
      if (!c->in.empty()) (void)!send(c->fd, timeout.data(), timeout.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }

 private:
  int epfd_;
  std::mutex mu_;
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> parked_;
  std::atomic<uint64_t> last_sweep_{0};
};

class Worker {
 public:
  Worker(const WebConfig& cfg, int index, Pool& pool, std::atomic<uint32_t>& stop)
      : cfg_(cfg), index_(index), pool_(pool), stop_(stop), buf_(cfg.chunk) {}

  // Stream c's pending answer (c.stream), then go on with its next requests until it has to wait
  // for the client (kPark) or closes (kClose).
  Next finish(Conn& c) {
    for (;;) {
      const PendingStream st = std::move(*c.stream);
      c.stream.reset();
      if (!stream(c.fd, st.path, st.first, st.sent, st.count) || !st.keep_alive) return Next::kClose;
      const Next n = serve(c, false);
      if (n != Next::kStream) return n;
    }
  }

  // Serve the requests of c that can be served without waiting for the client: every complete
  // head in c.in, each answered in full, reading the socket only while it may hold more
  // (readable: epoll reported it; a short read drained it), never waiting for the client.
  // kPark: the connection waits for its next request (c.deadline_ns says until when); kClose:
  // close it (the client closed, an error answer, Connection: close, or a failure); kStream: an
  // answer's head and first chunk are sent, the rest (c.stream) is still to be streamed.
  Next serve(Conn& c, bool readable) {
    for (;;) {
      const size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.in.size() > cfg_.max_header) return error(c.fd, 413, false), Next::kClose;
        ssize_t n = -1;
        char b[4096];
        if (readable) n = recv(c.fd, b, sizeof b, MSG_DONTWAIT);
        if (n > 0) {
          if (c.in.empty()) c.head_started_ns = measure::now_ns();
          c.in.append(b, size_t(n));
          while (c.in.rfind("\r\n", 0) == 0) c.in.erase(0, 2);  // empty lines before a request (RFC 9112 §2.2)
          readable = size_t(n) == sizeof b;
          continue;
        }
        if (readable && n < 0 && errno == EINTR) continue;
        if (readable && (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))) return Next::kClose;
        // Wait for the client in the epoll set (it reports bytes that came meanwhile at once).
        c.deadline_ns = c.in.empty() ? measure::now_ns() + uint64_t(cfg_.idle_timeout_ms) * kMs
                                     : c.head_started_ns + uint64_t(cfg_.request_timeout_ms) * kMs;
        return Next::kPark;
      }
      if (end + 4 > cfg_.max_header) return error(c.fd, 413, false), Next::kClose;
      const std::string head = c.in.substr(0, end);
      c.in.erase(0, end + 4);
      Request r;
      int status = parse_head(head, &r);
      if (status == 0 && r.chunked) status = 400;  // no request bodies of unknown length
      if (status == 0 && r.content_length > cfg_.max_body) status = 413;
      if (status == 0 && r.content_length > 0 && !skip_body(c.fd, c.in, r.content_length)) return Next::kClose;
      if (status != 0) return error(c.fd, status, false), Next::kClose;
      PendingStream rest;
      if (!respond(c.fd, r, &rest)) return Next::kClose;
      if (rest.sent < rest.count) {
        c.stream = std::move(rest);
        return Next::kStream;
      }
      if (!r.keep_alive) return Next::kClose;
      c.head_started_ns = measure::now_ns();  // a pipelined request already begun counts from now
      readable = false;  // the next request is usually not there yet: let epoll say when it is
    }
  }

 private:
  // Wait for fd readable until deadline_ns: 1 ready, 0 timed out or stopping.
  int wait_in(int fd, uint64_t deadline_ns) {
    for (;;) {
      const uint64_t now = measure::now_ns();
      if (now >= deadline_ns || stop_.load() != 0) return 0;
      pollfd p{fd, POLLIN, 0};
      const int n = poll(&p, 1, int(std::min<uint64_t>((deadline_ns - now) / kMs + 1, 100)));
      if (n > 0) return 1;
    }
  }

  bool skip_body(int fd, std::string& in, uint64_t n) {
    const uint64_t deadline = measure::now_ns() + uint64_t(cfg_.request_timeout_ms) * kMs;
    while (in.size() < n) {
      if (wait_in(fd, deadline) == 0) {
        error(fd, 408, false);
        return false;
      }
      char b[4096];
      const ssize_t k = recv(fd, b, sizeof b, 0);
      if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (k <= 0) return false;
      in.append(b, size_t(k));
    }
    in.erase(0, n);
    return true;
  }

  // Send p[0..n) and then q[0..m) (m may be 0) as one stream, in as few segments as the socket
  // takes (one sendmsg for a small answer's head and body). Blocks at most request_timeout_ms in
  // all; false: the client is gone, does not read in time, or the server is stopping.
  bool send_all(int fd, const char* p, size_t n, const char* q = nullptr, size_t m = 0) {
    const uint64_t deadline = measure::now_ns() + uint64_t(cfg_.request_timeout_ms) * kMs;
    while (n + m > 0) {
      iovec iov[2] = {{const_cast<char*>(p), n}, {const_cast<char*>(q), m}};
      msghdr mh{};
      mh.msg_iov = n > 0 ? iov : iov + 1;
      mh.msg_iovlen = n > 0 && m > 0 ? 2 : 1;
      const ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        size_t done = size_t(k);
        const size_t from_p = std::min(done, n);
        p += from_p, n -= from_p, done -= from_p;
        q += done, m -= done;
        continue;
      }
      if (k < 0 && errno != EAGAIN && errno != EINTR) return false;
      pollfd w{fd, POLLOUT, 0};
      if (measure::now_ns() >= deadline || stop_.load() != 0) return false;  // a client that does not read
      poll(&w, 1, 100);
    }
    return true;
  }

  bool error(int fd, int status, bool keep, const std::string& extra = "") {
    const std::string h = error_answer(status, keep, extra);
    return send_all(fd, h.data(), h.size()) && keep;
  }

  // One read through the file server with the fewest requests in flight (ties: this worker's
  // own turn, so that workers spread even when the pool is idle).
  ReadReply fetch(const std::string& path, uint64_t off, uint32_t len) {
    return pool_fetch(cfg_, pool_, index_, path, off, len, buf_.data());
  }

  // The rest of an answer, [first + sent, first + count), chunk by chunk; with a file server,
  // the next chunk is fetched by the prefetcher while this one goes to the client.
  bool stream(int fd, const std::string& path, uint64_t first, uint64_t sent, uint64_t count) {
    if (sent >= count) return true;
    if (pool_.base >= 0 && !pre_) {
      pre_ = std::make_unique<Prefetcher>(cfg_, pool_, index_);
      pbuf_.resize(cfg_.chunk);
    }
    if (!pre_ || !pre_->usable()) {  // one chunk at a time
      while (sent < count) {
        const uint32_t want = uint32_t(std::min<uint64_t>(cfg_.chunk, count - sent));
        const ReadReply rr = fetch(path, first + sent, want);
        if (rr.status != 0 || rr.bytes == 0) return false;  // the file changed or a server failed: cut
        const uint64_t n = std::min<uint64_t>(rr.bytes, count - sent);
        if (!send_all(fd, buf_.data(), n)) return false;
        sent += n;
      }
      return true;
    }
    char* cur = buf_.data();
    char* next = pbuf_.data();
    auto start = [&](uint64_t at) {
      pre_->start(path, first + at, uint32_t(std::min<uint64_t>(cfg_.chunk, count - at)), next);
    };
    start(sent);
    for (;;) {
      const ReadReply rr = pre_->wait();
      if (rr.status != 0 || rr.bytes == 0) return false;
      const uint64_t n = std::min<uint64_t>(rr.bytes, count - sent);
      std::swap(cur, next);
      const uint64_t after = sent + n;
      if (after < count) start(after);  // into `next`, while `cur` goes out
      const bool ok = send_all(fd, cur, n);
      sent = after;
      if (!ok) {
        if (after < count) pre_->wait();  // never leave a fetch into our buffer behind
        return false;
      }
      if (sent >= count) return true;
    }
  }

  // Answer one parsed request; false: close the connection.
  // *rest: what is left of an answer longer than its first chunk, for the caller to stream (then
  // rest->sent < rest->count).
  bool respond(int fd, const Request& r, PendingStream* rest) {
    const bool head_only = r.method == "HEAD";
    if (r.method != "GET" && !head_only) return error(fd, 405, r.keep_alive);
    const std::string path = decode_path(r.target);
    if (path.empty()) return error(fd, 400, r.keep_alive);
    // First fetch: the size only (HEAD, suffix ranges) or the first chunk of what will be sent
    // (from the range's start for "bytes=a-[b]"), with the size, in one round trip.
    const std::optional<uint64_t> start = r.range ? range_start(*r.range) : std::optional<uint64_t>(0);
    const bool size_first = head_only || !start.has_value();
    const uint64_t off0 = start.value_or(0);
    ReadReply rr = fetch(path, off0, size_first ? 0 : uint32_t(cfg_.chunk));
    if (rr.status == -ENOENT || rr.status == -ENOTDIR || rr.status == -EISDIR || rr.status == -EACCES ||
        rr.status == -ENAMETOOLONG)
      return error(fd, 404, r.keep_alive);
    if (rr.status != 0) return error(fd, rr.status < -200 ? 502 : 500, false);  // dvs errors are < -200
    const uint64_t size = rr.size;
    uint64_t first = 0, count = size;
    int status = 200;
    std::string extra;
    if (r.range) {
      bool unsat = false;
      const auto rg = parse_range(*r.range, size, &unsat);
      if (unsat) return error(fd, 416, r.keep_alive, fmt::format("Content-Range: bytes */{}\r\n", size));
      if (rg) {
        status = 206;
        first = rg->first;
        count = rg->last - rg->first + 1;
        extra = fmt::format("Content-Range: bytes {}-{}/{}\r\n", rg->first, rg->last, size);
      }
    }
    const std::string h = fmt::format(
        "HTTP/1.1 {} {}\r\nServer: dvs-web\r\nContent-Type: {}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\n{}"
        "Connection: {}\r\n\r\n",
        status, reason(status), content_type(path), count, extra, r.keep_alive ? "keep-alive" : "close");
    // The first chunk is in the buffer already when the first fetch started where the answer does.
    const uint64_t sent = !head_only && !size_first && off0 == first ? std::min<uint64_t>(rr.bytes, count) : 0;
    if (!send_all(fd, h.data(), h.size(), buf_.data(), size_t(sent))) return false;
    if (head_only) return true;
    if (sent < count) *rest = PendingStream{path, first, sent, count, r.keep_alive};
    return true;
  }

  const WebConfig& cfg_;
  int index_;
  Pool& pool_;
  std::atomic<uint32_t>& stop_;
  std::vector<char> buf_;
  std::unique_ptr<Prefetcher> pre_;  // created at the first answer larger than a chunk
  std::vector<char> pbuf_;
};

// Threads that stream the rest of large answers, so that a long download holds a thread of its
// own, not one of the workers (which go on taking other connections' requests). At most
// kMaxStreamers, each with its own endpoints and buffers, made at first need and kept; when all
// are busy, or one cannot be made, the worker streams the answer itself.
class Streamers {
 public:
  static constexpr int kMaxStreamers = 32;

  Streamers(const WebConfig& cfg, Pool& pool, Parking& parking, std::atomic<uint32_t>& stop)
      : cfg_(cfg), pool_(pool), parking_(parking), stop_(stop) {}
  ~Streamers() {
    {
      std::lock_guard lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  Streamers(const Streamers&) = delete;
  Streamers& operator=(const Streamers&) = delete;

  // Give c (c->stream set) to a streamer: true, c is taken; false: none free, c stays.
  bool hand_off(std::unique_ptr<Conn>& c) {
    std::unique_lock lk(mu_);
    if (idle_ <= int(jobs_.size())) {
      if (failed_ || int(threads_.size()) >= kMaxStreamers) return false;
      const int index = cfg_.workers + int(threads_.size());
      starting_ = true;
      threads_.emplace_back([this, index] { main(index); });
      cv_.wait(lk, [this] { return !starting_; });
      if (failed_) return false;
    }
    jobs_.push_back(std::move(c));
    cv_.notify_one();
    return true;
  }

 private:
  void main(int index) {
    const bool ipc = pool_.base >= 0;
    const int ep = ipc ? dvs_tbind(cfg_.dc, DVS_ANY) : 0;
    if (ipc && ep >= 0) dvs_set_wait(dvs_wait_mode_t(cfg_.front_wait), cfg_.spin_ns);
    std::unique_lock lk(mu_);
    starting_ = false;
    failed_ = ep < 0;
    cv_.notify_all();
    if (ep < 0) return;
    Worker wk(cfg_, index, pool_, stop_);
    for (;;) {
      ++idle_;
      cv_.wait(lk, [this] { return quit_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // quitting
      std::unique_ptr<Conn> c = std::move(jobs_.front());
      jobs_.pop_front();
      lk.unlock();
      if (wk.finish(*c) == Next::kPark) parking_.park(std::move(c));
      c.reset();
      lk.lock();
    }
  }

  const WebConfig& cfg_;
  Pool& pool_;
  Parking& parking_;
  std::atomic<uint32_t>& stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Conn>> jobs_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool starting_ = false, failed_ = false, quit_ = false;
};

}  // namespace

int front_main(const WebConfig& cfg, int listen_fd, std::atomic<uint32_t>& ready, std::atomic<uint32_t>& stop,
               char* err, size_t errlen) {
  auto fail = [&](const std::string& why) {
    std::snprintf(err, errlen, "%s", why.c_str());
    return 1;
  };
  const Layout& l = cfg.layout;
  const bool ipc = l.fs_node >= 0;
  if (ipc) {
    int rc = dvs_open(cfg.sockets[l.front_node].c_str());
    if (rc < 0) return fail(fmt::format("dvs_open({}): {}", cfg.sockets[l.front_node], dvs_errname(rc)));
  }
  Pool pool;
  if (ipc) {
    pool.base = cfg.fs_p_nr;
    pool.n = cfg.fs_servers;
  }
  Parking parking(listen_fd);
  if (parking.epfd() < 0) return fail(fmt::format("epoll: {}", strerror(errno)));
  Streamers streamers(cfg, pool, parking, stop);
  std::atomic<int> bound{0}, bind_err{0};
  std::string probe_err;
  std::vector<std::thread> threads;
  for (int w = 0; w < cfg.workers; ++w)
    threads.emplace_back([&, w] {
      if (ipc) {
        const int ep = dvs_tbind(cfg.dc, DVS_ANY);
        if (ep < 0) {
          bind_err.store(ep);
          bound.fetch_add(1);
          return;
        }
        dvs_set_wait(dvs_wait_mode_t(cfg.front_wait), cfg.spin_ns);
        for (int i = 0; w == 0 && l.fs_node != l.front_node && i < cfg.fs_servers; ++i) {
          // Declare the remote file servers, wait for the links.
          const char* what = "";
          const uint64_t deadline = measure::now_ns() + uint64_t(cfg.setup_timeout_ms) * kMs;
          const int rc = declare_remote(cfg.dc, cfg.fs_p_nr + i, l.fs_node, deadline, &what);
          if (rc < 0) {
            probe_err = fmt::format("{} (ep {} on node {}): {}", what, cfg.fs_p_nr + i, l.fs_node, dvs_errname(rc));
            bind_err.store(rc);
            bound.fetch_add(1);
            return;
          }
        }
      }
      bound.fetch_add(1);
      Worker wk(cfg, w, pool, stop);
      // Take whatever is ready: a new connection or a parked one with a request; serve it until
      // it has to wait for the client again, then park it. Under load a worker finds another
      // connection ready when it finishes one and does not sleep.
      while (stop.load() == 0) {
        epoll_event ev{};
        const int n = epoll_wait(parking.epfd(), &ev, 1, 100);
        parking.sweep();
        if (n <= 0) continue;
        std::unique_ptr<Conn> c;
        const bool accepted = ev.data.u64 == 0;
        if (accepted) {
          const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
              const timespec ts{0, 10'000'000};  // out of descriptors: let connections close first
              nanosleep(&ts, nullptr);
            }
            continue;  // or another worker took it
          }
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          c = std::make_unique<Conn>();
          c->fd = fd;
        } else if (!(c = parking.take(ev.data.u64))) {
          continue;  // closed by the sweep meanwhile
        }
        Next next = wk.serve(*c, !accepted);
        if (next == Next::kStream && !streamers.hand_off(c)) next = wk.finish(*c);  // no streamer free
        if (next == Next::kPark) parking.park(std::move(c));
      }
    });
  while (bound.load() < cfg.workers) {
    const timespec ts{0, 1'000'000};
    nanosleep(&ts, nullptr);
  }
  int status = 0;
  if (bind_err.load() != 0) {
    stop.store(1);
    status = fail(!probe_err.empty() ? probe_err : fmt::format("dvs_tbind(ANY): {}", dvs_errname(bind_err.load())));
  } else {
    ready.store(1);
  }
  for (auto& t : threads) t.join();
  if (ipc) dvs_close();
  return status;
}

}  // namespace dvs::workloads::web
