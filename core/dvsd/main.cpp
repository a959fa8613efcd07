// dvsd — the dvs node daemon. Usage:
//   dvsd --node N --socket PATH [--config FILE.toml] [--dc SPEC]...
// SPEC = id[,name=NAME][,procs=N][,tasks=N][,sysprocs=N][,copylen=BYTES]. Without --dc and
// without DCs in the config, DC 0 with the original's defaults (221 procs, 35 tasks, 64 sysprocs).
// --cpus LIST (e.g. "1" or "0,2-3") pins dvsd and all its threads to those CPUs: a node emulated
// on this machine gets its own CPUs, as a real node would.
// --listen URI may be given several times (e.g. one tcp:// and one shm://): one listener each,
// and a lower-id peer may dial any of them. --peer ID=URI names the URI this node dials for a
// higher-id peer, so each link runs over the transport its lower node chooses.
// Prints "dvsd: node N listening on URI" per listen URI (in the order given, port 0 resolved),
// then "dvsd: node N ready on PATH" once it accepts clients; SIGTERM/SIGINT end it (exit 0).
// --reply-timeout-ms N: a client connection whose peer has not taken a reply within N ms is
// closed (default 10000), which unbinds what it bound.
// Who may do what (docs/ARCHITECTURE.md, "Authority"): --socket-mode MODE (octal, default 0660)
// and --socket-group NAME|GID (default dvsd's group) decide who may connect at all;
// --admin-group NAME|GID names the group whose members (primary or supplementary) may, besides
// root, CAP_SYS_ADMIN holders and dvsd's own user, do the management calls.
// Bad input: one line on stderr naming the problem, exit 2.
#include <sched.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/dvsd/authority.hpp"
#include "core/dvsd/config.hpp"
#include "core/dvsd/metrics_dvsd.hpp"
#include "core/dvsd/proxy/proxy.hpp"
#include "core/dvsd/server.hpp"
#include "core/ipc/shm_table.hpp"

