// shm_pingpong: one 64-byte cache line each way in a MAP_SHARED page. See baseline.hpp.
//
// Line protocol: the writer fills the payload, then publishes by storing seq+1 (release; seq_cst
// in the futex modes). The reader waits until seq changes (acquire), then reads the payload.
// Futex modes use a `waiting` word on a separate line (Dekker with seq): the reader sets it
// before sleeping and clears it once it has seen the change; the writer wakes if it is set and
// never clears it. (A writer that cleared it with an exchange could, when preempted between its
// seq store and the exchange, take the flag the reader had already set for the NEXT round while
// the reader saw this round's seq by spinning: its wake went to nobody, the next publish found
// the flag clear, and both sides slept for good. Seen under ASan with a loaded machine.)
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <linux/futex.h>
#include <new>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include "workloads/baselines/baseline.hpp"
#include "workloads/measure/clock.hpp"

namespace dvs::baselines {

namespace {

struct alignas(64) Line {
  std::atomic<uint32_t> seq{0};
  uint32_t type = 0;  // 'P' ping, 'S' stop
  unsigned char payload[56] = {};
};
static_assert(sizeof(Line) == 64);

struct alignas(64) Flag {
  std::atomic<uint32_t> waiting{0};
};

struct Page {
  Line to_server;
  Line to_client;
  Flag server_waiting;
  Flag client_waiting;
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

long futex(std::atomic<uint32_t>* addr, int op, uint32_t val) {
  // Shared (not FUTEX_PRIVATE): the two processes map the page at different mm's.
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), op, val, nullptr, nullptr, 0);
}

// Wait until line.seq != old; returns the new value.
uint32_t wait_change(Line& line, Flag& flag, uint32_t old, ShmWait mode, uint32_t spin_ns) {
  if (mode != ShmWait::Futex) {
    uint64_t start = 0;
    for (uint32_t k = 1;; ++k) {
      const uint32_t v = line.seq.load(std::memory_order_acquire);
      if (v != old) return v;
      cpu_relax();
      if (mode == ShmWait::SpinThenFutex && (k & 63) == 0) {
        const uint64_t t = measure::now_ns();
        if (start == 0) start = t;
        else if (t - start > spin_ns) break;
      }
    }
  }
  for (;;) {
    flag.waiting.store(1, std::memory_order_seq_cst);
    const uint32_t v = line.seq.load(std::memory_order_seq_cst);
    if (v != old) {
      flag.waiting.store(0, std::memory_order_relaxed);
      return v;
    }
    futex(&line.seq, FUTEX_WAIT, old);  // EAGAIN if it changed meanwhile: loop re-checks
  }
}

void publish(Line& line, Flag& flag, uint32_t v, ShmWait mode) {
  if (mode == ShmWait::Spin) {
    line.seq.store(v, std::memory_order_release);
    return;
  }
  line.seq.store(v, std::memory_order_seq_cst);
  if (flag.waiting.load(std::memory_order_seq_cst) != 0) futex(&line.seq, FUTEX_WAKE, 1);
}

}  // namespace

const char* shm_wait_name(ShmWait w) {
  switch (w) {
    case ShmWait::Spin: return "spin";
    case ShmWait::SpinThenFutex: return "spin-then-block";
    case ShmWait::Futex: return "block";
  }
  return "?";
}

measure::TwoProcessOutcome shm_pingpong(const BaselineConfig& cfg, ShmWait mode) {
  void* mem = mmap(nullptr, sizeof(Page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                   0);
  if (mem == MAP_FAILED) {
    measure::TwoProcessOutcome o;
    o.result = std::make_unique<measure::LoopResult>();
    o.error = fmt::format("mmap: {}", strerror(errno));
    return o;
  }
  auto* page = new (mem) Page{};
  const uint32_t spin_ns = cfg.spin_ns;

  auto server = [&](measure::ChildCtx&) -> int {
    uint32_t seen = 0;
    unsigned char m[64];
    for (;;) {
      seen = wait_change(page->to_server, page->server_waiting, seen, mode, spin_ns);
      const uint32_t type = page->to_server.type;
      std::memcpy(m, page->to_server.payload, sizeof page->to_server.payload);
      std::memcpy(page->to_client.payload, m, sizeof page->to_client.payload);
      page->to_client.type = type;
      publish(page->to_client, page->client_waiting, seen, mode);
      if (type == 'S') return 0;
    }
  };
  auto client = [&](measure::ChildCtx&, measure::LoopResult& res) -> int {
    uint32_t seq = 0;
    unsigned char m[56];
    std::memset(m, 0xa5, sizeof m);
    res.bytes_per_op = kMsgBytes;
    auto round_trip = [&](uint32_t type) {
      std::memcpy(page->to_server.payload, m, sizeof m);
      page->to_server.type = type;
      ++seq;
      publish(page->to_server, page->server_waiting, seq, mode);
      while (wait_change(page->to_client, page->client_waiting, seq - 1, mode, spin_ns) != seq) {
      }
      std::memcpy(m, page->to_client.payload, sizeof m);
    };
    measure::run_timed_loop([&]() -> int { round_trip('P'); return 0; }, cfg.loop, res);
    round_trip('S');
    return 0;
  };
  auto out = measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms);
  page->~Page();
  munmap(mem, sizeof(Page));
  return out;
}

}  // namespace dvs::baselines
