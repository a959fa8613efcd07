// The dashboards against real parts: a two-node `dvs cluster` (process mode, metrics_port per
// node in its cluster file) under remote and local load, Debian's real Prometheus scraping both
// dvsd every 250 ms; `promtool check metrics` on the scraped text, `promtool check config/rules`
// on dashboards/prometheus/; every Grafana panel's PromQL (from the JSON, template variables
// substituted) and every template variable query must return data from that Prometheus.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/testkit/metrics_testing.hpp"
#include "harness/cluster/cluster_test_util.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"

#ifndef DVS_DASHBOARDS_DIR
#define DVS_DASHBOARDS_DIR "dashboards"
#endif

namespace {

namespace fs = std::filesystem;
using dvs::cluster::testutil::ClusterGuard;
using dvs::cluster::testutil::connect_client;
using dvs::cluster::testutil::parse_or_die;
using dvs::cluster::testutil::wait_link;
using dvs::metrics::testing::free_port;
using dvs::metrics::testing::have;
using dvs::metrics::testing::http_get;
using dvs::metrics::testing::run;
using dvs::testing::Millis;
using dvs::testing::Pipe;
using dvs::testing::run_in_child;
using json = nlohmann::json;

constexpr int kRemoteServer = 5;  // on node 1
constexpr int kLocalServer = 6;   // on node 0
constexpr int kLoadSeconds = 14;

std::string urlencode(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      char b[4];
      snprintf(b, sizeof b, "%%%02X", ch);
      out += b;
    }
  }
  return out;
}

// Grafana's variables as the test substitutes them: every template variable matches all
// (its allValue ".*"), the interval variables get windows several scrapes wide.
std::string substitute(std::string e) {
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"$__rate_interval", "5s"}, {"$__interval", "1s"}, {"$__range", "1m"}})
    for (size_t at; (at = e.find(from)) != std::string::npos;) e.replace(at, from.size(), to);
  return std::regex_replace(e, std::regex(R"(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)"), ".*");
}

