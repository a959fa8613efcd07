// Microbenchmarks of the copies on dvs's bulk paths: memcpy within a process (the floor),
// process_vm_readv / process_vm_writev from / into another process (what dvsd does for a remote
// vcopy's local party, and what a local vcopy costs), by block size. The other process is a
// forked child that only sleeps; its copy of the buffer is the remote side. Bytes/s are counted
// one way.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace {

constexpr size_t kMaxBlock = size_t{1} << 20;

// A child holding a kMaxBlock buffer at the same address as ours (fork), killed at exit.
struct Peer {
  std::vector<char> buf = std::vector<char>(kMaxBlock, 'x');
  pid_t pid = -1;
  Peer() {
    pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
  }
  ~Peer() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

Peer& peer() {
  static Peer p;
  return p;
}

void BM_Memcpy(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<char> src(n, 'a'), dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}
BENCHMARK(BM_Memcpy)->RangeMultiplier(4)->Range(64, kMaxBlock);

void process_vm(benchmark::State& state, bool read) {
  Peer& p = peer();
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<char> local(n, 'b');
  for (auto _ : state) {
    iovec l{local.data(), n};
    iovec r{p.buf.data(), n};
    const ssize_t got = read ? process_vm_readv(p.pid, &l, 1, &r, 1, 0) : process_vm_writev(p.pid, &l, 1, &r, 1, 0);
    if (got != static_cast<ssize_t>(n)) {
      state.SkipWithError(read ? "process_vm_readv failed" : "process_vm_writev failed");
      break;
    }
    benchmark::DoNotOptimize(local.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}
void BM_ProcessVmReadv(benchmark::State& state) { process_vm(state, true); }
void BM_ProcessVmWritev(benchmark::State& state) { process_vm(state, false); }
BENCHMARK(BM_ProcessVmReadv)->RangeMultiplier(4)->Range(64, kMaxBlock);
BENCHMARK(BM_ProcessVmWritev)->RangeMultiplier(4)->Range(64, kMaxBlock);

}  // namespace

BENCHMARK_MAIN();
