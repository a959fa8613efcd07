// The HTTP/1.1 front end (see web.hpp): a pool of workers, each with its own endpoint, sharing one
// epoll set of connections: a worker takes a connection that has a request (or room in its socket
// for an answer waiting there), serves what it can without waiting for the client, and parks it
// again (keep-alive). Every wait on a client is bounded; a connection waiting for its client —
// for a request head or body, or for room for its answer — holds no worker. Request parsing:
// http_request.hpp.
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
#include "workloads/measure/clock.hpp"
#include "workloads/web/http_request.hpp"
#include "workloads/web/internal.hpp"

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

// A file range of an answer still to be sent: [first + sent, first + count) of path.
struct PendingStream {
  std::string path;
  uint64_t first = 0, sent = 0, count = 0;
};

enum class Next { kPark, kClose, kStream };

// What a connection keeps of an answer that its socket does not take at once: the head, and of
// the body at most this (a small file's whole body, the unsent part of a chunk up to this). The
// rest of a longer answer is fetched again from the file (server) at its offset when the socket
// takes more, so a client that does not read costs at most this much memory, and no thread.
constexpr size_t kQueueMax = 64 * 1024;
// How long a thread streaming an answer waits for a full socket before it parks the connection
// (a client reading at speed takes more well within it; one that does not read costs this once).
constexpr uint64_t kStallGraceNs = 50 * kMs;

// A client connection. Between requests, and while it waits for its client (the rest of a head
// or a body, or room in its socket for the rest of an answer), it is parked in the front end's
// epoll set and no thread holds it; otherwise exactly one worker (or streamer) holds it.
struct Conn {
  int fd = -1;
  std::string in;                // received, not yet consumed: a partial head, a body, pipelined requests
  uint64_t head_started_ns = 0;  // when the first byte of the head in `in` arrived
  uint64_t deadline_ns = 0;      // parked: when the sweep closes it
  bool registered = false;       // in the epoll set (armed or not)
  bool waits_write = false;      // parked until its socket takes more of the answer (else: until bytes come)
  bool answer_408 = false;       // parked with a request begun: the sweep answers 408 at the deadline
  // A request whose body is still arriving: the body is read and dropped, the request answered
  // once it is all in (within request_timeout_ms of the head).
  std::optional<Request> body_of;
  uint64_t body_left = 0, body_deadline_ns = 0;
  // Answers not yet taken by the socket, in order: out[out_at..), then the stream's file range.
  std::string out;
  size_t out_at = 0;
  std::optional<PendingStream> stream;
  bool close_after = false;  // close once the output is out (an error answer, Connection: close)
  bool broken = false;       // a send failed: the client is gone
  uint64_t progress_ns = 0;  // when its socket last took bytes of an answer (or the answer began)
  bool has_output() const { return out_at < out.size() || stream.has_value(); }
  ~Conn() {
    if (fd >= 0) close(fd);
  }
};

