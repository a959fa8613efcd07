// Scenario files: the shipped ones parse and plan; every bad file is one error naming the file,
// the line and the key; the planner's matrix, baselines, skips and de-duplication. No processes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "harness/plan/bench_plan.hpp"
#include "harness/plan/run_scenario.hpp"
#include "harness/plan/scenario.hpp"
#include "transports/registry.hpp"

namespace {

using dvs::bench::Plan;
using dvs::bench::Scenario;

const char* const kShipped[] = {"default.toml", "local-sweep.toml", "remote.toml", "quick.toml", "rdma.toml", "tipc.toml", "m3ipc.toml"};

std::string scenario_path(const std::string& name) { return std::string(DVS_SCENARIOS_DIR) + "/" + name; }

Scenario parse_ok(const std::string& text) {
  Scenario s;
  const std::string err = dvs::bench::parse_scenario_text(text, "t.toml", &s);
  EXPECT_EQ(err, "") << text;
  return s;
}

std::string parse_err(const std::string& text) {
  Scenario s;
  return dvs::bench::parse_scenario_text(text, "t.toml", &s);
}

Plan plan_ok(const Scenario& s) {
  Plan p;
  EXPECT_EQ(dvs::bench::plan_scenario(s, nullptr, "run", &p), "");
  return p;
}

const dvs::bench::RunItem* item(const Plan& p, const std::string& id) {
  for (const auto& it : p.items)
    if (it.cell.id == id) return &it;
  return nullptr;
}

TEST(BenchScenario, ShippedFilesParseAndPlan) {
  for (const char* name : kShipped) {
    Scenario s;
    ASSERT_EQ(dvs::bench::parse_scenario_file(scenario_path(name), &s), "") << name;
    EXPECT_FALSE(s.name.empty());
    EXPECT_FALSE(s.matrices.empty());
    const Plan p = plan_ok(s);
    ASSERT_FALSE(p.items.empty()) << name;
    std::set<std::string> ids;
    for (const auto& it : p.items) {
      EXPECT_TRUE(ids.insert(it.cell.id).second) << name << ": cell planned twice: " << it.cell.id;
      // Every dvs cell that runs has a baseline, planned before it, or says why it has none.
      if (it.cell.dvs && it.cell.skip_reason.empty()) {
        if (it.cell.baseline.empty()) {
          EXPECT_FALSE(it.cell.no_ratio_reason.empty()) << it.cell.id;
        } else {
          EXPECT_TRUE(ids.count(it.cell.baseline)) << it.cell.id << " -> " << it.cell.baseline;
        }
      }
    }
  }
}

TEST(BenchScenario, QuickFileShape) {
  Scenario s;
  ASSERT_EQ(dvs::bench::parse_scenario_file(scenario_path("quick.toml"), &s), "");
  ASSERT_EQ(s.matrices.size(), 2u);
  const auto& local = s.matrices[0];
  EXPECT_EQ(local.settings.repetitions, 2);
  ASSERT_EQ(local.sizes.size(), 3u);  // 4096 with perturb [-1, 1]
  EXPECT_EQ(local.sizes[0].bytes, 4095u);
  EXPECT_EQ(local.sizes[0].base, 4096u);
  EXPECT_EQ(local.sizes[0].perturbation, -1);
  EXPECT_EQ(local.sizes[2].bytes, 4097u);
  const Plan p = plan_ok(s);
  const auto* v = item(p, "local/dvs/vcopy/4097/block/cross-core");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->cell.baseline, "baseline/pipe_stream/4097/block/cross-core");
  EXPECT_EQ(v->row_fields.at("size_perturbation"), 1);
  EXPECT_EQ(v->row_fields.at("payload_verified"), true);
  const auto* t = item(p, "tcp/dvs/sendrec_reply/block/cross-node");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->cell.baseline, "baseline/tcp/block/cross-core");
  EXPECT_EQ(t->ctx.placement.rfind("cross-node", 0), 0u) << t->ctx.placement;
  // shm links two dvsd nodes, and no raw mechanism crosses that link: no baseline, a reason instead.
  const auto* sh = item(p, "shm/dvs/vcopy/65536/block/cross-node");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->cell.baseline, "");
  EXPECT_NE(sh->cell.no_ratio_reason, "");
}

