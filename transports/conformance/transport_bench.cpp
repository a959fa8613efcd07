// dvs_transport_bench: frame round trip (send, peer echoes, recv) over loopback for 64 B and
// 64 KiB frames, for every registered and available transport. A microbenchmark, not a test:
//   dvs_transport_bench [--benchmark_filter=tcp] [google-benchmark flags]
// Listen URIs come from the conformance suite's table (listen_uris.cpp).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "dvs/errors.h"
#include "transports/conformance/listen_uris.hpp"
#include "transports/registry.hpp"

namespace {

using namespace dvs::transport;

void round_trip(benchmark::State& state, Transport* t, size_t len) {
  int err = 0;
  auto l = t->listen(conformance::listen_uri_for(t->scheme()), &err);
  if (!l) {
    state.SkipWithError(("listen failed: " + std::string(dvs_errname(err))).c_str());
    return;
  }
  std::unique_ptr<Link> dialed;
  int derr = 0;
  std::thread dialer([&] { dialed = t->dial(l->uri(), 5000, &derr); });
  auto acc = l->accept(5000, &err);
  dialer.join();
  if (!acc || !dialed) {
    state.SkipWithError("connect failed");
    return;
  }
  // The echo side: returns every frame until the link closes.
  std::thread echo([k = acc.get()] {
    std::span<const std::byte> f;
    while (k->recv(&f, -1) > 0) {
      iovec v{const_cast<std::byte*>(f.data()), f.size()};
      if (k->send(std::span<const iovec>(&v, 1)) < 0) break;
    }
  });
  std::vector<std::byte> buf(len, std::byte{0x5a});
  iovec v{buf.data(), buf.size()};
  std::span<const std::byte> f;
  for (auto _ : state) {
    if (dialed->send(std::span<const iovec>(&v, 1)) < 0 || dialed->recv(&f, 5000) != long(len)) {
      state.SkipWithError("round trip failed");
      break;
    }
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(len) * 2);
  dialed->close();
  echo.join();
}

}  // namespace

int main(int argc, char** argv) {
  register_builtin_transports();
  for (Transport* t : all_transports()) {
    Availability a = t->probe();
    if (!a.available) {
      std::fprintf(stderr, "%s: unavailable (%s), not benchmarked\n", std::string(t->scheme()).c_str(),
                   a.reason.c_str());
      continue;
    }
    for (size_t len : {size_t(64), size_t(64 * 1024)}) {
      if (len > t->capabilities().max_frame) continue;
      std::string name = "roundtrip/" + std::string(t->scheme()) + "/" + std::to_string(len);
      benchmark::RegisterBenchmark(name.c_str(), round_trip, t, len)->UseRealTime();
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
