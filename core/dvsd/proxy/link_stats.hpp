// Counters of one dvsd link to a peer node (docs/METRICS.md), bumped by the proxy threads and
// read by dvsd's metrics collector. Off the local IPC path; relaxed atomics.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dvs::metrics {

struct LinkStats {
  std::atomic<uint32_t> up{0};
  std::atomic<uint64_t> ups{0};  // times the link came up (reconnects = ups - 1)
  std::atomic<uint64_t> tx_bytes{0}, tx_frames{0}, tx_errors{0};
  std::atomic<uint64_t> rx_bytes{0}, rx_frames{0};

  void sent(int rc, size_t bytes) {
    if (rc == 0) {
      tx_bytes.fetch_add(bytes, std::memory_order_relaxed);
      tx_frames.fetch_add(1, std::memory_order_relaxed);
    } else {
      tx_errors.fetch_add(1, std::memory_order_relaxed);
    }
  }
  void received(long bytes) {
    if (bytes <= 0) return;
    rx_bytes.fetch_add(static_cast<uint64_t>(bytes), std::memory_order_relaxed);
    rx_frames.fetch_add(1, std::memory_order_relaxed);
  }
  void set_up(bool u) {
    up.store(u ? 1 : 0, std::memory_order_relaxed);
    if (u) ups.fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace dvs::metrics