// The parked connections and the listening socket, in one epoll set shared by every worker. A
// connection is armed once (EPOLLONESHOT: for bytes to read, or for room to write when its
// answer waits for the client) under a fresh id each time it is parked; the worker whose
// epoll_wait reports the id takes it (under the lock, so no connection is ever held by two), or
// the sweep closes it once its deadline has passed. Event 0 is the listening socket.
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

  // Wait (in the set) for c's client: bytes of its next request, or room for its answer
  // (c->waits_write). false: the set refused it (c is closed).
  bool park(std::unique_ptr<Conn> c) {
    std::lock_guard lk(mu_);
    const uint64_t id = ++next_id_;
    epoll_event ev{};
    ev.events = (c->waits_write ? EPOLLOUT : EPOLLIN | EPOLLRDHUP) | EPOLLONESHOT;
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
  // worker calls first): a head or body begun gets its 408; an idle keep-alive connection, or one
  // whose client took none of its answer for send_timeout_ms, is closed.
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
      if (c->answer_408) (void)!send(c->fd, timeout.data(), timeout.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
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

  // Stream c's pending answer (c.stream; its queue is out), then go on with its next requests
  // until it has to wait for the client (kPark) or closes (kClose).
  Next finish(Conn& c) {
    for (;;) {
      if (!stream(c)) return Next::kClose;
      if (c.stream) return park_write(c);  // the client stalled: the rest once its socket takes more
      c.head_started_ns = measure::now_ns();  // a pipelined request already begun counts from now
      const Next n = serve(c, false);         // what was queued at the end of the stream, the next requests
      if (n != Next::kStream) return n;
    }
  }

  // Serve c as far as it can be served without waiting for the client: send what its socket
  // takes of the answers it has pending, then read and answer every complete request (its body,
  // if any, read and dropped first), reading the socket only while it may hold more (readable:
  // epoll reported it; a short read drained it). kPark: the connection waits for its client
  // (c.waits_write: for room in its socket; else for bytes; c.deadline_ns says until when);
  // kClose: close it (the client closed, an error answer, Connection: close, or a failure);
  // kStream: its queue is out and a file range of an answer (c.stream) is still to be streamed.
  Next serve(Conn& c, bool readable) {
    c.waits_write = c.answer_408 = false;
    bool answered = false;  // an answer was made (or its queue went out) in this loop
    for (;;) {
      if (c.broken) return Next::kClose;
      if (c.has_output()) {
        if (!flush(c)) return Next::kClose;
        if (c.out_at < c.out.size()) return park_write(c);
        if (c.stream) return Next::kStream;
        answered = true;
      }
      if (c.close_after) return Next::kClose;  // the last answer is out
      if (answered) {
        answered = false;
        c.head_started_ns = measure::now_ns();  // a pipelined request already begun counts from now
        readable = false;  // the next request is usually not there yet: let epoll say when it is
      }
      if (c.body_of) {  // drop what has come of the body; answer the request once it is all in
        const size_t n = size_t(std::min<uint64_t>(c.body_left, c.in.size()));
        c.in.erase(0, n);
        c.body_left -= n;
        if (c.body_left == 0) {
          const Request r = std::move(*c.body_of);
          c.body_of.reset();
          respond(c, r);
          answered = true;
          continue;
        }
        const int got = receive(c, readable);
        if (got < 0) return Next::kClose;
        if (got > 0) continue;
        c.deadline_ns = c.body_deadline_ns;
        c.answer_408 = true;
        return Next::kPark;
      }
      const size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.in.size() > cfg_.max_header) {
          error(c, 413, false);
          answered = true;
          continue;
        }
        const bool begun = !c.in.empty();
        const int got = receive(c, readable);
        if (got < 0) return Next::kClose;
        if (got > 0) {
          if (!begun) c.head_started_ns = measure::now_ns();
          while (c.in.rfind("\r\n", 0) == 0) c.in.erase(0, 2);  // empty lines before a request (RFC 9112 §2.2)
          continue;
        }
        // Wait for the client in the epoll set (it reports bytes that came meanwhile at once).
        c.deadline_ns = c.in.empty() ? measure::now_ns() + uint64_t(cfg_.idle_timeout_ms) * kMs
                                     : c.head_started_ns + uint64_t(cfg_.request_timeout_ms) * kMs;
        c.answer_408 = !c.in.empty();
        return Next::kPark;
      }
      if (end + 4 > cfg_.max_header) {
        error(c, 413, false);
        answered = true;
        continue;
      }
      const std::string head = c.in.substr(0, end);
      c.in.erase(0, end + 4);
      Request r;
      int status = parse_head(head, &r);
      if (status == 0 && r.chunked) status = 400;  // no request bodies of unknown length
      if (status == 0 && r.content_length > cfg_.max_body) status = 413;
      if (status != 0) {
        error(c, status, false);
        answered = true;
        continue;
      }
      if (r.content_length > 0) {  // the body must be all in within the request timeout
        c.body_left = r.content_length;
        c.body_deadline_ns = measure::now_ns() + uint64_t(cfg_.request_timeout_ms) * kMs;
        c.body_of = std::move(r);
        continue;
      }
      respond(c, r);
      answered = true;
    }
  }

 private:
  // Read what c's socket has, without waiting, if it may have something (readable: epoll said
  // so, or the last read filled the buffer). 1: bytes appended to c.in; 0: none now; -1: the
  // client closed or failed.
  int receive(Conn& c, bool& readable) {
    while (readable) {
      char b[16384];
      const ssize_t n = recv(c.fd, b, sizeof b, MSG_DONTWAIT);
      if (n > 0) {
        c.in.append(b, size_t(n));
        readable = size_t(n) == sizeof b;
        return 1;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return -1;
      readable = false;
    }
    return 0;
  }

  // Park c until its socket takes more of its answer, for at most send_timeout_ms since it last
  // took any.
  Next park_write(Conn& c) {
    c.waits_write = true;
    c.deadline_ns = c.progress_ns + uint64_t(cfg_.send_timeout_ms) * kMs;
    return Next::kPark;
  }

  // Send p[0..n) and then q[0..m) (m may be 0) to c as one stream, as far as its socket takes
  // them now (one sendmsg for a small answer's head and body, straight from the caller's
  // buffers); what it does not take is queued on c: all of p, of q at most kQueueMax. Returns
  // the bytes of q sent or queued (the caller resumes the rest from its source).
  size_t emit(Conn& c, const char* p, size_t n, const char* q = nullptr, size_t m = 0) {
    c.progress_ns = measure::now_ns();
    size_t qs = 0;  // bytes of q sent
    while (c.out_at >= c.out.size() && n + (m - qs) > 0) {  // nothing queued before it
      iovec iov[2] = {{const_cast<char*>(p), n}, {const_cast<char*>(q + qs), m - qs}};
      msghdr mh{};
      mh.msg_iov = n > 0 ? iov : iov + 1;
      mh.msg_iovlen = n > 0 && m > qs ? 2 : 1;
      const ssize_t k = sendmsg(c.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        const size_t from_p = std::min(size_t(k), n);
        p += from_p, n -= from_p;
        qs += size_t(k) - from_p;
        continue;
      }
      if (k < 0 && errno == EINTR) continue;
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      c.broken = true;
      return m;
    }
    c.out.append(p, n);
    const size_t more = std::min(m - qs, kQueueMax);
    c.out.append(q + qs, more);
    return qs + more;
  }

  // Send c's queue as far as its socket takes it now. false: the client is gone.
  bool flush(Conn& c) {
    while (c.out_at < c.out.size()) {
      const ssize_t k = send(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        c.out_at += size_t(k);
        c.progress_ns = measure::now_ns();
        continue;
      }
      if (k < 0 && errno == EINTR) continue;
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      return false;
    }
    if (c.out.capacity() > 4096) std::string().swap(c.out);  // a parked connection keeps no large buffer
    c.out.clear();
    c.out_at = 0;
    return true;
  }

  // Send p[0..n) to c, waiting for its socket to take more at most kStallGraceNs at a time (and
  // not once the server is stopping). The bytes sent (n: all), or -1: the client is gone.
  ssize_t send_wait(Conn& c, const char* p, size_t n) {
    size_t done = 0;
    uint64_t since = measure::now_ns();
    while (done < n) {
      const ssize_t k = send(c.fd, p + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        done += size_t(k);
        c.progress_ns = since = measure::now_ns();
        continue;
      }
      if (k < 0 && errno == EINTR) continue;
      if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      const uint64_t now = measure::now_ns();
      if (now >= since + kStallGraceNs || stop_.load() != 0) break;
      pollfd w{c.fd, POLLOUT, 0};
      poll(&w, 1, int((since + kStallGraceNs - now) / kMs + 1));
    }
    return ssize_t(done);
  }

  // The whole answer of an error status; keep: the connection goes on after it.
  void error(Conn& c, int status, bool keep, const std::string& extra = "") {
    const std::string h = error_answer(status, keep, extra);
    emit(c, h.data(), h.size());
    c.close_after = !keep;
  }

  // One read through the file server with the fewest requests in flight (ties: this worker's
  // own turn, so that workers spread even when the pool is idle).
  ReadReply fetch(const std::string& path, uint64_t off, uint32_t len) {
    return pool_fetch(cfg_, pool_, index_, path, off, len, buf_.data());
  }

  // Stream c.stream, chunk by chunk, while c's socket takes it (send_wait); with a file server,
  // the next chunk is fetched by the prefetcher while this one goes to the client. Done: c.stream
  // reset. The client stalled: what was fetched and not sent is queued on c (at most kQueueMax),
  // c.stream starts after it (a chunk being prefetched is dropped: fetched again later). false:
  // close (the client is gone, the file changed or a server failed).
  bool stream(Conn& c) {
    PendingStream& st = *c.stream;
    if (pool_.base >= 0 && !pre_) {
      pre_ = std::make_unique<Prefetcher>(cfg_, pool_, index_);
      pbuf_.resize(cfg_.chunk);
    }
    const bool dbl = pre_ && pre_->usable();
    auto want = [&](uint64_t at) { return uint32_t(std::min<uint64_t>(cfg_.chunk, st.count - at)); };
    char* cur = buf_.data();
    char* next = pbuf_.data();
    bool ahead = false;  // a prefetch into `next` is under way
    ReadReply rr = fetch(st.path, st.first + st.sent, want(st.sent));
    for (;;) {
      if (rr.status != 0 || rr.bytes == 0) return false;  // the file changed or a server failed: cut
      const uint64_t n = std::min<uint64_t>(rr.bytes, st.count - st.sent);
      const uint64_t after = st.sent + n;
      if (dbl && after < st.count) {
        pre_->start(st.path, st.first + after, want(after), next);  // into `next`, while `cur` goes out
        ahead = true;
      }
      const ssize_t k = send_wait(c, cur, size_t(n));
      if (k < 0 || uint64_t(k) < n) {
        if (ahead) pre_->wait();  // never leave a fetch into our buffer behind
        if (k < 0) return false;
        const size_t more = std::min<size_t>(size_t(n) - size_t(k), kQueueMax);
        c.out.assign(cur + k, more);
        c.out_at = 0;
        st.sent += uint64_t(k) + more;
        if (st.sent >= st.count) c.stream.reset();
        return true;
      }
      st.sent = after;
      if (st.sent >= st.count) {
        c.stream.reset();
        return true;
      }
      if (dbl) {
        rr = pre_->wait();
        ahead = false;
        std::swap(cur, next);
      } else {
        rr = fetch(st.path, st.first + st.sent, want(st.sent));
      }
    }
  }

  // Answer one parsed request (its body, if any, already dropped) on c: the head and the first
  // chunk go out at once as far as the socket takes them, the rest is queued or left in
  // c.stream (for a streamer, or for when the socket takes more).
  void respond(Conn& c, const Request& r) {
    const bool head_only = r.method == "HEAD";
    if (r.method != "GET" && !head_only) return error(c, 405, r.keep_alive);
    const std::string path = decode_path(r.target, kMaxPath);
    if (path.empty()) return error(c, 400, r.keep_alive);
    // First fetch: the size only (HEAD, suffix ranges) or the first chunk of what will be sent
    // (from the range's start for "bytes=a-[b]"), with the size, in one round trip.
    const std::optional<uint64_t> start = r.range ? range_start(*r.range) : std::optional<uint64_t>(0);
    const bool size_first = head_only || !start.has_value();
    const uint64_t off0 = start.value_or(0);
    ReadReply rr = fetch(path, off0, size_first ? 0 : uint32_t(cfg_.chunk));
    if (rr.status == -ENOENT || rr.status == -ENOTDIR || rr.status == -EISDIR || rr.status == -EACCES ||
        rr.status == -ENAMETOOLONG)
      return error(c, 404, r.keep_alive);
    if (rr.status != 0) return error(c, rr.status < -200 ? 502 : 500, false);  // dvs errors are < -200
    const uint64_t size = rr.size;
    uint64_t first = 0, count = size;
    int status = 200;
    std::string extra;
    if (r.range) {
      bool unsat = false;
      const auto rg = parse_range(*r.range, size, &unsat);
      if (unsat) return error(c, 416, r.keep_alive, fmt::format("Content-Range: bytes */{}\r\n", size));
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
    const uint64_t ready = !head_only && !size_first && off0 == first ? std::min<uint64_t>(rr.bytes, count) : 0;
    const size_t taken = emit(c, h.data(), h.size(), buf_.data(), size_t(ready));
    c.close_after = !r.keep_alive;
    if (!head_only && taken < count) c.stream = PendingStream{path, first, taken, count};
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
        Next next = wk.serve(*c, !accepted && !c->waits_write);  // parked for room to write: none read yet
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
