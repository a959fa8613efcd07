// A Prometheus collector over DC tables and dvsd links (docs/METRICS.md). It reads the per-slot
// statistics the client processes record in shared memory (slot_stats.hpp) and dvsd's link
// counters (link_stats.hpp) only when scraped, and builds the metric families then: nothing is
// observed per event.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "core/dvsd/proxy/link_stats.hpp"
#include "core/ipc/shm_table.hpp"

namespace prometheus {
class Exposer;
}

namespace dvs::metrics {

struct LinkView {
  int peer = -1;
  std::string transport;  // URI scheme ("tcp", "shm", ...)
  const LinkStats* stats = nullptr;
};

class Collector : public prometheus::Collectable {
 public:
  int node_id = 0;
  // The tables to read (called at every scrape).
  std::function<std::vector<core::DcTable*>()> tables;
  // The links to report (dvsd only; empty = none).
  std::function<std::vector<LinkView>()> links;
  // Process exporter: only the slots this pid is bound to now (0 = every slot that ever recorded,
  // dvsd's view). A process view also reports the table-wide gauges of nothing but its slots.
  pid_t only_pid = 0;

  std::vector<prometheus::MetricFamily> Collect() const override;
};

// An HTTP endpoint (prometheus-cpp's Exposer) serving /metrics from collectors.
class Exporter {
 public:
  Exporter();
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;
  // listen: "PORT" (127.0.0.1:PORT) or "ADDRESS:PORT". "" on success, else a one-line reason.
  std::string start(const std::string& listen, std::shared_ptr<prometheus::Collectable> collector);
  // The port actually bound (0 before start).
  int port() const;

 private:
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Collectable> collector_;
};

// "PORT" -> "127.0.0.1:PORT"; "ADDRESS:PORT" kept. "" if malformed.
std::string listen_address(const std::string& spec);

}  // namespace dvs::metrics
