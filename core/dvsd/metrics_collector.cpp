#include "core/dvsd/metrics_collector.hpp"

#include <prometheus/exposer.h>

#include <array>
#include <limits>
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "dvs/dvs.h"

namespace dvs::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr auto kRelaxed = std::memory_order_relaxed;

MetricFamily family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

ClientMetric& add(MetricFamily& f, std::vector<ClientMetric::Label> labels) {
  f.metric.emplace_back();
  f.metric.back().label = std::move(labels);
  return f.metric.back();
}

// Sums of one (primitive, scope) over the slots of a table.
struct Sum {
  uint64_t calls = 0, errors = 0, bytes = 0, lat_count = 0, lat_sum_ns = 0;
  std::array<uint64_t, kNrBuckets> buckets{};
  std::map<int32_t, uint64_t> errs;  // code -> count (0 = codes past the per-slot slots)
};

void add_slot(const SlotStats& s, std::array<std::array<Sum, kNrScopes>, kNrPrims>& sums) {
  for (int p = 0; p < kNrPrims; ++p)
    for (int sc = 0; sc < kNrScopes; ++sc) {
      const PrimStats& ps = s.p[p][sc];
      Sum& sum = sums[p][sc];
      sum.calls += ps.calls.load(kRelaxed);
      const uint64_t errors = ps.errors.load(kRelaxed);
      sum.errors += errors;
      sum.bytes += ps.bytes.load(kRelaxed);
      sum.lat_count += ps.lat_count.load(kRelaxed);
      sum.lat_sum_ns += ps.lat_sum_ns.load(kRelaxed);
      for (int b = 0; b < kNrBuckets; ++b) sum.buckets[b] += ps.lat_bucket[b].load(kRelaxed);
      uint64_t named = 0;
      for (const auto& e : ps.errs) {
        const uint64_t n = e.count.load(std::memory_order_acquire);
        const int32_t code = e.code.load(kRelaxed);
        if (n == 0 || code >= 0) continue;
        sum.errs[code] += n;
        named += n;
      }
      if (errors > named) sum.errs[0] += errors - named;
    }
}

// Length of a slot's sender queue (a lock-free peek, bounded: a corrupt chain stops the walk).
int queue_length(core::DcTable& t, int index) {
  int n = 0;
  int at = t.slot(index).q_head.load(kRelaxed);
  const int limit = t.geometry().total_slots();
  while (at >= 0 && at < limit && n < limit) {
    ++n;
    at = t.slot(at).q_next.load(kRelaxed);
  }
  return n;
}

}  // namespace

