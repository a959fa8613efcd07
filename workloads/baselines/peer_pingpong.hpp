// The ping-pong of a peer IPC library (NNG, ZeroMQ) split into its two halves, and the runner that
// puts them in two processes (nng_pingpong / zmq_pingpong in baseline.hpp are peer_pingpong with
// one library). The halves are separate so that a test can set one against a real socket of the
// same library that misbehaves (a server that never answers).
#ifndef DVS_HARNESS_BASELINES_PEER_PINGPONG_HPP
#define DVS_HARNESS_BASELINES_PEER_PINGPONG_HPP

#include <functional>
#include <string>

#include "workloads/baselines/baseline.hpp"

namespace dvs::baselines {

// Server half, in its child: listen on `url` (tcp:// may give port 0), call published(bound URL)
// once listening (false: stop, the client cannot be told), then echo each request until the stop
// message ('S' in byte 0), whose echo it sends before returning 0. Failures: ctx.fail(reason).
using PeerServeFn = int (*)(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                            const std::function<bool(const std::string&)>& published);
// Client half, in its child: dial `url`, run the timed loop of cfg.msg_bytes requests and their
// replies into res, then the stop exchange; 0 or ctx.fail(reason). Every receive is bounded by
// cfg.recv_timeout_ms.
using PeerPingFn = int (*)(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                           measure::LoopResult& res);

struct PeerLibrary {
  const char* name;  // "nng" | "zmq": prefixes the error lines
  PeerServeFn serve;
  PeerPingFn ping;
};

int nng_echo_server(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                    const std::function<bool(const std::string&)>& published);
int nng_ping_client(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                    measure::LoopResult& res);
int zmq_echo_server(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                    const std::function<bool(const std::string&)>& published);
int zmq_ping_client(measure::ChildCtx& ctx, const std::string& url, const BaselineConfig& cfg,
                    measure::LoopResult& res);

// The two-process run of `lib` over `t` (contract: nng_pingpong in baseline.hpp). The server's
// bound URL reaches the client through a pipe made before fork; the client waits for it at most
// cfg.recv_timeout_ms. Each child enters its network namespace (cfg.tcp_server_netns /
// tcp_client_netns) before the library starts any thread, so the library's threads and sockets
// live there too. No library call is made in the calling process (their threads would not survive
// fork).
measure::TwoProcessOutcome peer_pingpong(const BaselineConfig& cfg, PeerTransport t, const PeerLibrary& lib);

}  // namespace dvs::baselines

#endif