TEST(BenchScenario, DefaultsAliasesSweepsAndInheritance) {
  const Scenario s = parse_ok(R"(
[scenario]
name = "x"
[defaults]
duration_s = 0.5
repetitions = 4
[[matrix]]
name = "a"
primitives = ["sendrec", "send", "notify", "rcvrqst", "vcopy_pull"]
waits = ["stb"]
placements = ["same", "cross", "none"]
sizes = { from = 64, to = 1024 }
[[matrix]]
name = "b"
samples = 7
repetitions = 1
waits = ["block"]
)");
  ASSERT_EQ(s.matrices.size(), 2u);
  const auto& a = s.matrices[0];
  EXPECT_EQ(a.primitives, (std::vector<std::string>{"sendrec_reply", "send_receive", "notify_receive",
                                                     "rcvrqst_reply", "vcopy"}));
  EXPECT_EQ(a.waits, (std::vector<std::string>{"spin-then-block"}));
  EXPECT_EQ(a.placements, (std::vector<std::string>{"same-core", "cross-core", "unpinned"}));
  ASSERT_EQ(a.sizes.size(), 5u);  // 64 128 256 512 1024
  EXPECT_EQ(a.sizes.back().bytes, 1024u);
  EXPECT_EQ(a.settings.duration_s, 0.5);
  EXPECT_EQ(a.settings.repetitions, 4);
  const auto& b = s.matrices[1];  // counts in the matrix end the inherited duration
  EXPECT_EQ(b.settings.duration_s, 0);
  EXPECT_EQ(b.settings.samples, 7u);
  EXPECT_EQ(b.settings.repetitions, 1);
  EXPECT_EQ(b.transports, (std::vector<std::string>{"local"}));
  EXPECT_EQ(b.placements, (std::vector<std::string>{"cross-core"}));
  EXPECT_EQ(b.waits, (std::vector<std::string>{"block"}));

  dvs::bench::Scenario q = s;
  dvs::bench::apply_quick(&q);
  EXPECT_EQ(q.matrices[0].settings.duration_s, 0.2);
  EXPECT_EQ(q.matrices[1].settings.samples, 7u);
  EXPECT_LE(q.matrices[1].settings.block_samples, 200u);

  const Plan p = plan_ok(s);
  const auto* d = item(p, "local/dvs/sendrec_reply/spin-then-block/same-core");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->duration_s, 0.5);
  EXPECT_EQ(d->repetitions, 4);
  EXPECT_TRUE(d->row_fields.at("iterations_planned").is_null());
  EXPECT_EQ(d->row_fields.at("stop"), "duration");
}

TEST(BenchScenario, PlanSkipsWhatCannotRun) {
  const Scenario s = parse_ok(R"(
[scenario]
name = "x"
[[matrix]]
name = "local"
primitives = ["sendrec_reply", "vcopy_push"]
waits = ["spin"]
placements = ["same-core", "cross-core"]
[[matrix]]
name = "remote"
transports = ["tcp"]
primitives = ["rcvrqst_reply", "sendrec_reply"]
waits = ["block"]
)");
  const Plan p = plan_ok(s);
  const auto skip = [&](const std::string& id) {
    const auto* it = item(p, id);
    EXPECT_NE(it, nullptr) << id;
    return it == nullptr ? std::string("<missing>") : it->cell.skip_reason;
  };
  EXPECT_NE(skip("local/dvs/sendrec_reply/spin/same-core").find("timeslice"), std::string::npos);
  EXPECT_EQ(skip("local/dvs/sendrec_reply/spin/cross-core"), "");
  EXPECT_NE(skip("local/dvs/vcopy_push/65536/spin/cross-core").find("across nodes only"), std::string::npos);
  EXPECT_NE(skip("tcp/dvs/rcvrqst_reply/block/cross-node").find("rcvrqst"), std::string::npos);
  EXPECT_EQ(skip("tcp/dvs/sendrec_reply/block/cross-node"), "");
  EXPECT_EQ(item(p, "baseline/shm/spin/same-core"), nullptr) << "no baseline for a skipped cell";
}

