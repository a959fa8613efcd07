// Cluster runtime: see cluster.hpp.
#include "harness/cluster/cluster.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/dvsd/proxy/cluster_key.hpp"
#include "harness/cluster/exec.hpp"
#include "harness/cluster/transports.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dvs::cluster {

namespace {

constexpr const char* kStateFile = "cluster.json";
constexpr const char* kBridge = "br0";
constexpr const char* kNodeIface = "eth0";

bool netns_exists(const std::string& name) { return !name.empty() && access(("/run/netns/" + name).c_str(), F_OK) == 0; }

std::string random_hex(int digits) {
  std::random_device rd;
  std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(getpid()));
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < digits; ++i) s += hex[g() & 15];
  return s;
}

std::string read_from(const std::string& path, long long offset) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  f.seekg(0, std::ios::end);
  long long size = f.tellg();
  if (size <= offset) return "";
  f.seekg(offset);
  std::string s(static_cast<size_t>(size - offset), '\0');
  f.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<size_t>(f.gcount()));
  return s;
}

long long file_size(const std::string& path) {
  struct stat sb {};
  return stat(path.c_str(), &sb) == 0 ? static_cast<long long>(sb.st_size) : 0;
}

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

std::string self_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string s(buf, static_cast<size_t>(n));
  auto slash = s.rfind('/');
  return slash == std::string::npos ? "." : s.substr(0, slash);
}

json to_json(const ClusterState& s) {
  json j;
  j["cluster"] = s.cluster;
  j["source"] = s.source;
  j["run_id"] = s.run_id;
  j["mode"] = s.mode;
  j["state_dir"] = s.state_dir;
  j["dvsd"] = s.dvsd;
  j["hub"] = s.hub;
  j["subnet"] = s.subnet;
  j["heartbeat_ms"] = s.heartbeat_ms;
  j["dead_ms"] = s.dead_ms;
  j["complete"] = s.complete;
  j["made_state_dir"] = s.made_state_dir;
  j["made_key_file"] = s.made_key_file;
  j["created_unix"] = s.created_unix;
  j["namespaces"] = s.namespaces;
  j["veths"] = json::array();
  for (const auto& v : s.veths) j["veths"].push_back({{"ns", v.ns}, {"name", v.name}, {"peer_ns", v.peer_ns}, {"peer", v.peer}});
  j["nodes"] = json::array();
  for (const auto& n : s.nodes)
    j["nodes"].push_back({{"id", n.id},
                          {"pid", n.pid},
                          {"starttime", n.starttime},
                          {"socket", n.socket},
                          {"log", n.log},
                          {"listen", n.listen},
                          {"listens", n.listens},
                          {"netns", n.netns},
                          {"iface", n.iface},
                          {"address", n.address},
                          {"peers", n.peers},
                          {"argv", n.argv},
                          {"log_offset", n.log_offset}});
  return j;
}

void from_json(const json& j, ClusterState* s) {
  s->cluster = j.at("cluster").get<std::string>();
  s->source = j.value("source", "");
  s->run_id = j.value("run_id", "");
  s->mode = j.value("mode", "process");
  s->state_dir = j.value("state_dir", "");
  s->dvsd = j.value("dvsd", "");
  s->hub = j.value("hub", "");
  s->subnet = j.value("subnet", "");
  s->heartbeat_ms = j.value("heartbeat_ms", 0);
  s->dead_ms = j.value("dead_ms", 0);
  s->complete = j.value("complete", false);
  s->made_state_dir = j.value("made_state_dir", false);
  s->made_key_file = j.value("made_key_file", "");
  s->created_unix = j.value("created_unix", 0LL);
  s->namespaces = j.value("namespaces", std::vector<std::string>{});
  for (const auto& v : j.value("veths", json::array()))
    s->veths.push_back({v.value("ns", ""), v.value("name", ""), v.value("peer_ns", ""), v.value("peer", "")});
  for (const auto& x : j.value("nodes", json::array())) {
    NodeState n;
    n.id = x.at("id").get<int>();
    n.pid = x.value("pid", -1);
    n.starttime = x.value("starttime", -1LL);
    n.socket = x.value("socket", "");
    n.log = x.value("log", "");
    n.listen = x.value("listen", "");
    n.listens = x.value("listens", n.listen.empty() ? std::vector<std::string>{} : std::vector<std::string>{n.listen});
    n.netns = x.value("netns", "");
    n.iface = x.value("iface", "");
    n.address = x.value("address", "");
    n.peers = x.value("peers", std::vector<int>{});
    n.argv = x.value("argv", std::vector<std::string>{});
    n.log_offset = x.value("log_offset", 0LL);
    s->nodes.push_back(n);
  }
}

