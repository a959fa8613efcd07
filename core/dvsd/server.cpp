#include "core/dvsd/server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/dvsd/proxy/proxy_queue.hpp"
#include "core/dvsd/request_rules.hpp"
#include "core/dvsd/table_admin.hpp"
#include "core/ipc/primitives.hpp"
#include "core/ipc/remote.hpp"
#include "core/ipc/remote_inbound.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::dvsd {

using core::Op;
using core::Reply;
using core::Request;

namespace {
int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

void mkdir_parents(const std::string& path) {
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] != '/') continue;
    std::string dir = path.substr(0, i);
    mkdir(dir.c_str(), 0755);
  }
}
}  // namespace

Server::Server(core::NodeConfig cfg) : cfg_(std::move(cfg)) {}

Server::~Server() {
  for (auto& [id, c] : conns_) close(c.fd);
  for (auto& [id, w] : pid_watches_) close(w.fd);
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    unlink(cfg_.socket_path.c_str());
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  if (reserve_fd_ >= 0) close(reserve_fd_);
}

void Server::log(const std::string& line) const {
  std::fprintf(stderr, "dvsd[node %d]: %s\n", cfg_.node_id, line.c_str());
}

std::string Server::start() {
  if (auto e = core::validate_config(cfg_); !e.empty()) return e;
  for (const auto& g : cfg_.dcs) {
    auto t = std::make_unique<core::DcTable>();
    if (int rc = t->create(g); rc != 0)
      return "cannot create table of DC " + std::to_string(g.dcid) + ": " + dvs_strerror(rc);
    tables_[g.dcid] = std::move(t);
  }
  mkdir_parents(cfg_.socket_path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", cfg_.socket_path.c_str());
  // A socket file nobody answers on is stale: replace it; a live one means another dvsd.
  int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    close(probe);
    return "another dvsd already serves " + cfg_.socket_path;
  }
  close(probe);
  unlink(cfg_.socket_path.c_str());
  listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return std::string("socket: ") + std::strerror(errno);
  // Every record received carries its sender's credentials (accepted connections inherit this).
  const int on = 1;
  if (setsockopt(listen_fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
    return std::string("SO_PASSCRED: ") + std::strerror(errno);
  // The socket file is born with no more access than socket_mode_ (umask), then gets its group
  // and exactly that mode. dvsd has no other threads yet: the umask is changed for this only.
  const mode_t old_umask = umask(~socket_mode_ & 0777);
  const int bound = bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  umask(old_umask);
  if (bound != 0) return "cannot bind " + cfg_.socket_path + ": " + std::strerror(bind_errno);
  if (socket_group_ && chown(cfg_.socket_path.c_str(), static_cast<uid_t>(-1), *socket_group_) != 0)
    return "cannot give " + cfg_.socket_path + " group " + std::to_string(*socket_group_) + ": " + std::strerror(errno);
  if (chmod(cfg_.socket_path.c_str(), socket_mode_) != 0)
    return "cannot chmod " + cfg_.socket_path + ": " + std::strerror(errno);
  if (listen(listen_fd_, 128) != 0) return std::string("listen: ") + std::strerror(errno);
  reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (reserve_fd_ < 0) return std::string("cannot open /dev/null: ") + std::strerror(errno);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || stop_fd_ < 0) return std::string("epoll/eventfd: ") + std::strerror(errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = kStopId;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &ev);
  return "";
}

void Server::stop() {
  uint64_t one = 1;
  if (stop_fd_ >= 0) {
    ssize_t n = write(stop_fd_, &one, sizeof one);
    (void)n;
  }
}

int Server::run() {
  epoll_event evs[32];
  for (;;) {
    int n = epoll_wait(epoll_fd_, evs, 32, next_timeout_ms());
    if (n < 0 && errno != EINTR) {
      log(std::string("epoll_wait: ") + std::strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t id = evs[i].data.u64;
      if (id == kStopId) return 0;
      if (id == kListenerId)
        accept_clients();
      else if (conns_.count(id))
        conn_event(id, evs[i].events);
      else if (pid_watches_.count(id))
        pid_exited(id);
      // else: its object was closed earlier in this batch; the event is stale.
    }
    expire_parked();
    close_stalled_conns();
    resume_accepting_if_due();
  }
}

int Server::next_timeout_ms() const {
  int64_t soonest = accept_paused_until_ns_;
  auto consider = [&soonest](int64_t deadline) {
    if (deadline >= 0 && (soonest < 0 || deadline < soonest)) soonest = deadline;
  };
  for (const auto& p : parked_) consider(p.deadline_ns);
  for (const auto& [id, c] : conns_) consider(c.outbox_deadline_ns);
  if (soonest < 0) return -1;
  int64_t left = (soonest - core::monotonic_ns()) / 1'000'000 + 1;
  return static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
}

// ---- accepting clients

void Server::accept_clients() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      if (refusing_logged_) log("accepting new clients again");
      refusing_logged_ = false;
      add_conn(fd);
      continue;
    }
    const int err = errno;
    if (err == EINTR || err == ECONNABORTED) continue;
    if (err == EAGAIN) return;
    const bool out_of_fds = err == EMFILE || err == ENFILE;
    if (!refusing_logged_)
      log(out_of_fds ? std::string("out of descriptors (") + std::strerror(err) +
                           "): refusing new clients until some close"
                     : std::string("accept: ") + std::strerror(err) + ": pausing new clients");
    refusing_logged_ = true;
    // accept fails with EMFILE whether or not a client is pending: refuse until none is.
    if (out_of_fds) {
      Refusal r;
      while ((r = refuse_pending_client()) == Refusal::Refused) {
      }
      if (r == Refusal::NonePending) return;
    }
    pause_accepting();
    return;
  }
}

