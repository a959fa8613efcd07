// The libdvs side of IPC metrics: wraps one primitive call of a bound caller (docs/METRICS.md).
// Off (the default): one relaxed load of the table header's metrics word and a branch. On: the
// caller's own SlotStats record is updated with relaxed loads and stores (it is the only writer),
// and one call in 2^shift is timed.
#pragma once

#include <cstdint>

#include "core/ipc/primitives.hpp"
#include "core/ipc/slot_stats.hpp"

namespace dvs::metrics {

template <class F>
[[gnu::noinline]] long metered_on(core::Caller& c, Prim p, uint64_t bytes, uint32_t word, F& f) {
  core::Slot& self = c.table->slot(c.index);
  SlotStats& st = c.table->slot_stats(c.index);
  const uint64_t tick = st.tick.load(std::memory_order_relaxed);
  st.tick.store(tick + 1, std::memory_order_relaxed);
  const bool timed = (tick & ((uint64_t{1} << sample_shift_of(word)) - 1)) == 0;
  const uint32_t seq0 = self.op_seq.load(std::memory_order_relaxed);
  const uint64_t t0 = timed ? now_ns() : 0;
  const long rc = f();
  const uint64_t dt = timed ? now_ns() - t0 : 0;
  const bool remote = self.op_seq.load(std::memory_order_relaxed) != seq0;
  const uint64_t moved = p == kVcopy ? (rc > 0 ? static_cast<uint64_t>(rc) : 0) : bytes;
  record(c.table->stats_area(), st, c.index, p, remote, rc, moved, dt, timed);
  return rc;
}

template <class F>
inline long metered(core::Caller& c, Prim p, uint64_t bytes, F&& f) {
  const uint32_t word = c.table->header().metrics.load(std::memory_order_relaxed);
  if (__builtin_expect(word == 0, 1)) return f();
  return metered_on(c, p, bytes, word, f);
}

}  // namespace dvs::metrics