// rdma and tipc cells: where the transport can be used they are planned against its raw
// baselines (raw verbs / raw RDMA WRITE, raw TIPC ping-pong / stream); where it cannot they are
// skipped with its probe's reason, and none of its baselines is planned.
TEST(BenchScenario, RdmaAndTipcCellsFollowTheMachine) {
  struct Case {
    const char* transport;
    const char* message_baseline;
    const char* copy_baseline;
  };
  for (const Case& k : {Case{"rdma", "baseline/rdma/block/cross-core", "baseline/rdma_write/65536/block/cross-core"},
                        Case{"tipc", "baseline/tipc/block/cross-core", "baseline/tipc_stream/65536/block/cross-core"}}) {
    SCOPED_TRACE(k.transport);
    const Scenario s = parse_ok(fmt::format(R"(
[scenario]
name = "x"
[[matrix]]
transports = ["{}"]
primitives = ["sendrec_reply", "vcopy"]
waits = ["block"]
sizes = [65536]
)", k.transport));
    const Plan p = plan_ok(s);
    dvs::transport::register_builtin_transports();
    const auto av = dvs::transport::find_transport(k.transport)->probe();
    for (const std::string& id : {fmt::format("{}/dvs/sendrec_reply/block/cross-node", k.transport),
                                 fmt::format("{}/dvs/vcopy/65536/block/cross-node", k.transport)}) {
      const auto* it = item(p, id);
      ASSERT_NE(it, nullptr) << id;
      if (av.available) {
        EXPECT_EQ(it->cell.skip_reason, "") << id;
      } else {
        EXPECT_EQ(it->cell.skip_reason, std::string(k.transport) + " unavailable: " + av.reason) << id;
      }
    }
    EXPECT_EQ(item(p, k.message_baseline) != nullptr, av.available);
    EXPECT_EQ(item(p, k.copy_baseline) != nullptr, av.available);
  }
}

// Every name extra_baselines accepts is planned (at each local placement; streams at each size).
TEST(BenchScenario, EveryExtraBaselinePlans) {
  std::string list;
  for (const auto& b : dvs::bench::kExtraBaselines) list += (list.empty() ? "\"" : ", \"") + b + "\"";
  const Scenario s = parse_ok("[scenario]\nname = \"x\"\n[[matrix]]\nprimitives = [\"sendrec\"]\n"
                              "waits = [\"block\"]\nplacements = [\"same\", \"cross\"]\nsizes = [512, 1048576]\n"
                              "extra_baselines = [" + list + "]\n");
  const Plan p = plan_ok(s);
  for (const char* pl : {"same-core", "cross-core"}) {
    for (const char* mech : {"shm", "pipe", "unix", "fifo", "sysv_mq", "posix_mq", "tcp"})
      EXPECT_NE(item(p, std::string("baseline/") + mech + "/block/" + pl), nullptr) << mech << " " << pl;
    for (const char* mech : {"pipe_stream", "fifo_stream", "sysv_mq_stream", "tcp_stream"})
      for (const char* size : {"512", "1048576"}) {
        const auto* it = item(p, std::string("baseline/") + mech + "/" + size + "/block/" + pl);
        ASSERT_NE(it, nullptr) << mech << " " << size << " " << pl;
        EXPECT_EQ(it->cell.kind, dvs::cli::CellKind::Copy);
      }
  }
  // The peer libraries: rows of mechanism "peer", after the dvs cells, each naming the dvs sendrec
  // (block) cell at its placement.
  for (const char* pl : {"same-core", "cross-core"})
    for (const char* mech : {"nng_ipc", "nng_tcp", "zmq_ipc", "zmq_tcp"}) {
      const auto* it = item(p, std::string("peer/") + mech + "/block/" + pl);
      ASSERT_NE(it, nullptr) << mech << " " << pl;
      EXPECT_TRUE(it->cell.peer);
      EXPECT_EQ(it->cell.baseline, std::string("local/dvs/sendrec_reply/block/") + pl);
      ASSERT_NE(item(p, it->cell.baseline), nullptr);
      EXPECT_GT(it - item(p, it->cell.baseline), 0) << "a peer row runs after the dvs cell it names";
    }
  // A SysV message above msgmax cannot be sent: planned as skipped, with the reason.
  EXPECT_NE(item(p, "baseline/sysv_mq_stream/1048576/block/cross-core")->cell.skip_reason.find("msgmax"),
            std::string::npos);
}

TEST(BenchScenario, SameCellTwiceRunsOnceOrIsAnError) {
  const std::string head = "[scenario]\nname = \"x\"\n";
  const std::string a = "[[matrix]]\nname = \"a\"\nprimitives = [\"sendrec\"]\nwaits = [\"block\"]\n";
  const std::string b = "[[matrix]]\nname = \"b\"\nprimitives = [\"notify\"]\nwaits = [\"block\"]\n";
  const Plan same = plan_ok(parse_ok(head + a + b));  // both need baseline/pipe/block/cross-core
  int pipes = 0;
  for (const auto& it : same.items) pipes += it.cell.id == "baseline/pipe/block/cross-core";
  EXPECT_EQ(pipes, 1);

  const Scenario s = parse_ok(head + a + b + "block_samples = 99\n");  // b starts at line 7
  Plan p;
  const std::string err = dvs::bench::plan_scenario(s, nullptr, "run", &p);
  EXPECT_EQ(err.rfind("t.toml:7: ", 0), 0u) << err;
  EXPECT_NE(err.find("baseline/pipe/block/cross-core"), std::string::npos) << err;
  EXPECT_NE(err.find("\"a\" (line 3)"), std::string::npos) << err;
}

// pairs = [...]: one local sendrec cell per count (the matrix's count split over the pairs), n
// pairs compared with one pair by rate; a matrix without the key keeps its single-pair ids.
TEST(BenchScenario, ConcurrentPairsPlanOneCellPerCount) {
  const Scenario s = parse_ok(R"(
[scenario]
name = "x"
[[matrix]]
pairs = [8, 1, 2]
block_samples = 1000
samples = 4000
name = "pairs"
primitives = ["sendrec"]
placements = ["unpinned"]
waits = ["block", "spin-then-block"]
)");
  ASSERT_EQ(s.matrices[0].pairs, (std::vector<int>{1, 2, 8}));
  const Plan p = plan_ok(s);
  EXPECT_EQ(item(p, "local/dvs/sendrec_reply/block/unpinned"), nullptr) << "only pairs cells";
  const auto* one = item(p, "local/dvs/sendrec_reply/pairs1/block/unpinned");
  const auto* eight = item(p, "local/dvs/sendrec_reply/pairs8/block/unpinned");
  const auto* eight_stb = item(p, "local/dvs/sendrec_reply/pairs8/spin-then-block/unpinned");
  ASSERT_NE(one, nullptr);
  ASSERT_NE(eight, nullptr);
  ASSERT_NE(eight_stb, nullptr);
  EXPECT_EQ(one->cell.baseline, "baseline/pipe/block/unpinned");
  EXPECT_FALSE(one->cell.ratio_of_rates);
  EXPECT_EQ(eight->cell.baseline, "local/dvs/sendrec_reply/pairs1/block/unpinned");
  EXPECT_TRUE(eight->cell.ratio_of_rates);
  EXPECT_EQ(eight->cell.iterations, 1000u) << "125 round trips per client, 8 clients";
  EXPECT_EQ(eight_stb->cell.iterations, 4000u);
  EXPECT_EQ(eight->row_fields.at("pairs"), 8);
  EXPECT_EQ(eight->cell.label, "8 concurrent sendrec pairs");
  size_t pairs_cells = 0;
  for (const auto& it : p.items) pairs_cells += it.cell.id.find("/pairs") != std::string::npos;
  EXPECT_EQ(pairs_cells, 6u);
}

// pairs and dvsd_batch across nodes: one cross-node sendrec cell per pairs x batch, counted by
// remote_pair_samples, n pairs compared with 1 pair at the same batch by rate; the batch in the
// id and the row, given to the nodes.
TEST(BenchScenario, CrossNodePairsAndBatchPlanOneCellEach) {
  const Scenario s = parse_ok(R"(
[scenario]
name = "x"
[[matrix]]
transports = ["tcp"]
primitives = ["sendrec"]
pairs = [8, 1]
dvsd_batch = [64, 1]
remote_pair_samples = 800
remote_samples = 300
)");
  ASSERT_EQ(s.matrices[0].dvsd_batch, (std::vector<int>{64, 1})) << "in the given order";
  const Plan p = plan_ok(s);
  EXPECT_EQ(item(p, "tcp/dvs/sendrec_reply/block/cross-node"), nullptr) << "only pairs x batch cells";
  size_t cells = 0;
  for (const auto& it : p.items) cells += it.cell.dvs;
  EXPECT_EQ(cells, 2u * 2u * 3u) << "pairs x batch x waits";
  const auto* one = item(p, "tcp/dvs/sendrec_reply/pairs1/batch1/block/cross-node");
  const auto* eight = item(p, "tcp/dvs/sendrec_reply/pairs8/batch1/block/cross-node");
  const auto* eight64 = item(p, "tcp/dvs/sendrec_reply/pairs8/batch64/block/cross-node");
  ASSERT_TRUE(one != nullptr && eight != nullptr && eight64 != nullptr);
  EXPECT_EQ(one->cell.baseline, "baseline/tcp/block/cross-core");
  EXPECT_EQ(item(p, "baseline/tcp/block/cross-core")->cell.iterations, 300u);
  EXPECT_EQ(eight->cell.baseline, "tcp/dvs/sendrec_reply/pairs1/batch1/block/cross-node");
  EXPECT_EQ(eight64->cell.baseline, "tcp/dvs/sendrec_reply/pairs1/batch64/block/cross-node");
  EXPECT_TRUE(eight->cell.ratio_of_rates);
  EXPECT_EQ(one->cell.iterations, 800u);
  EXPECT_EQ(eight->cell.iterations, 800u) << "100 round trips per client, 8 clients";
  EXPECT_EQ(eight->row_fields.at("dvsd_batch"), 1);
  EXPECT_EQ(eight->row_fields.at("pairs"), 8);
  EXPECT_EQ(eight->cell.label, "8 sendrec pairs over tcp, dvsd --batch 1");
  EXPECT_EQ(one->cell.short_name, "1-pair-b1") << "how the 8-pair row names it";
  // Cells of one batch value together: the nodes restart once per value.
  EXPECT_LT(item(p, "tcp/dvs/sendrec_reply/pairs8/batch64/block/cross-node"), one);
  // Without the keys a cross-node matrix keeps its ids.
  const Plan q = plan_ok(parse_ok("[scenario]\nname = \"x\"\n[[matrix]]\ntransports = [\"tcp\"]\nprimitives = [\"sendrec\"]\n"));
  EXPECT_NE(item(q, "tcp/dvs/sendrec_reply/block/cross-node"), nullptr);
}

// The SO_RCVLOWAT TCP stream: a raw baseline on tcp's network, at every size of the matrix.
TEST(BenchScenario, TcpStreamRcvlowatIsABaselineOnTcpsNetwork) {
  const Plan p = plan_ok(parse_ok(R"(
[scenario]
name = "x"
[[matrix]]
transports = ["tcp"]
primitives = ["vcopy"]
waits = ["block"]
sizes = [4096]
extra_baselines = ["tcp_stream_rcvlowat"]
)"));
  const auto* lowat = item(p, "baseline/tcp_stream_rcvlowat/4096/block/cross-core");
  const auto* plain = item(p, "baseline/tcp_stream/4096/block/cross-core");
  ASSERT_NE(lowat, nullptr);
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(lowat->cell.network.empty());
  EXPECT_EQ(lowat->cell.network, plain->cell.network);
  EXPECT_EQ(item(p, "tcp/dvs/vcopy/4096/block/cross-node")->cell.baseline, plain->cell.id);
}

// dvs run's matrix as a scenario: every row kind of dvs run planned once, with the counts of its
// options, baselines planned before the cells that name them; --remote-only / --no-remote /
// --waits / --placement shape it.
TEST(RunScenario, PlansDvsRunsMatrix) {
  dvs::cli::RunOptions o;
  o.iterations = 4000;
  o.block_iterations = 300;
  o.copy_iterations = 50;
  o.remote_iterations = 70;
  o.remote_copy_iterations = 9;
  o.remote_pair_iterations = 160;
  o.repeat = 3;
  const Plan p = plan_ok(dvs::bench::run_scenario(o));
  std::set<std::string> ids;
  for (const auto& it : p.items) {
    EXPECT_TRUE(ids.insert(it.cell.id).second) << "planned twice: " << it.cell.id;
    if (!it.cell.baseline.empty()) {
      EXPECT_TRUE(ids.count(it.cell.baseline)) << it.cell.id << " -> " << it.cell.baseline;
    }
    EXPECT_EQ(it.repetitions, 3) << it.cell.id;
  }
  std::vector<std::string> want = {"baseline/shm/spin/cross-core", "baseline/shm/spin-then-block/cross-core",
                                   "baseline/shm/block/cross-core", "baseline/pipe/block/cross-core",
                                   "baseline/unix/block/cross-core", "baseline/pipe_stream/65536/block/cross-core",
                                   "baseline/tcp/block/cross-core", "baseline/tcp_stream/1048576/block/cross-core",
                                   "baseline/tcp_stream_rcvlowat/1048576/block/cross-core",
                                   "tcp/dvs/vcopy/1048576/block/cross-node", "tcp/dvs/vcopy_push/1048576/block/cross-node"};
  for (const char* prim : {"send_receive", "sendrec_reply", "notify_receive", "rcvrqst_reply"})
    for (const char* wait : {"spin", "spin-then-block", "block"})
      want.push_back(fmt::format("local/dvs/{}/{}/cross-core", prim, wait));
  for (const char* wait : {"spin", "spin-then-block", "block"})
    want.push_back(fmt::format("local/dvs/vcopy/65536/{}/cross-core", wait));
  for (const char* peer : {"nng_ipc", "nng_tcp", "zmq_ipc", "zmq_tcp"}) want.push_back(fmt::format("peer/{}/block/cross-core", peer));
  for (const char* peer : {"nng_tcp", "zmq_tcp"}) want.push_back(fmt::format("peer/{}/block/cross-node", peer));
  for (const char* dvs : {"dvs", "dvs-direct"}) {
    for (const char* prim : {"sendrec_reply", "send_receive", "notify_receive"})
      want.push_back(fmt::format("tcp/{}/{}/block/cross-node", dvs, prim));
  }
  for (int n : {1, 8}) {
    for (int b : {64, 1}) want.push_back(fmt::format("tcp/dvs/sendrec_reply/pairs{}/batch{}/block/cross-node", n, b));
    want.push_back(fmt::format("tcp/dvs-direct/sendrec_reply/pairs{}/block/cross-node", n));
  }
  for (const auto& id : want) EXPECT_TRUE(ids.count(id)) << "missing " << id;
  EXPECT_EQ(ids.size(), want.size()) << "and nothing else";

  EXPECT_EQ(item(p, "local/dvs/sendrec_reply/spin/cross-core")->cell.iterations, 4000u);
  EXPECT_EQ(item(p, "local/dvs/sendrec_reply/block/cross-core")->cell.iterations, 300u);
  EXPECT_EQ(item(p, "local/dvs/vcopy/65536/block/cross-core")->cell.iterations, 50u);
  EXPECT_EQ(item(p, "tcp/dvs/sendrec_reply/block/cross-node")->cell.iterations, 70u);
  EXPECT_EQ(item(p, "tcp/dvs/vcopy/1048576/block/cross-node")->cell.iterations, 9u);
  EXPECT_EQ(item(p, "tcp/dvs/sendrec_reply/pairs8/batch1/block/cross-node")->cell.iterations, 160u);
  EXPECT_EQ(item(p, "tcp/dvs/sendrec_reply/pairs8/batch1/block/cross-node")->cell.baseline,
            "tcp/dvs/sendrec_reply/pairs1/batch1/block/cross-node");
  EXPECT_EQ(item(p, "peer/zmq_tcp/block/cross-core")->cell.baseline, "local/dvs/sendrec_reply/block/cross-core");
  EXPECT_EQ(item(p, "tcp/dvs-direct/sendrec_reply/block/cross-node")->cell.baseline, "baseline/tcp/block/cross-core");
  // The remote peer rows: remote counts, tcp's network, compared with the remote sendrec (block).
  const auto* remote_peer = item(p, "peer/nng_tcp/block/cross-node");
  EXPECT_EQ(remote_peer->cell.baseline, "tcp/dvs/sendrec_reply/block/cross-node");
  EXPECT_EQ(remote_peer->cell.iterations, 70u);
  EXPECT_EQ(remote_peer->cell.network, item(p, "tcp/dvs/sendrec_reply/block/cross-node")->cell.network);
  EXPECT_FALSE(remote_peer->cell.network.empty());

  auto ids_of = [](const dvs::cli::RunOptions& x) {
    std::set<std::string> v;
    for (const auto& it : plan_ok(dvs::bench::run_scenario(x)).items) v.insert(it.cell.id);
    return v;
  };
  auto any_prefix = [](const std::set<std::string>& v, const std::string& prefix) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& id) { return id.rfind(prefix, 0) == 0; });
  };
  dvs::cli::RunOptions remote_only = o;
  remote_only.remote_only = true;
  EXPECT_FALSE(any_prefix(ids_of(remote_only), "local/"));
  EXPECT_TRUE(any_prefix(ids_of(remote_only), "tcp/"));
  dvs::cli::RunOptions no_remote = o;
  no_remote.no_remote = true;
  EXPECT_FALSE(any_prefix(ids_of(no_remote), "tcp/"));
  EXPECT_TRUE(any_prefix(ids_of(no_remote), "local/"));
  dvs::cli::RunOptions spin_same = o;
  spin_same.waits = {"spin"};
  spin_same.placement = "same";
  spin_same.remote_wait = "spin";
  const Plan q = plan_ok(dvs::bench::run_scenario(spin_same));
  for (const auto& it : q.items) {
    if (it.cell.peer) {
      EXPECT_TRUE(it.cell.id.ends_with("/cross-node")) << "local peer rows need block: " << it.cell.id;
      EXPECT_TRUE(it.cell.baseline.empty()) << "no remote sendrec (block) to name: " << it.cell.id;
    }
    EXPECT_EQ(it.cell.id.find("/unix/"), std::string::npos) << it.cell.id;
    if (it.cell.dvs && it.cell.kind == dvs::cli::CellKind::PingPong) {
      EXPECT_FALSE(it.cell.skip_reason.empty()) << "spin on one CPU is skipped: " << it.cell.id;
    }
  }
  EXPECT_NE(item(q, "local/dvs/sendrec_reply/spin/same-core"), nullptr);
  EXPECT_NE(item(q, "tcp/dvs/sendrec_reply/spin/cross-node"), nullptr);
}

