// Per-link socket options of the tcp transport. Defaults come from TcpOptions (see
// make_tcp_transport); a URI may override them with a query string, e.g.
//   tcp://10.0.0.2:4000?keepidle=2&keepintvl=1&keepcnt=3&user_timeout_ms=5000
// TCP_NODELAY is always on (frames are latency-sensitive; the transport never sends a header
// and payload in separate segments because it gathers them into one sendmsg()).
#pragma once

namespace dvs::transport::tcp {

struct TcpOptions {
  // SO_KEEPALIVE is always on. A silent peer is probed after keepidle_s seconds of idleness,
  // every keepintvl_s seconds, and declared dead after keepcnt unanswered probes: with the
  // defaults a vanished host (cable pulled, VM paused) is detected in about 8 s.
  int keepidle_s = 5;   // TCP_KEEPIDLE, 1 .. 32767
  int keepintvl_s = 1;  // TCP_KEEPINTVL, 1 .. 32767
  int keepcnt = 3;      // TCP_KEEPCNT, 1 .. 127
  // TCP_USER_TIMEOUT: sent data unacknowledged this long kills the link (send/recv then return
  // EDVSNOTCONN). 0 leaves the kernel default (about 15 minutes of retransmissions).
  int user_timeout_ms = 10000;
};

}  // namespace dvs::transport::tcp
