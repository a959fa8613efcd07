#include "core/dvsd/server.hpp"

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

#include "core/ipc.hpp"
#include "core/remote.hpp"
#include "core/waiter.hpp"

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
  for (auto& [fd, c] : conns_) close(fd);
  for (auto& [pid, fd] : pidfds_) close(fd);
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    unlink(cfg_.socket_path.c_str());
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
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
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return "cannot bind " + cfg_.socket_path + ": " + std::strerror(errno);
  chmod(cfg_.socket_path.c_str(), 0660);
  if (listen(listen_fd_, 128) != 0) return std::string("listen: ") + std::strerror(errno);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.fd = stop_fd_;
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
      int fd = evs[i].data.fd;
      if (fd == stop_fd_) return 0;
      if (fd == listen_fd_) {
        accept_clients();
      } else if (pidfd_pid_.count(fd)) {
        pid_exited(fd);
      } else if (conns_.count(fd)) {
        if (evs[i].events & EPOLLIN)
          serve(fd);
        else
          close_conn(fd, nullptr);
      }
    }
    expire_parked();
  }
}

int Server::next_timeout_ms() const {
  int64_t soonest = -1;
  for (const auto& p : parked_)
    if (p.deadline_ns >= 0 && (soonest < 0 || p.deadline_ns < soonest)) soonest = p.deadline_ns;
  if (soonest < 0) return -1;
  int64_t left = (soonest - core::monotonic_ns()) / 1'000'000 + 1;
  return static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
}

void Server::accept_clients() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      close(fd);
      continue;
    }
    conns_[fd] = Conn{cred.pid, cred.uid};
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void Server::close_conn(int fd, const char* why) {
  if (why) log("closing connection of pid " + std::to_string(conns_[fd].pid) + ": " + why);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  conns_.erase(fd);
  parked_.erase(std::remove_if(parked_.begin(), parked_.end(), [fd](const Parked& p) { return p.conn_fd == fd; }),
                parked_.end());
  std::vector<Binding> gone;
  for (const auto& b : bindings_)
    if (b.conn_fd == fd) gone.push_back(b);
  for (const auto& b : gone) unbind_binding(b, "its control connection closed");
}

