// dvsd's metrics options (docs/METRICS.md): --metrics-port serves /metrics (and turns IPC
// recording on in every DC table it hosts), --metrics-record records without serving,
// --metrics-sample sets how many calls share one latency timing. DVS_METRICS_RECORD=1 in the
// environment is --metrics-record (for programs that start their own dvsd).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/dvsd/metrics_collector.hpp"

namespace dvs::dvsd {
class ProxySet;
}

namespace dvs::metrics {

struct DvsdMetricsOptions {
  std::string listen;        // "" / "0" = no exporter; "PORT" = 127.0.0.1:PORT; "ADDRESS:PORT"
  bool record = false;       // record even without an exporter
  bool no_record = false;    // serve without recording IPC calls (links and gauges only)
  unsigned sample = 64;      // time one call in this many (a power of two)
};

void add_dvsd_metrics_options(CLI::App& app, DvsdMetricsOptions* o);
// Writes the recording word into every table and starts the exporter if asked. "" or a reason.
std::string start_dvsd_metrics(const DvsdMetricsOptions& o, int node_id, std::vector<core::DcTable*> tables,
                               dvsd::ProxySet* proxies, Exporter* exporter);

}  // namespace dvs::metrics