namespace {
dvs::dvsd::Server* g_server = nullptr;

// "1", "0,2-3": "" or what is wrong.
std::string parse_cpu_list(const std::string& list, cpu_set_t* set) {
  CPU_ZERO(set);
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = list.find(',', at);
    std::string item = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    int lo = 0, hi = 0;
    char tail = 0;
    if (std::sscanf(item.c_str(), "%d-%d%c", &lo, &hi, &tail) == 2) {
    } else if (std::sscanf(item.c_str(), "%d%c", &lo, &tail) == 1) {
      hi = lo;
    } else {
      return "expected CPU numbers and ranges separated by commas, got '" + item + "'";
    }
    if (lo < 0 || hi < lo || hi >= CPU_SETSIZE) return "bad range '" + item + "'";
    for (int c = lo; c <= hi; ++c) CPU_SET(c, set);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return "";
}
void on_signal(int) {
  if (g_server) g_server->stop();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dvsd: the dvs node daemon (control plane of the M3-IPC re-creation)"};
  int node = 0;
  std::string socket_path;
  std::string config_file;
  std::vector<std::string> dc_specs;
  std::vector<std::string> listen_uris;
  std::vector<std::string> peer_specs;
  dvs::dvsd::ProxyOptions popt;
  bool node_set = false;
  bool verbose = false;
  int64_t reply_timeout_ms = 10000;
  app.add_option("--node", node, "node id 0..31")->check(CLI::Range(0, 31))->each([&](const std::string&) { node_set = true; });
  app.add_option("--socket", socket_path, "control socket path (default /run/dvs/dvsd.sock)");
  app.add_option("--config", config_file, "node configuration file (TOML)")->check(CLI::ExistingFile);
  app.add_option("--dc", dc_specs, "DC to host: id[,name=N][,procs=N][,tasks=N][,sysprocs=N][,copylen=B][,nodes=0+1]");
  app.add_flag("--verbose", verbose, "log every unbinding of an exited process");
  app.add_option("--reply-timeout-ms", reply_timeout_ms,
                 "close a client connection that has not taken a reply within this many ms (it is unbound)")
      ->check(CLI::Range(int64_t{10}, int64_t{3600000}));
  std::string admin_group, socket_group, socket_mode = "0660";
  app.add_option("--admin-group", admin_group,
                 "group (NAME or GID) whose members may, besides root, holders of CAP_SYS_ADMIN and dvsd's own user, "
                 "bind system slots, lclbind, rmtbind, add/del nodes, setpriv and unbind others' endpoints "
                 "(docs/ARCHITECTURE.md, Authority)");
  app.add_option("--socket-mode", socket_mode,
                 "permissions of the control socket, octal (default 0660): with --socket-group they decide who may "
                 "connect at all");
  app.add_option("--socket-group", socket_group, "group (NAME or GID) of the control socket (default: dvsd's group)");
  app.add_option("--listen", listen_uris,
                 "URI peers with lower node ids dial (e.g. tcp://10.0.0.1:7000); repeat to listen on several");
  app.add_option("--peer", peer_specs, "remote node: ID=URI (this node dials peers with higher ids; a lower ID may be given alone)");
  app.add_option("--heartbeat-ms", popt.heartbeat_ms, "HELLO on a link idle this long")->check(CLI::Range(10, 60000));
  app.add_option("--dead-ms", popt.dead_ms, "a link silent this long is declared dead")->check(CLI::Range(50, 600000));
  app.add_option("--batch", popt.batch_max, "commands per frame on a link (1 = no batching)")->check(CLI::Range(1, 4096));
  app.add_flag("--lz4", popt.lz4, "compress link payloads with LZ4 when that makes them smaller");
  std::string remote_path = "proxy";
  app.add_option("--remote-path", remote_path,
                 "how this node's processes reach other nodes: proxy (through this dvsd's dispatcher and node "
                 "links, the original's model) or direct (each process on its own link to the peer node, which "
                 "announces where with its HELLO; needs a --listen on every node): docs/REMOTE_PATHS.md")
      ->check(CLI::IsMember({"proxy", "direct"}));
  std::vector<std::string> path_specs;
  app.add_option("--remote-path-to", path_specs,
                 "the remote path to one peer, overriding --remote-path for it: ID=proxy|direct (repeatable; the "
                 "peer must say the same of this node)");
  app.add_option("--poll-us", popt.poll_us, "proxies poll this long after traffic before sleeping (0 = never; burns CPU)")
      ->check(CLI::Range(0, 1000000));
  std::string cpus;
  app.add_option("--cpus", cpus, "pin dvsd (all its threads) to these CPUs: LIST like 1 or 0,2-3");
  app.add_option("--copy-chunk", popt.copy_chunk, "bytes per vcopy frame between nodes (all chunks of a copy are pipelined)")
      ->check(CLI::Range(4096, 1 << 20));
  std::string key_file;
  bool no_auth = false;
  app.add_option("--cluster-key", key_file,
                 "the cluster key (64 hex digits, mode 0600; `dvs cluster keygen FILE` makes one): every link opens "
                 "with a challenge-response proving both ends hold it (docs/SECURITY.md)");
  app.add_flag("--no-auth", no_auth,
               "open links with a plain HELLO, no key: anyone who can reach a listener can join as a node "
               "(for measuring the handshake's cost, or networks nobody else reaches)");
  app.add_flag("--seal", popt.seal,
               "with --cluster-key: encrypt and authenticate every frame on every link (ChaCha20-Poly1305)");
  app.add_option("--max-autobound", popt.max_autobound,
                 "endpoints one peer's callers may auto-bind here, per DC (released when its link goes down)")
      ->check(CLI::Range(1, 4096));
  dvs::metrics::DvsdMetricsOptions mopt;
  dvs::metrics::add_dvsd_metrics_options(app, &mopt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "dvsd: %s\n", e.what());
    return 2;
  }
  popt.direct = remote_path == "direct";

