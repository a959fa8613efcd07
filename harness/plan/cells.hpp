// The cells of `dvs run`: one cell = one mechanism (a raw baseline or a dvs primitive) under one
// wait strategy and placement, measured once. plan_cells builds the matrix, execute_cell runs one,
// attach_ratios relates every dvs cell to its matching baseline.
#ifndef DVS_HARNESS_CLI_CELLS_HPP
#define DVS_HARNESS_CLI_CELLS_HPP

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/commands/run_options.hpp"
#include "harness/results/ratio.hpp"
#include "workloads/baselines/baseline.hpp"
#include "workloads/measure/histogram.hpp"
#include "workloads/measure/placement.hpp"
#include "workloads/measure/two_process.hpp"

namespace dvs::cli {

enum class CellKind {
  PingPong,  // samples are round trips of one 64-byte message each way; msgs/s = 2*n/t
  Copy,      // samples are one-way block moves; MB/s = bytes*n/t/1e6
};

struct Cell {
  std::string id;         // unique, stable: "baseline/shm/spin", "dvs/sendrec_reply/block", ...
  CellKind kind = CellKind::PingPong;
  bool dvs = false;       // a dvs primitive (else a raw baseline)
  bool peer = false;      // a peer IPC library (NNG, ZeroMQ): results' mechanism "peer"
  std::string label;      // first column of the table
  std::string wait;       // wait strategy: spin | spin-then-block | block
  std::string baseline;   // id of the cell this one is compared with ("" = none)
  std::string short_name; // how other rows name this one in the "vs baseline" column
  uint64_t iterations = 0;
  std::string skip_reason;  // non-empty: planned but not run, for this reason
  std::function<measure::TwoProcessOutcome()> run;
  // Optional: a PingPong cell compared by rate (baseline msgs/s / msgs/s, e.g. 8 pairs vs 1
  // pair) instead of by p50 (harness/results/ratio.hpp).
  bool ratio_of_rates = false;
  // The network the cell's messages cross ("" = none: both ends on this host, no link; e.g.
  // "tcp over loopback"). A cell is only divided by a baseline on the same network.
  std::string network;
  // Why a cell without a baseline has no ratio ("" = it needs none), e.g. no raw baseline
  // crosses its network.
  std::string no_ratio_reason;
  // Optional: table section ("" = the main table; "remote" = harness/plan/remote_cells) and
  // extra fields merged into the cell's runs.jsonl row (e.g. transport, nodes).
  std::string section;
  nlohmann::json row_extra = nlohmann::json::object();
};

struct CellResult {
  const Cell* cell = nullptr;
  bool ok = false;
  std::string error;  // failure reason or skip reason
  bool skipped = false;
  std::unique_ptr<measure::LoopResult> loop;  // null if skipped
  stats::Summary summary;
  double per_s = 0;  // msgs/s (PingPong) or MB/s (Copy)
  std::optional<double> ratio;  // slowdown_ratio against the baseline (ratio.hpp), basis ratio_basis()
  std::string ratio_vs;         // short_name of the baseline
  std::string ratio_note;       // why no ratio ("" when there is one or none is wanted)
};

// The raw shared-memory ping-pong under each wait strategy: the baseline of dvs ping-pongs under
// spin and spin-then-block (`dvs run` also measures the futex one; block cells compare with pipe).
struct ShmBaselineMode {
  const char* wait;  // spin | spin-then-block | block
  baselines::ShmWait mode;
  const char* label;
  const char* short_name;
};
inline constexpr ShmBaselineMode kShmBaselineModes[] = {
    {"spin", baselines::ShmWait::Spin, "raw shm, 1 line each way", "raw-shm-spin"},
    {"spin-then-block", baselines::ShmWait::SpinThenFutex, "raw shm + futex", "raw-shm-stb"},
    {"block", baselines::ShmWait::Futex, "raw shm + futex", "raw-futex"},
};

// The peer IPC libraries' ping-pongs (workloads/baselines nng_pingpong, zmq_pingpong) as rows of
// `dvs run` and `dvs bench`: cell mechanism "<name>_<transport>" (nng_ipc, zmq_tcp, ...). They
// wait in the library's blocking calls, so they are compared with dvs's blocking sendrec, not
// with the spin rows.
struct PeerRow {
  const char* name;  // "nng" | "zmq"
  baselines::PeerTransport transport;
  const char* label;
  const char* short_name;
  measure::TwoProcessOutcome (*fn)(const baselines::BaselineConfig&, baselines::PeerTransport);
};
inline constexpr PeerRow kPeerRows[] = {
    {"nng", baselines::PeerTransport::Ipc, "NNG req0/rep0, ipc://", "nng-ipc", baselines::nng_pingpong},
    {"nng", baselines::PeerTransport::Tcp, "NNG req0/rep0, tcp://", "nng-tcp", baselines::nng_pingpong},
    {"zmq", baselines::PeerTransport::Ipc, "ZeroMQ REQ/REP, ipc://", "zmq-ipc", baselines::zmq_pingpong},
    {"zmq", baselines::PeerTransport::Tcp, "ZeroMQ REQ/REP, tcp://", "zmq-tcp", baselines::zmq_pingpong},
};
// The note on every peer row (runs.jsonl "note").
inline constexpr const char* kPeerNote =
    "the library's own blocking send/receive (its I/O threads inherit the process's CPU): compare "
    "with dvs's block and spin-then-block rows, not the spin rows";

// Why a spin cell is not run with both processes on one CPU (it would measure the timeslice).
inline constexpr const char* kSpinOneCoreReason =
    "spin with both processes on one CPU measures the scheduler's timeslice";

// dvsd_socket "" with dvs_skip_reason: dvs cells are planned but skipped with that reason.
std::vector<Cell> plan_cells(const RunOptions& o, const measure::CpuPair& cpus,
                             const std::string& dvsd_socket, const std::string& dvs_skip_reason);

CellResult execute_cell(const Cell& c);

// The outcome of a cell that could not be measured (e.g. its dvsd is not up): failed with `why`.
measure::TwoProcessOutcome outcome_not_run(const std::string& why);

// What a cell's ratio is of: P50 for ping-pongs, MsgsPerS for ratio_of_rates, MbPerS for copies.
RatioBasis ratio_basis(const Cell& c);

// Sets ratio (or ratio_note) of every ok result with a baseline: against the baseline's result in
// `results`; no ratio when the baseline is not among them ("baseline not run"), was skipped or
// failed, or crosses another network (ratio_refusal).
void attach_ratios(std::vector<CellResult>& results);

// "" if some cell id contains one of the `only` patterns (or `only` is empty), else one line:
// the patterns match nothing, and the id prefixes that exist.
std::string only_matches_nothing(const std::vector<std::string>& only, const std::vector<std::string>& ids);

// Keeps the cells whose id contains one of the `only` patterns (all if `only` is empty).
void keep_only(const std::vector<std::string>& only, std::vector<Cell>* cells);

}  // namespace dvs::cli

#endif
