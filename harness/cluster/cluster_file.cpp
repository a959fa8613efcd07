// Cluster file parser: see cluster_file.hpp and docs/CLUSTERS.md.
#include "harness/cluster/cluster_file.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <toml++/toml.h>

#include "core/dvsd/config.hpp"
#include "core/toml/toml_text.hpp"
#include "harness/cluster/transports.hpp"
#include "harness/plan/one_line.hpp"

namespace dvs::cluster {

namespace {

struct Ctx {
  std::string source;
  std::string err;
  bool fail(int line, const std::string& what) {
    if (err.empty()) err = cli::one_line(source + ":" + std::to_string(line) + ": " + what);
    return false;
  }
};

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

bool check_keys(Ctx& c, const toml::table& t, const std::string& where, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : t) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return c.fail(line_of(v), "unknown key '" + std::string(k.str()) + "' in " + where + " (allowed: " + list + ")");
    }
  }
  return true;
}

bool get_int(Ctx& c, const toml::table& t, std::string_view key, const std::string& where, int64_t lo, int64_t hi,
             std::optional<int64_t>* out) {
  const toml::node* n = t.get(key);
  if (!n) return true;
  auto v = n->value_exact<int64_t>();
  if (!v) return c.fail(line_of(*n), where + ": '" + std::string(key) + "' must be an integer");
  if (*v < lo || *v > hi)
    return c.fail(line_of(*n), where + ": '" + std::string(key) + "' = " + std::to_string(*v) + " is out of range " +
                                   std::to_string(lo) + ".." + std::to_string(hi));
  *out = *v;
  return true;
}

bool get_str(Ctx& c, const toml::table& t, std::string_view key, const std::string& where, std::optional<std::string>* out) {
  const toml::node* n = t.get(key);
  if (!n) return true;
  auto v = n->value_exact<std::string>();
  if (!v) return c.fail(line_of(*n), where + ": '" + std::string(key) + "' must be a string");
  *out = *v;
  return true;
}

bool parse_ipv4(const std::string& s, uint32_t* out) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

std::string ipv4_str(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
         std::to_string(a & 255);
}

bool private_net(uint32_t a) {
  return (a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1u) || (a >> 16) == ((192u << 8) | 168u);
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 24) return false;
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
      return false;
  return true;
}

// One [[link.between]] table: nodes = [a, b] (two peers, any order), transport = a registered
// transport's scheme (cluster/transports.hpp), and optionally remote_path = "proxy" | "direct" (that link's, else [link]'s).
bool parse_link(Ctx& c, const toml::table& t, ClusterSpec* spec) {
  const int ln = line_of(t);
  if (!check_keys(c, t, "[[link.between]]", {"nodes", "transport", "remote_path"})) return false;
  const toml::node* ns = t.get("nodes");
  if (!ns) return c.fail(ln, "[[link.between]] needs nodes = [A, B]");
  const toml::array* arr = ns->as_array();
  if (!arr || arr->size() != 2 || !arr->get(0)->value_exact<int64_t>() || !arr->get(1)->value_exact<int64_t>())
    return c.fail(line_of(*ns), "[[link.between]]: 'nodes' must be two node ids: nodes = [A, B]");
  LinkSpec l;
  l.line = ln;
  const int64_t x = *arr->get(0)->value_exact<int64_t>(), y = *arr->get(1)->value_exact<int64_t>();
  for (int64_t id : {x, y})
    if (id < 0 || id > 31 || !spec->node(static_cast<int>(id)))
      return c.fail(line_of(*ns), "[[link.between]] names node " + std::to_string(id) + ", which no [[node]] defines");
  if (x == y) return c.fail(line_of(*ns), "[[link.between]]: nodes = [" + std::to_string(x) + ", " + std::to_string(y) +
                                              "] is not a link (a node does not link to itself)");
  l.a = static_cast<int>(std::min(x, y));
  l.b = static_cast<int>(std::max(x, y));
  const std::string where = "link " + std::to_string(l.a) + "-" + std::to_string(l.b);
  if (const LinkSpec* o = spec->link_override(l.a, l.b))
    return c.fail(ln, where + " is given twice (also at line " + std::to_string(o->line) + ")");
  const auto peers = spec->peers_of(l.a);
  if (std::find(peers.begin(), peers.end(), l.b) == peers.end())
    return c.fail(ln, where + ": nodes " + std::to_string(l.a) + " and " + std::to_string(l.b) +
                          " share no [[dc]], so they have no link");
  std::optional<std::string> transport;
  if (!get_str(c, t, "transport", where, &transport)) return false;
  if (!transport) return c.fail(ln, where + ": needs transport = " + node_transport_choices(true));
  if (!is_cluster_transport(*transport))
    return c.fail(line_of(*t.get("transport")), where + ": transport '" + *transport +
                                                    "' is not supported by dvs cluster (use " +
                                                    node_transport_choices(true) + ")");
  l.transport = *transport;
  std::optional<std::string> path;
  if (!get_str(c, t, "remote_path", where, &path)) return false;
  if (path && *path != "proxy" && *path != "direct")
    return c.fail(line_of(*t.get("remote_path")), where + ": 'remote_path' must be \"proxy\" or \"direct\"");
  if (path) l.remote_path = *path;
  spec->links.push_back(l);
  return true;
}

