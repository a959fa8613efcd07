// A connected TCP pair on one machine, made before fork: listen on host:0, connect, accept.
// Both ends have TCP_NODELAY and CLOEXEC. Used by tcp_pingpong and tcp_stream.
#ifndef DVS_HARNESS_BASELINES_TCP_PAIR_HPP
#define DVS_HARNESS_BASELINES_TCP_PAIR_HPP

#include <string>

namespace dvs::baselines {

// On success returns 0 and sets *client_fd (the connecting end) and *server_fd (the accepted
// end); else returns -errno and sets *err to one line.
int make_tcp_pair(const std::string& host, int* client_fd, int* server_fd, std::string* err);

}  // namespace dvs::baselines

#endif