// Parses dvsd's proxy log lines ("dvsd[node N] proxy: link to node M up (...)", "... down: ...",
// "closing link to node M: ...", "node M shut the link down") in order; the last word wins.
void scan_links(const std::string& text, std::vector<LinkStatus>* links) {
  auto set = [&](int peer, bool up) {
    for (auto& l : *links)
      if (l.peer == peer) l.up = up;
  };
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto px = line.find(" proxy: ");
    if (px == std::string::npos) continue;
    std::string rest = line.substr(px + 8);
    auto num_after = [&](const std::string& key, size_t* end) -> int {
      if (rest.rfind(key, 0) != 0) return -1;
      size_t i = key.size(), j = i;
      while (j < rest.size() && rest[j] >= '0' && rest[j] <= '9') ++j;
      if (j == i) return -1;
      *end = j;
      return std::atoi(rest.substr(i, j - i).c_str());
    };
    size_t end = 0;
    if (int m = num_after("link to node ", &end); m >= 0) {
      std::string tail = rest.substr(end);
      if (tail.rfind(" up", 0) == 0) set(m, true);
      else if (tail.rfind(" down", 0) == 0) set(m, false);
    } else if (int m2 = num_after("closing link to node ", &end); m2 >= 0) {
      set(m2, false);
    } else if (int m3 = num_after("node ", &end); m3 >= 0 && rest.substr(end).rfind(" shut the link down", 0) == 0) {
      set(m3, false);
    }
  }
}

// netns mode: "" if every link's transport crosses network namespaces (HarnessTraits), else
// "FILE:LINE: ..." for the first that does not (e.g. the shm transport rendezvous through an
// abstract UNIX socket, which belongs to one network namespace).
std::string netns_transport_problem(const ClusterSpec& spec) {
  for (const auto& n : spec.nodes)
    for (int p : spec.peers_of(n.id)) {
      if (p > n.id || node_transport_traits(spec.link_transport(p, n.id))->crosses_network_namespaces) continue;
      if (const LinkSpec* l = spec.link_override(p, n.id))
        return spec.source + ":" + std::to_string(l->line) + ": link " + std::to_string(l->a) + "-" +
               std::to_string(l->b) + ": " + l->transport + " links need process mode (transport " + l->transport +
               " cannot cross network namespaces; drop --netns or use tcp)";
      return spec.source + ":" + std::to_string(n.line) + ": node " + std::to_string(n.id) + ": transport " +
             n.transport + " cannot cross network namespaces (use tcp with --netns)";
    }
  return "";
}

}  // namespace

std::string cluster_listen_uri(const ClusterSpec& spec, int id, const std::string& transport,
                               const std::string& netns_address, const std::string& run) {
  const transport::HarnessTraits* t = node_transport_traits(transport);
  const NodeSpec* n = spec.node(id);
  if (t == nullptr || n == nullptr) return "";
  transport::ListenPlace at;
  at.host = netns_address.empty() ? n->host : netns_address;
  at.port = unsigned(netns_address.empty() ? n->port : spec.netns_port(id));
  at.name = run + "-n" + std::to_string(id);
  return t->listen_uri(at);
}

std::string default_state_dir() {
  const char* e = std::getenv("DVS_CLUSTER_STATE");
  return e && *e ? std::string(e) : std::string("/tmp/dvs-cluster");
}