// At the descriptor limit: gives up the reserve descriptor to accept one pending client and close
// its connection at once (the client sees it closed), then takes the reserve back.
Server::Refusal Server::refuse_pending_client() {
  if (reserve_fd_ < 0) return Refusal::Failed;
  close(reserve_fd_);
  int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  const int err = errno;
  if (fd >= 0) close(fd);
  reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) return Refusal::Refused;
  return err == EAGAIN ? Refusal::NonePending : Refusal::Failed;
}

// Stops polling the listener for a short while (it would stay readable and spin the loop).
void Server::pause_accepting() {
  constexpr int64_t kAcceptPauseNs = 100'000'000;
  epoll_event ev{};
  ev.events = 0;
  ev.data.u64 = kListenerId;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
  accept_paused_until_ns_ = core::monotonic_ns() + kAcceptPauseNs;
}

void Server::resume_accepting_if_due() {
  if (accept_paused_until_ns_ < 0 || core::monotonic_ns() < accept_paused_until_ns_) return;
  accept_paused_until_ns_ = -1;
  if (reserve_fd_ < 0) reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
}

void Server::add_conn(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    close(fd);
    return;
  }
  const uint64_t id = next_id_++;
  Conn& c = conns_[id];
  c.fd = fd;
  c.pid = cred.pid;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    conns_.erase(id);
  }
}

// ---- client connections

void Server::conn_event(uint64_t conn, uint32_t events) {
  if (events & EPOLLOUT) flush_outbox(conn);
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  if (!it->second.in_service && (events & EPOLLIN)) {
    serve(conn);  // a request, or the end of the stream after the last one
    return;
  }
  if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) close_conn(conn, nullptr);
}

