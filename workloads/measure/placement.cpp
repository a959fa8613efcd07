// CPU placement and pinning: see placement.hpp.
#include "workloads/measure/placement.hpp"

#include <cerrno>
#include <sched.h>

#include <fmt/format.h>

namespace dvs::measure {

const char* placement_name(Placement p) {
  switch (p) {
    case Placement::Cross: return "cross-core";
    case Placement::Same: return "same-core";
    case Placement::None: return "unpinned";
  }
  return "?";
}

std::optional<Placement> parse_placement(const std::string& s) {
  if (s == "cross" || s == "cross-core") return Placement::Cross;
  if (s == "same" || s == "same-core") return Placement::Same;
  if (s == "none" || s == "unpinned") return Placement::None;
  return std::nullopt;
}

std::string CpuPair::describe() const {
  if (client_cpu < 0) return placement_name(placement);
  return fmt::format("{} (client cpu{}, server cpu{})", placement_name(placement), client_cpu,
                     server_cpu);
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

CpuPair choose_cpus(Placement want) {
  CpuPair p;
  p.placement = want;
  if (want == Placement::None) return p;
  const auto cpus = allowed_cpus();
  if (cpus.empty()) {
    p.placement = Placement::None;
    p.note = "sched_getaffinity failed: not pinned";
    return p;
  }
  if (want == Placement::Cross && cpus.size() < 2) {
    p.placement = Placement::Same;
    p.note = "only one CPU allowed: cross-core impossible, ran same-core";
  }
  p.client_cpu = cpus[0];
  p.server_cpu = p.placement == Placement::Cross ? cpus[1] : cpus[0];
  return p;
}

int pin_to_cpu(int cpu) {
  if (cpu < 0) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

}  // namespace dvs::measure