  std::optional<gid_t> admin_gid, socket_gid;
  for (auto [spec, out, name] : {std::tuple{&admin_group, &admin_gid, "--admin-group"},
                                 std::tuple{&socket_group, &socket_gid, "--socket-group"}}) {
    if (spec->empty()) continue;
    gid_t gid = 0;
    if (auto err = dvs::dvsd::resolve_group(*spec, &gid); !err.empty()) {
      std::fprintf(stderr, "dvsd: bad %s '%s': %s\n", name, spec->c_str(), err.c_str());
      return 2;
    }
    *out = gid;
  }
  unsigned socket_perms = 0;
  const char* mode_end = socket_mode.data() + socket_mode.size();
  if (auto [end, ec] = std::from_chars(socket_mode.data(), mode_end, socket_perms, 8);
      socket_mode.empty() || ec != std::errc() || end != mode_end || socket_perms > 0777) {
    std::fprintf(stderr, "dvsd: bad --socket-mode '%s': expected octal permissions like 0660\n", socket_mode.c_str());
    return 2;
  }

  if (!cpus.empty()) {
    cpu_set_t set;
    if (auto err = parse_cpu_list(cpus, &set); !err.empty()) {
      std::fprintf(stderr, "dvsd: bad --cpus '%s': %s\n", cpus.c_str(), err.c_str());
      return 2;
    }
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      std::fprintf(stderr, "dvsd: --cpus %s: sched_setaffinity: %s\n", cpus.c_str(), std::strerror(errno));
      return 2;
    }
  }

  dvs::core::NodeConfig cfg;
  if (!config_file.empty()) {
    if (auto err = dvs::core::load_config_file(config_file, &cfg); !err.empty()) {
      std::fprintf(stderr, "dvsd: %s\n", err.c_str());
      return 2;
    }
  }
  if (node_set || config_file.empty()) cfg.node_id = node;
  if (!socket_path.empty()) cfg.socket_path = socket_path;
  for (const auto& spec : dc_specs) {
    dvs::core::DcGeometry g;
    if (auto err = dvs::core::parse_dc_spec(spec, cfg.node_id, &g); !err.empty()) {
      std::fprintf(stderr, "dvsd: %s\n", err.c_str());
      return 2;
    }
    cfg.dcs.push_back(g);
  }
  if (cfg.dcs.empty()) {
    dvs::core::DcGeometry g;
    dvs::core::parse_dc_spec("0", cfg.node_id, &g);
    cfg.dcs.push_back(g);
  }
  std::vector<dvs::dvsd::PeerSpec> peers;
  for (const auto& spec : peer_specs) {
    auto eq = spec.find('=');
    dvs::dvsd::PeerSpec ps;
    try {
      ps.node = std::stoi(eq == std::string::npos ? spec : spec.substr(0, eq));
    } catch (...) {
      ps.node = -1;
    }
    ps.uri = eq == std::string::npos ? "" : spec.substr(eq + 1);
    // A peer with a lower id dials us: its URI is not needed ("--peer 0" is enough).
    bool uri_ok = ps.uri.find("://") != std::string::npos || (ps.uri.empty() && ps.node < cfg.node_id);
    if (ps.node < 0 || ps.node >= 32 || !uri_ok) {
      std::fprintf(stderr, "dvsd: bad --peer '%s': expected ID=URI (ID 0..31; a lower ID may omit =URI)\n", spec.c_str());
      return 2;
    }
    peers.push_back(ps);
  }
  for (const auto& spec : path_specs) {
    const auto eq = spec.find('=');
    const std::string id = spec.substr(0, eq), path = eq == std::string::npos ? "" : spec.substr(eq + 1);
    auto it = std::find_if(peers.begin(), peers.end(), [&](const auto& ps) { return std::to_string(ps.node) == id; });
    if (it == peers.end() || (path != "proxy" && path != "direct")) {
      std::fprintf(stderr, "dvsd: bad --remote-path-to '%s': expected ID=proxy|direct for a --peer ID\n", spec.c_str());
      return 2;
    }
    it->direct = path == "direct";
  }
  for (auto& g : cfg.dcs) {
    g.node_id = cfg.node_id;
    if (g.explicit_nodes) continue;  // the configuration said which nodes the DC spans
    g.nodes |= 1u << cfg.node_id;
    for (const auto& ps : peers) g.nodes |= 1u << ps.node;
  }

  // dvsd must never stall on a slot lock whose bytes a client corrupted: short lock bound.
  dvs::core::set_lock_bound_ns(100'000'000);
  dvs::dvsd::LinkInboxes inboxes;  // the direct path's (link_inboxes.hpp); outlives its users
  dvs::dvsd::Server server(cfg);
  server.set_verbose(verbose);
  server.set_reply_timeout_ms(reply_timeout_ms);
  server.set_authority(dvs::dvsd::policy_for_this_process(admin_gid));
  server.set_socket_access(static_cast<mode_t>(socket_perms), socket_gid);
  if (auto err = server.start(); !err.empty()) {
    std::fprintf(stderr, "dvsd: %s\n", err.c_str());
    return 2;
  }
  const bool links = !peers.empty() || !listen_uris.empty();
  if (!key_file.empty() && no_auth) {
    std::fprintf(stderr, "dvsd: --cluster-key and --no-auth exclude each other\n");
    return 2;
  }
  if (links && key_file.empty() && !no_auth) {
    std::fprintf(stderr,
                 "dvsd: links need the cluster key: --cluster-key FILE (or --no-auth to let anyone who reaches a "
                 "listener join)\n");
    return 2;
  }
  if (popt.seal && key_file.empty()) {
    std::fprintf(stderr, "dvsd: --seal needs --cluster-key\n");
    return 2;
  }
  if (!key_file.empty()) {
    dvs::linkauth::Key key{};
    if (auto err = dvs::linkauth::load_cluster_key(key_file, &key); !err.empty()) {
      std::fprintf(stderr, "dvsd: %s\n", err.c_str());
      return 2;
    }
    popt.key = key;
  }
  std::unique_ptr<dvs::dvsd::ProxySet> proxies;
  if (links) {
    proxies = std::make_unique<dvs::dvsd::ProxySet>(cfg.node_id, server.tables(), listen_uris, peers, popt);
    if (proxies->any_direct()) {
      for (auto* t : server.tables()) t->header().direct_path.store(1, std::memory_order_release);
      proxies->set_link_inboxes(&inboxes);
      server.set_link_inboxes(&inboxes);
      server.set_unbind_hook([p = proxies.get()](int dcid, int ep) { p->take_back(dcid, ep); });
    }
    if (auto err = proxies->start(); !err.empty()) {
      std::fprintf(stderr, "dvsd: %s\n", err.c_str());
      return 2;
    }
  }
  if (proxies)
    server.set_node_ops([&proxies](dvs::core::DcTable& t, int other, bool add) {
      return add ? proxies->add_node(t, other) : proxies->del_node(t, other);
    });
  dvs::metrics::Exporter exporter;
  if (auto err = dvs::metrics::start_dvsd_metrics(mopt, cfg.node_id, server.tables(), proxies.get(), &exporter); !err.empty()) {
    std::fprintf(stderr, "dvsd: %s\n", err.c_str());
    return 2;
  }
  g_server = &server;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (proxies)
    for (const auto& uri : proxies->listen_uris()) std::printf("dvsd: node %d listening on %s\n", cfg.node_id, uri.c_str());
  std::printf("dvsd: node %d ready on %s\n", cfg.node_id, cfg.socket_path.c_str());
  std::fflush(stdout);
  int rc = server.run();
  g_server = nullptr;
  if (proxies) proxies->stop();
  return rc;
}