// Each bad file: the error starts with t.toml:<line>: and names the key.
TEST(BenchScenario, BadFilesNameTheLineAndTheKey) {
  const std::string head = "[scenario]\nname = \"x\"\n";  // lines 1-2
  struct Case {
    std::string text;
    int line;
    std::string want;
  };
  const Case cases[] = {
      {head + "[[matrix]]\nwaits = [\"spin\"\n", 4, "not valid TOML"},
      {"[scenario]\nname = \"x\"\nfoo = 1\n", 3, "unknown key 'foo'"},
      {head + "[[matrix]]\nname = \"m\"\nwiats = [\"spin\"]\n", 5, "unknown key 'wiats'"},
      {head + "[[matrix]]\nwaits = [\"spin\", \"spinn\"]\n", 4, "'waits[1]' = \"spinn\" is not one of spin, spin-then-block, block"},
      {head + "[[matrix]]\nprimitives = [\"sendrec\", \"sendrec_reply\"]\n", 4, "repeats \"sendrec_reply\""},
      // Caught by dvs_scenario_fuzz (seed bad-value-newline.toml): a quoted value broke the message in two.
      {head + "[[matrix]]\nwaits = [\"spin\\nblock\"]\n", 4, "'waits[0]' = \"spin\\nblock\" is not one of"},
      {head + "[[matrix]]\ntransports = []\n", 4, "'transports' is empty"},
      {head + "[defaults]\nsamples = \"many\"\n[[matrix]]\n", 4, "'samples' must be an integer"},
      {head + "[defaults]\nblock_samples = 0\n[[matrix]]\n", 4, "'block_samples' = 0 is out of range"},
      {head + "[[matrix]]\nsamples = 10\n\nduration_s = 2\n", 6, "'duration_s' and 'samples'"},
      {head + "[[matrix]]\nprimitives = [\"vcopy\"]\nsizes = { from = 4096, to = 64 }\n", 5, "from = 4096 is larger than to = 64"},
      {head + "[[matrix]]\nprimitives = [\"vcopy\"]\nsizes = { from = 64, upto = 4096 }\n", 5, "'sizes.upto'"},
      {head + "[[matrix]]\nprimitives = [\"vcopy\"]\nsizes = [64, 0]\n", 5, "'sizes[1]' = 0 is out of range"},
      {head + "[[matrix]]\nprimitives = [\"vcopy\"]\nperturb = [1, 100000]\n", 5, "'perturb[1]'"},
      {head + "[[matrix]]\nprimitives = [\"sendrec\"]\nsizes = [64]\n", 5, "'sizes' is set but nothing in this matrix copies"},
      {head + "[[matrix]]\ntransports = [\"local\"]\nplacements = [\"cross-node\"]\n", 5, "'placements'"},
      {head + "[[matrix]]\ntransports = [\"tcp\"]\nplacements = [\"cross-core\"]\n", 5, "has no \"cross-node\""},
      {head + "[[matrix]]\ncross_node_pinning = \"diagonal\"\n", 4, "'cross_node_pinning'"},
      {head + "[defaults]\nwaits = [\"spin\"]\n[[matrix]]\n", 4, "[defaults]: unknown key 'waits'"},
      {head + "[[matrix]]\nname = \"a\"\n[[matrix]]\nname = \"a\"\n", 5, "name \"a\" is taken by the [[matrix]] at line 3"},
      {"[scenario]\ndescription = \"no name\"\n[[matrix]]\n", 1, "'name' is missing"},
      {"[[matrix]]\n", 1, "needs a [scenario] table"},
      {head, 1, "no [[matrix]] table"},
      {"matrix = 3\n" + head, 1, "'matrix' must be an array of tables"},
      {head + "[[matrix]]\nprimitives = [\"sendrec\"]\npairs = [1, 9]\n", 5, "'pairs[1]' = 9 is out of range 1..8"},
      {head + "[[matrix]]\nprimitives = [\"sendrec\"]\npairs = [2, 2]\n", 5, "'pairs[1]' repeats 2"},
      {head + "[[matrix]]\nprimitives = [\"sendrec\"]\npairs = []\n", 5, "'pairs' must be a non-empty array"},
      {head + "[[matrix]]\nprimitives = [\"sendrec\", \"notify\"]\npairs = [1]\n", 5, "'pairs' needs primitives"},
      {head + "[[matrix]]\ntransports = [\"tcp\"]\ndvsd_batch = [64, 0]\n", 5, "'dvsd_batch[1]' = 0 is out of range 1..4096"},
      {head + "[[matrix]]\ntransports = [\"tcp\"]\ndvsd_batch = [1, 1]\n", 5, "'dvsd_batch[1]' repeats 1"},
      {head + "[[matrix]]\ndvsd_batch = [64]\n", 4, "'dvsd_batch' needs a transport other than \"local\""},
      {head + "[[matrix]]\ntransports = [\"tcp\"]\nremote_pair_samples = 0\n", 5, "'remote_pair_samples' = 0 is out of range"},
  };
  for (const auto& c : cases) {
    const std::string err = parse_err(c.text);
    const std::string prefix = "t.toml:" + std::to_string(c.line) + ": ";
    EXPECT_EQ(err.rfind(prefix, 0), 0u) << "want " << prefix << "..., got: " << err << "\n--\n" << c.text;
    EXPECT_NE(err.find(c.want), std::string::npos) << "want '" << c.want << "' in: " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << "one line: " << err;
  }
  Scenario s;
  EXPECT_NE(dvs::bench::parse_scenario_file("/nonexistent/x.toml", &s).find("cannot open"), std::string::npos);
}

}  // namespace