// A Prometheus child on 127.0.0.1:port scraping `targets` every 250 ms, data in dir.
struct Prometheus {
  pid_t pid = -1;
  int port = 0;
  std::string dir, log;
  std::string start(const std::string& d, const std::vector<int>& targets) {
    dir = d;
    port = free_port();
    std::ofstream cfg(dir + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  evaluation_interval: 1s\n"
           "scrape_configs:\n  - job_name: dvsd\n    static_configs:\n      - targets: [";
    for (size_t i = 0; i < targets.size(); ++i) cfg << (i ? ", " : "") << "\"127.0.0.1:" << targets[i] << "\"";
    cfg << "]\n";
    cfg.close();
    log = dir + "/prometheus.log";
    pid = fork();
    if (pid == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      const std::string c = "--config.file=" + dir + "/prometheus.yml", s = "--storage.tsdb.path=" + dir + "/tsdb",
                        l = "--web.listen-address=127.0.0.1:" + std::to_string(port);
      execlp("prometheus", "prometheus", c.c_str(), s.c_str(), l.c_str(), "--storage.tsdb.retention.time=1h",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < until) {
      int rc = -1;
      http_get(url("/-/ready"), &rc);
      if (rc == 0) return "";
      if (waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -1;
        return "prometheus exited: " + run("tail -20 " + log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "prometheus not ready in 20 s: " + run("tail -20 " + log);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  // The JSON answer of an API GET ("null" on failure).
  json api(const std::string& path_and_query) const {
    int rc = -1;
    std::string body = http_get(url(path_and_query), &rc);
    if (rc != 0) return json();
    return json::parse(body, nullptr, false);
  }
  ~Prometheus() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      for (int i = 0; i < 100 && waitpid(pid, nullptr, WNOHANG) != pid; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, WNOHANG);
    }
  }
};

struct Panel {
  std::string file, title, expr;
};

std::vector<Panel> panel_queries(std::vector<Panel>* variables) {
  std::vector<Panel> out;
  for (const auto& f : fs::directory_iterator(std::string(DVS_DASHBOARDS_DIR) + "/grafana/dashboards")) {
    if (f.path().extension() != ".json") continue;
    std::ifstream in(f.path());
    json d = json::parse(in, nullptr, false);
    EXPECT_FALSE(d.is_discarded()) << f.path() << " is not JSON";
    if (d.is_discarded()) continue;
    EXPECT_TRUE(d.contains("uid") && d.contains("title") && d.contains("panels")) << f.path();
    for (const auto& p : d.value("panels", json::array()))
      for (const auto& t : p.value("targets", json::array()))
        if (t.contains("expr")) out.push_back({f.path().filename(), p.value("title", "?"), t["expr"]});
    for (const auto& v : d["templating"].value("list", json::array()))
      if (v.value("type", "") == "query")
        variables->push_back({f.path().filename(), v.value("name", "?"), v.value("definition", "")});
  }
  return out;
}

TEST(Dashboards, EveryPanelQueryReturnsDataFromPrometheusScrapingALoadedCluster) {
  for (const char* prog : {"prometheus", "promtool", "curl"})
    if (!have(prog))
      GTEST_SKIP() << prog << " is not installed (Debian packages prometheus, curl: harness/scripts/install-deps.sh)";

  std::vector<Panel> variables;
  const std::vector<Panel> panels = panel_queries(&variables);
  ASSERT_GE(panels.size(), 20u) << "the three dashboards' panels";

  // The cluster: the default two-node shape, each dvsd serving metrics (latency of every 4th call).
  const int mp0 = free_port(), mp1 = free_port();
  ASSERT_NE(mp0, mp1);
  std::string toml = "[cluster]\nname = \"metrics\"\n[link]\nheartbeat_ms = 200\ndead_ms = 1500\n"
                     "[[node]]\nid = 0\ntransport = \"tcp\"\nmetrics_port = " + std::to_string(mp0) +
                     "\n[[node]]\nid = 1\ntransport = \"tcp\"\nmetrics_port = " + std::to_string(mp1) +
                     "\n[[dc]]\nid = 0\nnodes = [0, 1]\n";
  ClusterGuard g;
  ASSERT_TRUE(g.up(parse_or_die(toml), false)) << g.logs();
  const std::string s0 = g->state().nodes[0].socket, s1 = g->state().nodes[1].socket;

  Prometheus prom;
  ASSERT_EQ("", prom.start(g.dir, {mp0, mp1}));

  // Load: two remote clients on node 0 -> server on node 1, a local pair on node 0; the local
  // client also makes NOWAIT receives that fail (errors by code).
  Pipe ready1, ready0;
  auto serve = [](const std::string& sock, int slot, Pipe* ready) {
    return [sock, slot, ready] {
      CHILD_CHECK_EQ(slot, dvs::testing::open_and_bind(sock, 0, slot));
      ready->send(1);
      long served = 0;
      for (;;) {
        dvs_message_t m{};
        int rc = dvs_receive_T(DVS_ANY, &m, 4000);
        if (rc == EDVSTIMEDOUT) {  // the clients are done
          fprintf(stderr, "server %d: idle 4 s, exiting after %ld requests\n", slot, served);
          return 0;
        }
        CHILD_CHECK_EQ(0, rc);
        if (DVS_IS_NOTIFY(m.m_type)) continue;
        CHILD_CHECK_EQ(0, dvs_reply_T(m.m_source, &m, 5000));
        ++served;
      }
    };
  };
  auto rserver = run_in_child("server@1", serve(s1, kRemoteServer, &ready1));
  auto lserver = run_in_child("server@0", serve(s0, kLocalServer, &ready0));
  ASSERT_TRUE(ready1.recv());
  ASSERT_TRUE(ready0.recv());
  const auto load_until = std::chrono::steady_clock::now() + std::chrono::seconds(kLoadSeconds);
  std::vector<dvs::testing::ForkedChild> clients;
  for (int i = 0; i < 2; ++i)
    clients.push_back(run_in_child("remote-client@0", [&] {
      CHILD_CHECK(connect_client(s0, 0, kRemoteServer, 1) >= 0);
      CHILD_CHECK(wait_link(kRemoteServer));
      for (int n = 0; std::chrono::steady_clock::now() < load_until; ++n) {
        dvs_message_t m = dvs::testing::make_msg(n % 1000, n);
        CHILD_CHECK_EQ(0, dvs_sendrec_T(kRemoteServer, &m, 5000));
        if (n % 64 == 0) usleep(200);  // leave the CPUs some air for Prometheus
      }
      return 0;
    }));
  clients.push_back(run_in_child("local-client@0", [&] {
    CHILD_CHECK(dvs::testing::open_and_bind(s0, 0, DVS_ANY) >= 0);
    for (int n = 0; std::chrono::steady_clock::now() < load_until; ++n) {
      dvs_message_t m = dvs::testing::make_msg(n % 1000, n);
      CHILD_CHECK_EQ(0, dvs_sendrec_T(kLocalServer, &m, 5000));
      if (n % 100 == 0) {
        CHILD_CHECK_EQ(EDVSTIMEDOUT, dvs_receive_T(DVS_ANY, &m, DVS_TIMEOUT_NOWAIT));
        usleep(500);
      }
    }
    return 0;
  }));

  // Let Prometheus collect a few seconds of load, then check the text and the queries while the
  // load still runs.
  std::this_thread::sleep_for(std::chrono::seconds(6));
  for (int mp : {mp0, mp1}) {
    int rc = -1;
    const std::string text = http_get("http://127.0.0.1:" + std::to_string(mp) + "/metrics", &rc);
    ASSERT_EQ(0, rc) << "node metrics on " << mp;
    const std::string file = g.dir + "/scrape-" + std::to_string(mp) + ".txt";
    std::ofstream(file) << text;
    int prc = -1;
    const std::string lint = run("promtool check metrics < " + file + " 2>&1", &prc);
    EXPECT_EQ(0, prc) << lint;
    EXPECT_EQ("", lint) << "promtool check metrics on node metrics port " << mp;
  }
  {
    int prc = -1;
    const std::string dir = std::string(DVS_DASHBOARDS_DIR) + "/prometheus";
    std::string out = run("promtool check config " + dir + "/prometheus.yml 2>&1", &prc);
    EXPECT_EQ(0, prc) << out;
    out = run("promtool check rules " + dir + "/dvs_rules.yml 2>&1", &prc);
    EXPECT_EQ(0, prc) << out;
  }

  // Every panel query (retried for a few seconds: the first rate() needs two scrapes).
  const auto query_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  for (const Panel& p : panels) {
    const std::string q = substitute(p.expr);
    json r;
    for (;;) {
      r = prom.api("/api/v1/query?query=" + urlencode(q));
      const bool data = r.is_object() && r.value("status", "") == "success" && !r["data"]["result"].empty();
      if (data || std::chrono::steady_clock::now() > query_deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ASSERT_TRUE(r.is_object()) << p.file << " / " << p.title << ": no answer for " << q;
    EXPECT_EQ("success", r.value("status", "")) << p.file << " / " << p.title << ": " << q << " -> " << r.dump();
    EXPECT_FALSE(r["data"]["result"].empty()) << p.file << " / " << p.title << ": no data for " << q;
  }
  // Every template variable: label_values(SELECTOR, LABEL) has values.
  const std::regex lv(R"(^label_values\((.*),\s*([A-Za-z_]+)\)$)");
  for (const Panel& v : variables) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(v.expr, m, lv)) << v.file << " variable " << v.title << ": " << v.expr;
    json r = prom.api("/api/v1/label/" + m[2].str() + "/values?match[]=" + urlencode(substitute(m[1].str())));
    ASSERT_TRUE(r.is_object()) << v.file << " variable " << v.title;
    EXPECT_FALSE(r["data"].empty()) << v.file << " variable " << v.title << ": no values for " << v.expr;
  }
  // Both nodes were scraped and report their link up.
  json up = prom.api("/api/v1/query?query=" + urlencode("sum(dvs_link_up)"));
  ASSERT_TRUE(up.is_object());
  ASSERT_FALSE(up["data"]["result"].empty());
  EXPECT_EQ("2", up["data"]["result"][0]["value"][1].get<std::string>());
  json remote = prom.api("/api/v1/query?query=" +
                         urlencode("sum(dvs_ipc_calls_total{node=\"0\",primitive=\"sendrec\",scope=\"remote\"})"));
  ASSERT_TRUE(remote.is_object());
  ASSERT_FALSE(remote["data"]["result"].empty());
  EXPECT_GT(std::stod(remote["data"]["result"][0]["value"][1].get<std::string>()), 100);

  for (auto& c : clients) EXPECT_TRUE(c.wait_ok(Millis((kLoadSeconds + 20) * 1000)));
  EXPECT_TRUE(rserver.wait_ok(Millis(30000)));
  EXPECT_TRUE(lserver.wait_ok(Millis(30000)));
}

}  // namespace