// What epoll should report for conn: its next request while none is in service, room for its
// unsent reply while it has one, and always its peer hanging up.
void Server::update_interest(uint64_t conn) {
  const Conn& c = conns_.at(conn);
  epoll_event ev{};
  ev.events = EPOLLRDHUP | (c.in_service ? 0u : static_cast<uint32_t>(EPOLLIN)) |
              (c.outbox ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  ev.data.u64 = conn;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Server::close_conn(uint64_t conn, const char* why) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  if (why) log("closing connection of pid " + std::to_string(it->second.pid) + ": " + why);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  close(it->second.fd);
  conns_.erase(it);
  parked_.erase(std::remove_if(parked_.begin(), parked_.end(), [conn](const Parked& p) { return p.conn == conn; }),
                parked_.end());
  std::vector<Binding> gone;
  for (const auto& b : bindings_)
    if (b.conn == conn || (b.awaiting_take && b.reserved_by == conn)) gone.push_back(b);
  for (const auto& b : gone)
    unbind_binding(b, b.awaiting_take ? "the connection that lclbound it closed before it was taken"
                                      : "its control connection closed");
}

void Server::serve(uint64_t conn) {
  Request rq;
  int in_fd = -1;
  ucred sender{};
  long n = core::recv_record(conns_.at(conn).fd, &rq, sizeof rq, &in_fd, &sender);
  if (in_fd >= 0) close(in_fd);  // clients never send descriptors
  if (n == -EAGAIN) return;      // nothing after all
  if (n == 0) {
    close_conn(conn, nullptr);
    return;
  }
  if (n < 0) {
    close_conn(conn, n == -EBADMSG ? "malformed request (wrong size)" : "receive failed");
    return;
  }
  if (!well_formed(rq)) {
    close_conn(conn, "malformed request (bad magic or version)");
    return;
  }
  if (static_cast<Op>(rq.op) == Op::LinkInbox) {
    take_inbox(conn);
    return;
  }
  int reply_fd = -1;
  bool park = false;
  Reply rp = handle(conn, rq, sender, &reply_fd, &park);
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  if (park) {
    constexpr int64_t kCenturyMs = int64_t{100} * 365 * 24 * 3600 * 1000;  // longer: forever
    int64_t deadline = rq.timeout_ms < 0 || rq.timeout_ms > kCenturyMs ? -1 : core::monotonic_ns() + rq.timeout_ms * 1'000'000;
    parked_.push_back(Parked{conn, rq, deadline, it->second.pid});
    it->second.in_service = true;
    update_interest(conn);
    return;
  }
  send_reply(conn, rp, reply_fd);
}

void Server::take_inbox(uint64_t conn) {
  Reply rp;
  rp.node_id = cfg_.node_id;
  const bool binds = std::any_of(bindings_.begin(), bindings_.end(), [&](const Binding& b) { return b.conn == conn; });
  if (!inboxes_ || binds) {  // an inbox is a connection of its own, made for nothing else
    rp.rc = inboxes_ ? EDVSBADVALUE : EDVSNOSYS;
    send_reply(conn, rp, -1);
    return;
  }
  Conn& c = conns_.at(conn);
  rp.rc = 0;
  if (core::send_record(c.fd, &rp, sizeof rp, -1) != 0) {
    close_conn(conn, "its link inbox took no reply");
    return;
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  inboxes_->add(c.pid, c.fd);
  conns_.erase(conn);
}

// Answers conn's request in service, never blocking: what the peer's socket has no room for
// waits in the outbox (the connection then reads nothing until the peer takes it).
void Server::send_reply(uint64_t conn, const Reply& rp, int fd) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  int rc = core::send_record(c.fd, &rp, sizeof rp, fd);
  if (rc == -EAGAIN) {
    c.outbox = Outgoing{rp, fd};
    c.outbox_deadline_ns = core::monotonic_ns() + reply_timeout_ns_;
    c.in_service = true;
    update_interest(conn);
    return;
  }
  if (rc != 0) {
    close_conn(conn, "reply failed");
    return;
  }
  if (c.in_service) {
    c.in_service = false;
    update_interest(conn);
  }
}

void Server::flush_outbox(uint64_t conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second.outbox) return;
  Conn& c = it->second;
  int rc = core::send_record(c.fd, &c.outbox->rp, sizeof c.outbox->rp, c.outbox->fd);
  if (rc == -EAGAIN) return;
  if (rc != 0) {
    close_conn(conn, "reply failed");
    return;
  }
  c.outbox.reset();
  c.outbox_deadline_ns = -1;
  c.in_service = false;
  update_interest(conn);
}