// With [[link.between]] tables: no two nodes that listen on tcp (by their `transport` or for a link) on
// one fixed tcp://host:port.
bool check_tcp_endpoints(Ctx& c, const ClusterSpec& spec) {
  std::set<std::string> endpoints;
  for (const auto& n : spec.nodes) {
    const auto ts = spec.listen_transports(n.id);
    const bool tcp = n.transport == "tcp" || std::find(ts.begin(), ts.end(), "tcp") != ts.end();
    if (!tcp || n.port == 0) continue;
    std::string ep = n.host + ":" + std::to_string(n.port);
    if (!endpoints.insert(ep).second)
      return c.fail(n.line, "node " + std::to_string(n.id) + ": tcp://" + ep + " is used by another node");
  }
  return true;
}

bool parse_doc(Ctx& c, const toml::table& doc, ClusterSpec* spec) {
  if (!check_keys(c, doc, "the file", {"cluster", "node", "dc", "link"})) return false;

  // [cluster]
  const toml::node* cn = doc.get("cluster");
  if (!cn) return c.fail(1, "missing [cluster] table (with name = \"...\")");
  const toml::table* ct = cn->as_table();
  if (!ct) return c.fail(line_of(*cn), "'cluster' must be a table: [cluster]");
  if (!check_keys(c, *ct, "[cluster]", {"name", "subnet"})) return false;
  std::optional<std::string> name, subnet;
  if (!get_str(c, *ct, "name", "[cluster]", &name) || !get_str(c, *ct, "subnet", "[cluster]", &subnet)) return false;
  if (!name) return c.fail(line_of(*ct), "[cluster] needs name = \"...\"");
  if (!valid_name(*name))
    return c.fail(line_of(*ct->get("name")),
                  "[cluster] name '" + *name + "' must be 1..24 characters of A-Z a-z 0-9 - _");
  spec->name = *name;
  uint32_t net = 0;
  if (subnet) spec->subnet = *subnet;
  {
    int ln = subnet ? line_of(*ct->get("subnet")) : line_of(*ct);
    auto slash = spec->subnet.find('/');
    if (slash == std::string::npos || spec->subnet.substr(slash) != "/24" ||
        !parse_ipv4(spec->subnet.substr(0, slash), &net) || (net & 255) != 0)
      return c.fail(ln, "[cluster] subnet '" + spec->subnet + "' must be an IPv4 /24 like \"10.213.0.0/24\"");
    if (!private_net(net))
      return c.fail(ln, "[cluster] subnet '" + spec->subnet + "' is not private (10/8, 172.16/12, 192.168/16)");
  }

  // [link] (options of every link); its [[link.between]] tables (per-link transports) are
  // parsed after the DCs.
  const toml::node* link_node = doc.get("link");
  const toml::node* between = nullptr;
  if (link_node) {
    const toml::table* lt = link_node->as_table();
    if (!lt) return c.fail(line_of(*link_node), "'link' must be a table: [link] (per-link transports: [[link.between]])");
    if (!check_keys(c, *lt, "[link]", {"heartbeat_ms", "dead_ms", "batch", "lz4", "poll_us", "copy_chunk", "remote_path", "between",
                                          "auth", "key_file", "seal"}))
      return false;
    between = lt->get("between");
    std::optional<int64_t> hb, dead, batch, poll, chunk;
    if (!get_int(c, *lt, "heartbeat_ms", "[link]", 10, 60000, &hb) ||
        !get_int(c, *lt, "dead_ms", "[link]", 50, 600000, &dead) || !get_int(c, *lt, "batch", "[link]", 1, 4096, &batch) ||
        !get_int(c, *lt, "poll_us", "[link]", 0, 1000000, &poll) ||
        !get_int(c, *lt, "copy_chunk", "[link]", 4096, 1 << 20, &chunk))
      return false;
    if (poll) spec->link.poll_us = static_cast<int>(*poll);
    if (chunk) spec->link.copy_chunk = static_cast<int>(*chunk);
    if (hb) spec->link.heartbeat_ms = static_cast<int>(*hb);
    if (dead) spec->link.dead_ms = static_cast<int>(*dead);
    if (batch) spec->link.batch = static_cast<int>(*batch);
    if (const toml::node* rp = lt->get("remote_path")) {
      auto v = rp->value_exact<std::string>();
      if (!v || (*v != "proxy" && *v != "direct"))
        return c.fail(line_of(*rp), "[link]: 'remote_path' must be \"proxy\" or \"direct\"");
      spec->link.remote_path = *v;
    }
    for (auto [key, field] : {std::pair<const char*, bool*>{"lz4", &spec->link.lz4}, {"auth", &spec->link.auth},
                              {"seal", &spec->link.seal}})
      if (const toml::node* z = lt->get(key)) {
        auto b = z->value_exact<bool>();
        if (!b) return c.fail(line_of(*z), std::string("[link]: '") + key + "' must be true or false");
        *field = *b;
      }
    if (const toml::node* kf = lt->get("key_file")) {
      auto v = kf->value_exact<std::string>();
      if (!v || v->empty()) return c.fail(line_of(*kf), "[link]: 'key_file' must be a non-empty path string");
      spec->link.key_file = *v;
    }
    if (spec->link.seal && !spec->link.auth)
      return c.fail(line_of(*lt), "[link]: seal = true needs auth (the sealing keys come from the handshake)");
    if (spec->link.dead_ms <= spec->link.heartbeat_ms)
      return c.fail(line_of(*lt), "[link]: dead_ms (" + std::to_string(spec->link.dead_ms) +
                                      ") must be larger than heartbeat_ms (" +
                                      std::to_string(spec->link.heartbeat_ms) + ")");
  }

  // [[node]]
  const toml::node* nn = doc.get("node");
  if (!nn) return c.fail(line_of(*ct), "no [[node]] tables: a cluster needs at least one node");
  const toml::array* na = nn->as_array();
  if (!na || !na->is_array_of_tables()) return c.fail(line_of(*nn), "'node' must be an array of tables: [[node]]");
  std::set<uint32_t> addrs;
  std::set<std::string> endpoints;
  for (const toml::node& e : *na) {
    const toml::table& t = *e.as_table();
    const int ln = line_of(t);
    if (!check_keys(c, t, "[[node]]", {"id", "transport", "host", "port", "address", "cpus", "metrics_port"})) return false;
    NodeSpec n;
    n.line = ln;
    std::optional<int64_t> id, port, metrics_port;
    std::optional<std::string> transport, host, address, cpus;
    if (!get_int(c, t, "id", "[[node]]", 0, 31, &id)) return false;
    if (!id) return c.fail(ln, "[[node]] needs id = 0..31");
    n.id = static_cast<int>(*id);
    const std::string where = "node " + std::to_string(n.id);
    if (spec->node(n.id)) return c.fail(line_of(*t.get("id")), "duplicate node id " + std::to_string(n.id) +
                                                                   " (also at line " +
                                                                   std::to_string(spec->node(n.id)->line) + ")");
    if (!get_int(c, t, "port", where, 0, 65535, &port) || !get_int(c, t, "metrics_port", where, 0, 65535, &metrics_port) || !get_str(c, t, "transport", where, &transport) ||
        !get_str(c, t, "host", where, &host) || !get_str(c, t, "address", where, &address) ||
        !get_str(c, t, "cpus", where, &cpus))
      return false;
    if (cpus) {
      if (cpus->empty() || cpus->find_first_not_of("0123456789,-") != std::string::npos)
        return c.fail(line_of(*t.get("cpus")), where + ": cpus '" + *cpus + "' is not a CPU list like \"1\" or \"0,2-3\"");
      n.cpus = *cpus;
    }
    if (transport) {
      if (!is_cluster_transport(*transport))
        return c.fail(line_of(*t.get("transport")), where + ": transport '" + *transport +
                                                        "' is not supported by dvs cluster (use " +
                                                        node_transport_choices(true) + ")");
      n.transport = *transport;
    }
    if (host) {
      uint32_t a = 0;
      if (!parse_ipv4(*host, &a)) return c.fail(line_of(*t.get("host")), where + ": host '" + *host + "' is not an IPv4 address");
      n.host = *host;
    }
    if (port) n.port = static_cast<int>(*port);
    if (metrics_port) n.metrics_port = static_cast<int>(*metrics_port);
    if (address) {
      uint32_t a = 0;
      int al = line_of(*t.get("address"));
      if (!parse_ipv4(*address, &a)) return c.fail(al, where + ": address '" + *address + "' is not an IPv4 address");
      if ((a & ~255u) != net)
        return c.fail(al, where + ": address " + *address + " is outside the cluster subnet " + spec->subnet);
      if ((a & 255u) == 0 || (a & 255u) == 255)
        return c.fail(al, where + ": address " + *address + " is the subnet's network or broadcast address");
      n.address = *address;
    }
    {
      uint32_t a = 0;
      parse_ipv4(n.address.empty() ? ipv4_str(net + 10 + static_cast<uint32_t>(n.id)) : n.address, &a);
      if (!addrs.insert(a).second)
        return c.fail(ln, where + ": address " + ipv4_str(a) + " is used by another node");
    }
    if (n.transport == "tcp" && n.port != 0) {
      std::string ep = n.host + ":" + std::to_string(n.port);
      if (!endpoints.insert(ep).second) return c.fail(ln, where + ": tcp://" + ep + " is used by another node");
    }
    spec->nodes.push_back(n);
  }
  std::sort(spec->nodes.begin(), spec->nodes.end(), [](const NodeSpec& a, const NodeSpec& b) { return a.id < b.id; });

  // [[dc]]
  if (const toml::node* dn = doc.get("dc")) {
    const toml::array* da = dn->as_array();
    if (!da || !da->is_array_of_tables()) return c.fail(line_of(*dn), "'dc' must be an array of tables: [[dc]]");
    for (const toml::node& e : *da) {
      const toml::table& t = *e.as_table();
      const int ln = line_of(t);
      if (!check_keys(c, t, "[[dc]]", {"id", "name", "nodes", "nr_procs", "nr_tasks", "nr_sysprocs", "max_copylen"}))
        return false;
      DcSpec d;
      d.line = ln;
      std::optional<int64_t> id;
      std::optional<std::string> dname;
      if (!get_int(c, t, "id", "[[dc]]", 0, 31, &id)) return false;
      if (!id) return c.fail(ln, "[[dc]] needs id = 0..31");
      d.id = static_cast<int>(*id);
      const std::string where = "DC " + std::to_string(d.id);
      for (const auto& o : spec->dcs)
        if (o.id == d.id)
          return c.fail(line_of(*t.get("id")),
                        "duplicate DC id " + std::to_string(d.id) + " (also at line " + std::to_string(o.line) + ")");
      if (!get_str(c, t, "name", where, &dname) || !get_int(c, t, "nr_procs", where, 1, 1 << 20, &d.nr_procs) ||
          !get_int(c, t, "nr_tasks", where, 0, 1 << 20, &d.nr_tasks) ||
          !get_int(c, t, "nr_sysprocs", where, 0, 1 << 20, &d.nr_sysprocs) ||
          !get_int(c, t, "max_copylen", where, 0, int64_t{1} << 40, &d.max_copylen))
        return false;
      if (dname) {
        for (const auto& o : spec->dcs)
          if (o.name == *dname) return c.fail(line_of(*t.get("name")), where + ": name '" + *dname + "' is also DC " +
                                                                           std::to_string(o.id) + "'s");
        if (dname->find(',') != std::string::npos || dname->find('=') != std::string::npos)
          return c.fail(line_of(*t.get("name")), where + ": name '" + *dname + "' may not contain ',' or '='");
        d.name = *dname;
      }
      const toml::node* ns = t.get("nodes");
      if (!ns) return c.fail(ln, where + ": needs nodes = [ID, ...]");
      const toml::array* arr = ns->as_array();
      if (!arr || arr->empty()) return c.fail(line_of(*ns), where + ": 'nodes' must be a non-empty array of node ids");
      for (const toml::node& x : *arr) {
        auto v = x.value_exact<int64_t>();
        if (!v) return c.fail(line_of(*ns), where + ": 'nodes' must contain integers (node ids)");
        if (!spec->node(static_cast<int>(*v)))
          return c.fail(line_of(*ns), where + " spans node " + std::to_string(*v) + ", which no [[node]] defines");
        if (std::find(d.nodes.begin(), d.nodes.end(), static_cast<int>(*v)) != d.nodes.end())
          return c.fail(line_of(*ns), where + ": node " + std::to_string(*v) + " is listed twice");
        d.nodes.push_back(static_cast<int>(*v));
      }
      std::sort(d.nodes.begin(), d.nodes.end());
      core::DcGeometry g;
      if (auto err = core::parse_dc_spec(ClusterSpec::dc_arg(d), d.nodes.front(), &g); !err.empty())
        return c.fail(ln, where + ": " + err);
      spec->dcs.push_back(d);
    }
  }
  if (spec->dcs.empty()) {  // default: DC 0 spanning every node
    DcSpec d;
    d.id = 0;
    d.line = line_of(*ct);
    for (const auto& n : spec->nodes) d.nodes.push_back(n.id);
    spec->dcs.push_back(d);
  }
  std::sort(spec->dcs.begin(), spec->dcs.end(), [](const DcSpec& a, const DcSpec& b) { return a.id < b.id; });
  for (const auto& n : spec->nodes)
    if (spec->dcs_of(n.id).empty()) return c.fail(n.line, "node " + std::to_string(n.id) + " is in no [[dc]]'s nodes");
  if (between) {
    const toml::array* link_array = between->as_array();
    if (!link_array || !link_array->is_array_of_tables())
      return c.fail(line_of(*between), "'link.between' must be an array of tables: [[link.between]]");
    for (const toml::node& e : *link_array)
      if (!parse_link(c, *e.as_table(), spec)) return false;
    std::sort(spec->links.begin(), spec->links.end(),
              [](const LinkSpec& x, const LinkSpec& y) { return std::tie(x.a, x.b) < std::tie(y.a, y.b); });
    if (!check_tcp_endpoints(c, *spec)) return false;
  }
  return true;
}

}  // namespace

