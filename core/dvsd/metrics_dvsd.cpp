#include "core/dvsd/metrics_dvsd.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/dvsd/proxy/proxy.hpp"

namespace dvs::metrics {

void add_dvsd_metrics_options(CLI::App& app, DvsdMetricsOptions* o) {
  app.add_option("--metrics-port", o->listen,
                 "serve Prometheus metrics on PORT (127.0.0.1) or ADDRESS:PORT (0 = off, the default); "
                 "turns IPC recording on");
  app.add_flag("--metrics-record", o->record, "record IPC metrics in the DC tables even without --metrics-port");
  app.add_flag("--no-metrics-record", o->no_record, "with --metrics-port: serve link metrics and gauges only");
  app.add_option("--metrics-sample", o->sample, "time the latency of one IPC call in N (a power of two, default 64)")
      ->check([](const std::string& v) -> std::string {
        char* end = nullptr;
        unsigned long n = std::strtoul(v.c_str(), &end, 10);
        if (end == v.c_str() || *end || n == 0 || n > (1ul << 30) || (n & (n - 1)) != 0)
          return "must be a power of two 1..2^30, not '" + v + "'";
        return "";
      });
}

std::string start_dvsd_metrics(const DvsdMetricsOptions& o, int node_id, std::vector<core::DcTable*> tables,
                               dvsd::ProxySet* proxies, Exporter* exporter) {
  std::string listen = o.listen;
  // DVS_METRICS_PORT=P (set by `dvs rpc/web serve --metrics-port P` for the nodes they start):
  // serve on 127.0.0.1:P+node unless --metrics-port is given.
  if (const char* base = std::getenv("DVS_METRICS_PORT"); listen.empty() && base && std::atoi(base) > 0)
    listen = std::to_string(std::atoi(base) + node_id);
  const bool serve = !listen.empty() && listen != "0";
  const bool env_port = serve && o.listen.empty();
  const char* env = std::getenv("DVS_METRICS_RECORD");
  const bool env_on = env_port || (env && *env && std::string(env) != "0");
  const bool record = !o.no_record && (serve || o.record || env_on);
  const int shift = __builtin_ctz(o.sample ? o.sample : 1);
  for (core::DcTable* t : tables) t->header().metrics.store(metrics_word(record, shift), std::memory_order_release);
  if (!serve) return "";
  auto c = std::make_shared<Collector>();
  c->node_id = node_id;
  c->tables = [tables] { return tables; };
  if (proxies) {
    std::string own_scheme = proxies->listen_uri();
    own_scheme = own_scheme.substr(0, own_scheme.find("://"));
    c->links = [proxies, own_scheme] {
      std::vector<LinkView> out;
      proxies->for_each_link([&](int node, const std::string& uri, const LinkStats& s) {
        const auto sep = uri.find("://");
        // A peer that dials us has no URI here: the link runs over the transport we listen on.
        out.push_back({node, sep == std::string::npos ? own_scheme : uri.substr(0, sep), &s});
      });
      return out;
    };
  }
  if (auto err = exporter->start(listen, c); !err.empty()) return err;
  const std::string addr = listen_address(listen);
  std::printf("dvsd: node %d metrics on http://%s%d/metrics\n", node_id, addr.substr(0, addr.rfind(':') + 1).c_str(),
              exporter->port());
  std::fflush(stdout);
  return "";
}

}  // namespace dvs::metrics