void Server::close_stalled_conns() {
  const int64_t now = core::monotonic_ns();
  std::vector<uint64_t> stalled;
  for (const auto& [id, c] : conns_)
    if (c.outbox && c.outbox_deadline_ns <= now) stalled.push_back(id);
  const std::string why = "its peer did not take a reply within " + std::to_string(reply_timeout_ns_ / 1'000'000) + " ms";
  for (uint64_t id : stalled) close_conn(id, why.c_str());
}

std::vector<core::DcTable*> Server::tables() {
  std::vector<core::DcTable*> out;
  for (auto& [id, t] : tables_) out.push_back(t.get());
  return out;
}

core::DcTable* Server::table(int dcid) {
  auto it = tables_.find(dcid);
  return it == tables_.end() ? nullptr : it->second.get();
}

bool Server::held_by_another(uint64_t conn, const Request& rq) const {
  const pid_t pid = conns_.at(conn).pid;
  return std::any_of(bindings_.begin(), bindings_.end(),
                     [&](const Binding& b) { return b.dcid == rq.dcid && b.ep == rq.ep && b.pid != pid; });
}

int Server::check_authority(uint64_t conn, const Request& rq, const ucred& sender) {
  auto it = tables_.find(rq.dcid);
  const Need need = authority_needed(rq, it == tables_.end() ? nullptr : &it->second->geometry());
  if (need == Need::Anyone) return 0;
  // /proc is read only when the request needs it and ownership does not settle it. An endpoint
  // nobody else holds is the requester's to unbind (or not bound: do_unbind says so).
  const bool held_by_other = need == Need::OwnerOrAdmin && held_by_another(conn, rq);
  const bool settled = need == Need::OwnerOrAdmin && !held_by_other;
  const int rc = admit(need, !settled && requester_is_privileged(sender, authority_), held_by_other);
  if (rc != 0 && verbose_)
    log("refused op " + std::to_string(rq.op) + " of pid " + std::to_string(sender.pid) + " (uid " +
        std::to_string(sender.uid) + "): " + dvs_errname(rc));
  return rc;
}

