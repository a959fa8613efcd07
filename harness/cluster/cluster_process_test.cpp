// Process mode: `dvs cluster up/status/down` end to end (the embedded default cluster), usage
// errors, a failure in the middle of `up` cleaning up after itself, and the library with remote
// IPC over tcp and shm links, including a killed and restarted node.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "harness/cluster/cluster_test_util.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/poll_until.hpp"
#include "core/testkit/test_message.hpp"

namespace {

using dvs::cluster::Cluster;
using dvs::cluster::ClusterSpec;
using dvs::cluster::ExecResult;
using dvs::cluster::run_command;
using dvs::cluster::testutil::ClusterGuard;
using dvs::cluster::testutil::cluster_toml;
using dvs::cluster::testutil::connect_client;
using dvs::cluster::testutil::parse_or_die;
using dvs::cluster::testutil::wait_link;
using dvs::testing::Millis;
using dvs::testing::Pipe;
using dvs::testing::run_in_child;

constexpr int kServer = 5;

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/dvs-ct-proc-XXXXXX";
    if (mkdtemp(t)) path = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Processes whose command line mentions `needle` (leftover dvsd of a cluster in a state dir).
std::vector<int> processes_mentioning(const std::string& needle) {
  std::vector<int> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    int pid = atoi(e->d_name);
    if (pid <= 0 || pid == getpid()) continue;
    std::ifstream f("/proc/" + std::string(e->d_name) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos && dvs::cluster::process_alive(pid, -1)) out.push_back(pid);
  }
  closedir(d);
  return out;
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// A sendrec round trip client@0 -> server@1 through two node sockets (server on node server_node).
::testing::AssertionResult round_trip(const std::string& s0, const std::string& s1, int dc = 0, int server_node = 1) {
  Pipe ready;
  auto server = run_in_child("server@1", [&] {
    CHILD_CHECK_EQ(kServer, dvs::testing::open_and_bind(s1, dc, kServer));
    ready.send(1);
    for (int i = 0; i < 21; ++i) {
      dvs_message_t m{};
      CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
      if (DVS_IS_NOTIFY(m.m_type)) continue;
      m.m_type += 1000;
      CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
    }
    return 0;
  });
  if (!ready.recv()) return ::testing::AssertionFailure() << "server did not bind";
  auto client = run_in_child("client@0", [&] {
    CHILD_CHECK(connect_client(s0, dc, kServer, server_node) >= 0);
    CHILD_CHECK(wait_link(kServer));
    for (int i = 0; i < 20; ++i) {
      dvs_message_t m = dvs::testing::make_msg(i, i);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kServer, &m, 5000));
      CHILD_CHECK_EQ(1000 + i, m.m_type);
      CHILD_CHECK(dvs::testing::payload_ok(m, i));
    }
    return 0;
  });
  auto c = client.wait_ok(Millis(20000));
  auto s = server.wait_ok(Millis(20000));
  if (!c) return c;
  return s;
}

TEST(ClusterCli, UpStatusDownWithTheEmbeddedDefault) {
  TempDir t;
  const std::string state = t.path + "/state";
  ExecResult up = run_command({DVS_CLI_PATH, "cluster", "up", "--state", state}, 30000);
  ASSERT_TRUE(up.ok()) << up.output;
  EXPECT_NE(std::string::npos, up.output.find("cluster two-node up (process mode, 2 nodes, 1 links)")) << up.output;
  std::unique_ptr<Cluster> c;
  ASSERT_EQ("", Cluster::load(state, &c));
  ASSERT_EQ(2u, c->state().nodes.size());
  EXPECT_TRUE(c->state().complete);
  for (const auto& n : c->state().nodes) EXPECT_TRUE(dvs::cluster::process_alive(n.pid, n.starttime));

  ExecResult st = run_command({DVS_CLI_PATH, "cluster", "status", "--state", state}, 10000);
  EXPECT_TRUE(st.ok()) << st.output;
  EXPECT_NE(std::string::npos, st.output.find("node 0: running")) << st.output;
  EXPECT_NE(std::string::npos, st.output.find("links: 1:up")) << st.output;

  // The nodes really talk: a client on node 0, a server on node 1.
  EXPECT_TRUE(round_trip(c->socket(0), c->socket(1)));

  ExecResult down = run_command({DVS_CLI_PATH, "cluster", "down", "--state", state}, 30000);
  EXPECT_TRUE(down.ok()) << down.output;
  for (const auto& n : c->state().nodes) EXPECT_FALSE(dvs::cluster::process_alive(n.pid, n.starttime));
  EXPECT_FALSE(std::filesystem::exists(state)) << "state dir left behind";
  EXPECT_TRUE(processes_mentioning(state).empty());
  // down again: nothing to do, still success.
  ExecResult again = run_command({DVS_CLI_PATH, "cluster", "down", "--state", state}, 10000);
  EXPECT_TRUE(again.ok()) << again.output;
  EXPECT_NE(std::string::npos, again.output.find("nothing to stop")) << again.output;
  ExecResult st2 = run_command({DVS_CLI_PATH, "cluster", "status", "--state", state}, 10000);
  EXPECT_EQ(1, st2.exit_code) << st2.output;
}

