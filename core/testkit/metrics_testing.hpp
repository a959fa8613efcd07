// Helpers of the metrics tests: a free loopback port, an HTTP GET through Debian's curl, and
// sample values out of Prometheus text exposition. Real processes only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

namespace dvs::metrics::testing {

// A TCP port free on 127.0.0.1 now (bound to 0 and released).
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// Output of a shell command ("" if it failed); *rc its exit status.
inline std::string run(const std::string& cmd, int* rc = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  if (rc) *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

inline std::string http_get(const std::string& url, int* rc = nullptr) {
  return run("curl -sf --max-time 5 '" + url + "'", rc);
}

inline bool have(const std::string& prog) {
  return run("command -v " + prog + " >/dev/null 2>&1 && echo yes") == "yes\n";
}

// The value of the sample whose line starts with `series` (exact name and labels as printed,
// e.g. dvs_ipc_calls_total{dc="0",node="0",primitive="sendrec",scope="local"}); -1 if absent.
inline double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, series.size(), series) == 0 && line.size() > series.size() && line[series.size()] == ' ')
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
  return -1;
}

}  // namespace dvs::metrics::testing
