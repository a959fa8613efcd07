// run_scenario: see run_scenario.hpp.
#include "harness/plan/run_scenario.hpp"

#include <algorithm>

#include "harness/cluster/transports.hpp"
#include "workloads/measure/placement.hpp"

namespace dvs::bench {

namespace {

// dvs run's dvsd --batch rows: dvsd's default, then no batching.
constexpr int kRunBatches[] = {64, 1};
// dvs run's concurrent-pairs rows.
constexpr int kRunPairs[] = {1, 8};

MatrixSpec matrix(const std::string& name, const Settings& st) {
  MatrixSpec m;
  m.name = name;
  m.settings = st;
  m.remote_paths = {"proxy"};
  m.link_security = {"authenticated"};
  return m;
}

SizePoint size_of(uint64_t bytes) { return {bytes, bytes, 0}; }

}  // namespace

Scenario run_scenario(const cli::RunOptions& o) {
  Scenario s;
  s.source = "dvs run";
  s.name = "run";
  s.description = "dvs run's matrix: local primitives x waits with their raw baselines, the remote rows over tcp";

  const auto placement = measure::parse_placement(o.placement).value_or(measure::Placement::Cross);
  Settings st;
  st.repetitions = o.repeat;
  st.warmup = o.warmup;
  st.spin_ns = o.spin_ns;
  st.cell_budget_s = o.cell_budget_s;
  st.samples = o.iterations;
  st.block_samples = o.block_iterations;
  st.copy_samples = o.copy_iterations;
  st.remote_samples = o.remote_iterations;
  st.remote_copy_samples = o.remote_copy_iterations;
  st.remote_pair_samples = o.remote_pair_iterations;
  st.cross_node_pinning = placement == measure::Placement::Same   ? "same"
                          : placement == measure::Placement::None ? "none"
                                                                  : "cross";
  const std::string local_transport(cluster::kLocalTransport);

  if (!o.remote_only) {
    MatrixSpec m = matrix("local", st);
    m.transports = {local_transport};
    m.primitives = {"send_receive", "sendrec_reply", "notify_receive", "rcvrqst_reply", "vcopy"};
    m.waits = o.waits;
    m.placements = {measure::placement_name(placement)};
    m.sizes = {size_of(o.vcopy_bytes)};
    if (std::find(o.waits.begin(), o.waits.end(), "block") != o.waits.end())
      m.extra_baselines = {"shm", "unix", "nng_ipc", "nng_tcp", "zmq_ipc", "zmq_tcp"};
    s.matrices.push_back(std::move(m));
  }
  if (!o.no_remote) {
    auto cross_node = [&](const std::string& name, std::vector<std::string> prims) {
      MatrixSpec m = matrix(name, st);
      m.transports = {"tcp"};
      m.primitives = std::move(prims);
      m.waits = {o.remote_wait};
      m.placements = {"cross-node"};
      return m;
    };
    MatrixSpec msgs = cross_node("remote", {"sendrec_reply", "send_receive", "notify_receive"});
    msgs.remote_paths = {"proxy", "direct"};
    msgs.extra_baselines = {"nng_tcp", "zmq_tcp"};  // between the cross-node endpoints
    s.matrices.push_back(std::move(msgs));

    MatrixSpec copies = cross_node("remote-copy", {"vcopy", "vcopy_push"});
    copies.sizes = {size_of(o.remote_copy_bytes)};
    copies.extra_baselines = {"tcp_stream_rcvlowat"};
    s.matrices.push_back(std::move(copies));

    MatrixSpec pairs = cross_node("remote-pairs", {"sendrec_reply"});
    pairs.pairs.assign(std::begin(kRunPairs), std::end(kRunPairs));
    pairs.dvsd_batch.assign(std::begin(kRunBatches), std::end(kRunBatches));
    s.matrices.push_back(std::move(pairs));

    MatrixSpec direct = cross_node("remote-pairs-direct", {"sendrec_reply"});
    direct.pairs.assign(std::begin(kRunPairs), std::end(kRunPairs));
    direct.remote_paths = {"direct"};
    s.matrices.push_back(std::move(direct));
  }
  return s;
}

}  // namespace dvs::bench
