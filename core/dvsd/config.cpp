#include "core/dvsd/config.hpp"

#include <charconv>
#include <cstring>
#include <set>
#include <toml++/toml.h>

#include "core/toml/toml_text.hpp"

namespace dvs::core {

namespace {
bool parse_int(const std::string& s, long long* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string set_name(DcGeometry* g, const std::string& name) {
  if (name.empty() || name.size() >= sizeof g->name) return "DC name must be 1..15 characters";
  std::memset(g->name, 0, sizeof g->name);
  std::memcpy(g->name, name.data(), name.size());
  return "";
}

std::string default_name(DcGeometry* g) { return set_name(g, "dc" + std::to_string(g->dcid)); }
}  // namespace

std::string parse_dc_spec(const std::string& spec, int node_id, DcGeometry* out) {
  DcGeometry g;
  g.node_id = node_id;
  g.nodes = 1u << node_id;
  size_t start = 0;
  bool first = true, named = false;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    long long v = 0;
    if (first) {
      first = false;
      if (!parse_int(part, &v)) return "bad DC spec '" + spec + "': must start with the DC id";
      g.dcid = static_cast<int>(v);
      continue;
    }
    size_t eq = part.find('=');
    if (eq == std::string::npos) return "bad DC spec '" + spec + "': '" + part + "' is not key=value";
    std::string key = part.substr(0, eq), val = part.substr(eq + 1);
    if (key == "name") {
      if (auto e = set_name(&g, val); !e.empty()) return "bad DC spec '" + spec + "': " + e;
      named = true;
      continue;
    }
    if (key == "nodes") {  // nodes=0+2+3
      uint32_t bits = 0;
      size_t at = 0;
      while (at <= val.size()) {
        size_t plus = val.find('+', at);
        std::string id = val.substr(at, plus == std::string::npos ? std::string::npos : plus - at);
        long long n = 0;
        if (!parse_int(id, &n) || n < 0 || n >= DVS_NR_NODES)
          return "bad DC spec '" + spec + "': nodes must be ids 0..31 joined by '+'";
        bits |= 1u << n;
        at = plus == std::string::npos ? val.size() + 1 : plus + 1;
      }
      g.nodes = bits;
      g.explicit_nodes = true;
      continue;
    }
    if (!parse_int(val, &v)) return "bad DC spec '" + spec + "': " + key + " needs an integer";
    if (key == "procs") g.nr_procs = static_cast<int>(v);
    else if (key == "tasks") g.nr_tasks = static_cast<int>(v);
    else if (key == "sysprocs") g.nr_sysprocs = static_cast<int>(v);
    else if (key == "copylen") g.max_copylen = v;
    else return "bad DC spec '" + spec + "': unknown key '" + key + "'";
  }
  if (!named) default_name(&g);
  if (const char* e = g.check(); *e) return "bad DC spec '" + spec + "': " + e;
  *out = g;
  return "";
}

std::string load_config_file(const std::string& path, NodeConfig* cfg) {
  toml::table tbl;
  try {
    tbl = parse_toml_file(path);
  } catch (const toml::parse_error& e) {
    return path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
  }
  if (auto id = tbl["node"]["id"].value<int64_t>()) cfg->node_id = static_cast<int>(*id);
  if (auto s = tbl["node"]["socket"].value<std::string>()) cfg->socket_path = *s;
  if (auto* dcs = tbl["dc"].as_array()) {
    int i = 0;
    for (auto& node : *dcs) {
      auto* t = node.as_table();
      std::string where = path + ": [[dc]] #" + std::to_string(i++);
      if (!t) return where + " is not a table";
      DcGeometry g;
      g.node_id = cfg->node_id;
      g.nodes = 1u << cfg->node_id;
      auto id = (*t)["id"].value<int64_t>();
      if (!id) return where + ": missing integer 'id'";
      g.dcid = static_cast<int>(*id);
      bool named = false;
      for (auto& [k, v] : *t) {
        std::string key(k.str());
        if (key == "id") continue;
        if (key == "name") {
          auto s = v.value<std::string>();
          if (!s) return where + ": 'name' must be a string";
          if (auto e = set_name(&g, *s); !e.empty()) return where + ": " + e;
          named = true;
          continue;
        }
        if (key == "nodes") {
          auto* arr = v.as_array();
          if (!arr) return where + ": 'nodes' must be an array of node ids";
          uint32_t bits = 0;
          for (auto& e : *arr) {
            auto nid = e.value<int64_t>();
            if (!nid || *nid < 0 || *nid >= DVS_NR_NODES) return where + ": 'nodes' must hold ids 0..31";
            bits |= 1u << *nid;
          }
          g.nodes = bits;
          g.explicit_nodes = true;
          continue;
        }
        auto n = v.value<int64_t>();
        if (!n) return where + ": '" + key + "' must be an integer";
        if (key == "nr_procs") g.nr_procs = static_cast<int>(*n);
        else if (key == "nr_tasks") g.nr_tasks = static_cast<int>(*n);
        else if (key == "nr_sysprocs") g.nr_sysprocs = static_cast<int>(*n);
        else if (key == "max_copylen") g.max_copylen = *n;
        else return where + ": unknown key '" + key + "'";
      }
      if (!named) default_name(&g);
      if (const char* e = g.check(); *e) return where + ": " + e;
      cfg->dcs.push_back(g);
    }
  }
  return "";
}

std::string validate_config(const NodeConfig& cfg) {
  if (cfg.node_id < 0 || cfg.node_id >= DVS_NR_NODES) return "node id must be 0..31";
  for (const auto& g : cfg.dcs)
    if (g.explicit_nodes && !((g.nodes >> cfg.node_id) & 1u))
      return "DC " + std::to_string(g.dcid) + " does not span this node (" + std::to_string(cfg.node_id) + ")";
  if (cfg.socket_path.empty() || cfg.socket_path.size() >= 108) return "socket path must be 1..107 characters";
  std::set<int> ids;
  for (const auto& g : cfg.dcs) {
    if (!ids.insert(g.dcid).second) return "DC " + std::to_string(g.dcid) + " is defined twice";
    if (const char* e = g.check(); *e) return "DC " + std::to_string(g.dcid) + ": " + e;
  }
  return "";
}

}  // namespace dvs::core
