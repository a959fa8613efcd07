// ZeroMQ REQ/REP ping-pong: see baseline.hpp (zmq_pingpong) and peer_pingpong.hpp (the halves).
// zmq_send / zmq_recv with the caller's buffer, flags 0: the library's blocking calls. Each half
// owns one context (one I/O thread, ZeroMQ's default) and one socket with ZMQ_LINGER 0, so
// closing never waits for unsent messages.
#include <cerrno>
#include <cstring>
#include <vector>

#include <zmq.h>

#include <fmt/format.h>

#include "workloads/baselines/peer_pingpong.hpp"

namespace dvs::baselines {

namespace {

// A context and one socket of `type`, closed (socket first) when the half returns.
struct ZmqSocket {
  void* ctx = nullptr;
  void* s = nullptr;
  ~ZmqSocket() {
    if (s != nullptr) zmq_close(s);
    if (ctx != nullptr) zmq_ctx_term(ctx);
  }
  // "" or why not.
  std::string open(int type, const BaselineConfig& cfg) {
    ctx = zmq_ctx_new();
    if (ctx == nullptr) return fmt::format("zmq_ctx_new: {}", zmq_strerror(errno));
    s = zmq_socket(ctx, type);
    if (s == nullptr) return fmt::format("zmq_socket: {}", zmq_strerror(errno));
    const int linger = 0;
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0)
      return fmt::format("set ZMQ_LINGER: {}", zmq_strerror(errno));
    if (zmq_setsockopt(s, ZMQ_RCVTIMEO, &cfg.recv_timeout_ms, sizeof cfg.recv_timeout_ms) != 0)
      return fmt::format("set ZMQ_RCVTIMEO: {}", zmq_strerror(errno));
    // A send blocks only while no connection can take the message: bounded the same way.
    if (zmq_setsockopt(s, ZMQ_SNDTIMEO, &cfg.recv_timeout_ms, sizeof cfg.recv_timeout_ms) != 0)
      return fmt::format("set ZMQ_SNDTIMEO: {}", zmq_strerror(errno));
    return "";
  }
};

// Receives exactly `len` bytes into buf: 0, or -errno (-EAGAIN after the socket's ZMQ_RCVTIMEO),
// or -EMSGSIZE if a message of another size arrived (*got says which).
int recv_exact(void* s, void* buf, size_t len, int* got) {
  *got = zmq_recv(s, buf, len, 0);
  if (*got < 0) return -errno;
  return size_t(*got) == len ? 0 : -EMSGSIZE;
}

std::string recv_error(int rc, int got, const BaselineConfig& cfg) {
  if (rc == -EMSGSIZE) return fmt::format("a {} B message instead of {} B", got, cfg.msg_bytes);
  if (rc == -EAGAIN) return fmt::format("no message within {} ms (ZMQ_RCVTIMEO)", cfg.recv_timeout_ms);
  return zmq_strerror(-rc);
}

}  // namespace

int zmq_echo_server(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                    const std::function<bool(const std::string&)>& published) {
  ZmqSocket sock;
  if (std::string err = sock.open(ZMQ_REP, cfg); !err.empty()) return ctx.fail("zmq server: %s", err.c_str());
  // tcp://host:0 is NNG's spelling of "any port"; ZeroMQ's is tcp://host:*.
  std::string bind_url = url;
  if (url.rfind("tcp://", 0) == 0 && url.size() > 2 && url.compare(url.size() - 2, 2, ":0") == 0)
    bind_url = url.substr(0, url.size() - 1) + "*";
  if (zmq_bind(sock.s, bind_url.c_str()) != 0)
    return ctx.fail("zmq server: bind %s: %s", bind_url.c_str(), zmq_strerror(errno));
  char bound[512];
  size_t bound_len = sizeof bound;
  if (zmq_getsockopt(sock.s, ZMQ_LAST_ENDPOINT, bound, &bound_len) != 0)
    return ctx.fail("zmq server: ZMQ_LAST_ENDPOINT: %s", zmq_strerror(errno));
  if (!published(bound)) return ctx.fail("zmq server: cannot pass %s to the client", bound);
  std::vector<unsigned char> m(cfg.msg_bytes);
  for (;;) {
    int got = 0;
    const int rc = recv_exact(sock.s, m.data(), m.size(), &got);
    if (rc != 0) return ctx.fail("zmq server recv: %s", recv_error(rc, got, cfg).c_str());
    if (zmq_send(sock.s, m.data(), m.size(), 0) < 0) return ctx.fail("zmq server send: %s", zmq_strerror(errno));
    if (m[0] == 'S') return 0;
  }
}

int zmq_ping_client(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                    measure::LoopResult& res) {
  ZmqSocket sock;
  if (std::string err = sock.open(ZMQ_REQ, cfg); !err.empty()) return ctx.fail("zmq client: %s", err.c_str());
  // Asynchronous: the connection is made by the I/O thread; the first send queues until then.
  if (zmq_connect(sock.s, url.c_str()) != 0)
    return ctx.fail("zmq client: connect %s: %s", url.c_str(), zmq_strerror(errno));
  std::vector<unsigned char> m(cfg.msg_bytes, 0xa5);
  m[0] = 'P';
  res.bytes_per_op = cfg.msg_bytes;
  const char* where = "";
  int got = 0, last = 0;
  measure::run_timed_loop(
      [&]() -> int {
        where = "send";
        if (zmq_send(sock.s, m.data(), m.size(), 0) < 0) return last = -errno;
        where = "recv";
        return last = recv_exact(sock.s, m.data(), m.size(), &got);
      },
      cfg.loop, res);
  if (res.error < 0)
    return ctx.fail("zmq client %s: %s", where,
                    std::strcmp(where, "recv") == 0 ? recv_error(last, got, cfg).c_str() : zmq_strerror(-last));
  m[0] = 'S';
  if (zmq_send(sock.s, m.data(), m.size(), 0) < 0) return ctx.fail("zmq client: stop send: %s", zmq_strerror(errno));
  if (const int rc = recv_exact(sock.s, m.data(), m.size(), &got); rc != 0)
    return ctx.fail("zmq client: stop reply: %s", recv_error(rc, got, cfg).c_str());
  return 0;
}

measure::TwoProcessOutcome zmq_pingpong(const BaselineConfig& cfg, PeerTransport t) {
  return peer_pingpong(cfg, t, PeerLibrary{"zmq", zmq_echo_server, zmq_ping_client});
}

}  // namespace dvs::baselines
