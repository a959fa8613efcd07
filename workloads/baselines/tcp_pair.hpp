// A connected TCP pair on one machine, made before fork: listen on host:0, connect, accept.
// Both ends have TCP_NODELAY and CLOEXEC. Used by tcp_pingpong and tcp_stream.
// With network namespaces: the listening (server) socket is created inside server_netns and the
// client socket inside client_netns (names under /run/netns, "" = this thread's namespace). A
// socket keeps the namespace it was created in, so the two ends then talk through whatever
// joins those namespaces (veth pairs, a bridge) however the processes holding them are placed;
// host must be an address of server_netns. The calling thread's namespace is restored.
#ifndef DVS_HARNESS_BASELINES_TCP_PAIR_HPP
#define DVS_HARNESS_BASELINES_TCP_PAIR_HPP

#include <string>

namespace dvs::baselines {

// On success returns 0 and sets *client_fd (the connecting end) and *server_fd (the accepted
// end); else returns -errno and sets *err to one line.
int make_tcp_pair(const std::string& host, int* client_fd, int* server_fd, std::string* err,
                  const std::string& client_netns = "", const std::string& server_netns = "");

}  // namespace dvs::baselines

#endif