std::vector<MetricFamily> Collector::Collect() const {
  MetricFamily calls = family("dvs_ipc_calls_total", "IPC primitive calls made by local processes", MetricType::Counter);
  MetricFamily errors = family("dvs_ipc_errors_total", "IPC primitive calls that failed, by error code", MetricType::Counter);
  MetricFamily bytes = family("dvs_ipc_bytes_total", "Message and copy bytes moved by successful IPC calls", MetricType::Counter);
  MetricFamily latency = family("dvs_ipc_latency_seconds",
                                "IPC call latency in the caller (sampled: one call in 2^shift is timed)",
                                MetricType::Histogram);
  MetricFamily endpoints = family("dvs_dc_endpoints", "Bound slots of a DC table on this node", MetricType::Gauge);
  MetricFamily blocked = family("dvs_ipc_blocked_processes", "Local endpoints blocked in an IPC call", MetricType::Gauge);
  MetricFamily sendq = family("dvs_ipc_sender_queue_depth", "Senders queued to local endpoints, all endpoints together",
                              MetricType::Gauge);
  MetricFamily proxyq = family("dvs_proxy_queue_depth", "Local callers queued for a peer node's proxy", MetricType::Gauge);
  MetricFamily recording = family("dvs_metrics_recording", "1 if IPC metrics recording is on in this DC table",
                                  MetricType::Gauge);
  MetricFamily sample = family("dvs_metrics_latency_sample_ratio", "Fraction of IPC calls whose latency is timed",
                               MetricType::Gauge);

  const std::string node = std::to_string(node_id);
  std::vector<core::DcTable*> ts = tables ? tables() : std::vector<core::DcTable*>{};
  for (core::DcTable* t : ts) {
    if (!t || !t->mapped()) continue;
    const core::DcGeometry& g = t->geometry();
    const std::string dc = std::to_string(g.dcid);
    const uint32_t word = t->header().metrics.load(kRelaxed);
    add(recording, {{"dc", dc}, {"node", node}}).gauge.value = (word & kMetricsOn) ? 1 : 0;
    add(sample, {{"dc", dc}, {"node", node}}).gauge.value =
        (word & kMetricsOn) ? 1.0 / static_cast<double>(uint64_t{1} << sample_shift_of(word)) : 0;

    std::array<std::array<Sum, kNrScopes>, kNrPrims> sums{};
    int local = 0, remote = 0, sending = 0, receiving = 0, queued = 0;
    const int nr = g.nr_slots();
    for (int i = 0; i < g.total_slots(); ++i) {
      core::Slot& s = t->slot(i);
      const bool mine = only_pid == 0 || s.lpid.load(kRelaxed) == only_pid;
      if (i < nr && mine) {
        const uint32_t f = s.flags.load(kRelaxed);
        if (!(f & DVS_SLOT_FREE)) {
          if (f & DVS_REMOTE) {
            ++remote;
          } else {
            ++local;
            if (f & DVS_SENDING) ++sending;
            if (f & DVS_RECEIVING) ++receiving;
            queued += queue_length(*t, i);
          }
        }
      }
      const bool touched = (t->stats_area().touched[i / 64].load(std::memory_order_acquire) >> (i % 64)) & 1u;
      if (touched && (only_pid == 0 || (mine && i < nr))) add_slot(t->slot_stats(i), sums);
    }
    add(endpoints, {{"dc", dc}, {"node", node}, {"kind", "local"}}).gauge.value = local;
    add(endpoints, {{"dc", dc}, {"node", node}, {"kind", "remote"}}).gauge.value = remote;
    add(blocked, {{"dc", dc}, {"node", node}, {"state", "sending"}}).gauge.value = sending;
    add(blocked, {{"dc", dc}, {"node", node}, {"state", "receiving"}}).gauge.value = receiving;
    add(sendq, {{"dc", dc}, {"node", node}}).gauge.value = queued;
    if (only_pid == 0)
      for (int n = 0; n < DVS_NR_NODES; ++n)
        if (n != g.node_id && t->spans(n))
          add(proxyq, {{"dc", dc}, {"node", node}, {"peer", std::to_string(n)}}).gauge.value =
              queue_length(*t, g.proxy_index(n));

    for (int p = 0; p < kNrPrims; ++p)
      for (int sc = 0; sc < kNrScopes; ++sc) {
        const Sum& s = sums[p][sc];
        const std::vector<ClientMetric::Label> l = {
            {"dc", dc}, {"node", node}, {"primitive", kPrimNames[p]}, {"scope", kScopeNames[sc]}};
        add(calls, l).counter.value = static_cast<double>(s.calls);
        add(bytes, l).counter.value = static_cast<double>(s.bytes);
        for (const auto& [code, n] : s.errs) {
          auto el = l;
          el.push_back({"code", code == 0 ? "other" : dvs_errname(code)});
          add(errors, el).counter.value = static_cast<double>(n);
        }
        ClientMetric& h = add(latency, l);
        h.histogram.sample_count = s.lat_count;
        h.histogram.sample_sum = static_cast<double>(s.lat_sum_ns) * 1e-9;
        uint64_t cum = 0;
        for (int b = 0; b < kNrBuckets - 1; ++b) {
          cum += s.buckets[b];
          h.histogram.bucket.push_back({cum, bucket_upper_s(b)});
        }
        cum += s.buckets[kNrBuckets - 1];
        h.histogram.bucket.push_back({cum, std::numeric_limits<double>::infinity()});
        // sample_count is the sum of the buckets (the two are not read atomically together)
        h.histogram.sample_count = cum;
      }
  }

  std::vector<MetricFamily> out = {calls, errors, bytes, latency, endpoints, blocked, sendq, recording, sample};
  if (only_pid == 0) out.push_back(proxyq);

  if (links) {
    MetricFamily up = family("dvs_link_up", "1 while the link to the peer node is up", MetricType::Gauge);
    MetricFamily reconnects = family("dvs_link_reconnects_total", "Times the link to the peer came up again after the first",
                                     MetricType::Counter);
    MetricFamily lbytes = family("dvs_link_bytes_total", "Frame bytes on the link, by direction", MetricType::Counter);
    MetricFamily frames = family("dvs_link_frames_total", "Frames on the link, by direction", MetricType::Counter);
    MetricFamily serr = family("dvs_link_send_errors_total", "Frame sends that failed (the link was going down)",
                               MetricType::Counter);
    for (const LinkView& v : links()) {
      if (!v.stats) continue;
      const LinkStats& s = *v.stats;
      const std::vector<ClientMetric::Label> l = {{"node", node}, {"peer", std::to_string(v.peer)}, {"transport", v.transport}};
      add(up, l).gauge.value = s.up.load(kRelaxed);
      const uint64_t ups = s.ups.load(kRelaxed);
      add(reconnects, l).counter.value = static_cast<double>(ups > 0 ? ups - 1 : 0);
      auto tx = l, rx = l;
      tx.push_back({"direction", "tx"});
      rx.push_back({"direction", "rx"});
      add(lbytes, tx).counter.value = static_cast<double>(s.tx_bytes.load(kRelaxed));
      add(lbytes, rx).counter.value = static_cast<double>(s.rx_bytes.load(kRelaxed));
      add(frames, tx).counter.value = static_cast<double>(s.tx_frames.load(kRelaxed));
      add(frames, rx).counter.value = static_cast<double>(s.rx_frames.load(kRelaxed));
      add(serr, l).counter.value = static_cast<double>(s.tx_errors.load(kRelaxed));
    }
    for (auto* f : {&up, &reconnects, &lbytes, &frames, &serr}) out.push_back(std::move(*f));
  }
  return out;
}

std::string listen_address(const std::string& spec) {
  const auto colon = spec.rfind(':');
  const std::string port = colon == std::string::npos ? spec : spec.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return "";
  if (std::stoi(port) > 65535) return "";
  if (colon == std::string::npos) return "127.0.0.1:" + port;
  if (colon == 0) return "";
  return spec;
}

Exporter::Exporter() = default;
Exporter::~Exporter() = default;

std::string Exporter::start(const std::string& listen, std::shared_ptr<prometheus::Collectable> collector) {
  const std::string addr = listen_address(listen);
  if (addr.empty()) return "bad metrics address '" + listen + "': expected PORT or ADDRESS:PORT";
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(addr, 2);
  } catch (const std::exception& e) {
    return "cannot serve metrics on " + addr + ": " + e.what();
  }
  collector_ = std::move(collector);
  exposer_->RegisterCollectable(collector_);
  return "";
}

int Exporter::port() const {
  if (!exposer_) return 0;
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace dvs::metrics
