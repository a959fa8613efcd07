// dvsd: the per-node daemon. Owns the node's DC tables (memfds), grants a table only to a
// process that binds in that DC, watches every bound process (pidfd) and its control connection,
// and unbinds a process that exits or is killed so that every peer blocked on it gets an error.
// It decides; it is not on the local data path.
//
// Threading: one event loop (run()) on one thread; stop() may be called from any thread or a
// signal handler. Nothing a client sends can crash it: malformed records close that client's
// connection with a logged reason, corrupt table memory makes that one request fail.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/control.hpp"
#include "core/shm_table.hpp"

namespace dvs::dvsd {

class Server {
 public:
  explicit Server(core::NodeConfig cfg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Creates the DC tables and the listening socket. "" on success, else a one-line reason.
  std::string start();
  // Serves until stop(). Returns 0.
  int run();
  // Async-signal-safe.
  void stop();
  // Log every unbinding of a process that exited or closed its connection (off: routine).
  void set_verbose(bool v) { verbose_ = v; }
  // The DC tables (valid after start(), for the proxies).
  std::vector<core::DcTable*> tables();
  // add_node / del_node (dcid and node already validated) are carried out by the proxies: set
  // before run(). Without it they fail with EDVSNOPROXY.
  using NodeOps = std::function<int(core::DcTable& t, int node, bool add)>;
  void set_node_ops(NodeOps ops) { node_ops_ = std::move(ops); }

 private:
  NodeOps node_ops_;
  struct Binding {
    int dcid;
    int index;
    int ep;
    pid_t pid;
    pid_t tid;
    bool is_thread;
    int conn_fd;       // connection that made it; -1 for an lclbind not yet taken
    bool awaiting_take; // lclbind: the bound pid has not yet called wait4bind
  };
  struct Parked {
    int conn_fd;
    core::Request req;
    int64_t deadline_ns;  // -1 forever
    pid_t peer_pid;
  };
  struct Conn {
    pid_t pid = 0;
    uid_t uid = 0;
  };

  void accept_clients();
  void serve(int fd);
  void close_conn(int fd, const char* why);
  core::Reply handle(int fd, const core::Request& rq, int* reply_fd, bool* park);
  core::Reply do_bind(int fd, const core::Request& rq, int* reply_fd);
  core::Reply do_unbind(int fd, const core::Request& rq);
  core::Reply do_lclbind(const core::Request& rq);
  bool try_wait4bind(pid_t pid, core::Reply* rp, int* reply_fd);
  bool try_wait4bindep(const core::Request& rq, core::Reply* rp);
  core::Reply do_setpriv(int fd, const core::Request& rq);
  void unbind_binding(const Binding& b, const char* why);
  void watch_pid(pid_t pid);
  void pid_exited(int pidfd);
  void recheck_parked();
  void expire_parked();
  int next_timeout_ms() const;
  core::DcTable* table(int dcid);
  void log(const std::string& line) const;

  core::NodeConfig cfg_;
  bool verbose_ = false;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::map<int, std::unique_ptr<core::DcTable>> tables_;
  std::map<int, Conn> conns_;
  std::vector<Binding> bindings_;
  std::map<pid_t, int> pidfds_;     // pid -> pidfd
  std::map<int, pid_t> pidfd_pid_;  // pidfd -> pid
  std::vector<Parked> parked_;
};

}  // namespace dvs::dvsd
