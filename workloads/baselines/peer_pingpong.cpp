// peer_pingpong and peer_transport_name: see peer_pingpong.hpp and baseline.hpp.
#include "workloads/baselines/peer_pingpong.hpp"

#include <cerrno>
#include <fcntl.h>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <poll.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "workloads/baselines/fd_io.hpp"
#include "workloads/baselines/scoped_netns.hpp"

namespace dvs::baselines {

namespace {

// A private directory for the ipc:// socket ("" and *err on failure).
std::string make_ipc_dir(std::string* err) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/dvs-peer-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    *err = fmt::format("mkdtemp {}: {}", tmpl, strerror(errno));
    return "";
  }
  return buf.data();
}

// The URL the server publishes travels as a 2-byte length and the bytes.
constexpr size_t kMaxUrl = 512;

bool publish_url(int fd, const std::string& url) {
  if (url.size() > kMaxUrl) return false;
  const unsigned char len[2] = {static_cast<unsigned char>(url.size() >> 8), static_cast<unsigned char>(url.size())};
  return write_full(fd, len, sizeof len) == 0 && write_full(fd, url.data(), url.size()) == 0;
}

// Waits at most timeout_ms for the server's URL: "" and *url, or why not.
std::string await_url(int fd, int timeout_ms, std::string* url) {
  pollfd p{fd, POLLIN, 0};
  const int n = poll(&p, 1, timeout_ms);
  if (n < 0) return fmt::format("poll: {}", strerror(errno));
  if (n == 0) return fmt::format("the server did not publish its address within {} ms", timeout_ms);
  unsigned char len[2];
  if (read_full(fd, len, sizeof len) != 0) return "the server exited before publishing its address";
  std::string s((size_t{len[0]} << 8) | len[1], '\0');
  if (read_full(fd, s.data(), s.size()) != 0) return "the server's address was cut short";
  *url = std::move(s);
  return "";
}

}  // namespace

const char* peer_transport_name(PeerTransport t) { return t == PeerTransport::Ipc ? "ipc" : "tcp"; }

measure::TwoProcessOutcome peer_pingpong(const BaselineConfig& cfg, PeerTransport t, const PeerLibrary& lib) {
  if (cfg.msg_bytes == 0) return measure::failed_outcome(fmt::format("{}: msg_bytes must be at least 1", lib.name));
  std::string dir, listen_url, err;
  if (t == PeerTransport::Ipc) {
    dir = make_ipc_dir(&err);
    if (dir.empty()) return measure::failed_outcome(fmt::format("{}: {}", lib.name, err));
    listen_url = "ipc://" + dir + "/rep";
  } else {
    listen_url = fmt::format("tcp://{}:0", cfg.tcp_host);
  }
  int rendezvous[2];
  if (pipe2(rendezvous, O_CLOEXEC) != 0) {
    if (!dir.empty()) std::filesystem::remove_all(dir);
    return measure::failed_outcome(fmt::format("{}: pipe: {}", lib.name, strerror(errno)));
  }
  auto server = [&](measure::ChildCtx& ctx) -> int {
    close(rendezvous[0]);
    ScopedNetns in(t == PeerTransport::Tcp ? cfg.tcp_server_netns : "");
    if (!in.error().empty()) return ctx.fail("%s server: %s", lib.name, in.error().c_str());
    const int rc = lib.serve(ctx, listen_url, cfg, [&](const std::string& bound) {
      const bool ok = publish_url(rendezvous[1], bound);
      close(rendezvous[1]);
      return ok;
    });
    return rc;
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    close(rendezvous[1]);
    res.bytes_per_op = cfg.msg_bytes;
    std::string url;
    if (std::string why = await_url(rendezvous[0], cfg.recv_timeout_ms, &url); !why.empty())
      return ctx.fail("%s client: %s", lib.name, why.c_str());
    close(rendezvous[0]);
    ScopedNetns in(t == PeerTransport::Tcp ? cfg.tcp_client_netns : "");
    if (!in.error().empty()) return ctx.fail("%s client: %s", lib.name, in.error().c_str());
    return lib.ping(ctx, url, cfg, res);
  };
  auto out = measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    close(rendezvous[0]);
    close(rendezvous[1]);
  });
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return out;
}

}  // namespace dvs::baselines
