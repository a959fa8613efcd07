// wrk as a child process: see wrk.hpp.
#include "workloads/web/wrk.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace dvs::workloads::web {

namespace {

// A wrk script whose done() writes every latency value wrk recorded and its count ("us count"
// lines, ascending) to $DVS_WRK_LATENCY_OUT. latency(i) is wrk's i-th recorded value (#latency
// of them); the loop also stops if the values stop ascending (a wrk that reads past the end).
constexpr const char* kWrkLatencyScript = R"(done = function(summary, latency, requests)
  local f = assert(io.open(os.getenv("DVS_WRK_LATENCY_OUT"), "w"))
  local last = -1
  for i = 1, #latency do
    local v, c = latency(i)
    if v <= last then break end
    last = v
    f:write(string.format("%d %d\n", v, c))
  end
  f:close()
end
)";

// The latency file of kWrkLatencyScript as a histogram (ns); null if missing or empty.
std::unique_ptr<measure::LoopResult> read_wrk_latency(const std::string& file) {
  std::ifstream f(file);
  auto r = std::make_unique<measure::LoopResult>();
  unsigned long long us = 0, count = 0;
  std::string line;
  while (std::getline(f, line))
    if (std::sscanf(line.c_str(), "%llu %llu", &us, &count) == 2 && count > 0) r->samples.record_n(us * 1000, count);
  if (r->samples.count() == 0) return nullptr;
  r->iterations = r->samples.count();
  return r;
}

}  // namespace

int64_t wrk_ns(const std::string& v) {
  double x = 0;
  char unit[8] = {0};
  if (std::sscanf(v.c_str(), "%lf%7s", &x, unit) != 2) return -1;
  const std::string u = unit;
  const double mult = u == "ns" ? 1 : u == "us" ? 1e3 : u == "ms" ? 1e6 : u == "s" ? 1e9 : u == "m" ? 60e9 : -1;
  return mult < 0 ? -1 : int64_t(std::llround(x * mult));
}

WrkResult run_wrk(const WrkLoad& load, const std::string& url, const std::string& latency_dir) {
  WrkResult r;
  std::string script, out;
  if (!latency_dir.empty()) {
    script = latency_dir + "/wrk-latency.lua";
    out = latency_dir + "/wrk-latency.txt";
    std::ofstream(script, std::ios::trunc) << kWrkLatencyScript;
    std::filesystem::remove(out);
  }
  const std::string cmd =
      fmt::format("{}timeout {} wrk -t{} -c{} -d{}s --latency {}'{}' 2>&1", out.empty() ? "" : "DVS_WRK_LATENCY_OUT='" + out + "' ",
                  int(load.duration_s) + 20, load.threads, load.connections, load.duration_s,
                  script.empty() ? "" : "-s '" + script + "' ", url);
  std::fflush(nullptr);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char line[512];
  while (fgets(line, sizeof line, p) != nullptr) {
    r.text += line;
    double v = 0;
    unsigned long long a = 0, b = 0, c = 0, d = 0;
    char unit[16] = {0};
    if (std::sscanf(line, "Requests/sec: %lf", &v) == 1) r.rps = v;
    if (std::sscanf(line, "Transfer/sec: %lf%15s", &v, unit) == 2)
      r.mib_s = v * (unit[0] == 'G' ? 1024 : unit[0] == 'K' ? 1.0 / 1024 : unit[0] == 'M' ? 1 : 1.0 / 1048576);
    if (std::sscanf(line, " 50%% %15s", unit) == 1) r.p50_ns = wrk_ns(unit);
    if (std::sscanf(line, " 90%% %15s", unit) == 1) r.p90_ns = wrk_ns(unit);
    if (std::sscanf(line, " 99%% %15s", unit) == 1) r.p99_ns = wrk_ns(unit);
    if (std::sscanf(line, " %llu requests in", &a) == 1) r.requests = a;
    if (std::sscanf(line, " Non-2xx or 3xx responses: %llu", &a) == 1) r.non_2xx = a;
    if (std::sscanf(line, " Socket errors: connect %llu, read %llu, write %llu, timeout %llu", &a, &b, &c, &d) == 4)
      r.socket_errors = a + b + c + d;
  }
  pclose(p);
  if (!out.empty()) r.latency = read_wrk_latency(out);
  return r;
}

}  // namespace dvs::workloads::web
