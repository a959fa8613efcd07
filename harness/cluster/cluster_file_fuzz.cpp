// libFuzzer target: parse_cluster_text, the cluster file parser (docs/CLUSTERS.md), on any text.
// Seeds: fuzz-corpus/dvs_cluster_file_fuzz/ (harness/clusters/*.toml, the docs' and the unit
// tests' files, tricky TOML); dictionary: fuzz-corpus/cluster_file.dict.
//
// Invariants: an error is one line naming the source, and leaves *out as it was; an accepted
// spec holds what `dvs cluster` relies on (ids in range, sorted and unique, every DC's node
// defined, every node in a DC, links between peers sharing a DC, dead_ms > heartbeat_ms), and its
// derived values (dvsd --dc arguments, netns addresses, listen transports) are well-formed.
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/dvsd/config.hpp"
#include "core/testkit/fuzz_check.hpp"
#include "harness/cluster/cluster_file.hpp"

namespace {

using namespace dvs::cluster;

bool one_line(const std::string& s) { return s.find('\n') == std::string::npos && s.find('\r') == std::string::npos; }

void check_spec(const ClusterSpec& s) {
  DVS_FUZZ_CHECK(!s.name.empty() && s.name.size() <= 24);
  DVS_FUZZ_CHECK(!s.nodes.empty() && s.nodes.size() <= 32);
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const NodeSpec& n = s.nodes[i];
    DVS_FUZZ_CHECK(n.id >= 0 && n.id < 32);
    if (i > 0) DVS_FUZZ_CHECK(s.nodes[i - 1].id < n.id);
    DVS_FUZZ_CHECK(is_cluster_transport(n.transport));
    DVS_FUZZ_CHECK(n.port >= 0 && n.port <= 65535 && n.metrics_port >= 0 && n.metrics_port <= 65535);
    DVS_FUZZ_CHECK(s.node(n.id) == &n);
    DVS_FUZZ_CHECK(!s.dcs_of(n.id).empty());
    DVS_FUZZ_CHECK(!s.netns_address(n.id).empty());
    DVS_FUZZ_CHECK(s.netns_port(n.id) > 0);
    for (const std::string& t : s.listen_transports(n.id)) DVS_FUZZ_CHECK(is_cluster_transport(t));
    for (int p : s.peers_of(n.id)) {
      DVS_FUZZ_CHECK(p != n.id && s.node(p) != nullptr);
      DVS_FUZZ_CHECK(is_cluster_transport(s.link_transport(n.id, p)));
      const std::string path = s.link_remote_path(n.id, p);
      DVS_FUZZ_CHECK(path == "proxy" || path == "direct");
    }
    (void)s.any_direct(n.id);
  }
  DVS_FUZZ_CHECK(!s.dcs.empty());
  for (size_t i = 0; i < s.dcs.size(); ++i) {
    const DcSpec& d = s.dcs[i];
    DVS_FUZZ_CHECK(d.id >= 0 && d.id < 32);
    if (i > 0) DVS_FUZZ_CHECK(s.dcs[i - 1].id < d.id);
    DVS_FUZZ_CHECK(!d.nodes.empty() && std::is_sorted(d.nodes.begin(), d.nodes.end()));
    DVS_FUZZ_CHECK(std::adjacent_find(d.nodes.begin(), d.nodes.end()) == d.nodes.end());
    for (int n : d.nodes) DVS_FUZZ_CHECK(s.node(n) != nullptr);
    // What dvsd is started with parses back (on each node the DC spans).
    for (int n : d.nodes) {
      dvs::core::DcGeometry g;
      DVS_FUZZ_CHECK(dvs::core::parse_dc_spec(ClusterSpec::dc_arg(d), n, &g).empty());
      DVS_FUZZ_CHECK(g.dcid == d.id);
    }
  }
  for (size_t i = 0; i < s.links.size(); ++i) {
    const LinkSpec& l = s.links[i];
    DVS_FUZZ_CHECK(l.a < l.b && s.node(l.a) != nullptr && s.node(l.b) != nullptr);
    if (i > 0) DVS_FUZZ_CHECK(std::make_pair(s.links[i - 1].a, s.links[i - 1].b) < std::make_pair(l.a, l.b));
    const auto peers = s.peers_of(l.a);
    DVS_FUZZ_CHECK(std::find(peers.begin(), peers.end(), l.b) != peers.end());
    DVS_FUZZ_CHECK(is_cluster_transport(l.transport));
    DVS_FUZZ_CHECK(l.remote_path.empty() || l.remote_path == "proxy" || l.remote_path == "direct");
    DVS_FUZZ_CHECK(s.link_override(l.b, l.a) == &l);
  }
  DVS_FUZZ_CHECK(s.link.dead_ms > s.link.heartbeat_ms);
  DVS_FUZZ_CHECK(s.link.remote_path == "proxy" || s.link.remote_path == "direct");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source = "fuzz.toml";
  ClusterSpec spec;
  spec.name = "untouched";
  const std::string err = parse_cluster_text(dvs::fuzz::as_text(data, size), source, &spec);
  if (!err.empty()) {
    DVS_FUZZ_CHECK(err.starts_with(source + ":"));
    DVS_FUZZ_CHECK(one_line(err));
    DVS_FUZZ_CHECK(spec.name == "untouched" && spec.nodes.empty());
    return 0;
  }
  DVS_FUZZ_CHECK(spec.source == source);
  check_spec(spec);
  return 0;
}