std::string find_dvsd_binary(const std::string& explicit_path, std::string* tried) {
  std::string list;
  auto consider = [&](const std::string& p) {
    list += (list.empty() ? "" : ", ") + p;
    return access(p.c_str(), X_OK) == 0;
  };
  std::string found;
  if (!explicit_path.empty()) {
    if (consider(explicit_path)) found = explicit_path;
  } else if (const char* env = std::getenv("DVSD_BIN"); env != nullptr && *env != '\0') {
    if (consider(env)) found = env;
  } else if (const std::string beside = self_dir() + "/dvsd"; consider(beside)) {
    found = beside;
  }
  if (tried != nullptr) *tried = list;
  if (found.empty()) return "";
  std::error_code ec;
  const fs::path canon = fs::weakly_canonical(found, ec);
  return ec ? fs::absolute(found, ec).string() : canon.string();
}

std::string netns_unavailable_reason() {
  if (ip_binary().empty()) return "iproute2 (ip) is not installed";
  const std::string probe = "dvs-probe-" + std::to_string(getpid()) + "-" + random_hex(4);
  if (auto e = ip({"netns", "add", probe}); !e.empty()) return "cannot create a network namespace: " + e;
  std::string why = ip({"-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1"});
  (void)ip({"netns", "del", probe});
  if (!why.empty()) return "cannot create a veth pair inside a network namespace: " + why;
  return "";
}

Cluster::~Cluster() {
  if (owned_ && !down_done_) (void)down();
}

const NodeState* Cluster::node(int id) const {
  for (const auto& n : st_.nodes)
    if (n.id == id) return &n;
  return nullptr;
}

std::string Cluster::socket(int id) const {
  const NodeState* n = node(id);
  return n ? n->socket : "";
}

std::string Cluster::save() const {
  const std::string path = st_.state_dir + "/" + kStateFile;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return "cannot write " + tmp + ": " + strerror(errno);
    f << to_json(st_).dump(2) << "\n";
    if (!f) return "cannot write " + tmp;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) return "cannot rename " + tmp + ": " + strerror(errno);
  return "";
}

std::string Cluster::load(const std::string& state_dir, std::unique_ptr<Cluster>* out) {
  const std::string path = state_dir + "/" + kStateFile;
  std::ifstream f(path);
  if (!f) return "no cluster state in " + state_dir + " (" + path + " does not exist)";
  std::unique_ptr<Cluster> c(new Cluster());
  try {
    json j = json::parse(f);
    from_json(j, &c->st_);
  } catch (const std::exception& e) {
    return path + ": bad state file: " + e.what();
  }
  c->st_.state_dir = state_dir;
  *out = std::move(c);
  return "";
}

std::string Cluster::make_netns(const ClusterSpec& spec, long long deadline) {
  auto step = [&](const std::vector<std::string>& args) -> std::string {
    if (interrupted_ && *interrupted_) return "interrupted";
    if (now_ms() > deadline) return "timed out creating the namespaces";
    return ip(args);
  };
  const std::string prefix = st_.cluster + "-" + st_.run_id;
  st_.hub = prefix + "-hub";
  st_.namespaces.push_back(st_.hub);
  if (auto e = save(); !e.empty()) return e;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"netns", "add", st_.hub},
           {"-n", st_.hub, "link", "set", "lo", "up"},
           {"-n", st_.hub, "link", "add", kBridge, "type", "bridge"},
           {"-n", st_.hub, "link", "set", kBridge, "up"}})
    if (auto e = step(args); !e.empty()) return e;
  for (auto& n : st_.nodes) {
    n.netns = prefix + "-n" + std::to_string(n.id);
    n.iface = kNodeIface;
    n.address = spec.netns_address(n.id);
    const std::string hub_port = "v" + std::to_string(n.id);
    st_.namespaces.push_back(n.netns);
    st_.veths.push_back({st_.hub, hub_port, n.netns, n.iface});
    if (auto e = save(); !e.empty()) return e;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"netns", "add", n.netns},
             {"-n", n.netns, "link", "set", "lo", "up"},
             // Both ends are created inside our namespaces: nothing appears in the host's.
             {"-n", st_.hub, "link", "add", hub_port, "type", "veth", "peer", "name", n.iface, "netns", n.netns},
             {"-n", st_.hub, "link", "set", hub_port, "master", kBridge},
             {"-n", st_.hub, "link", "set", hub_port, "up"},
             {"-n", n.netns, "addr", "add", n.address + "/24", "dev", n.iface},
             {"-n", n.netns, "link", "set", n.iface, "up"}})
      if (auto e = step(args); !e.empty()) return e;
  }
  return save();
}