Reply Server::handle(uint64_t conn, const Request& rq, const ucred& sender, int* reply_fd, bool* park) {
  Reply rp;
  rp.node_id = cfg_.node_id;
  if (int rc = check_authority(conn, rq, sender); rc != 0) {
    rp.rc = rc;
    return rp;
  }
  switch (static_cast<Op>(rq.op)) {
    case Op::Hello:
      rp.rc = 0;
      return rp;
    case Op::LinkInbox:  // taken by serve() before it gets here
      rp.rc = EDVSBADCALL;
      return rp;
    case Op::Bind:
      return do_bind(conn, rq, reply_fd);
    case Op::Unbind:
      return do_unbind(rq);
    case Op::LclBind:
      return do_lclbind(conn, rq);
    case Op::Wait4Bind:
      if (!try_wait4bind(conn, conns_.at(conn).pid, &rp, reply_fd)) {
        if (rq.timeout_ms == 0) {
          rp.rc = EDVSTIMEDOUT;
          return rp;
        }
        *park = true;
      }
      return rp;
    case Op::Wait4BindEp:
      if (!try_wait4bindep(rq, &rp)) {
        if (rp.rc != EDVSAGAIN) return rp;
        if (rq.timeout_ms == 0) {
          rp.rc = EDVSTIMEDOUT;
          return rp;
        }
        *park = true;
      }
      return rp;
    case Op::GetEp:
      return do_getep(conn, rq);
    case Op::GetDcInfo: {
      core::DcTable* t = table(rq.dcid);
      if (!t) {
        rp.rc = EDVSBADDCID;
        return rp;
      }
      const auto& g = t->geometry();
      rp.dcinfo.dcid = g.dcid;
      rp.dcinfo.nr_procs = g.nr_procs;
      rp.dcinfo.nr_tasks = g.nr_tasks;
      rp.dcinfo.nr_sysprocs = g.nr_sysprocs;
      rp.dcinfo.nr_nodes = __builtin_popcount(t->nodes());
      rp.dcinfo.nodes = t->nodes();
      rp.dcinfo.max_copylen = g.max_copylen;
      std::memcpy(rp.dcinfo.name, g.name, sizeof rp.dcinfo.name);
      rp.rc = 0;
      return rp;
    }
    case Op::GetProcInfo: {
      core::DcTable* t = table(rq.dcid);
      if (!t) {
        rp.rc = EDVSBADDCID;
        return rp;
      }
      if (!t->geometry().valid_pnr(rq.p_nr)) {
        rp.rc = EDVSBADPROC;
        return rp;
      }
      core::admin_procinfo(*t, t->geometry().index_of(rq.p_nr), &rp.procinfo);
      rp.rc = 0;
      return rp;
    }
    case Op::GetPriv: {
      core::DcTable* t = table(rq.dcid);
      if (!t) {
        rp.rc = EDVSBADDCID;
        return rp;
      }
      int p = DVS_ENDPOINT_P(rq.ep);
      if (!t->geometry().valid_pnr(p)) {
        rp.rc = EDVSENDPOINT;
        return rp;
      }
      int idx = t->geometry().index_of(p);
      if (t->slot(idx).endpoint.load() != rq.ep || (t->slot(idx).flags.load() & DVS_SLOT_FREE)) {
        rp.rc = EDVSNOTBIND;
        return rp;
      }
      core::admin_getpriv(*t, idx, &rp.priv);
      rp.rc = 0;
      return rp;
    }
    case Op::SetPriv:
      return do_setpriv(rq);
    case Op::RmtBind: {
      core::DcTable* t = table(rq.dcid);
      rp.rc = t ? core::admin_bind_remote(*t, rq.ep, rq.node) : EDVSBADDCID;
      if (rp.rc == 0) rp.ep = rq.ep;
      return rp;
    }
    case Op::AddNode:
    case Op::DelNode: {
      core::DcTable* t = table(rq.dcid);
      if (!t) rp.rc = EDVSBADDCID;
      else if (rq.node < 0 || rq.node >= DVS_NR_NODES || rq.node == cfg_.node_id) rp.rc = EDVSBADNODEID;
      else if (!node_ops_) rp.rc = EDVSNOPROXY;  // no proxies on this node at all
      else rp.rc = node_ops_(*t, rq.node, static_cast<Op>(rq.op) == Op::AddNode);
      return rp;
    }
  }
  rp.rc = EDVSBADCALL;
  return rp;
}

Reply Server::do_bind(uint64_t conn, const Request& rq, int* reply_fd) {
  Reply rp;
  rp.node_id = cfg_.node_id;
  core::DcTable* t = table(rq.dcid);
  if (!t) {
    rp.rc = EDVSBADDCID;
    return rp;
  }
  const auto& g = t->geometry();
  pid_t pid = conns_.at(conn).pid;
  pid_t tid = rq.is_thread ? rq.tid : pid;
  for (const auto& b : bindings_) {
    bool same = rq.is_thread ? (b.is_thread && b.pid == pid && b.tid == tid) : (!b.is_thread && b.pid == pid);
    if (same && !b.awaiting_take) {
      rp.rc = EDVSBUSY;
      return rp;
    }
  }
  int rc = EDVSBADPROC;
  int ep = DVS_NONE;
  int idx = -1;
  if (rq.p_nr == DVS_ANY) {
    rc = EDVSSLOTUSED;  // no free user slot
    for (int i = g.nr_sysprocs; i < g.nr_slots(); ++i) {
      rc = core::admin_bind(*t, i, pid, tid, rq.is_thread != 0, &ep);
      if (rc != EDVSSLOTUSED) {
        idx = i;
        break;
      }
    }
  } else {
    const int p = bind_target_pnr(rq.p_nr);
    if (g.valid_pnr(p)) {
      idx = g.index_of(p);
      rc = core::admin_bind(*t, idx, pid, tid, rq.is_thread != 0, &ep);
    }
  }
  // Task endpoints are negative: the status travels in rc, the endpoint in ep.
  if (rc != 0) {
    rp.rc = rc;
    return rp;
  }
  rp.rc = 0;
  bindings_.push_back(Binding{rq.dcid, idx, ep, pid, tid, rq.is_thread != 0, conn, false});
  watch_pid(pid);
  rp.ep = ep;
  rp.index = idx;
  rp.dcid = rq.dcid;
  *reply_fd = t->fd();
  recheck_parked();
  return rp;
}

