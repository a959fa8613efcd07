// nginx from Debian as a child process: the reference web server of `dvs web bench` and of the
// web tests (docs/WEB.md).
#ifndef DVS_WORKLOADS_WEB_NGINX_HPP
#define DVS_WORKLOADS_WEB_NGINX_HPP

#include <string>

namespace dvs::workloads::web {

// nginx serving root on 127.0.0.1 at a free port (2 worker processes, sendfile, its defaults
// otherwise), until stopped (or destroyed).
class Nginx {
 public:
  Nginx() = default;
  ~Nginx() { stop(); }
  Nginx(const Nginx&) = delete;             // it owns the child process
  Nginx& operator=(const Nginx&) = delete;
  // Start it with its files (config, pid, logs) under dir/nginx; blocks until its port accepts
  // (at most 5 s). "" or why not.
  std::string start(const std::string& dir, const std::string& root);
  // SIGTERM, then SIGKILL after 2 s; reaps it.
  void stop();
  int port() const { return port_; }

 private:
  int pid_ = -1;
  int port_ = -1;
};

}  // namespace dvs::workloads::web

#endif
