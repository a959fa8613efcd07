// Cluster file parser: the shipped files and the embedded default parse; every kind of bad file
// gives one line naming the file, the line and the problem.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "harness/cluster/cluster_file.hpp"

namespace {
using dvs::cluster::ClusterSpec;
using dvs::cluster::parse_cluster_file;
using dvs::cluster::parse_cluster_text;

const std::string kNodes = R"(
[[node]]
id = 0

[[node]]
id = 1
)";

TEST(ClusterFile, ShippedTwoNodeFileParses) {
  ClusterSpec s;
  ASSERT_EQ("", parse_cluster_file(std::string(DVS_CLUSTERS_DIR) + "/two-node.toml", &s));
  EXPECT_EQ("two-node", s.name);
  ASSERT_EQ(2u, s.nodes.size());
  EXPECT_EQ(0, s.nodes[0].id);
  EXPECT_EQ("tcp", s.nodes[1].transport);
  ASSERT_EQ(1u, s.dcs.size());
  EXPECT_EQ((std::vector<int>{0, 1}), s.dcs[0].nodes);
  EXPECT_EQ("10.213.0.11", s.netns_address(1));
  EXPECT_EQ((std::vector<int>{1}), s.peers_of(0));
}

TEST(ClusterFile, ShippedThreeNodeFileParses) {
  ClusterSpec s;
  ASSERT_EQ("", parse_cluster_file(std::string(DVS_CLUSTERS_DIR) + "/three-node.toml", &s));
  EXPECT_EQ("three-node", s.name);
  ASSERT_EQ(3u, s.nodes.size());
  ASSERT_EQ(2u, s.dcs.size());
  EXPECT_EQ("web", s.dcs[0].name);
  EXPECT_EQ((std::vector<int>{1, 2}), s.dcs[1].nodes);
  EXPECT_EQ("0,name=web,procs=64,tasks=8,sysprocs=16,nodes=0+1+2", ClusterSpec::dc_arg(s.dcs[0]));
  EXPECT_NE(std::string::npos, ClusterSpec::dc_arg(s.dcs[1]).find(",nodes=1+2"));
  EXPECT_EQ(7002, s.netns_port(2));
  EXPECT_EQ(7000, s.netns_port(1));
  EXPECT_EQ(64, s.link.batch);
  EXPECT_EQ((std::vector<int>{1, 2}), s.peers_of(0));
  EXPECT_EQ(1u, s.dcs_of(0).size());
  EXPECT_EQ(2u, s.dcs_of(2).size());
}

TEST(ClusterFile, EmbeddedDefaultIsTheShippedTwoNodeFile) {
  std::ifstream f(std::string(DVS_CLUSTERS_DIR) + "/two-node.toml");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, std::string(dvs::cluster::default_cluster_text()));
  ClusterSpec s;
  ASSERT_EQ("", parse_cluster_text(dvs::cluster::default_cluster_text(), dvs::cluster::kDefaultClusterSource, &s));
  EXPECT_EQ(2u, s.nodes.size());
}

TEST(ClusterFile, DefaultsWithoutDcsAndLink) {
  ClusterSpec s;
  ASSERT_EQ("", parse_cluster_text("[cluster]\nname = \"x\"\n" + kNodes, "mem.toml", &s));
  ASSERT_EQ(1u, s.dcs.size());
  EXPECT_EQ(0, s.dcs[0].id);
  EXPECT_EQ((std::vector<int>{0, 1}), s.dcs[0].nodes);
  EXPECT_EQ(500, s.link.heartbeat_ms);
  EXPECT_EQ(3000, s.link.dead_ms);
  EXPECT_EQ("127.0.0.1", s.nodes[0].host);
  EXPECT_EQ(0, s.nodes[0].port);
  EXPECT_EQ("10.213.0.10", s.netns_address(0));
}

const std::string kThreeNodes = R"([cluster]
name = "links"

[[node]]
id = 0

[[node]]
id = 1

[[node]]
id = 2
transport = "shm"
)";

TEST(ClusterFile, WithoutLinkTablesTheHigherNodesTransportIsTheLinks) {
  ClusterSpec s;
  ASSERT_EQ("", parse_cluster_text(kThreeNodes, "mem.toml", &s));
  EXPECT_TRUE(s.links.empty());
  EXPECT_EQ("tcp", s.link_transport(0, 1));
  EXPECT_EQ("shm", s.link_transport(0, 2));
  EXPECT_EQ("shm", s.link_transport(2, 1));
  EXPECT_EQ(nullptr, s.link_override(0, 1));
  EXPECT_EQ((std::vector<std::string>{}), s.listen_transports(0));
  EXPECT_EQ((std::vector<std::string>{"tcp"}), s.listen_transports(1));
  EXPECT_EQ((std::vector<std::string>{"shm"}), s.listen_transports(2));
}