// The caller's authority was checked (check_authority): its own endpoint, or it is privileged.
Reply Server::do_unbind(const Request& rq) {
  Reply rp;
  for (const auto& b : bindings_) {
    if (b.dcid != rq.dcid || b.ep != rq.ep) continue;
    Binding copy = b;
    unbind_binding(copy, nullptr);
    rp.rc = 0;
    return rp;
  }
  rp.rc = table(rq.dcid) ? EDVSNOTBIND : EDVSBADDCID;
  return rp;
}

Reply Server::do_lclbind(uint64_t conn, const Request& rq) {
  Reply rp;
  core::DcTable* t = table(rq.dcid);
  if (!t) {
    rp.rc = EDVSBADDCID;
    return rp;
  }
  if (rq.pid <= 0 || kill(rq.pid, 0) != 0) {
    rp.rc = EDVSBADPID;
    return rp;
  }
  const auto& g = t->geometry();
  if (!g.valid_pnr(rq.p_nr)) {
    rp.rc = EDVSBADPROC;
    return rp;
  }
  int idx = g.index_of(rq.p_nr);
  int ep = DVS_NONE;
  if (int rc = core::admin_bind(*t, idx, rq.pid, rq.pid, false, &ep); rc != 0) {
    rp.rc = rc;
    return rp;
  }
  rp.rc = 0;
  bindings_.push_back(Binding{rq.dcid, idx, ep, rq.pid, rq.pid, false, 0, true, conn});
  watch_pid(rq.pid);
  rp.ep = ep;
  recheck_parked();
  return rp;
}

// The endpoint of pid's process binding, only for a caller bound in the same DC: to anyone else
// an existing binding looks like none (EDVSNOTBIND), so nothing leaks across DCs.
Reply Server::do_getep(uint64_t conn, const Request& rq) const {
  Reply rp;
  rp.node_id = cfg_.node_id;
  rp.rc = EDVSNOTBIND;
  auto target = std::find_if(bindings_.begin(), bindings_.end(), [&](const Binding& b) {
    return b.pid == rq.pid && !b.is_thread && !b.awaiting_take;
  });
  if (target == bindings_.end() || !is_bound_in(conns_.at(conn).pid, target->dcid)) return rp;
  rp.rc = 0;
  rp.ep = target->ep;
  rp.dcid = target->dcid;
  return rp;
}

// Does pid hold a binding (of the process or of one of its threads) in dcid?
bool Server::is_bound_in(pid_t pid, int dcid) const {
  return std::any_of(bindings_.begin(), bindings_.end(),
                     [&](const Binding& b) { return b.pid == pid && b.dcid == dcid && !b.awaiting_take; });
}

bool Server::try_wait4bind(uint64_t conn, pid_t pid, Reply* rp, int* reply_fd) {
  for (auto& b : bindings_) {
    if (b.pid != pid || !b.awaiting_take) continue;
    b.awaiting_take = false;
    b.conn = conn;
    b.reserved_by = 0;
    rp->rc = 0;
    rp->ep = b.ep;
    rp->index = b.index;
    rp->dcid = b.dcid;
    rp->node_id = cfg_.node_id;
    *reply_fd = table(b.dcid)->fd();
    return true;
  }
  return false;
}

bool Server::try_wait4bindep(const Request& rq, Reply* rp) {
  core::DcTable* t = table(rq.dcid);
  if (!t) {
    rp->rc = EDVSBADDCID;
    return false;
  }
  int p = DVS_ENDPOINT_P(rq.ep);
  if (!t->geometry().valid_pnr(p)) {
    rp->rc = EDVSENDPOINT;
    return false;
  }
  for (const auto& b : bindings_) {
    if (b.dcid == rq.dcid && (b.ep == rq.ep || (rq.ep == p && b.index == t->geometry().index_of(p)))) {
      rp->rc = 0;
      rp->ep = b.ep;
      return true;
    }
  }
  rp->rc = EDVSAGAIN;
  return false;
}

