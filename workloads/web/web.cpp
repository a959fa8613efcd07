// The web workload's DVS side: file reads, the file and disk servers, starting and stopping the
// processes (see web.hpp).
#include "workloads/web/web.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <vector>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "dvs/dvs.h"
#include "workloads/measure/clock.hpp"
#include "workloads/web/file_cache.hpp"
#include "workloads/web/internal.hpp"
#include "workloads/web/mapped_files.hpp"

namespace dvs::workloads::web {

namespace {

constexpr uint64_t kMs = 1'000'000u;
// Process slots in Shared: disk server i, file server i, the front end.
constexpr int kProcs = 2 * kMaxServers + 1;
int disk_k(int i) { return i; }
int fs_k(int i) { return kMaxServers + i; }
constexpr int kFront = 2 * kMaxServers;

void nap_ms(long ms) {
  const timespec ts{ms / 1000, (ms % 1000) * 1'000'000};
  nanosleep(&ts, nullptr);
}

}  // namespace

int declare_remote(int dc, int ep, int node, uint64_t deadline_ns, const char** what) {
  int rc = rpc::rmtbind_and_probe(dc, ep, node, deadline_ns, what);
  if (rc != EDVSSLOTUSED) return rc;
  // Declared already (another file server of the pool shares this disk server): probe the link.
  *what = "link probe (notify)";
  while ((rc = dvs_notify(ep)) == EDVSNOTCONN && measure::now_ns() < deadline_ns) nap_ms(10);
  return rc < 0 ? rc : 0;
}

struct WebServer::Shared {
  std::atomic<uint32_t> ready[kProcs];
  std::atomic<uint32_t> stop;
  char err[kProcs][200];
  struct alignas(64) Counter {
    std::atomic<uint64_t> n;
  };
  Counter served[kProcs];  // requests taken by each server process (written by it alone)
};

bool layout_of(char letter, Layout* out) {
  switch (letter) {
    case 'A': case 'a': *out = {0, -1, -1}; return true;
    case 'B': case 'b': *out = {0, 0, -1}; return true;
    case 'C': case 'c': *out = {0, 0, 0}; return true;
    case 'D': case 'd': *out = {0, 0, 1}; return true;
    case 'E': case 'e': *out = {0, 1, -1}; return true;
    case 'F': case 'f': *out = {0, 1, 1}; return true;
    default: return false;
  }
}

std::string describe(const Layout& l) {
  std::string s = fmt::format("front@{}", l.front_node);
  if (l.fs_node >= 0) s += fmt::format(" -> fs@{}", l.fs_node);
  if (l.disk_node >= 0) s += fmt::format(" -> disk@{}", l.disk_node);
  return s;
}

std::string validate(const WebConfig& c) {
  struct stat st{};
  if (c.root.empty() || stat(c.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fmt::format("root '{}' is not a directory", c.root);
  const Layout& l = c.layout;
  for (int n : {l.front_node, l.fs_node, l.disk_node})
    if (n < -1 || n > 1) return fmt::format("nodes are 0 or 1, not {}", n);
  if (l.front_node < 0) return "the front end needs a node";
  if (l.disk_node >= 0 && l.fs_node < 0) return "a disk server needs a file server in front of it";
  for (int n : {l.front_node, l.fs_node, l.disk_node})
    if (n >= 0 && c.sockets[n].empty()) return fmt::format("no dvsd socket for node {}", n);
  if (c.workers < 1 || c.workers > 128) return fmt::format("workers must be 1..128, not {}", c.workers);
  if (c.fs_servers < 1 || c.fs_servers > kMaxServers)
    return fmt::format("fs servers must be 1..{}, not {}", kMaxServers, c.fs_servers);
  if (c.disk_servers < 1 || c.disk_servers > kMaxServers)
    return fmt::format("disk servers must be 1..{}, not {}", kMaxServers, c.disk_servers);
  if (c.fs_p_nr < 0 || c.disk_p_nr < 0 ||
      (c.fs_p_nr < c.disk_p_nr + c.disk_servers && c.disk_p_nr < c.fs_p_nr + c.fs_servers))
    return "the file and disk server slots overlap";
  for (int w : {c.front_wait, c.server_wait})
    if (w != DVS_WAIT_SPIN && w != DVS_WAIT_SPIN_THEN_BLOCK && w != DVS_WAIT_BLOCK)
      return "waits must be spin, spin-then-block or block";
  if (c.chunk < 4096 || c.chunk > (size_t{64} << 20)) return "chunk must be 4 KiB..64 MiB";
  if (c.fs_cache_bytes > (size_t{1} << 30)) return "the file server cache must be 0..1 GiB";
  if (c.fs_cache_ttl_ms < 1 || c.fs_cache_ttl_ms > 3'600'000) return "the file server cache ttl must be 1 ms..1 h";
  if (c.port < 0 || c.port > 65535) return fmt::format("port must be 0..65535, not {}", c.port);
  for (int t : {c.request_timeout_ms, c.idle_timeout_ms, c.send_timeout_ms, c.ipc_timeout_ms, c.setup_timeout_ms})
    if (t < 1 || t > 3'600'000) return "timeouts must be 1 ms..1 h";
  if (c.max_header < 256 || c.max_header > (1u << 20)) return "max header must be 256 B..1 MiB";
  return "";
}

ReadReply read_local(const std::string& root, const std::string& path, uint64_t offset, uint32_t len, void* dst) {
  ReadReply r{0, 0, 0};
  int fd = -1;
  struct stat st{};
  if (int e = open_served_file(root, path, &fd, &st); e < 0) {
    r.status = e;
    return r;
  }
  r.size = uint64_t(st.st_size);
  uint64_t want = offset >= r.size ? 0 : std::min<uint64_t>(len, r.size - offset);
  auto* p = static_cast<char*>(dst);
  while (r.bytes < want) {
    const ssize_t n = pread(fd, p + r.bytes, want - r.bytes, off_t(offset + r.bytes));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) r.status = -errno;
      break;
    }
    r.bytes += uint64_t(n);
  }
  close(fd);
  return r;
}

ReadReply read_remote(int ep, const std::string& path, uint64_t offset, uint32_t len, void* dst, long timeout_ms) {
  dvs_message_t m{};
  m.m_type = kWebRead;
  const ReadRequest q{offset, reinterpret_cast<uint64_t>(path.data()), reinterpret_cast<uint64_t>(dst), len,
                      uint32_t(path.size())};
  std::memcpy(m.m_u.raw, &q, sizeof q);
  if (path.size() <= kInlinePath) std::memcpy(m.m_u.raw + sizeof q, path.data(), path.size());  // no vcopy
  const int rc = dvs_sendrec_T(ep, &m, timeout_ms);
  ReadReply r{0, 0, 0};
  if (rc < 0) {
    r.status = rc;
    return r;
  }
  if (m.m_type != kWebReply) {
    r.status = EDVSBADCALL;
    return r;
  }
  std::memcpy(&r, m.m_u.raw, sizeof r);
  return r;
}

namespace {

static_assert(sizeof(ReadRequest) + kInlinePath == sizeof(dvs_message_t{}.m_u.raw));

// A file server's read of at most len bytes of path at offset, from its disk server disk_ep
// through its cache (off: straight through). *data points at the bytes: in buf (where the disk
// server copies to) or in a cache entry, valid until the next call.
ReadReply read_via_disk(const WebConfig& cfg, int disk_ep, FileCache& cache, const std::string& path,
                        uint64_t offset, uint32_t len, std::vector<char>& buf, const void** data) {
  *data = buf.data();
  auto through = [&] { return read_remote(disk_ep, path, offset, len, buf.data(), cfg.ipc_timeout_ms); };
  if (!cache.enabled()) return through();
  auto part = [&](uint64_t size) {  // what the request gets of a file of size bytes
    return ReadReply{0, size, offset >= size ? 0 : std::min<uint64_t>(len, size - offset)};
  };
  const auto now = int64_t(measure::now_ns());
  if (const FileCache::Entry* e = cache.find(path, now)) {
    if (e->large) return through();
    const ReadReply r = part(e->data.size());
    if (r.bytes > 0) *data = e->data.data() + offset;
    return r;
  }
  // Not cached: fetch the file's first bytes, as many as a cached file may have; keep the file if
  // that was all of it. A larger file is remembered as such; this fetch still answers the
  // request if it covers it.
  const uint32_t fill = uint32_t(std::min(cache.max_file(), buf.size()));
  const ReadReply f = read_remote(disk_ep, path, 0, fill, buf.data(), cfg.ipc_timeout_ms);
  if (f.status != 0) return f;
  if (f.size <= fill && f.bytes == f.size) cache.insert(path, buf.data(), size_t(f.bytes), now);
  else if (f.size > fill) cache.mark_large(path, now);
  const ReadReply r = part(f.size);
  if (r.bytes == 0) return r;
  if (offset + r.bytes > f.bytes) return through();
  *data = buf.data() + offset;
  return r;
}

// A file server (downstream_ep >= 0: forwards to that disk server) or a disk server. served
// counts the requests taken.
int file_server_main(const WebConfig& cfg, const std::string& socket, int p_nr, int downstream_ep,
                     int downstream_node, std::atomic<uint32_t>& ready, std::atomic<uint32_t>& stop,
                     std::atomic<uint64_t>& served, measure::ChildCtx& ctx) {
  int rc = dvs_open(socket.c_str());
  if (rc < 0) return ctx.fail("dvs_open(%s): %s", socket.c_str(), dvs_errname(rc));
  const uint64_t deadline = measure::now_ns() + uint64_t(cfg.setup_timeout_ms) * kMs;
  int ep;
  while ((ep = dvs_bind(cfg.dc, p_nr)) == EDVSSLOTUSED && measure::now_ns() < deadline) nap_ms(2);
  if (ep < 0) return ctx.fail("dvs_bind(dc %d, p_nr %d): %s", cfg.dc, p_nr, dvs_errname(ep));
  if ((rc = dvs_set_wait(dvs_wait_mode_t(cfg.server_wait), cfg.spin_ns)) < 0)
    return ctx.fail("dvs_set_wait: %s", dvs_errname(rc));
  if (downstream_node >= 0) {
    const char* what = "";
    if ((rc = declare_remote(cfg.dc, downstream_ep, downstream_node, deadline, &what)) < 0)
      return ctx.fail("%s (ep %d on node %d): %s", what, downstream_ep, downstream_node, dvs_errname(rc));
  }
  std::vector<char> buf(cfg.chunk);  // what the downstream server copies into
  MappedFiles files;                 // a leaf server's files: vcopy straight from the page cache
  FileCache cache(downstream_ep >= 0 ? cfg.fs_cache_bytes : 0, kCacheFileMax,
                  int64_t(cfg.fs_cache_ttl_ms) * int64_t(kMs));
  std::string path;
  ready.store(1);
  for (;;) {
    dvs_message_t m{};
    rc = dvs_rcvrqst_T(&m, 100);
    if (stop.load() != 0) break;
    if (rc == EDVSTIMEDOUT) continue;
    if (rc < 0) return ctx.fail("dvs_rcvrqst: %s", dvs_errname(rc));
    if (DVS_IS_NOTIFY(m.m_type)) continue;  // a link probe
    served.fetch_add(1, std::memory_order_relaxed);
    const int src = m.m_source;
    ReadRequest q;
    std::memcpy(&q, m.m_u.raw, sizeof q);
    ReadReply r{0, 0, 0};
    if (m.m_type != kWebRead || q.path_len == 0 || q.path_len > kMaxPath || q.len > cfg.chunk) {
      r.status = EDVSBADCALL;
    } else {
      path.assign(q.path_len, '\0');
      long n = 0;
      if (q.path_len <= kInlinePath) std::memcpy(path.data(), m.m_u.raw + sizeof q, q.path_len);
      else n = dvs_vcopy(src, reinterpret_cast<const void*>(q.path_addr), DVS_SELF, path.data(), q.path_len);
      const void* data = buf.data();
      if (n < 0) r.status = n;
      else if (downstream_ep >= 0) r = read_via_disk(cfg, downstream_ep, cache, path, q.offset, q.len, buf, &data);
      else r = files.view(cfg.root, path, q.offset, q.len, &data);
      if (r.status == 0 && r.bytes > 0) {
        n = dvs_vcopy(DVS_SELF, data, src, reinterpret_cast<void*>(q.dst_addr), r.bytes);
        if (n < 0) r = {n, 0, 0};
      }
    }
    m.m_type = kWebReply;
    std::memcpy(m.m_u.raw, &r, sizeof r);
    if ((rc = dvs_reply_T(src, &m, cfg.ipc_timeout_ms)) < 0 && rc != EDVSPROCSTS)
      return ctx.fail("dvs_reply(%d): %s", src, dvs_errname(rc));  // EDVSPROCSTS: the caller timed out
  }
  dvs_close();
  return 0;
}

int make_listener(const std::string& host, int port, int* out_port, std::string* err) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    *err = fmt::format("host '{}' is not an IPv4 address", host);
    return -1;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 1024) != 0) {
    *err = fmt::format("listen on {}:{}: {}", host, port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *out_port = ntohs(a.sin_port);
  return fd;
}

}  // namespace