TEST(ClusterCli, BadFileIsOneLineWithFileAndLine) {
  TempDir t;
  const std::string file = t.path + "/bad.toml";
  std::ofstream(file) << "[cluster]\nname = \"b\"\n\n[[node]]\nid = 0\n\n[[dc]]\nid = 0\nnodes = [0, 4]\n";
  ExecResult r = run_command({DVS_CLI_PATH, "cluster", "up", file, "--state", t.path + "/s"}, 10000);
  EXPECT_EQ(2, r.exit_code) << r.output;
  EXPECT_EQ("dvs: " + file + ":9: DC 0 spans node 4, which no [[node]] defines\n", r.output);
  ExecResult chk = run_command({DVS_CLI_PATH, "cluster", "check", file}, 10000);
  EXPECT_EQ(2, chk.exit_code);
  EXPECT_EQ(1, count_lines(chk.output)) << chk.output;
  ExecResult good = run_command({DVS_CLI_PATH, "cluster", "check", std::string(DVS_CLUSTERS_DIR) + "/three-node.toml"}, 10000);
  EXPECT_TRUE(good.ok()) << good.output;
  ExecResult def = run_command({DVS_CLI_PATH, "cluster", "default"}, 10000);
  EXPECT_TRUE(def.ok());
  EXPECT_EQ(std::string(dvs::cluster::default_cluster_text()), def.output);
  EXPECT_FALSE(std::filesystem::exists(t.path + "/s"));
}

// Node 1's fixed port is taken: node 2 is already running when node 1 fails. `up` reports one
// line, exits 1, and node 2's dvsd, the sockets and the state dir are gone.
TEST(ClusterCli, FailureInTheMiddleOfUpCleansUp) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a));
  ASSERT_EQ(0, listen(fd, 1));
  socklen_t len = sizeof a;
  ASSERT_EQ(0, getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len));
  const int port = ntohs(a.sin_port);
  TempDir t;
  const std::string file = t.path + "/busy.toml";
  std::ofstream(file) << "[cluster]\nname = \"busy\"\n[[node]]\nid = 0\n[[node]]\nid = 1\nport = " << port
                      << "\n[[node]]\nid = 2\n";
  const std::string state = t.path + "/state";
  ExecResult r = run_command({DVS_CLI_PATH, "cluster", "up", file, "--state", state}, 30000);
  close(fd);
  EXPECT_EQ(1, r.exit_code) << r.output;
  EXPECT_EQ(1, count_lines(r.output)) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("node 1: dvsd exited before it was ready")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(state));
  EXPECT_TRUE(processes_mentioning(state).empty()) << "a dvsd of the failed up is still running";
}

TEST(ClusterProcess, RefusesASecondUpInTheSameStateDir) {
  ClusterGuard g;
  ASSERT_TRUE(g.up(parse_or_die(cluster_toml("twice", 2, 100, 1000)), false));
  dvs::cluster::UpOptions o;
  o.state_dir = g.dir;
  o.owned = true;
  std::unique_ptr<Cluster> second;
  std::string err = Cluster::up(parse_or_die(cluster_toml("twice", 2, 100, 1000)), o, &second);
  EXPECT_NE(std::string::npos, err.find("is already up in " + g.dir)) << err;
  EXPECT_TRUE(g->links_up());
}

TEST(ClusterProcess, KilledNodeRestartsAndLinksComeBack) {
  ClusterGuard g;
  ASSERT_TRUE(g.up(parse_or_die(cluster_toml("restart", 3, 50, 400)), false));
  EXPECT_TRUE(round_trip(g->socket(0), g->socket(1)));
  const std::string listen1 = g->node(1)->listen;
  ASSERT_EQ("", g->kill_node(1, SIGKILL));
  std::string why;
  EXPECT_TRUE(dvs::testing::poll_until([&] { return !g->links_up(&why); }, Millis(3000)));
  ASSERT_EQ("", g->start_node(1));
  EXPECT_EQ(listen1, g->node(1)->listen) << "a restarted node must listen where its peers dial";
  EXPECT_EQ("", g->wait_links(10000)) << g.logs();
  EXPECT_TRUE(round_trip(g->socket(0), g->socket(1)));
}

TEST(ClusterProcess, ShmLinksBetweenProcesses) {
  ClusterGuard g;
  ASSERT_TRUE(g.up(parse_or_die(cluster_toml("shm", 2, 100, 1000, "shm")), false));
  EXPECT_EQ(0u, g->node(1)->listen.rfind("shm://", 0)) << g->node(1)->listen;
  EXPECT_TRUE(round_trip(g->socket(0), g->socket(1)));
}