TEST(ClusterFile, LinkTablesOverrideTheTransportOfOneLink) {
  ClusterSpec s;
  const std::string text = kThreeNodes + "\n[[link.between]]\nnodes = [2, 0]\ntransport = \"tcp\"\n\n[[link.between]]\nnodes = [0, 1]\n"
                                         "transport = \"shm\"\n";
  ASSERT_EQ("", parse_cluster_text(text, "mem.toml", &s));
  ASSERT_EQ(2u, s.links.size());
  EXPECT_EQ(0, s.links[0].a);  // sorted by (a, b), each with a < b
  EXPECT_EQ(1, s.links[0].b);
  EXPECT_EQ(0, s.links[1].a);
  EXPECT_EQ(2, s.links[1].b);
  EXPECT_EQ(14, s.links[1].line);
  EXPECT_EQ("shm", s.link_transport(1, 0));
  EXPECT_EQ("tcp", s.link_transport(0, 2));
  EXPECT_EQ("shm", s.link_transport(1, 2));  // no [[link.between]]: node 2's transport
  EXPECT_EQ((std::vector<std::string>{"shm"}), s.listen_transports(1));
  EXPECT_EQ((std::vector<std::string>{"shm", "tcp"}), s.listen_transports(2));  // its own transport first
}

TEST(ClusterFile, LinkOptionsAndPerLinkTransportsCombine) {
  ClusterSpec s;
  const std::string text = kThreeNodes + "\n[link]\nheartbeat_ms = 50\ndead_ms = 400\n\n[[link.between]]\nnodes = [0, 1]\n"
                                         "transport = \"shm\"\n";
  ASSERT_EQ("", parse_cluster_text(text, "mem.toml", &s));
  EXPECT_EQ(50, s.link.heartbeat_ms);
  EXPECT_EQ(400, s.link.dead_ms);
  ASSERT_EQ(1u, s.links.size());
  EXPECT_EQ("shm", s.link_transport(0, 1));
}

// The remote path is the cluster's ([link]) unless a link says otherwise; a node listens for every
// peer it reaches on the direct path (their processes dial it).
TEST(ClusterFile, RemotePathPerClusterAndPerLink) {
  ClusterSpec s;
  const std::string text = kThreeNodes + "\n[link]\nremote_path = \"direct\"\n\n[[link.between]]\nnodes = [0, 2]\n"
                                         "transport = \"tcp\"\nremote_path = \"proxy\"\n";
  ASSERT_EQ("", parse_cluster_text(text, "mem.toml", &s));
  EXPECT_EQ("direct", s.link.remote_path);
  EXPECT_EQ("direct", s.link_remote_path(0, 1));
  EXPECT_EQ("direct", s.link_remote_path(2, 1));
  EXPECT_EQ("proxy", s.link_remote_path(2, 0));
  EXPECT_TRUE(s.any_direct(0));
  // Node 0 listens for node 1 (direct), not for node 2 (proxy: node 0 dials it).
  EXPECT_EQ((std::vector<std::string>{"tcp"}), s.listen_transports(0));
  ClusterSpec bad;
  const std::string e = parse_cluster_text(kThreeNodes + "\n[[link.between]]\nnodes = [0, 1]\ntransport = \"tcp\"\n"
                                                         "remote_path = \"fast\"\n",
                                           "mem.toml", &bad);
  EXPECT_NE(std::string::npos, e.find("link 0-1: 'remote_path' must be \"proxy\" or \"direct\"")) << e;
}

TEST(ClusterFile, RdmaAndTipcAreProcessModeTransports) {
  for (const std::string& t : {std::string("rdma"), std::string("tipc")}) {
    ClusterSpec s;
    const std::string text = kThreeNodes + "\n[link]\n[[link.between]]\nnodes = [0, 1]\ntransport = \"" + t + "\"\n";
    ASSERT_EQ("", parse_cluster_text(text, "mem.toml", &s)) << t;
    EXPECT_EQ(t, s.link_transport(0, 1));
    EXPECT_EQ((std::vector<std::string>{t}), s.listen_transports(1));
  }
}

struct BadCase {
  const char* what;
  std::string text;
  int line;
  const char* fragment;
};

