#include "workloads/measure/pairs.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "workloads/measure/clock.hpp"

namespace dvs::measure {

namespace {

struct Shared {
  LoopResult res[kMaxPairs];
  char err[2 * kMaxPairs][256];
  std::atomic<uint32_t> ready{0};
  std::atomic<uint32_t> go{0};
  std::atomic<uint32_t> abort{0};  // a child failed: the others stop waiting
  uint64_t go_ns = 0;
  uint64_t end_ns[kMaxPairs] = {};
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);

void sleep_us(long us) {
  const timespec ts{us / 1'000'000, (us % 1'000'000) * 1000};
  nanosleep(&ts, nullptr);
}

std::string describe(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
  return "unknown status";
}

}  // namespace

TwoProcessOutcome run_pairs(const PairsConfig& cfg, const PairServerFn& server, const PairClientFn& client) {
  TwoProcessOutcome out;
  out.result = std::make_unique<LoopResult>();
  const int n = cfg.n;
  if (n < 1 || n > kMaxPairs) {
    out.error = fmt::format("pairs: n must be 1..{}, not {}", kMaxPairs, n);
    return out;
  }
  void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    out.error = fmt::format("mmap: {}", strerror(errno));
    return out;
  }
  auto* sh = new (mem) Shared{};

  // pids[0..n) servers, [n..2n) clients; a failed fork leaves -errno.
  std::vector<pid_t> pids;
  for (int k = 0; k < n; ++k)
    pids.push_back(spawn_measuring_child(cfg.cpus.server_cpu, sh->err[k], sizeof sh->err[k], [&](ChildCtx& ctx) -> int {
      const int rc = server(ctx, k);
      if (rc != 0) sh->abort.store(1);
      return rc;
    }));
  for (int k = 0; k < n; ++k)
    pids.push_back(spawn_measuring_child(cfg.cpus.client_cpu, sh->err[n + k], sizeof sh->err[n + k], [&](ChildCtx& ctx) -> int {
      const auto release = [&]() {
        sh->ready.fetch_add(1);
        const uint64_t deadline = now_ns() + uint64_t(cfg.release_timeout_ms) * 1'000'000u;
        while (sh->go.load(std::memory_order_acquire) == 0) {
          if (sh->abort.load() != 0 || now_ns() > deadline) return false;
          sleep_us(200);
        }
        return true;
      };
      const int rc = client(ctx, k, release, sh->res[k]);
      sh->end_ns[k] = now_ns();
      if (rc != 0) sh->abort.store(1);
      return rc;
    }));

  if (cfg.parent_after_fork) cfg.parent_after_fork();
  std::vector<int> status(pids.size(), 0);
  std::vector<bool> done(pids.size(), false), killed(pids.size(), false);
  std::vector<std::string> stuck(pids.size());
  for (size_t i = 0; i < pids.size(); ++i) done[i] = pids[i] < 0;
  const auto now_ms = [] { return int64_t(now_ns() / 1'000'000); };
  const bool all_forked = std::none_of(pids.begin(), pids.end(), [](pid_t p) { return p < 0; });
  if (!all_forked) sh->abort.store(1);
  const int64_t release_deadline = now_ms() + cfg.release_timeout_ms;
  int64_t deadline = now_ms() + cfg.timeout_ms;
  bool released = false, any_exited = false, timed_out = false;
  size_t clients_left = size_t(std::count_if(pids.begin() + n, pids.end(), [](pid_t p) { return p > 0; }));
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
    if (!released && all_forked && sh->ready.load() == uint32_t(n)) {
      sh->go_ns = now_ns();
      sh->go.store(1, std::memory_order_release);
      released = true;
    }
    if (!released && (sh->abort.load() != 0 || now_ms() > release_deadline))
      deadline = std::min<int64_t>(deadline, now_ms() + 2'000);
    if (now_ms() > deadline) {
      for (size_t i = 0; i < pids.size(); ++i)
        if (!done[i]) {
          stuck[i] = describe_stuck(pids[i]);
          kill(pids[i], SIGKILL);
          waitpid(pids[i], &status[i], 0);
          killed[i] = done[i] = true;
        }
      timed_out = !any_exited;
      break;
    }
    sleep_us(released ? 20'000 : 1'000);
  }

  std::string err;
  for (size_t i = 0; i < pids.size(); ++i) {
    const bool is_client = i >= size_t(n);
    const int k = int(is_client ? i - size_t(n) : i);
    std::string e;
    if (pids[i] < 0) {
      e = fmt::format("fork: {}", strerror(int(-pids[i])));
    } else {
      if (!killed[i] && WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0) continue;
      e = killed[i] ? (timed_out ? fmt::format("timed out after {} ms{}", cfg.timeout_ms, stuck[i]) : "killed" + stuck[i])
                    : describe(status[i]);
      if (sh->err[i][0] != '\0') e += std::string(" (") + sh->err[i] + ")";
    }
    if (err.size() < 400) err += fmt::format("{}{} {}: {}", err.empty() ? "" : "; ", is_client ? "client" : "server", k, e);
  }
  auto& r = *out.result;
  r.samples.reset();
  r.bytes_per_op = cfg.bytes_per_op;
  r.completed = err.empty();
  for (int k = 0; k < n; ++k) {
    const auto& c = sh->res[k];
    r.samples.merge(c.samples);
    if (sh->end_ns[k] > sh->go_ns && released) r.elapsed_ns = std::max(r.elapsed_ns, sh->end_ns[k] - sh->go_ns);
    r.truncated = r.truncated || c.truncated;
    if (c.error < 0 && r.error == 0) r.error = c.error;
    if (!c.completed) r.completed = false;
  }
  r.iterations = r.samples.count();
  if (err.empty() && !r.completed) err = "a client returned without completing its loop";
  out.ok = err.empty();
  out.error = err;
  sh->~Shared();
  munmap(mem, sizeof(Shared));
  return out;
}

}  // namespace dvs::measure
