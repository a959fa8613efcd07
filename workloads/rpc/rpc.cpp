// run_rpc: fork the servers, then the clients, release them together, collect. See rpc.hpp.
#include "workloads/rpc/rpc.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <new>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "workloads/measure/clock.hpp"
#include "workloads/rpc/children.hpp"
#include "workloads/rpc/endpoints.hpp"

namespace dvs::workloads::rpc {

const char* loop_name(Loop l) { return l == Loop::Closed ? "closed" : "open"; }
const char* arrivals_name(Arrivals a) { return a == Arrivals::Fixed ? "fixed" : "poisson"; }
const char* service_name(Service s) {
  return s == Service::None ? "none" : s == Service::Fixed ? "fixed" : "exp";
}
std::optional<Loop> parse_loop(const std::string& s) {
  if (s == "closed") return Loop::Closed;
  if (s == "open") return Loop::Open;
  return std::nullopt;
}
std::optional<Arrivals> parse_arrivals(const std::string& s) {
  if (s == "fixed") return Arrivals::Fixed;
  if (s == "poisson") return Arrivals::Poisson;
  return std::nullopt;
}
std::optional<Service> parse_service(const std::string& s) {
  if (s == "none") return Service::None;
  if (s == "fixed") return Service::Fixed;
  if (s == "exp" || s == "exponential") return Service::Exponential;
  return std::nullopt;
}

namespace {

constexpr uint64_t kMs = 1'000'000u;
// Per-second histograms of all clients together may use at most this many (57 KiB each).
constexpr uint64_t kMaxSecondHistograms = 1024;

int seconds_kept(const RpcConfig& c) {
  return int(std::ceil(c.duration_s + (c.loop == Loop::Open ? c.drain_s : 0))) + 1;
}

size_t block_size(int nsec) { return sizeof(ClientBlock) + size_t(nsec) * sizeof(stats::Histogram); }

void* map_shared(size_t len) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// Wait (polling every poll_ms) until pred() or every child of [from, to) is done or a failure
// (any child failed, or ctl.abort) or the deadline. Returns pred().
template <class Pred>
bool wait_for(std::vector<Child>& ch, size_t from, size_t to, Control& ctl, uint64_t deadline,
              int poll_ms, Pred&& pred) {
  for (;;) {
    if (pred()) return true;
    reap(ch, 0, ch.size());
    const bool all = reap(ch, from, to);
    if (all || ctl.abort.load() != 0 || measure::now_ns() > deadline ||
        std::any_of(ch.begin(), ch.end(), failed))
      return pred();
    const timespec ts{0, long(poll_ms) * 1'000'000};
    nanosleep(&ts, nullptr);
  }
}

std::string child_error(const Child& c, const char* what, int idx, const char* err) {
  std::string e = fmt::format("{} {}: ", what, idx);
  if (c.killed) e += "killed (did not finish in time)";
  else if (WIFEXITED(c.status)) e += fmt::format("exit status {}", WEXITSTATUS(c.status));
  else if (WIFSIGNALED(c.status)) e += fmt::format("signal {}", WTERMSIG(c.status));
  if (err[0] != '\0') e += fmt::format(" ({})", err);
  return e;
}

}  // namespace

std::string validate(const RpcConfig& c) {
  if (c.servers < 1 || c.servers > kMaxServers) return fmt::format("servers must be 1..{}, not {}", kMaxServers, c.servers);
  if (c.clients < 1 || c.clients > kMaxClients) return fmt::format("clients must be 1..{}, not {}", kMaxClients, c.clients);
  if (c.outstanding < 1 || c.outstanding > kMaxOutstanding)
    return fmt::format("outstanding must be 1..{}, not {}", kMaxOutstanding, c.outstanding);
  if (c.clients * c.outstanding > kMaxEndpoints)
    return fmt::format("clients x outstanding must be at most {} endpoints, not {}", kMaxEndpoints, c.clients * c.outstanding);
  if (!(c.duration_s > 0) || c.duration_s > kMaxDurationS)
    return fmt::format("duration must be in (0, {}] s, not {}", kMaxDurationS, c.duration_s);
  if (!(c.drain_s >= 0) || c.drain_s > kMaxDurationS) return fmt::format("drain must be in [0, {}] s", kMaxDurationS);
  if (c.loop == Loop::Open && !(c.rate > 0 && std::isfinite(c.rate)))
    return fmt::format("the open loop needs a rate > 0 requests/s, not {}", c.rate);
  if (c.request_bytes > kMaxPayload || c.reply_bytes > kMaxPayload)
    return fmt::format("payloads must be at most {} bytes", kMaxPayload);
  if (c.service != Service::None && c.service_ns == 0) return "a service-time model needs a service time > 0";
  if (c.stall_server >= c.servers) return fmt::format("stall server {} does not exist ({} servers)", c.stall_server, c.servers);
  if (uint64_t(seconds_kept(c)) * uint64_t(c.clients) > kMaxSecondHistograms)
    return fmt::format("clients x seconds ({} x {}) above {}: shorten the run or use fewer client processes",
                       c.clients, seconds_kept(c), kMaxSecondHistograms);
  if (c.client_socket.empty() || c.server_socket.empty()) return "no dvsd socket";
  return "";
}

RpcResult run_rpc(const RpcConfig& cfg) {
  RpcResult out;
  out.latency = std::make_unique<stats::Histogram>();
  if (out.error = validate(cfg); !out.error.empty()) return out;
  const int nsec = seconds_kept(cfg);
  const size_t blen = block_size(nsec);
  auto* ctl = static_cast<Control*>(map_shared(sizeof(Control)));
  void* blocks = map_shared(blen * size_t(cfg.clients));
  if (ctl == nullptr || blocks == nullptr) {
    out.error = fmt::format("mmap: {}", strerror(errno));
    if (ctl) munmap(ctl, sizeof(Control));
    if (blocks) munmap(blocks, blen * size_t(cfg.clients));
    return out;
  }
  new (ctl) Control{};
  auto block = [&](int c) { return reinterpret_cast<ClientBlock*>(static_cast<char*>(blocks) + blen * size_t(c)); };
  for (int c = 0; c < cfg.clients; ++c) {
    ClientBlock* b = new (block(c)) ClientBlock{};
    for (int s = 0; s < nsec; ++s) new (b->second(s)) stats::Histogram();
  }

  const size_t S = size_t(cfg.servers), C = size_t(cfg.clients);
  std::vector<Child> ch;  // servers, then clients
  std::string err;
  auto spawn = [&](size_t i, auto&& body) {
    const pid_t pid = fork_child(ctl->err[i], sizeof ctl->err[i], body);
    if (pid < 0) {
      err = fmt::format("fork: {}", strerror(int(-pid)));
      return false;
    }
    ch.push_back(Child{pid});
    return true;
  };
  uint64_t setup_deadline = measure::now_ns() + uint64_t(cfg.setup_timeout_ms) * kMs;
  size_t n = 0;
  for (; n < S && err.empty(); n = ch.size())
    if (!spawn(n, [&, k = int(n)](measure::ChildCtx& ctx) { return server_main(cfg, *ctl, k, ctx); })) break;
  bool up = err.empty() && wait_for(ch, 0, n, *ctl, setup_deadline, 1, [&] {
    return ctl->servers_ready.load() == uint32_t(cfg.servers);
  });
  if (up) {
    for (; n < S + C && err.empty(); n = ch.size()) {
      const int c = int(n - S);
      if (!spawn(n, [&, c](measure::ChildCtx& ctx) { return client_main(cfg, *ctl, c, *block(c), nsec, ctx); })) break;
    }
    setup_deadline = measure::now_ns() + uint64_t(cfg.setup_timeout_ms + 5'000) * kMs;
    up = err.empty() && wait_for(ch, 0, n, *ctl, setup_deadline, 1, [&] {
      return ctl->clients_ready.load() == uint32_t(cfg.clients * cfg.outstanding);
    });
  }
  if (up) {
    ctl->go_ns = measure::now_ns() + 2 * kMs;
    ctl->go.store(1, std::memory_order_release);
    const double tail_s = (cfg.loop == Loop::Open ? cfg.drain_s : 0) + double(cfg.stall_ns) / 1e9 +
                          cfg.request_timeout_ms / 1e3 + 5;
    const uint64_t deadline = ctl->go_ns + uint64_t((cfg.duration_s + tail_s) * 1e9);
    wait_for(ch, S, n, *ctl, deadline, 20, [] { return false; });
  } else {
    ctl->abort.store(1);
  }
  // Clients done (or given up on): let the servers go, then bound everything.
  const bool clients_timed_out = !reap(ch, S, n) && up;
  const uint64_t grace = measure::now_ns() + (clients_timed_out ? 0 : 3'000 * kMs);
  while (!reap(ch, S, n) && measure::now_ns() < grace) {
    const timespec ts{0, 5'000'000};
    nanosleep(&ts, nullptr);
  }
  ctl->stop.store(1, std::memory_order_release);
  const uint64_t server_grace = measure::now_ns() + 3'000 * kMs;
  while (!reap(ch, 0, n) && measure::now_ns() < server_grace) {
    const timespec ts{0, 5'000'000};
    nanosleep(&ts, nullptr);
  }
  kill_all(ch);

  for (size_t i = 0; i < n; ++i) {
    if (!failed(ch[i]) || err.size() > 400) continue;
    const bool server = i < S;
    err += (err.empty() ? "" : "; ") +
           child_error(ch[i], server ? "server" : "client", int(server ? i : i - S), ctl->err[i]);
  }
  if (err.empty() && !up) err = "setup did not complete in time";

  // Collect.
  out.served.resize(S);
  for (size_t k = 0; k < S; ++k) {
    out.served[k] = ctl->served[k].load();
    out.vcopies += ctl->vcopies[k].load();
    out.verify_failures += ctl->server_verify_failures[k].load();
  }
  out.stalls = ctl->stalls.load();
  std::vector<stats::Histogram> secs(static_cast<size_t>(nsec));
  uint64_t last_done = 0;
  for (int c = 0; c < cfg.clients && up; ++c) {
    ClientBlock* b = block(c);
    out.latency->merge(b->total);
    for (int s = 0; s < nsec; ++s) secs[size_t(s)].merge(*b->second(s));
    out.completed += b->completed;
    out.unsent += b->unsent;
    out.failed += b->failed;
    out.verify_failures += b->verify_failures;
    out.request_payload_bytes += b->request_bytes;
    out.reply_payload_bytes += b->reply_bytes;
    last_done = std::max(last_done, b->last_done_ns);
  }
  int last = nsec - 1;
  while (last >= 0 && secs[size_t(last)].count() == 0) --last;
  for (int s = 0; s <= last; ++s)
    out.seconds.push_back({double(s), secs[size_t(s)].count(), secs[size_t(s)].summary()});
  if (up && last_done > ctl->go_ns) out.elapsed_ns = last_done - ctl->go_ns;
  out.offered_rps = cfg.loop == Loop::Open ? cfg.rate : 0;
  out.throughput_rps = out.elapsed_ns > 0 ? double(out.completed) * 1e9 / double(out.elapsed_ns) : 0;
  if (err.empty() && out.completed == 0) err = "no request completed";
  out.error = err;
  out.ok = err.empty();

  for (int c = 0; c < cfg.clients; ++c) block(c)->~ClientBlock();
  munmap(blocks, blen * size_t(cfg.clients));
  ctl->~Control();
  munmap(ctl, sizeof(Control));
  return out;
}

}  // namespace dvs::workloads::rpc