std::string Cluster::launch(NodeState& n, long long deadline) {
  if (n.argv.empty()) return "node " + std::to_string(n.id) + ": no command line recorded";
  ::unlink(n.socket.c_str());  // a stale socket of an earlier run (ours: it is in the state dir)
  n.log_offset = file_size(n.log);
  int ns_fd = -1;
  if (!n.netns.empty()) {
    ns_fd = open(("/run/netns/" + n.netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) return "node " + std::to_string(n.id) + ": cannot open namespace " + n.netns + ": " + strerror(errno);
  }
  std::vector<char*> args;
  for (const auto& a : n.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int log = open(n.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    int dn = open("/dev/null", O_RDONLY);
    if (dn >= 0) dup2(dn, 0);
    if (owned_) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(126);
    } else {
      setsid();
    }
    if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) != 0) {
      dprintf(2, "dvs cluster: setns(%s): %s\n", n.netns.c_str(), strerror(errno));
      _exit(127);
    }
    syscall(SYS_close_range, 3u, ~0u, 0u);
    execv(args[0], args.data());
    dprintf(2, "dvs cluster: cannot run %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  if (ns_fd >= 0) close(ns_fd);
  if (pid < 0) return "node " + std::to_string(n.id) + ": fork failed: " + strerror(errno);
  n.pid = pid;
  // The start time identifies this process later (pid reuse); read it once /proc has it.
  for (int i = 0; i < 100 && n.starttime < 0; ++i) {
    n.starttime = process_starttime(pid);
    if (n.starttime < 0) sleep_ms(1);
  }
  if (auto e = save(); !e.empty()) return e;

  const std::string ready = "dvsd: node " + std::to_string(n.id) + " ready on " + n.socket;
  const std::string listening = "dvsd: node " + std::to_string(n.id) + " listening on ";
  for (;;) {
    std::string text = read_from(n.log, n.log_offset);
    if (text.find(ready + "\n") != std::string::npos) {
      n.listens.clear();
      for (auto at = text.find(listening); at != std::string::npos; at = text.find(listening, at + 1)) {
        auto end = text.find('\n', at);
        n.listens.push_back(text.substr(at + listening.size(), end - at - listening.size()));
      }
      n.listen = n.listens.empty() ? "" : n.listens.front();
      return save();
    }
    if (!process_alive(pid, n.starttime)) {
      reap_if_child(pid);
      return "node " + std::to_string(n.id) + ": dvsd exited before it was ready: " + last_line(text);
    }
    if (now_ms() > deadline || (interrupted_ && *interrupted_)) {
      kill(pid, SIGKILL);
      reap_if_child(pid);
      if (interrupted_ && *interrupted_) return "interrupted";
      return "node " + std::to_string(n.id) + ": dvsd did not print its ready line in time" +
             (text.empty() ? std::string(" (no output)") : " (last output: " + last_line(text) + ")");
    }
    sleep_ms(5);
  }
}

std::string Cluster::up(const ClusterSpec& spec, const UpOptions& opt, std::unique_ptr<Cluster>* out) {
  const long long deadline = now_ms() + opt.timeout_ms;
  std::unique_ptr<Cluster> c(new Cluster());
  c->owned_ = opt.owned;
  c->interrupted_ = opt.interrupted;
  ClusterState& st = c->st_;
  st.cluster = spec.name;
  st.source = spec.source;
  st.mode = opt.netns ? "netns" : "process";
  st.subnet = spec.subnet;
  st.heartbeat_ms = spec.link.heartbeat_ms;
  st.dead_ms = spec.link.dead_ms;
  st.created_unix = static_cast<long long>(time(nullptr));
  st.run_id = std::to_string(getpid()) + "-" + random_hex(4);
  st.state_dir = opt.state_dir.empty() ? default_state_dir() : opt.state_dir;
  {
    std::error_code ec;
    st.state_dir = fs::absolute(st.state_dir, ec).lexically_normal().string();
    while (st.state_dir.size() > 1 && st.state_dir.back() == '/') st.state_dir.pop_back();
  }

  if (opt.netns)
    if (auto e = netns_transport_problem(spec); !e.empty()) return e;
  if (st.state_dir.size() + 12 > 107) return "state dir " + st.state_dir + " is too long for UNIX socket paths";

  // An earlier cluster in this state dir: refuse if any of it is alive, else clean it away.
  if (access((st.state_dir + "/" + kStateFile).c_str(), F_OK) == 0) {
    std::unique_ptr<Cluster> old;
    if (auto e = load(st.state_dir, &old); !e.empty()) return e;
    bool alive = false;
    for (const auto& n : old->st_.nodes) alive = alive || process_alive(n.pid, n.starttime);
    for (const auto& ns : old->st_.namespaces) alive = alive || netns_exists(ns);
    if (alive)
      return "cluster '" + old->st_.cluster + "' is already up in " + st.state_dir + " (run: dvs cluster down --state " +
             st.state_dir + ")";
    (void)old->down(1000);
  }
  std::error_code ec;
  if (!fs::exists(st.state_dir, ec)) {
    if (!fs::create_directories(st.state_dir, ec) || ec) return "cannot create state dir " + st.state_dir + ": " + ec.message();
    st.made_state_dir = true;
  }
  std::string key_file;  // the cluster key every node's dvsd proves on its links
  if (spec.link.auth) {
    key_file = spec.link.key_file.empty() ? st.state_dir + "/cluster.key" : spec.link.key_file;
    if (!spec.link.key_file.empty() && fs::path(key_file).is_relative() && spec.source.find('<') != 0)
      key_file = (fs::absolute(spec.source, ec).parent_path() / key_file).lexically_normal().string();
    if (!fs::exists(key_file, ec)) {
      if (auto e = linkauth::generate_cluster_key(key_file); !e.empty()) return e;
      if (spec.link.key_file.empty()) st.made_key_file = key_file;
    }
  }
  st.dvsd = find_dvsd_binary(opt.dvsd);
  if (st.dvsd.empty())
    return "no dvsd binary found (" + (opt.dvsd.empty() ? std::string("set --dvsd or $DVSD_BIN") : opt.dvsd + " is not executable") + ")";
  if (opt.netns)
    if (auto why = ip_binary().empty() ? std::string("iproute2 (ip) is not installed") : std::string(); !why.empty())
      return why;

  for (const auto& n : spec.nodes) {
    NodeState ns;
    ns.id = n.id;
    ns.socket = st.state_dir + "/n" + std::to_string(n.id) + ".sock";
    ns.log = st.state_dir + "/n" + std::to_string(n.id) + ".log";
    ns.peers = spec.peers_of(n.id);
    st.nodes.push_back(ns);
  }
  auto fail = [&](const std::string& e) {
    (void)c->down(2000);
    return e;
  };
  if (auto e = c->save(); !e.empty()) return fail(e);
  for (auto& n : st.nodes) {  // fresh logs
    std::ofstream(n.log, std::ios::trunc).flush();
  }
  if (opt.netns)
    if (auto e = c->make_netns(spec, deadline); !e.empty()) return fail(e);

  // Where each node listens on a transport (peers with lower ids dial it). Port 0 resolves when
  // it starts.
  auto listen_uri = [&](const NodeState& n, const std::string& transport) {
    return cluster_listen_uri(spec, n.id, transport, opt.netns ? n.address : "", st.cluster + "-" + st.run_id);
  };
  // The URI node n dials to reach its higher peer p: p's resolved listener of the link's transport.
  auto dial_uri = [&](const NodeState& n, const NodeState& p) {
    const std::string t = spec.link_transport(n.id, p.id);
    for (const auto& u : p.listens)
      if (u.rfind(t + "://", 0) == 0) return u;
    return listen_uri(p, t);
  };
  // Highest id first: a node's higher peers already listen when it starts.
  for (auto it = st.nodes.rbegin(); it != st.nodes.rend(); ++it) {
    NodeState& n = *it;
    std::vector<std::string> a = {st.dvsd, "--node", std::to_string(n.id), "--socket", n.socket};
    for (const DcSpec* d : spec.dcs_of(n.id)) {
      a.push_back("--dc");
      a.push_back(ClusterSpec::dc_arg(*d));
    }
    a.insert(a.end(), {"--heartbeat-ms", std::to_string(spec.link.heartbeat_ms), "--dead-ms",
                       std::to_string(spec.link.dead_ms)});
    if (spec.link.batch > 0) a.insert(a.end(), {"--batch", std::to_string(spec.link.batch)});
    if (spec.link.lz4) a.push_back("--lz4");
    if (key_file.empty()) a.push_back("--no-auth");
    else a.insert(a.end(), {"--cluster-key", key_file});
    if (spec.link.seal) a.push_back("--seal");
    if (spec.link.poll_us > 0) a.insert(a.end(), {"--poll-us", std::to_string(spec.link.poll_us)});
    if (spec.link.remote_path != "proxy") a.insert(a.end(), {"--remote-path", spec.link.remote_path});
    for (int p : n.peers)  // links whose own remote path differs from the cluster's
      if (const std::string rp = spec.link_remote_path(n.id, p); rp != spec.link.remote_path)
        a.insert(a.end(), {"--remote-path-to", std::to_string(p) + "=" + rp});
    if (spec.link.copy_chunk > 0) a.insert(a.end(), {"--copy-chunk", std::to_string(spec.link.copy_chunk)});
    if (!spec.node(n.id)->cpus.empty()) a.insert(a.end(), {"--cpus", spec.node(n.id)->cpus});
    if (int mp = spec.node(n.id)->metrics_port; mp > 0) a.insert(a.end(), {"--metrics-port", (opt.netns ? n.address + ":" : "") + std::to_string(mp)});
    for (int p : n.peers) {
      const NodeState& pn = *c->node(p);
      // Higher peers: the URI they actually listen on; lower peers dial us (URI unused).
      std::string uri = p > n.id ? dial_uri(n, pn) : listen_uri(pn, spec.link_transport(p, n.id));
      a.push_back("--peer");
      a.push_back(std::to_string(p) + "=" + uri);
    }
    for (const auto& t : spec.listen_transports(n.id)) a.insert(a.end(), {"--listen", listen_uri(n, t)});
    n.argv = a;
    if (auto e = c->launch(n, deadline); !e.empty()) return fail(e);
    // Keep the resolved ports for restarts: peers dial exactly these URIs (dvsd prints them in
    // the order of its --listen options).
    size_t k = 0;
    for (size_t i = 0; i + 1 < n.argv.size(); ++i)
      if (n.argv[i] == "--listen" && k < n.listens.size()) n.argv[i + 1] = n.listens[k++];
  }
  if (auto e = c->save(); !e.empty()) return fail(e);
  if (auto e = c->wait_links(static_cast<int>(std::max<long long>(deadline - now_ms(), 0))); !e.empty())
    return fail(e);
  st.complete = true;
  if (auto e = c->save(); !e.empty()) return fail(e);
  *out = std::move(c);
  return "";
}

std::string Cluster::link_status(const NodeState& n, std::vector<LinkStatus>* out) const {
  out->clear();
  for (int p : n.peers) out->push_back({p, false});
  scan_links(read_from(n.log, n.log_offset), out);
  return "";
}

std::vector<NodeStatus> Cluster::status() {
  std::vector<NodeStatus> out;
  for (const auto& n : st_.nodes) {
    NodeStatus s;
    s.id = n.id;
    s.alive = process_alive(n.pid, n.starttime);
    link_status(n, &s.links);
    if (!s.alive)
      for (auto& l : s.links) l.up = false;
    out.push_back(s);
  }
  return out;
}

bool Cluster::links_up(std::string* down) {
  for (const auto& s : status()) {
    if (!s.alive) {
      if (down) *down = "node " + std::to_string(s.id) + "'s dvsd is not running";
      return false;
    }
    for (const auto& l : s.links)
      if (!l.up) {
        if (down) *down = "link from node " + std::to_string(s.id) + " to node " + std::to_string(l.peer) + " is not up";
        return false;
      }
  }
  return true;
}

std::string Cluster::wait_links(int timeout_ms) {
  const long long deadline = now_ms() + timeout_ms;
  std::string why;
  for (;;) {
    if (links_up(&why)) return "";
    if (interrupted_ && *interrupted_) return "interrupted";
    if (now_ms() >= deadline) return why + " after " + std::to_string(timeout_ms) + " ms";
    sleep_ms(10);
  }
}

std::string Cluster::kill_node(int id, int sig) {
  NodeState* n = nullptr;
  for (auto& x : st_.nodes)
    if (x.id == id) n = &x;
  if (!n) return "no node " + std::to_string(id);
  if (!process_alive(n->pid, n->starttime)) return "node " + std::to_string(id) + "'s dvsd is not running";
  if (kill(n->pid, sig) != 0) return "kill(" + std::to_string(n->pid) + "): " + strerror(errno);
  if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
    const long long deadline = now_ms() + 5000;
    while (process_alive(n->pid, n->starttime)) {
      if (now_ms() > deadline) return "node " + std::to_string(id) + "'s dvsd did not exit after signal " + std::to_string(sig);
      sleep_ms(2);
    }
  }
  return "";
}