// The caller is privileged (check_authority).
Reply Server::do_setpriv(const Request& rq) {
  Reply rp;
  core::DcTable* t = table(rq.dcid);
  if (!t) {
    rp.rc = EDVSBADDCID;
    return rp;
  }
  for (const auto& b : bindings_) {
    if (b.dcid == rq.dcid && b.ep == rq.ep) {
      rp.rc = core::admin_setpriv(*t, b.index, rq.priv);
      return rp;
    }
  }
  rp.rc = EDVSNOTBIND;
  return rp;
}

void Server::unbind_binding(const Binding& b, const char* why) {
  if (core::DcTable* t = table(b.dcid)) {
    int rc = core::admin_unbind(*t, b.index);
    if (on_unbind_) on_unbind_(b.dcid, b.ep);
    if (why && verbose_)
      log("unbound DC " + std::to_string(b.dcid) + " endpoint " + std::to_string(b.ep) + " (pid " +
          std::to_string(b.pid) + "): " + why + (rc == 0 ? "" : std::string(" [") + dvs_errname(rc) + "]"));
  }
  bindings_.erase(std::remove_if(bindings_.begin(), bindings_.end(),
                                 [&](const Binding& x) { return x.dcid == b.dcid && x.index == b.index; }),
                  bindings_.end());
  bool still = std::any_of(bindings_.begin(), bindings_.end(), [&](const Binding& x) { return x.pid == b.pid; });
  if (!still) unwatch_pid(b.pid);
}

void Server::watch_pid(pid_t pid) {
  if (watch_of_pid_.count(pid)) return;
  int fd = pidfd_open(pid);
  if (fd < 0) return;  // already gone (or no descriptor left): its connection closing cleans up
  const uint64_t id = next_id_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    return;
  }
  pid_watches_[id] = PidWatch{fd, pid};
  watch_of_pid_[pid] = id;
}

void Server::unwatch_pid(pid_t pid) {
  auto it = watch_of_pid_.find(pid);
  if (it == watch_of_pid_.end()) return;
  auto w = pid_watches_.find(it->second);
  if (w != pid_watches_.end()) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w->second.fd, nullptr);
    close(w->second.fd);
    pid_watches_.erase(w);
  }
  watch_of_pid_.erase(it);
}

void Server::pid_exited(uint64_t watch) {
  const pid_t pid = pid_watches_.at(watch).pid;
  std::vector<Binding> gone;
  for (const auto& b : bindings_)
    if (b.pid == pid) gone.push_back(b);
  for (const auto& b : gone) unbind_binding(b, "process exited");
  unwatch_pid(pid);  // when no binding was left to do it
  if (inboxes_) inboxes_->drop(pid);
}

void Server::recheck_parked() {
  for (size_t i = 0; i < parked_.size();) {
    Parked p = parked_[i];
    Reply rp;
    rp.node_id = cfg_.node_id;
    int reply_fd = -1;
    bool done = static_cast<Op>(p.req.op) == Op::Wait4Bind ? try_wait4bind(p.conn, p.peer_pid, &rp, &reply_fd)
                                                            : try_wait4bindep(p.req, &rp);
    if (!done) {
      ++i;
      continue;
    }
    parked_.erase(parked_.begin() + static_cast<long>(i));
    send_reply(p.conn, rp, reply_fd);
  }
}

void Server::expire_parked() {
  int64_t now = core::monotonic_ns();
  for (size_t i = 0; i < parked_.size();) {
    if (parked_[i].deadline_ns < 0 || parked_[i].deadline_ns > now) {
      ++i;
      continue;
    }
    Parked p = parked_[i];
    parked_.erase(parked_.begin() + static_cast<long>(i));
    Reply rp;
    rp.rc = EDVSTIMEDOUT;
    rp.node_id = cfg_.node_id;
    send_reply(p.conn, rp, -1);
  }
}

}  // namespace dvs::dvsd
