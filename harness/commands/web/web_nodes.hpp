// The dvsd nodes of a web layout and the web server on them: what `dvs web serve`, `dvs web bench`
// and the web tests bring up (docs/WEB.md).
#ifndef DVS_HARNESS_COMMANDS_WEB_WEB_NODES_HPP
#define DVS_HARNESS_COMMANDS_WEB_WEB_NODES_HPP

#include <memory>
#include <string>

#include "harness/run/node_pair.hpp"
#include "harness/run/private_dvsd.hpp"
#include "workloads/web/web.hpp"

namespace dvs::web {

// The dvsd nodes a layout needs: one private dvsd (every endpoint on node 0) or a NodePair.
// DC 0's max_copylen is raised to the chunk. Fills cfg->sockets. "" or why not. netns: the two
// nodes in their own network namespaces (tcp only; see cli::NodePair).
class WebNodes {
 public:
  WebNodes(std::string bin, std::string dir) : bin_(std::move(bin)), dir_(std::move(dir)), pair_(bin_, dir_) {}
  std::string up(const std::string& transport, workloads::web::WebConfig* cfg, bool netns = false);
  bool two_nodes() const { return pair_.running(); }
  const cli::NodePair& pair() const { return pair_; }
  std::string describe() const;  // the dvsd command line(s)

 private:
  std::string bin_, dir_;
  cli::PrivateDvsd local_;
  cli::NodePair pair_;
};

// dvsd_path's dvsd (cli::find_dvsd) as the nodes of cfg's layout (*nodes, their files under dir),
// then the web server's processes on them (*server, started). "" or why not.
std::string bring_up(const std::string& dvsd_path, const std::string& dir, const std::string& transport, bool netns,
                     std::unique_ptr<WebNodes>* nodes, workloads::web::WebConfig* cfg,
                     workloads::web::WebServer* server);

}  // namespace dvs::web

#endif
