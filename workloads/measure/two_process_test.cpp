// run_two_process: its bounds and what it reports when a child does not finish.
#include "workloads/measure/two_process.hpp"

#include <atomic>
#include <climits>
#include <linux/futex.h>
#include <new>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace dvs::measure {
namespace {

TEST(TwoProcess, BothChildrenDoneIsOk) {
  const auto out = run_two_process(
      CpuPair{}, [](ChildCtx&) { return 0; },
      [](ChildCtx&, LoopResult& r) {
        run_timed_loop([] { return 0; }, LoopConfig{0, 10, 0}, r);
        return 0;
      },
      5'000);
  EXPECT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.result->iterations, 10u);
}

// Both sides asleep on a futex nobody wakes: the run ends at the timeout, and the error says
// where each child was (the futex wait), so a lost wake-up is told apart from a busy loop.
TEST(TwoProcess, TimeoutSaysWhereEachChildWasStuck) {
  void* mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* word = new (mem) std::atomic<uint32_t>{0};
  auto sleep_forever = [word] {
    for (;;) syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, 0, nullptr, nullptr, 0);
  };
  const auto out = run_two_process(
      CpuPair{}, [&](ChildCtx&) -> int { sleep_forever(); return 1; },
      [&](ChildCtx&, LoopResult&) -> int { sleep_forever(); return 1; }, 300);
  munmap(mem, 4096);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("client timed out after 300 ms (state S"), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("server timed out after 300 ms (state S"), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("syscall " + std::to_string(SYS_futex)), std::string::npos) << out.error;
}

}  // namespace
}  // namespace dvs::measure