TEST(ClusterFile, BadFilesNameFileLineAndProblem) {
  const std::string head = "[cluster]\nname = \"c\"\n";  // lines 1-2
  const std::vector<BadCase> cases = {
      {"toml syntax", head + "[[node]]\nid = = 0\n", 4, ""},
      {"no cluster table", kNodes, 1, "missing [cluster]"},
      {"no name", "[cluster]\nsubnet = \"10.1.2.0/24\"\n" + kNodes, 1, "needs name"},
      {"bad name", "[cluster]\nname = \"a b\"\n" + kNodes, 2, "name 'a b'"},
      // Caught by dvs_cluster_file_fuzz (seed bad-name-newline.toml): a quoted value broke the message in two.
      {"name with a newline", "[cluster]\nname = \"two\\nlines\"\n" + kNodes, 2, "name 'two\\nlines' must be"},
      {"unknown top key", head + "[nodes]\nid = 1\n" + kNodes, 3, "unknown key 'nodes'"},
      {"unknown cluster key", "[cluster]\nname = \"c\"\ncolour = 1\n" + kNodes, 3, "unknown key 'colour' in [cluster]"},
      {"unknown node key", head + "[[node]]\nid = 0\nhots = \"1.2.3.4\"\n", 5, "unknown key 'hots' in [[node]]"},
      {"no nodes", head, 1, "no [[node]]"},
      {"node without id", head + "[[node]]\nport = 5\n", 3, "needs id"},
      {"node id out of range", head + "[[node]]\nid = 32\n", 4, "out of range 0..31"},
      {"duplicate node id", head + "[[node]]\nid = 1\n\n[[node]]\nid = 1\n", 7, "duplicate node id 1 (also at line 3)"},
      {"bad port", head + "[[node]]\nid = 0\nport = 70000\n", 5, "'port' = 70000 is out of range 0..65535"},
      {"port not int", head + "[[node]]\nid = 0\nport = \"80\"\n", 5, "'port' must be an integer"},
      {"bad transport", head + "[[node]]\nid = 0\ntransport = \"carrier-pigeon\"\n", 5, "transport 'carrier-pigeon'"},
      {"bad host", head + "[[node]]\nid = 0\nhost = \"example\"\n", 5, "host 'example' is not an IPv4"},
      {"address outside subnet", head + "[[node]]\nid = 0\naddress = \"10.9.9.9\"\n", 5, "outside the cluster subnet"},
      {"broadcast address", head + "[[node]]\nid = 0\naddress = \"10.213.0.255\"\n", 5, "network or broadcast"},
      {"same address", head + "[[node]]\nid = 0\naddress = \"10.213.0.11\"\n[[node]]\nid = 1\n", 6,
       "address 10.213.0.11 is used by another node"},
      {"same tcp endpoint", head + "[[node]]\nid = 0\nport = 7000\n[[node]]\nid = 1\nport = 7000\n", 6,
       "tcp://127.0.0.1:7000 is used by another node"},
      {"public subnet", "[cluster]\nname = \"c\"\nsubnet = \"8.8.8.0/24\"\n" + kNodes, 3, "is not private"},
      {"not a /24", "[cluster]\nname = \"c\"\nsubnet = \"10.0.0.0/16\"\n" + kNodes, 3, "must be an IPv4 /24"},
      {"dc spans undefined node", head + kNodes + "\n[[dc]]\nid = 0\nnodes = [0, 5]\n", 12,
       "DC 0 spans node 5, which no [[node]] defines"},
      {"dc without nodes", head + kNodes + "\n[[dc]]\nid = 0\n", 10, "needs nodes"},
      {"dc empty nodes", head + kNodes + "\n[[dc]]\nid = 0\nnodes = []\n", 12, "non-empty array"},
      {"dc node twice", head + kNodes + "\n[[dc]]\nid = 0\nnodes = [1, 1]\n", 12, "listed twice"},
      {"duplicate dc", head + kNodes + "\n[[dc]]\nid = 0\nnodes = [0]\n[[dc]]\nid = 0\nnodes = [1]\n", 14,
       "duplicate DC id 0 (also at line 10)"},
      {"dc bad geometry", head + kNodes + "\n[[dc]]\nid = 0\nnodes = [0, 1]\nnr_tasks = 300\n", 10, "DC 0: bad DC spec"},
      {"dc unknown key", head + kNodes + "\n[[dc]]\nid = 0\nnodes = [0, 1]\nprocs = 3\n", 13, "unknown key 'procs' in [[dc]]"},
      {"node in no dc", head + kNodes + "\n[[dc]]\nid = 0\nnodes = [0]\n", 7, "node 1 is in no [[dc]]"},
      {"dead_ms <= heartbeat", head + "[link]\nheartbeat_ms = 500\ndead_ms = 400\n" + kNodes, 3,
       "dead_ms (400) must be larger than heartbeat_ms (500)"},
      {"heartbeat too small", head + "[link]\nheartbeat_ms = 1\n" + kNodes, 4, "'heartbeat_ms' = 1 is out of range"},
      {"lz4 not bool", head + "[link]\nlz4 = 1\n" + kNodes, 4, "'lz4' must be true or false"},
      {"copy_chunk too small", head + "[link]\ncopy_chunk = 100\n" + kNodes, 4, "'copy_chunk' = 100 is out of range"},
      {"poll_us negative", head + "[link]\npoll_us = -1\n" + kNodes, 4, "'poll_us' = -1 is out of range"},
      {"bad cpus", head + "[[node]]\nid = 0\ncpus = \"first\"\n", 5, "cpus 'first' is not a CPU list"},
      {"link to unknown node", head + kNodes + "\n[[link.between]]\nnodes = [0, 3]\ntransport = \"shm\"\n", 11,
       "[[link.between]] names node 3, which no [[node]] defines"},
      {"link to itself", head + kNodes + "\n[[link.between]]\nnodes = [1, 1]\ntransport = \"shm\"\n", 11,
       "a node does not link to itself"},
      {"link given twice",
       head + kNodes + "\n[[link.between]]\nnodes = [0, 1]\ntransport = \"shm\"\n[[link.between]]\nnodes = [1, 0]\ntransport = \"tcp\"\n",
       13, "link 0-1 is given twice (also at line 10)"},
      {"link unknown transport", head + kNodes + "\n[[link.between]]\nnodes = [0, 1]\ntransport = \"udp\"\n", 12,
       "link 0-1: transport 'udp' is not supported"},
      {"link unknown key", head + kNodes + "\n[[link.between]]\nnodes = [0, 1]\nspeed = 9\n", 12,
       "unknown key 'speed' in [[link.between]] (allowed: nodes, transport, remote_path)"},
      {"link without transport", head + kNodes + "\n[[link.between]]\nnodes = [0, 1]\n", 10, "link 0-1: needs transport"},
      {"link without nodes", head + kNodes + "\n[[link.between]]\ntransport = \"shm\"\n", 10, "[[link.between]] needs nodes"},
      {"link of one node", head + kNodes + "\n[[link.between]]\nnodes = [0]\ntransport = \"shm\"\n", 11, "two node ids"},
      {"link across no dc",
       head + kNodes + "\n[[dc]]\nid = 0\nnodes = [0]\n[[dc]]\nid = 1\nnodes = [1]\n\n[[link.between]]\nnodes = [0, 1]\n"
       "transport = \"shm\"\n",
       17, "link 0-1: nodes 0 and 1 share no [[dc]]"},
      {"link.between not tables", head + "[link]\nbetween = 3\n" + kNodes, 4,
       "'link.between' must be an array of tables"},
      {"link makes a shm node listen on a taken tcp endpoint",
       head + "[[node]]\nid = 0\nport = 7000\n[[node]]\nid = 1\ntransport = \"shm\"\nport = 7000\n[[link.between]]\nnodes = [0, 1]\n"
       "transport = \"tcp\"\n",
       6, "node 1: tcp://127.0.0.1:7000 is used by another node"},
  };
  for (const auto& c : cases) {
    char path[] = "/tmp/dvs-cluster-file-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(static_cast<ssize_t>(c.text.size()), write(fd, c.text.data(), c.text.size()));
    close(fd);
    ClusterSpec s;
    std::string err = parse_cluster_file(path, &s);
    unlink(path);
    const std::string prefix = std::string(path) + ":" + std::to_string(c.line) + ": ";
    EXPECT_EQ(0u, err.rfind(prefix, 0)) << c.what << ": got '" << err << "', expected it to start with '" << prefix << "'";
    EXPECT_NE(std::string::npos, err.find(c.fragment)) << c.what << ": '" << err << "' lacks '" << c.fragment << "'";
    EXPECT_EQ(std::string::npos, err.find('\n')) << c.what << ": not one line: " << err;
  }
}

TEST(ClusterFile, MissingFile) {
  ClusterSpec s;
  EXPECT_EQ("/nonexistent/c.toml: cannot open the cluster file", parse_cluster_file("/nonexistent/c.toml", &s));
}

}  // namespace
