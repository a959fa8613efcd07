// `dvs web serve`: the web-server workload (workloads/web) on a private dvsd, or two dvsd nodes
// linked by tcp or shm when the layout spans both (docs/WEB.md). Bad input: one line on stderr,
// exit 2.
#ifndef DVS_HARNESS_WEB_WEB_COMMAND_HPP
#define DVS_HARNESS_WEB_WEB_COMMAND_HPP

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "harness/commands/command.hpp"
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

// nginx from Debian serving root on 127.0.0.1 at a free port (2 worker processes, sendfile, its
// defaults otherwise), until stopped: the bench's and the tests' reference server.
class Nginx {
 public:
  Nginx() = default;
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;
  ~Nginx() { stop(); }
  // Start it with its files (config, pid, logs) under dir/nginx. "" or why not.
  std::string start(const std::string& dir, const std::string& root);
  void stop();
  int port() const { return port_; }

 private:
  int pid_ = -1;
  int port_ = -1;
};

// `dvs web` with its `serve` and `bench` subcommands; its run runs the one parsed and returns its
// status (0 ok, 1 failed, 2 bad input: one line "dvs web CMD: error: ..." on stderr).
cli::Command make_web_command();

}  // namespace dvs::web

#endif
