// CPU placement of the two processes of a ping-pong: which CPU the client (the timing side) and
// the server run on. Pinning uses sched_setaffinity on CPUs of the caller's allowed set.
#ifndef DVS_HARNESS_MEASURE_PLACEMENT_HPP
#define DVS_HARNESS_MEASURE_PLACEMENT_HPP

#include <optional>
#include <string>
#include <vector>

namespace dvs::measure {

enum class Placement {
  Cross,  // client and server pinned to two different CPUs (the default of `dvs run`)
  Same,   // both pinned to one CPU: every hand-off is a context switch
  None,   // not pinned: the scheduler decides (and may move them mid-run)
};

const char* placement_name(Placement p);                     // "cross-core" | "same-core" | "unpinned"
std::optional<Placement> parse_placement(const std::string& s);  // "cross" | "same" | "none"
// The short names parse_placement takes (it also takes the placement_name of each), as a CLI lists
// them: the choices of `dvs run --placement`.
inline const std::vector<std::string> kPlacementArgs = {"cross", "same", "none"};

struct CpuPair {
  Placement placement = Placement::None;
  int client_cpu = -1;  // -1: not pinned
  int server_cpu = -1;
  std::string note;     // why the placement differs from the one asked for, if it does
  // "cross-core (client cpu0, server cpu1)" etc.
  std::string describe() const;
};

// CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

// Choose CPUs for `want`. Cross needs two allowed CPUs; with one it falls back to Same and says
// so in `note`.
CpuPair choose_cpus(Placement want);

// Pin the calling thread to `cpu` (no-op for -1). Returns 0 or -errno.
int pin_to_cpu(int cpu);

}  // namespace dvs::measure

#endif
