// The dvsd nodes of a web layout: see web_nodes.hpp.
#include "harness/commands/web/web_nodes.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "harness/cluster/transports.hpp"

namespace dvs::web {

namespace wl = workloads::web;

std::string WebNodes::up(const std::string& transport, wl::WebConfig* cfg, bool netns) {
  const wl::Layout& l = cfg->layout;
  const bool two = l.front_node == 1 || l.fs_node == 1 || l.disk_node == 1;
  const uint64_t copylen = std::max<uint64_t>(cfg->chunk, uint64_t{1} << 20);
  std::string err;
  if (!two) {
    if (!local_.start(bin_, 0, dir_ + "/dvsd.log", {"--dc", fmt::format("0,copylen={}", copylen)}, &err))
      return "dvsd did not start: " + err;
    cfg->sockets[0] = local_.socket_path();
    cfg->sockets[1].clear();
    return "";
  }
  if (!cluster::is_cluster_transport(transport))
    return fmt::format("transport must be {}, not '{}'", cluster::node_transport_choices(), transport);
  cli::NodePairOptions po;
  po.transport = transport;
  po.copylen = copylen;
  po.netns = netns;
  if (err = pair_.ensure(po); !err.empty()) return err;
  cfg->sockets[0] = pair_.socket(0);
  cfg->sockets[1] = pair_.socket(1);
  return "";
}

std::string WebNodes::describe() const {
  if (!pair_.running()) return fmt::format("{} --node 0 (one node)", bin_);
  return pair_.lines().empty() ? "" : pair_.lines().back();
}

std::string bring_up(const std::string& dvsd_path, const std::string& dir, const std::string& transport, bool netns,
                     std::unique_ptr<WebNodes>* nodes, wl::WebConfig* cfg, wl::WebServer* server) {
  std::string tried, err;
  const std::string bin = cli::find_dvsd(dvsd_path, &tried);
  if (bin.empty()) return fmt::format("no dvsd binary (tried: {}; use --dvsd PATH or DVSD_BIN)", tried);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  *nodes = std::make_unique<WebNodes>(bin, dir);
  if (err = (*nodes)->up(transport, cfg, netns); !err.empty()) return err;
  if (!server->start(*cfg, &err)) return err;
  return "";
}

}  // namespace dvs::web
