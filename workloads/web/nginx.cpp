// nginx as a child process: see nginx.hpp.
#include "workloads/web/nginx.hpp"

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "workloads/measure/clock.hpp"

namespace dvs::workloads::web {

namespace {

// A TCP port on 127.0.0.1 free a moment ago (bound and released); -1 if none.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

// Whether 127.0.0.1:port accepts a connection within timeout_ms (tried every 20 ms).
bool port_accepts(int port, int timeout_ms) {
  const uint64_t end = measure::now_ns() + uint64_t(timeout_ms) * 1'000'000u;
  while (measure::now_ns() < end) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (ok) return true;
    const timespec ts{0, 20'000'000};
    nanosleep(&ts, nullptr);
  }
  return false;
}

}  // namespace

std::string Nginx::start(const std::string& dir, const std::string& root) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/nginx", ec);
  port_ = free_port();
  const std::string conf = dir + "/nginx/nginx.conf";
  std::ofstream(conf) << fmt::format(
      "daemon off; master_process on; worker_processes 2; user root; pid {0}/nginx/nginx.pid;\n"
      "error_log {0}/nginx/error.log;\nevents {{ worker_connections 1024; }}\n"
      "http {{ access_log off; sendfile on; keepalive_requests 1000000; client_body_temp_path {0}/nginx;\n"
      "  proxy_temp_path {0}/nginx; fastcgi_temp_path {0}/nginx; uwsgi_temp_path {0}/nginx; scgi_temp_path {0}/nginx;\n"
      "  server {{ listen 127.0.0.1:{1}; root {2}; }} }}\n",
      dir, port_, root);
  std::fflush(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    execlp("nginx", "nginx", "-c", conf.c_str(), "-p", (dir + "/nginx").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0 || !port_accepts(port_, 5000)) {
    stop();
    return fmt::format("nginx did not start (see {}/nginx/error.log)", dir);
  }
  return "";
}

void Nginx::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i) {
    const timespec ts{0, 20'000'000};
    nanosleep(&ts, nullptr);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace dvs::workloads::web
