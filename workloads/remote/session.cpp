// Remote loop sessions: see session.hpp.
#include "workloads/remote/session.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>

#include "workloads/measure/clock.hpp"
#include "workloads/pingpong/session.hpp"

namespace dvs::workloads::remote {

namespace {
void sleep_us(long us) {
  const timespec ts{us / 1'000'000, (us % 1'000'000) * 1000};
  nanosleep(&ts, nullptr);
}

uint64_t deadline_after(int ms) { return measure::now_ns() + uint64_t(ms) * 1'000'000u; }

// Moves this (single-threaded, forked) process into network namespace `name` for good. "" or
// why not.
std::string enter_netns(const std::string& name) {
  const int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open network namespace " + name + ": " + strerror(errno);
  const int rc = setns(fd, CLONE_NEWNET);
  const int err = errno;
  close(fd);
  return rc == 0 ? "" : "cannot enter network namespace " + name + ": " + strerror(err);
}

int open_in_netns(measure::ChildCtx& ctx, const RemoteConfig& cfg, const std::string& sock,
                   const std::string& netns, int p_nr, const char* role) {
  if (!netns.empty())
    if (std::string e = enter_netns(netns); !e.empty()) {
      ctx.fail("%s: %s", role, e.c_str());
      return -1;
    }
  return workloads::open_and_bind(ctx, sock, cfg.dc, p_nr, cfg.wait, cfg.spin_ns, cfg.setup_timeout_ms, role);
}
}  // namespace

SyncPage* map_sync_page() {
  void* mem = mmap(nullptr, sizeof(SyncPage), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  auto* s = new (mem) SyncPage;
  for (auto& r : s->server_ready) r.store(0);
  for (auto& r : s->probe_taken) r.store(0);
  s->abort.store(0);
  return s;
}

void unmap_sync_page(SyncPage* s) {
  if (s == nullptr) return;
  s->~SyncPage();
  munmap(s, sizeof(SyncPage));
}

bool wait_flag(const std::atomic<uint32_t>* flag, const std::atomic<uint32_t>* abort,
               int timeout_ms) {
  const uint64_t deadline = deadline_after(timeout_ms);
  while (flag->load(std::memory_order_acquire) == 0) {
    if ((abort != nullptr && abort->load() != 0) || measure::now_ns() > deadline) return false;
    sleep_us(200);
  }
  return true;
}

int server_session(measure::ChildCtx& ctx, const RemoteConfig& cfg, int p_nr,
                   std::atomic<uint32_t>* ready) {
  const int ep = open_in_netns(ctx, cfg, cfg.server_socket, cfg.server_netns, p_nr, "server");
  if (ep >= 0 && ready != nullptr) ready->store(1, std::memory_order_release);
  return ep;
}

int drain_probe(measure::ChildCtx& ctx, const RemoteConfig& cfg, int client_ep,
                std::atomic<uint32_t>* taken) {
  (void)client_ep;  // received from ANY: the client slot here is bound by that very notify
  dvs_message_t m{};
  const int rc = dvs_receive_T(DVS_ANY, &m, cfg.setup_timeout_ms);
  if (rc < 0) return ctx.fail("server: waiting for the client's link probe: %s", dvs_err(rc));
  if (!DVS_IS_NOTIFY(m.m_type))
    return ctx.fail("server: expected the link probe (a notify), got m_type %#x",
                    unsigned(m.m_type));
  if (taken != nullptr) taken->store(1, std::memory_order_release);
  return 0;
}

int client_session(measure::ChildCtx& ctx, const RemoteConfig& cfg, int p_nr, int server_p_nr,
                   const std::atomic<uint32_t>* server_ready,
                   const std::atomic<uint32_t>* probe_taken, const std::atomic<uint32_t>* abort) {
  const int ep = open_in_netns(ctx, cfg, cfg.client_socket, cfg.client_netns, p_nr, "client");
  if (ep < 0) return -1;
  int rc = dvs_rmtbind(cfg.dc, server_p_nr, cfg.server_node);
  if (rc < 0) {
    ctx.fail("client: dvs_rmtbind(dc %d, ep %d, node %d): %s", cfg.dc, server_p_nr,
             cfg.server_node, dvs_err(rc));
    return -1;
  }
  if (server_ready != nullptr && !wait_flag(server_ready, abort, cfg.setup_timeout_ms)) {
    ctx.fail("client: the server (p_nr %d) did not bind within %d ms", server_p_nr,
             cfg.setup_timeout_ms);
    return -1;
  }
  // The link comes up asynchronously: EDVSNOTCONN until both proxies have it.
  const uint64_t deadline = deadline_after(cfg.setup_timeout_ms);
  for (;;) {
    rc = dvs_notify(server_p_nr);
    if (rc != EDVSNOTCONN || measure::now_ns() > deadline) break;
    sleep_us(10'000);
  }
  if (rc < 0) {
    ctx.fail("client: link probe (notify to %d on node %d): %s", server_p_nr, cfg.server_node,
             dvs_err(rc));
    return -1;
  }
  if (probe_taken != nullptr && !wait_flag(probe_taken, abort, cfg.setup_timeout_ms)) {
    ctx.fail("client: the server did not receive the link probe within %d ms", cfg.setup_timeout_ms);
    return -1;
  }
  return ep;
}

}  // namespace dvs::workloads::remote