std::string Cluster::start_node(int id, int timeout_ms) {
  NodeState* n = nullptr;
  for (auto& x : st_.nodes)
    if (x.id == id) n = &x;
  if (!n) return "no node " + std::to_string(id);
  if (process_alive(n->pid, n->starttime)) return "node " + std::to_string(id) + "'s dvsd is already running";
  n->pid = -1;
  n->starttime = -1;
  return launch(*n, now_ms() + timeout_ms);
}

std::string Cluster::set_link(int id, bool up) {
  const NodeState* n = node(id);
  if (!n) return "no node " + std::to_string(id);
  if (n->netns.empty()) return "node " + std::to_string(id) + " has no namespace (process mode)";
  return ip({"-n", n->netns, "link", "set", n->iface, up ? "up" : "down"});
}

std::string Cluster::log_tail(int id, int lines) const {
  const NodeState* n = node(id);
  if (!n) return "";
  std::string text = read_from(n->log, 0);
  size_t pos = text.size();
  for (int i = 0; i <= lines && pos != std::string::npos && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

std::string Cluster::down(int grace_ms) {
  std::vector<std::string> problems;
  // 1. dvsd processes: SIGTERM all, bounded wait, then SIGKILL.
  std::vector<NodeState*> live;
  for (auto& n : st_.nodes)
    if (n.pid > 0 && process_alive(n.pid, n.starttime)) {
      kill(n.pid, SIGTERM);
      live.push_back(&n);
    }
  long long deadline = now_ms() + grace_ms;
  auto any_alive = [&] {
    bool a = false;
    for (auto* n : live) a = a || process_alive(n->pid, n->starttime);
    return a;
  };
  while (any_alive() && now_ms() < deadline) sleep_ms(5);
  for (auto* n : live)
    if (process_alive(n->pid, n->starttime)) kill(n->pid, SIGKILL);
  deadline = now_ms() + 3000;
  while (any_alive() && now_ms() < deadline) sleep_ms(5);
  for (auto* n : live)
    if (process_alive(n->pid, n->starttime))
      problems.push_back("dvsd of node " + std::to_string(n->id) + " (pid " + std::to_string(n->pid) + ") survived SIGKILL");
  // 2. veths (deleting a namespace would take them along; explicit for a partial `up`).
  for (const auto& v : st_.veths)
    if (netns_exists(v.ns)) (void)ip({"-n", v.ns, "link", "del", v.name});
  // 3. namespaces, newest first.
  for (auto it = st_.namespaces.rbegin(); it != st_.namespaces.rend(); ++it)
    if (netns_exists(*it))
      if (auto e = ip({"netns", "del", *it}); !e.empty()) problems.push_back(e);
  // 4. files we made.
  if (problems.empty()) {
    for (const auto& n : st_.nodes) {
      ::unlink(n.socket.c_str());
      ::unlink(n.log.c_str());
    }
    ::unlink((st_.state_dir + "/" + kStateFile + ".tmp").c_str());
    ::unlink((st_.state_dir + "/" + kStateFile).c_str());
    if (!st_.made_key_file.empty()) ::unlink(st_.made_key_file.c_str());
    if (st_.made_state_dir) ::rmdir(st_.state_dir.c_str());
    down_done_ = true;
    return "";
  }
  (void)save();
  std::string all;
  for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
  return all;
}

}  // namespace dvs::cluster
