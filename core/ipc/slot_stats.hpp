// Per-slot IPC statistics in shared memory (docs/METRICS.md).
//
// The IPC primitives run in the client processes (libdvs), not in dvsd, so they are recorded
// where they run: every slot of a DC table has a SlotStats record in a stats area that follows
// the slots in the same memfd. Only the slot's owner (the process or thread bound to it) writes
// its record, with plain relaxed load + store (no lock, no read-modify-write, no cache line that
// another process writes); dvsd reads the records when it is scraped (a collector) and sums them
// per DC, primitive and scope. Counters are never reset (a slot's totals survive its unbinding
// and are added to by the next owner), so every sum is monotonic, as Prometheus counters must be.
//
// Recording is switched by one word in the table header (TableHeader::metrics, written by dvsd):
// 0 = off (the default; the libdvs wrappers then cost one load and one branch), else on, and
// latency is timed for one call in 2^shift (the clock is read only for those: a clock read costs
// 30-180 ns on the VMs this runs on, as much as a local message). Calls, errors and bytes are
// counted for every call.
//
// Nothing here is trusted by dvsd beyond what a wrong value can do to a metric: a process can
// only falsify the statistics of the slots it could write anyway.
#pragma once

#include <time.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dvs::metrics {

enum Prim : int { kSend, kReceive, kSendrec, kNotify, kRcvrqst, kReply, kVcopy, kNrPrims };
inline constexpr const char* kPrimNames[kNrPrims] = {"send", "receive", "sendrec", "notify",
                                                     "rcvrqst", "reply", "vcopy"};
// Scope of a call: local, or through a proxy to an endpoint on another node (the caller's
// remote operation sequence advanced during the call).
inline constexpr int kNrScopes = 2;
inline constexpr const char* kScopeNames[kNrScopes] = {"local", "remote"};
// Latency buckets: bucket b counts latencies in (2^(b-1), 2^b] ns (b = 0: <= 1 ns); the last one
// everything above 2^(kNrBuckets-2) ns (~0.54 s).
inline constexpr int kNrBuckets = 31;
// Error codes counted per primitive and scope (the first kErrSlots distinct codes; later
// distinct codes are counted under code 0, "other").
inline constexpr int kErrSlots = 6;

// Header word values.
inline constexpr uint32_t kMetricsOn = 0x1;
inline constexpr uint32_t metrics_word(bool on, int sample_shift) {
  return on ? (kMetricsOn | (static_cast<uint32_t>(sample_shift & 31) << 8)) : 0u;
}
inline constexpr int sample_shift_of(uint32_t word) { return static_cast<int>((word >> 8) & 31); }

struct ErrSlot {
  std::atomic<int32_t> code;  // 0 = unused; written before count becomes non-zero
  std::atomic<uint64_t> count;
};

struct PrimStats {
  std::atomic<uint64_t> calls;
  std::atomic<uint64_t> errors;
  std::atomic<uint64_t> bytes;        // message bytes moved by successful calls (vcopy: copied)
  std::atomic<uint64_t> lat_count;    // timed calls
  std::atomic<uint64_t> lat_sum_ns;
  std::atomic<uint64_t> lat_bucket[kNrBuckets];
  ErrSlot errs[kErrSlots];
};

struct alignas(64) SlotStats {
  std::atomic<uint64_t> tick;     // calls recorded (drives the latency sampling)
  std::atomic<uint32_t> touched;  // the slot's bit is set in StatsArea::touched
  alignas(64) PrimStats p[kNrPrims][kNrScopes];
};

// The start of the stats area: which slots ever recorded (set once per slot by its owner, the
// only read-modify-write, off the measured path after the first call).
struct alignas(128) StatsArea {
  std::atomic<uint64_t> touched[(512 + 32 + 63) / 64];
};

// ---- owner-side recording (one writer per record: relaxed load + store) ----
inline void bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

inline int bucket_of(uint64_t ns) {
  if (ns <= 1) return 0;
  int b = 64 - __builtin_clzll(ns - 1);  // smallest b with 2^b >= ns
  return b < kNrBuckets - 1 ? b : kNrBuckets - 1;
}

// Upper bound of bucket b in seconds (+Inf for the last one is added by the collector).
inline double bucket_upper_s(int b) { return static_cast<double>(uint64_t{1} << b) * 1e-9; }

inline void count_error(PrimStats& ps, int32_t code) {
  bump(ps.errors);
  for (auto& e : ps.errs) {
    int32_t have = e.code.load(std::memory_order_relaxed);
    if (have == code) {
      bump(e.count);
      return;
    }
    if (have == 0) {
      e.code.store(code, std::memory_order_relaxed);
      e.count.store(e.count.load(std::memory_order_relaxed) + 1, std::memory_order_release);
      return;
    }
  }
  // all slots used by other codes: counted in errors only (the collector reports the rest as "other")
}

// Records one call of primitive p made by the owner of `s`. `area` is the table's stats area,
// `slot_bit` the slot index. `remote` says whether the call went through a proxy.
inline void record(StatsArea& area, SlotStats& s, int slot_index, Prim p, bool remote, long rc, uint64_t bytes,
                   uint64_t lat_ns, bool timed) {
  if (__builtin_expect(s.touched.load(std::memory_order_relaxed) == 0, 0)) {
    s.touched.store(1, std::memory_order_relaxed);
    area.touched[slot_index / 64].fetch_or(uint64_t{1} << (slot_index % 64), std::memory_order_release);
  }
  PrimStats& ps = s.p[p][remote ? 1 : 0];
  bump(ps.calls);
  if (rc < 0) {
    count_error(ps, static_cast<int32_t>(rc));
  } else {
    bump(ps.bytes, bytes);
  }
  if (timed) {
    bump(ps.lat_count);
    bump(ps.lat_sum_ns, lat_ns);
    bump(ps.lat_bucket[bucket_of(lat_ns)]);
  }
}

}  // namespace dvs::metrics
