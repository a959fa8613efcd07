// run_remote_pairs: n concurrent sendrec pairs across two nodes. See remote.hpp.
//
// 2n fork()ed children (servers pinned to cpus.server_cpu, clients to cpus.client_cpu, as the
// single-pair loops), bounded by cfg.timeout_ms; the parent only forks, releases and waits.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "measure/clock.hpp"
#include "pingpong/loops.hpp"
#include "pingpong/session.hpp"
#include "remote/remote.hpp"
#include "remote/session.hpp"

namespace dvs::workloads::remote {

namespace {

struct PairsShared {
  measure::LoopResult res[kMaxPairs];
  char err[2 * kMaxPairs][256];
};

void sleep_ms(int ms) {
  const timespec ts{ms / 1000, long(ms % 1000) * 1'000'000};
  nanosleep(&ts, nullptr);
}

std::string describe(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
  return "unknown status";
}

}  // namespace

measure::TwoProcessOutcome run_remote_pairs(int n, const RemoteConfig& cfg) {
  measure::TwoProcessOutcome out;
  out.result = std::make_unique<measure::LoopResult>();
  if (n < 1 || n > kMaxPairs) {
    out.error = fmt::format("pairs: n must be 1..{}, not {}", kMaxPairs, n);
    return out;
  }
  void* mem = mmap(nullptr, sizeof(PairsShared), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  SyncPage* sync = map_sync_page();
  if (mem == MAP_FAILED || sync == nullptr) {
    out.error = fmt::format("mmap: {}", strerror(errno));
    if (mem != MAP_FAILED) munmap(mem, sizeof(PairsShared));
    unmap_sync_page(sync);
    return out;
  }
  auto* sh = new (mem) PairsShared{};

  // children[0..n) servers, [n..2n) clients.
  std::vector<pid_t> pids;
  for (int k = 0; k < n; ++k) {
    const pid_t pid = measure::spawn_measuring_child(cfg.cpus.server_cpu, sh->err[k], sizeof sh->err[k],
                            [&](measure::ChildCtx& ctx) -> int {
      const int sp = cfg.server_p_nr + k, cp = cfg.client_p_nr + k;
      if (server_session(ctx, cfg, sp, &sync->server_ready[k]) < 0) {
        sync->abort.store(1);
        return 1;
      }
      int rc = drain_probe(ctx, cfg, cp, &sync->probe_taken[k]);
      if (rc == 0) rc = message_server(ctx, Primitive::SendrecReply, cp);
      close_session();
      if (rc != 0) sync->abort.store(1);
      return rc;
    });
    if (pid > 0) pids.push_back(pid);
  }
  for (int k = 0; k < n && int(pids.size()) == n + k; ++k) {
    const pid_t pid = measure::spawn_measuring_child(cfg.cpus.client_cpu, sh->err[n + k], sizeof sh->err[n + k],
                            [&](measure::ChildCtx& ctx) -> int {
      const int sp = cfg.server_p_nr + k, cp = cfg.client_p_nr + k;
      if (client_session(ctx, cfg, cp, sp, &sync->server_ready[k], &sync->probe_taken[k],
                         &sync->abort) < 0) {
        sync->abort.store(1);
        return 1;
      }
      sync->clients_ready.fetch_add(1);
      if (!wait_flag(&sync->go, &sync->abort, cfg.setup_timeout_ms + 5'000)) {
        close_session();
        return ctx.fail("client %d: not released (another child failed)", k);
      }
      const int rc = message_client(ctx, Primitive::SendrecReply, sp, cfg.loop, sh->res[k]);
      sync->end_ns[k] = measure::now_ns();
      close_session();
      if (rc != 0) sync->abort.store(1);
      return rc;
    });
    if (pid > 0) pids.push_back(pid);
  }

  std::vector<int> status(pids.size(), 0);
  std::vector<bool> done(pids.size(), false), killed(pids.size(), false);
  std::vector<std::string> stuck(pids.size());
  const auto now_ms = [] { return int64_t(measure::now_ns() / 1'000'000); };
  const int64_t release_deadline = now_ms() + cfg.setup_timeout_ms + 5'000;
  int64_t deadline = now_ms() + cfg.timeout_ms;
  bool released = false, any_exited = false, timed_out = false;
  size_t clients_left = pids.size() > size_t(n) ? pids.size() - size_t(n) : 0;
  for (;;) {
    size_t left = 0;
    for (size_t i = 0; i < pids.size(); ++i) {
      if (done[i]) continue;
      if (waitpid(pids[i], &status[i], WNOHANG) == pids[i]) {
        done[i] = true;
        any_exited = true;
        if (i >= size_t(n) && --clients_left == 0)  // servers get a grace period
          deadline = std::min<int64_t>(deadline, now_ms() + 3'000);
      } else {
        ++left;
      }
    }
    if (left == 0) break;
    if (!released && int(pids.size()) == 2 * n &&
        sync->clients_ready.load() == uint32_t(n)) {
      sync->go_ns = measure::now_ns();
      sync->go.store(1, std::memory_order_release);
      released = true;
    }
    if (!released && (sync->abort.load() != 0 || now_ms() > release_deadline))
      deadline = std::min<int64_t>(deadline, now_ms() + 2'000);
    if (now_ms() > deadline) {
      for (size_t i = 0; i < pids.size(); ++i)
        if (!done[i]) {
          stuck[i] = measure::describe_stuck(pids[i]);
          kill(pids[i], SIGKILL);
          waitpid(pids[i], &status[i], 0);
          killed[i] = done[i] = true;
        }
      timed_out = !any_exited;
      break;
    }
    sleep_ms(released ? 20 : 1);
  }

  std::string err;
  if (int(pids.size()) != 2 * n) err = fmt::format("fork failed after {} children", pids.size());
  for (size_t i = 0; i < pids.size(); ++i) {
    const bool ok = !killed[i] && WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0;
    if (ok) continue;
    const bool is_client = i >= size_t(n);
    const int k = int(is_client ? i - size_t(n) : i);
    std::string e = fmt::format("{} {}: {}", is_client ? "client" : "server", k,
                                killed[i] ? (timed_out ? fmt::format("timed out after {} ms{}", cfg.timeout_ms, stuck[i])
                                                       : std::string("killed"))
                                          : describe(status[i]));
    if (sh->err[i][0] != '\0') e += std::string(" (") + sh->err[i] + ")";
    if (err.size() < 400) err += (err.empty() ? "" : "; ") + e;
  }
  // Aggregate: all timed round trips over the common window, from the release to the end of the
  // last client (its warm-up and stop message included: the rate is, if anything, understated).
  auto& r = *out.result;
  r.samples.reset();
  r.bytes_per_op = DVS_MSG_SIZE;
  r.completed = err.empty();
  for (int k = 0; k < n; ++k) {
    const auto& c = sh->res[k];
    r.samples.merge(c.samples);
    if (sync->end_ns[k] > sync->go_ns) r.elapsed_ns = std::max(r.elapsed_ns, sync->end_ns[k] - sync->go_ns);
    r.truncated = r.truncated || c.truncated;
    if (c.error < 0 && r.error == 0) r.error = c.error;
    if (!c.completed) r.completed = false;
  }
  r.iterations = r.samples.count();
  if (err.empty() && !r.completed) err = "a client returned without completing its loop";
  out.ok = err.empty();
  out.error = err;
  sh->~PairsShared();
  munmap(mem, sizeof(PairsShared));
  unmap_sync_page(sync);
  return out;
}

}  // namespace dvs::workloads::remote
