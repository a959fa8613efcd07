// NNG req0/rep0 ping-pong: see baseline.hpp (nng_pingpong) and peer_pingpong.hpp (the halves).
// nng_send / nng_recv with the caller's buffer, flags 0: the library's blocking calls.
#include <cstring>
#include <string>
#include <vector>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include <fmt/format.h>

#include "workloads/baselines/peer_pingpong.hpp"

namespace dvs::baselines {

namespace {

// Closes the socket when the half returns.
struct NngSocket {
  nng_socket s = NNG_SOCKET_INITIALIZER;
  bool open = false;
  ~NngSocket() {
    if (open) nng_close(s);
  }
};

// Receives exactly `len` bytes into buf: 0, or an NNG error (NNG_ETIMEDOUT after the socket's
// NNG_OPT_RECVTIMEO), or -1 if a message of another size arrived (*got says which).
int recv_exact(nng_socket s, void* buf, size_t len, size_t* got) {
  *got = len;
  const int rv = nng_recv(s, buf, got, 0);
  if (rv != 0) return rv;
  return *got == len ? 0 : -1;
}

// Opens sock with open_fn (named open_name in errors) and bounds its receives and sends by
// cfg.recv_timeout_ms (a send blocks only without a peer). "" or the reason.
std::string open_socket(NngSocket& sock, int (*open_fn)(nng_socket*), const char* open_name,
                        const BaselineConfig& cfg) {
  int rv = open_fn(&sock.s);
  if (rv != 0) return fmt::format("{}: {}", open_name, nng_strerror(rv));
  sock.open = true;
  rv = nng_socket_set_ms(sock.s, NNG_OPT_RECVTIMEO, cfg.recv_timeout_ms);
  if (rv != 0) return fmt::format("set NNG_OPT_RECVTIMEO: {}", nng_strerror(rv));
  rv = nng_socket_set_ms(sock.s, NNG_OPT_SENDTIMEO, cfg.recv_timeout_ms);
  if (rv != 0) return fmt::format("set NNG_OPT_SENDTIMEO: {}", nng_strerror(rv));
  return "";
}

std::string recv_error(int rv, size_t got, const BaselineConfig& cfg) {
  if (rv == -1) return fmt::format("a {} B message instead of {} B", got, cfg.msg_bytes);
  if (rv == NNG_ETIMEDOUT)
    return fmt::format("no message within {} ms (NNG_OPT_RECVTIMEO)", cfg.recv_timeout_ms);
  return nng_strerror(rv);
}

}  // namespace

int nng_echo_server(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                    const std::function<bool(const std::string&)>& published) {
  NngSocket sock;
  if (const std::string e = open_socket(sock, nng_rep0_open, "nng_rep0_open", cfg); !e.empty())
    return ctx.fail("nng server: %s", e.c_str());
  nng_listener l;
  int rv = nng_listen(sock.s, url.c_str(), &l, 0);
  if (rv != 0) return ctx.fail("nng server: listen %s: %s", url.c_str(), nng_strerror(rv));
  std::string bound = url;
  if (url.rfind("tcp://", 0) == 0) {
    int port = 0;
    rv = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    if (rv != 0) return ctx.fail("nng server: NNG_OPT_TCP_BOUND_PORT: %s", nng_strerror(rv));
    bound = url.substr(0, url.rfind(':') + 1) + std::to_string(port);
  }
  if (!published(bound)) return ctx.fail("nng server: cannot pass %s to the client", bound.c_str());
  std::vector<unsigned char> m(cfg.msg_bytes);
  for (;;) {
    size_t got = 0;
    rv = recv_exact(sock.s, m.data(), m.size(), &got);
    if (rv != 0) return ctx.fail("nng server recv: %s", recv_error(rv, got, cfg).c_str());
    rv = nng_send(sock.s, m.data(), m.size(), 0);
    if (rv != 0) return ctx.fail("nng server send: %s", nng_strerror(rv));
    if (m[0] == 'S') return 0;
  }
}

int nng_ping_client(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                    measure::LoopResult& res) {
  NngSocket sock;
  if (const std::string e = open_socket(sock, nng_req0_open, "nng_req0_open", cfg); !e.empty())
    return ctx.fail("nng client: %s", e.c_str());
  int rv = nng_dial(sock.s, url.c_str(), nullptr, 0);  // synchronous: the server listens already
  if (rv != 0) return ctx.fail("nng client: dial %s: %s", url.c_str(), nng_strerror(rv));
  std::vector<unsigned char> m(cfg.msg_bytes, 0xa5);
  m[0] = 'P';
  res.bytes_per_op = cfg.msg_bytes;
  const char* where = "";
  size_t got = 0;
  int last = 0;
  measure::run_timed_loop(
      [&]() -> int {
        where = "send";
        if ((last = nng_send(sock.s, m.data(), m.size(), 0)) != 0) return -1;
        where = "recv";
        if ((last = recv_exact(sock.s, m.data(), m.size(), &got)) != 0) return -1;
        return 0;
      },
      cfg.loop, res);
  if (res.error < 0)
    return ctx.fail("nng client %s: %s", where,
                    std::strcmp(where, "recv") == 0 ? recv_error(last, got, cfg).c_str() : nng_strerror(last));
  m[0] = 'S';
  if ((rv = nng_send(sock.s, m.data(), m.size(), 0)) != 0)
    return ctx.fail("nng client: stop send: %s", nng_strerror(rv));
  if ((rv = recv_exact(sock.s, m.data(), m.size(), &got)) != 0)
    return ctx.fail("nng client: stop reply: %s", recv_error(rv, got, cfg).c_str());
  return 0;
}

measure::TwoProcessOutcome nng_pingpong(const BaselineConfig& cfg, PeerTransport t) {
  return peer_pingpong(cfg, t, PeerLibrary{"nng", nng_echo_server, nng_ping_client});
}

}  // namespace dvs::baselines