bool WebServer::start(const WebConfig& cfg, std::string* err) {
  stop();
  if (*err = validate(cfg); !err->empty()) return false;
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    *err = fmt::format("mmap: {}", strerror(errno));
    return false;
  }
  sh_ = new (p) Shared{};
  const int lfd = make_listener(cfg.host, cfg.port, &port_, err);
  if (lfd < 0) return false;
  const Layout& l = cfg.layout;
  const uint64_t deadline = measure::now_ns() + uint64_t(cfg.setup_timeout_ms) * kMs;
  auto spawn = [&](int k, const std::string& name, auto&& body) {
    const pid_t pid = rpc::fork_child(sh_->err[k], sizeof sh_->err[k], body);
    if (pid < 0) {
      *err = fmt::format("fork: {}", strerror(int(-pid)));
      return false;
    }
    ch_.push_back(rpc::Child{pid});
    names_.push_back(name);
    slots_.push_back(k);
    // Wait until it is ready (or died, or the deadline).
    while (sh_->ready[k].load() == 0) {
      rpc::reap(ch_, 0, ch_.size());
      for (size_t i = 0; i < ch_.size(); ++i)
        if (ch_[i].done) {
          *err = check();
          return false;
        }
      if (measure::now_ns() > deadline) {
        *err = fmt::format("{} not ready within {} ms", name, cfg.setup_timeout_ms);
        return false;
      }
      nap_ms(1);
    }
    return true;
  };
  bool ok = true;
  for (int i = 0; ok && l.disk_node >= 0 && i < cfg.disk_servers; ++i)
    ok = spawn(disk_k(i), fmt::format("disk server {}", i), [&](measure::ChildCtx& ctx) {
      close(lfd);
      return file_server_main(cfg, cfg.sockets[l.disk_node], cfg.disk_p_nr + i, -1, -1, sh_->ready[disk_k(i)],
                              sh_->stop, sh_->served[disk_k(i)].n, ctx);
    });
  for (int i = 0; ok && l.fs_node >= 0 && i < cfg.fs_servers; ++i)
    ok = spawn(fs_k(i), fmt::format("file server {}", i), [&](measure::ChildCtx& ctx) {
      close(lfd);
      const int down = l.disk_node >= 0 ? cfg.disk_p_nr + i % cfg.disk_servers : -1;
      const int down_node = l.disk_node >= 0 && l.disk_node != l.fs_node ? l.disk_node : -1;
      return file_server_main(cfg, cfg.sockets[l.fs_node], cfg.fs_p_nr + i, down, down_node, sh_->ready[fs_k(i)],
                              sh_->stop, sh_->served[fs_k(i)].n, ctx);
    });
  if (ok)
    ok = spawn(kFront, "front end", [&](measure::ChildCtx& ctx) {
      const int rc = front_main(cfg, lfd, sh_->ready[kFront], sh_->stop, sh_->err[kFront], sizeof sh_->err[kFront]);
      (void)ctx;
      return rc;
    });
  close(lfd);
  if (!ok) stop();
  return ok;
}

