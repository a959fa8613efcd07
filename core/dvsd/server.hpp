// dvsd: the per-node daemon. Owns the node's DC tables (memfds), grants a table only to a
// process that binds in that DC, watches every bound process (pidfd) and its control connection,
// and unbinds a process that exits or is killed so that every peer blocked on it gets an error.
// It decides; it is not on the local data path.
//
// Threading: one event loop (run()) on one thread; stop() may be called from any thread or a
// signal handler. Nothing a client sends can crash it: malformed records close that client's
// connection with a logged reason, corrupt table memory makes that one request fail.
//
// No client can stall the loop:
//  * client connections are non-blocking, and a connection has one request in service at a
//    time: dvsd reads its next request only once the previous one is answered and the answer
//    has left (a request parked in Wait4Bind / Wait4BindEp is in service until answered). A
//    reply the peer's socket has no room for waits in that connection's outbox (one reply at
//    most) until the socket is writable; a peer that leaves it there longer than the reply
//    timeout (set_reply_timeout_ms, default 10 s) has its connection closed, which unbinds what
//    it bound, as any closed connection does;
//  * at the descriptor limit, a reserve descriptor is given up to accept each pending client and
//    close it at once (the client sees its connection closed), with one log line per episode;
//    clients already connected keep being served. Other accept failures pause accepting briefly;
//  * every object epoll watches (connection, pidfd) has an id that is never reused; an event
//    whose object was closed earlier in the same batch is ignored, even if its descriptor number
//    was reused meanwhile.
//
// getep(pid) is answered only to a connection whose process (SO_PEERCRED pid) is bound (process
// or thread binding) in the DC of pid's binding; anyone else gets EDVSNOTBIND, as for an unknown
// pid.
//
// Authority (authority.hpp, request_rules.hpp): every request carries the kernel's record of its
// sender (SCM_CREDENTIALS, SO_PASSCRED on every connection), never a pid or uid the request says.
// Management requests (binding a system slot, lclbind, rmtbind, add/del node, setpriv, unbinding
// another process's endpoint) are carried out only for a privileged sender, else refused with
// EDVSPRIVILEGES and nothing changes. A binding belongs to the connection that made it (for an
// lclbind: the one that took it with wait4bind) and goes when that connection closes or its
// process exits; an lclbind not yet taken goes when the connection that made it closes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dvsd/authority.hpp"
#include "core/dvsd/config.hpp"
#include "core/dvsd/proxy/link_inboxes.hpp"
#include "core/ipc/control.hpp"
#include "core/ipc/shm_table.hpp"

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
  // A client connection whose peer has not taken a reply within this bound is closed.
  void set_reply_timeout_ms(int64_t ms) { reply_timeout_ns_ = ms * 1'000'000; }
  // Who is privileged (default: policy_for_this_process without an admin group). Set before run().
  void set_authority(AuthorityPolicy policy) { authority_ = policy; }
  // The control socket's permissions, set when start() creates it (default 0660, dvsd's group):
  // they decide who may connect at all. group: a gid, or nullopt to leave dvsd's.
  void set_socket_access(mode_t mode, std::optional<gid_t> group) {
    socket_mode_ = mode;
    socket_group_ = group;
  }
  // The DC tables (valid after start(), for the proxies).
  std::vector<core::DcTable*> tables();
  // add_node / del_node (dcid and node already validated) are carried out by the proxies: set
  // before run(). Without it they fail with EDVSNOPROXY.
  using NodeOps = std::function<int(core::DcTable& t, int node, bool add)>;
  void set_node_ops(NodeOps ops) { node_ops_ = std::move(ops); }
  // The direct path: where processes' link inboxes go (core::Op::LinkInbox; without it the op
  // fails with EDVSNOSYS), and who hears of every endpoint unbound here (the proxies take back the
  // links they handed to its process). Set before run().
  void set_link_inboxes(LinkInboxes* inboxes) { inboxes_ = inboxes; }
  using UnbindHook = std::function<void(int dcid, int ep)>;
  void set_unbind_hook(UnbindHook hook) { on_unbind_ = std::move(hook); }

 private:
  NodeOps node_ops_;
  LinkInboxes* inboxes_ = nullptr;
  UnbindHook on_unbind_;
  // epoll's data for each watched object: these two, or an id from next_id_ (never reused).
  static constexpr uint64_t kListenerId = 1;
  static constexpr uint64_t kStopId = 2;
  static constexpr uint64_t kFirstObjectId = 3;

  struct Binding {
    int dcid;
    int index;
    int ep;
    pid_t pid;
    pid_t tid;
    bool is_thread;
    uint64_t conn;      // id of the connection it belongs to; 0 for an lclbind not yet taken
    bool awaiting_take; // lclbind: the bound pid has not yet called wait4bind
    uint64_t reserved_by = 0;  // lclbind not yet taken: the connection that made it
  };
  struct Parked {
    uint64_t conn;
    core::Request req;
    int64_t deadline_ns;  // -1 forever
    pid_t peer_pid;
  };
  // A reply waiting for room in its peer's socket. fd: a DC table's memfd to pass along (owned
  // by the table, valid while dvsd runs), or -1.
  struct Outgoing {
    core::Reply rp;
    int fd = -1;
  };
  struct Conn {
    int fd = -1;
    pid_t pid = 0;  // SO_PEERCRED: the process that connected (its bindings are made for it)
    bool in_service = false;         // a request is parked or its reply unsent: read no other
    std::optional<Outgoing> outbox;  // the unsent reply
    int64_t outbox_deadline_ns = -1; // the peer must have taken it by then
  };
  struct PidWatch {
    int fd;
    pid_t pid;
  };

  // Refused: a pending client was accepted and closed; NonePending: nothing to refuse; Failed:
  // no reserve descriptor, or accept failed even with it given up.
  enum class Refusal { Refused, NonePending, Failed };
  void accept_clients();
  Refusal refuse_pending_client();
  void pause_accepting();
  void resume_accepting_if_due();
  void add_conn(int fd);
  void conn_event(uint64_t conn, uint32_t events);
  void serve(uint64_t conn);
  // LinkInbox on conn: the connection leaves the loop for inboxes_ (after its reply).
  void take_inbox(uint64_t conn);
  void send_reply(uint64_t conn, const core::Reply& rp, int fd);
  void flush_outbox(uint64_t conn);
  void update_interest(uint64_t conn);
  void close_stalled_conns();
  void close_conn(uint64_t conn, const char* why);
  // sender: the kernel's record of who sent rq (pid 0 when there is none).
  core::Reply handle(uint64_t conn, const core::Request& rq, const ucred& sender, int* reply_fd, bool* park);
  // 0, or the code rq is refused with because sender lacks the authority it needs.
  int check_authority(uint64_t conn, const core::Request& rq, const ucred& sender);
  // Is the endpoint rq.ep of rq.dcid bound by a process other than conn's?
  bool held_by_another(uint64_t conn, const core::Request& rq) const;
  core::Reply do_bind(uint64_t conn, const core::Request& rq, int* reply_fd);
  core::Reply do_unbind(const core::Request& rq);
  core::Reply do_lclbind(uint64_t conn, const core::Request& rq);
  core::Reply do_getep(uint64_t conn, const core::Request& rq) const;
  bool is_bound_in(pid_t pid, int dcid) const;
  // A binding lclbind made for pid, taken for conn (it belongs to conn from then on).
  bool try_wait4bind(uint64_t conn, pid_t pid, core::Reply* rp, int* reply_fd);
  bool try_wait4bindep(const core::Request& rq, core::Reply* rp);
  core::Reply do_setpriv(const core::Request& rq);
  void unbind_binding(const Binding& b, const char* why);
  void watch_pid(pid_t pid);
  void unwatch_pid(pid_t pid);
  void pid_exited(uint64_t watch);
  void recheck_parked();
  void expire_parked();
  int next_timeout_ms() const;
  core::DcTable* table(int dcid);
  void log(const std::string& line) const;

  core::NodeConfig cfg_;
  AuthorityPolicy authority_ = policy_for_this_process(std::nullopt);
  mode_t socket_mode_ = 0660;
  std::optional<gid_t> socket_group_;
  bool verbose_ = false;
  int64_t reply_timeout_ns_ = 10'000'000'000;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  int reserve_fd_ = -1;               // given up at the descriptor limit to refuse a client
  bool refusing_logged_ = false;      // this episode of accept failures has been logged
  int64_t accept_paused_until_ns_ = -1;
  uint64_t next_id_ = kFirstObjectId;
  std::map<int, std::unique_ptr<core::DcTable>> tables_;
  std::map<uint64_t, Conn> conns_;     // by id
  std::vector<Binding> bindings_;
  std::map<uint64_t, PidWatch> pid_watches_;  // by id
  std::map<pid_t, uint64_t> watch_of_pid_;    // pid -> id of its watch
  std::vector<Parked> parked_;
};

}  // namespace dvs::dvsd