void Server::serve(int fd) {
  Request rq;
  int in_fd = -1;
  long n = core::recv_record(fd, &rq, sizeof rq, &in_fd);
  if (in_fd >= 0) close(in_fd);  // clients never send descriptors
  if (n == 0) {
    close_conn(fd, nullptr);
    return;
  }
  if (n < 0) {
    close_conn(fd, n == -EBADMSG ? "malformed request (wrong size)" : "receive failed");
    return;
  }
  if (rq.magic != core::kControlMagic || rq.version != core::kControlVersion) {
    close_conn(fd, "malformed request (bad magic or version)");
    return;
  }
  int reply_fd = -1;
  bool park = false;
  Reply rp = handle(fd, rq, &reply_fd, &park);
  if (park) {
    int64_t deadline = rq.timeout_ms < 0 ? -1 : core::monotonic_ns() + rq.timeout_ms * 1'000'000;
    parked_.push_back(Parked{fd, rq, deadline, conns_[fd].pid});
    return;
  }
  if (core::send_record(fd, &rp, sizeof rp, reply_fd) != 0) close_conn(fd, "reply failed");
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

Reply Server::handle(int fd, const Request& rq, int* reply_fd, bool* park) {
  Reply rp;
  rp.node_id = cfg_.node_id;
  switch (static_cast<Op>(rq.op)) {
    case Op::Hello:
      rp.rc = 0;
      return rp;
    case Op::Bind:
      return do_bind(fd, rq, reply_fd);
    case Op::Unbind:
      return do_unbind(fd, rq);
    case Op::LclBind:
      return do_lclbind(rq);
    case Op::Wait4Bind:
      if (!try_wait4bind(conns_[fd].pid, &rp, reply_fd)) {
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
    case Op::GetEp: {
      rp.rc = EDVSNOTBIND;
      for (const auto& b : bindings_)
        if (b.pid == rq.pid && !b.is_thread && !b.awaiting_take) {
          rp.rc = 0;
          rp.ep = b.ep;
          rp.dcid = b.dcid;
        }
      return rp;
    }
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
      return do_setpriv(fd, rq);
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

Reply Server::do_bind(int fd, const Request& rq, int* reply_fd) {
  Reply rp;
  rp.node_id = cfg_.node_id;
  core::DcTable* t = table(rq.dcid);
  if (!t) {
    rp.rc = EDVSBADDCID;
    return rp;
  }
  const auto& g = t->geometry();
  pid_t pid = conns_[fd].pid;
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
    int p = (rq.p_nr >= -DVS_NR_TASKS_MAX && rq.p_nr < DVS_GEN_SIZE - DVS_NR_TASKS_MAX) ? rq.p_nr : DVS_ENDPOINT_P(rq.p_nr);
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
  bindings_.push_back(Binding{rq.dcid, idx, ep, pid, tid, rq.is_thread != 0, fd, false});
  watch_pid(pid);
  rp.ep = ep;
  rp.index = idx;
  rp.dcid = rq.dcid;
  *reply_fd = t->fd();
  recheck_parked();
  return rp;
}

Reply Server::do_unbind(int fd, const Request& rq) {
  Reply rp;
  pid_t pid = conns_[fd].pid;
  // The caller may unbind its own endpoints, or any endpoint if it is a system process of the DC.
  bool caller_is_system = false;
  for (const auto& b : bindings_)
    if (b.pid == pid && b.dcid == rq.dcid && b.ep == rq.caller_ep && table(b.dcid) &&
        table(b.dcid)->geometry().is_system_index(b.index))
      caller_is_system = true;
  for (const auto& b : bindings_) {
    if (b.dcid != rq.dcid || b.ep != rq.ep) continue;
    if (b.pid != pid && !caller_is_system) {
      rp.rc = EDVSPRIVILEGES;
      return rp;
    }
    Binding copy = b;
    unbind_binding(copy, nullptr);
    rp.rc = 0;
    return rp;
  }
  rp.rc = table(rq.dcid) ? EDVSNOTBIND : EDVSBADDCID;
  return rp;
}

Reply Server::do_lclbind(const Request& rq) {
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
  bindings_.push_back(Binding{rq.dcid, idx, ep, rq.pid, rq.pid, false, -1, true});
  watch_pid(rq.pid);
  rp.ep = ep;
  recheck_parked();
  return rp;
}

bool Server::try_wait4bind(pid_t pid, Reply* rp, int* reply_fd) {
  for (auto& b : bindings_) {
    if (b.pid != pid || !b.awaiting_take) continue;
    b.awaiting_take = false;
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

Reply Server::do_setpriv(int fd, const Request& rq) {
  Reply rp;
  core::DcTable* t = table(rq.dcid);
  if (!t) {
    rp.rc = EDVSBADDCID;
    return rp;
  }
  pid_t pid = conns_[fd].pid;
  bool allowed = false;
  for (const auto& b : bindings_)
    if (b.pid == pid && b.dcid == rq.dcid && b.ep == rq.caller_ep && t->geometry().is_system_index(b.index))
      allowed = true;
  if (!allowed) {
    rp.rc = EDVSPRIVILEGES;
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
    if (why && verbose_)
      log("unbound DC " + std::to_string(b.dcid) + " endpoint " + std::to_string(b.ep) + " (pid " +
          std::to_string(b.pid) + "): " + why + (rc == 0 ? "" : std::string(" [") + dvs_errname(rc) + "]"));
  }
  bindings_.erase(std::remove_if(bindings_.begin(), bindings_.end(),
                                 [&](const Binding& x) { return x.dcid == b.dcid && x.index == b.index; }),
                  bindings_.end());
  bool still = std::any_of(bindings_.begin(), bindings_.end(), [&](const Binding& x) { return x.pid == b.pid; });
  if (!still) {
    auto it = pidfds_.find(b.pid);
    if (it != pidfds_.end()) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second, nullptr);
      close(it->second);
      pidfd_pid_.erase(it->second);
      pidfds_.erase(it);
    }
  }
}

void Server::watch_pid(pid_t pid) {
  if (pidfds_.count(pid)) return;
  int fd = pidfd_open(pid);
  if (fd < 0) return;  // already gone: its connection closing cleans up
  pidfds_[pid] = fd;
  pidfd_pid_[fd] = pid;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void Server::pid_exited(int pidfd) {
  pid_t pid = pidfd_pid_[pidfd];
  std::vector<Binding> gone;
  for (const auto& b : bindings_)
    if (b.pid == pid) gone.push_back(b);
  for (const auto& b : gone) unbind_binding(b, "process exited");
  if (pidfd_pid_.count(pidfd)) {  // no bindings were left to trigger the close
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, pidfd, nullptr);
    close(pidfd);
    pidfd_pid_.erase(pidfd);
    pidfds_.erase(pid);
  }
}

void Server::recheck_parked() {
  for (size_t i = 0; i < parked_.size();) {
    Parked p = parked_[i];
    Reply rp;
    rp.node_id = cfg_.node_id;
    int reply_fd = -1;
    bool done = static_cast<Op>(p.req.op) == Op::Wait4Bind ? try_wait4bind(p.peer_pid, &rp, &reply_fd)
                                                            : try_wait4bindep(p.req, &rp);
    if (!done) {
      ++i;
      continue;
    }
    parked_.erase(parked_.begin() + static_cast<long>(i));
    if (core::send_record(p.conn_fd, &rp, sizeof rp, reply_fd) != 0) close_conn(p.conn_fd, "reply failed");
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
    if (core::send_record(p.conn_fd, &rp, sizeof rp, -1) != 0) close_conn(p.conn_fd, "reply failed");
  }
}

}  // namespace dvs::dvsd