bool is_cluster_transport(const std::string& t) { return node_transport_traits(t) != nullptr; }

const NodeSpec* ClusterSpec::node(int id) const {
  for (const auto& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

std::vector<int> ClusterSpec::peers_of(int id) const {
  std::set<int> s;
  for (const auto& d : dcs)
    if (std::find(d.nodes.begin(), d.nodes.end(), id) != d.nodes.end())
      for (int n : d.nodes)
        if (n != id) s.insert(n);
  return {s.begin(), s.end()};
}

const LinkSpec* ClusterSpec::link_override(int a, int b) const {
  if (a > b) std::swap(a, b);
  for (const auto& l : links)
    if (l.a == a && l.b == b) return &l;
  return nullptr;
}

std::string ClusterSpec::link_transport(int a, int b) const {
  if (const LinkSpec* l = link_override(a, b)) return l->transport;
  const NodeSpec* n = node(std::max(a, b));
  return n ? n->transport : "tcp";
}

std::string ClusterSpec::link_remote_path(int a, int b) const {
  if (const LinkSpec* l = link_override(a, b); l && !l->remote_path.empty()) return l->remote_path;
  return link.remote_path;
}

bool ClusterSpec::any_direct(int id) const {
  for (int p : peers_of(id))
    if (link_remote_path(p, id) == "direct") return true;
  return false;
}

std::vector<std::string> ClusterSpec::listen_transports(int id) const {
  std::vector<std::string> used;
  for (int p : peers_of(id))
    if (p < id || link_remote_path(p, id) == "direct") used.push_back(link_transport(p, id));
  // The node's own transport first (if a link uses it), then the others in the order of use.
  std::vector<std::string> out;
  const NodeSpec* n = node(id);
  if (n && std::find(used.begin(), used.end(), n->transport) != used.end()) out.push_back(n->transport);
  for (const std::string& t : used)
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  return out;
}

std::vector<const DcSpec*> ClusterSpec::dcs_of(int id) const {
  std::vector<const DcSpec*> out;
  for (const auto& d : dcs)
    if (std::find(d.nodes.begin(), d.nodes.end(), id) != d.nodes.end()) out.push_back(&d);
  return out;
}

std::string ClusterSpec::dc_arg(const DcSpec& d) {
  std::string s = std::to_string(d.id);
  if (!d.name.empty()) s += ",name=" + d.name;
  if (d.nr_procs) s += ",procs=" + std::to_string(*d.nr_procs);
  if (d.nr_tasks) s += ",tasks=" + std::to_string(*d.nr_tasks);
  if (d.nr_sysprocs) s += ",sysprocs=" + std::to_string(*d.nr_sysprocs);
  if (d.max_copylen) s += ",copylen=" + std::to_string(*d.max_copylen);
  for (size_t i = 0; i < d.nodes.size(); ++i) s += (i == 0 ? ",nodes=" : "+") + std::to_string(d.nodes[i]);
  return s;
}

std::string ClusterSpec::netns_address(int id) const {
  const NodeSpec* n = node(id);
  if (n && !n->address.empty()) return n->address;
  uint32_t net = 0;
  parse_ipv4(subnet.substr(0, subnet.find('/')), &net);
  return ipv4_str(net + 10 + static_cast<uint32_t>(id));
}

int ClusterSpec::netns_port(int id) const {
  const NodeSpec* n = node(id);
  return n && n->port != 0 ? n->port : kNetnsPort;
}

std::string parse_cluster_text(std::string_view text, const std::string& source, ClusterSpec* out) {
  Ctx c;
  c.source = source;
  toml::table doc;
  try {
    doc = core::parse_toml(text, source);
  } catch (const toml::parse_error& e) {
    std::string d(e.description());
    for (auto& ch : d)
      if (ch == '\n') ch = ' ';
    return cli::one_line(source + ":" + std::to_string(e.source().begin.line) + ": " + d);
  }
  ClusterSpec spec;
  spec.source = source;
  if (!parse_doc(c, doc, &spec)) return c.err;
  *out = std::move(spec);
  return "";
}

std::string parse_cluster_file(const std::string& path, ClusterSpec* out) {
  std::ifstream f(path);
  if (!f) return cli::one_line(path + ": cannot open the cluster file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_cluster_text(ss.str(), path, out);
}

}  // namespace dvs::cluster