// Three nodes, all tcp by default; [[link.between]] tables make link 0-1 shm (and, in the second file,
// link 0-2 too, so node 2 listens on tcp for node 1 and on shm for node 0).
std::string three_nodes_with_links(const std::string& name, const std::string& links) {
  return "[cluster]\nname = \"" + name + "\"\n\n[[node]]\nid = 0\n\n[[node]]\nid = 1\n\n[[node]]\nid = 2\n" + links;
}
const std::string kShmLink01 = "\n[[link.between]]\nnodes = [0, 1]\ntransport = \"shm\"\n";

// The transport node `id`'s dvsd reported for its link to `peer` ("tcp", "shm"; "" if not up).
std::string link_transport_in_log(Cluster& c, int id, int peer) {
  const std::string log = c.log_tail(id, 1000);
  const std::string key = "link to node " + std::to_string(peer) + " up (";
  auto at = log.rfind(key);
  if (at == std::string::npos) return "";
  return log.substr(at + key.size(), log.find("://", at) - at - key.size());
}

TEST(ClusterProcess, LinkTablesChooseEachLinksTransport) {
  ClusterGuard g;
  ASSERT_TRUE(g.up(parse_or_die(three_nodes_with_links("links", kShmLink01)), false));
  EXPECT_EQ((std::vector<std::string>{}), g->node(0)->listens);
  ASSERT_EQ(1u, g->node(1)->listens.size());
  EXPECT_EQ(0u, g->node(1)->listens[0].rfind("shm://", 0)) << g->node(1)->listens[0];
  ASSERT_EQ(1u, g->node(2)->listens.size());
  EXPECT_EQ(0u, g->node(2)->listens[0].rfind("tcp://127.0.0.1:", 0)) << g->node(2)->listens[0];
  for (auto [a, b, want] : {std::tuple{0, 1, "shm"}, {0, 2, "tcp"}, {1, 2, "tcp"}}) {
    EXPECT_EQ(want, link_transport_in_log(*g, a, b)) << "node " << a << " -> " << b << "\n" << g.logs();
    EXPECT_EQ(want, link_transport_in_log(*g, b, a)) << "node " << b << " -> " << a << "\n" << g.logs();
  }
  EXPECT_TRUE(round_trip(g->socket(0), g->socket(1), 0, 1));  // shm
  EXPECT_TRUE(round_trip(g->socket(0), g->socket(2), 0, 2));  // tcp
  EXPECT_TRUE(round_trip(g->socket(1), g->socket(2), 0, 2));  // tcp
}

TEST(ClusterProcess, ANodeListensOnTwoTransportsAndRestartsOnBoth) {
  ClusterGuard g;
  ASSERT_TRUE(g.up(parse_or_die(three_nodes_with_links(
                       "twolisten", kShmLink01 + "\n[[link.between]]\nnodes = [0, 2]\ntransport = \"shm\"\n")),
                   false));
  const std::vector<std::string> listens = g->node(2)->listens;
  ASSERT_EQ(2u, listens.size());
  EXPECT_EQ(0u, listens[0].rfind("tcp://127.0.0.1:", 0)) << listens[0];  // node 2's own transport first
  EXPECT_EQ(0u, listens[1].rfind("shm://", 0)) << listens[1];
  EXPECT_EQ("shm", link_transport_in_log(*g, 0, 2));
  EXPECT_EQ("tcp", link_transport_in_log(*g, 1, 2));
  ASSERT_EQ("", g->kill_node(2, SIGKILL));
  ASSERT_EQ("", g->start_node(2));
  EXPECT_EQ(listens, g->node(2)->listens) << "a restarted node must listen where its peers dial";
  EXPECT_EQ("", g->wait_links(10000)) << g.logs();
  EXPECT_TRUE(round_trip(g->socket(0), g->socket(2), 0, 2)) << g.logs();  // shm
  EXPECT_TRUE(round_trip(g->socket(1), g->socket(2), 0, 2)) << g.logs();  // tcp
}

TEST(ClusterProcess, ShmLinkCannotCrossNamespaces) {
  dvs::cluster::UpOptions o;
  o.netns = true;
  o.state_dir = "/tmp/dvs-ct-never";
  std::unique_ptr<Cluster> c;
  std::string err = Cluster::up(parse_or_die(three_nodes_with_links("shmlinkns", kShmLink01)), o, &c);
  EXPECT_EQ("<test>:13: link 0-1: shm links need process mode", err.substr(0, err.find(" (")));
  EXPECT_FALSE(std::filesystem::exists("/tmp/dvs-ct-never"));
}

TEST(ClusterProcess, ShmCannotCrossNamespaces) {
  dvs::cluster::UpOptions o;
  o.netns = true;
  o.state_dir = "/tmp/dvs-ct-never";
  std::unique_ptr<Cluster> c;
  std::string err = Cluster::up(parse_or_die(cluster_toml("shmns", 2, 100, 1000, "shm")), o, &c);
  EXPECT_NE(std::string::npos, err.find("transport shm cannot cross network namespaces")) << err;
  EXPECT_FALSE(std::filesystem::exists("/tmp/dvs-ct-never"));
}

}  // namespace