std::string WebServer::check() {
  if (sh_ == nullptr) return "not started";
  rpc::reap(ch_, 0, ch_.size());
  for (size_t i = 0; i < ch_.size(); ++i)
    if (ch_[i].done) {
      const int k = slots_[i];
      std::string e = fmt::format("{} stopped", names_[i]);
      if (WIFEXITED(ch_[i].status)) e += fmt::format(" (exit status {})", WEXITSTATUS(ch_[i].status));
      else if (WIFSIGNALED(ch_[i].status)) e += fmt::format(" (signal {})", WTERMSIG(ch_[i].status));
      if (sh_->err[k][0] != '\0') e += fmt::format(": {}", sh_->err[k]);
      return e;
    }
  return "";
}

WebServer::Counts WebServer::counts() const {
  Counts c;
  if (sh_ == nullptr) return c;
  for (int i = 0; i < kMaxServers; ++i) {
    c.fs_requests += sh_->served[fs_k(i)].n.load();
    c.disk_requests += sh_->served[disk_k(i)].n.load();
  }
  return c;
}

void WebServer::stop() {
  if (sh_ == nullptr) return;
  sh_->stop.store(1);
  const uint64_t deadline = measure::now_ns() + 3000 * kMs;  // workers notice within ~100 ms
  while (!rpc::reap(ch_, 0, ch_.size()) && measure::now_ns() < deadline) nap_ms(5);
  rpc::kill_all(ch_);
  ch_.clear();
  names_.clear();
  slots_.clear();
  munmap(sh_, sizeof(Shared));
  sh_ = nullptr;
}

}  // namespace dvs::workloads::web
