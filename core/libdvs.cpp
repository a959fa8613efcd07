// libdvs: the C API (include/dvs/dvs.h) on top of the shared tables and the control socket.
//
// Process state: one control connection to dvsd (guarded by a mutex; control calls are rare),
// the mapped DC tables (kept until dvs_close, so Caller pointers stay valid), the process
// binding. Thread state: the thread's own binding (tbind). After fork() the child starts with
// no connection and no bindings (pthread_atfork), as a new process must bind itself.
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/control.hpp"
#include "core/ipc.hpp"
#include "core/libdvs_internal.h"
#include "core/metrics/record.hpp"
#include "core/shm_table.hpp"
#include "dvs/dvs.h"

using dvs::core::Caller;
using dvs::core::DcTable;
using dvs::core::Op;
using dvs::core::Reply;
using dvs::core::Request;

namespace {

struct Binding {
  bool bound = false;
  int dcid = -1;
  Caller caller;
};

struct ProcessState {
  std::mutex mu;
  int sock = -1;
  pid_t owner = 0;
  int node_id = -1;
  std::map<int, std::unique_ptr<DcTable>> tables;
  Binding process;
  std::vector<std::pair<int, int>> thread_eps;  // (dcid, ep) bound by threads of this process
};

ProcessState& state() {
  static ProcessState* s = new ProcessState;  // never destroyed: threads may outlive main
  return *s;
}

// Unbinds the thread's endpoint when the thread exits.
struct ThreadBinding {
  Binding b;
  ~ThreadBinding();
};
thread_local ThreadBinding t_binding;

void reset_after_fork() {
  ProcessState& s = state();
  new (&s.mu) std::mutex;  // the parent's lock state is meaningless here
  if (s.sock >= 0) close(s.sock);
  s.sock = -1;
  s.owner = 0;
  s.node_id = -1;
  // Mappings are inherited; keep them (unmapping would free nothing shared) but forget bindings.
  s.process = Binding{};
  s.thread_eps.clear();
  t_binding.b = Binding{};
}

void install_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, reset_after_fork); });
}

int connect_locked(ProcessState& s, const char* path) {
  if (s.sock >= 0 && s.owner == getpid()) return 0;
  if (!path) path = getenv("DVS_SOCKET");
  if (!path || !*path) path = "/run/dvs/dvsd.sock";
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return EDVSNOMEM;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    close(fd);
    return EDVSNAMETOOLONG;
  }
  strcpy(addr.sun_path, path);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return EDVSDVSINIT;
  }
  s.sock = fd;
  s.owner = getpid();
  Request rq;
  rq.op = static_cast<uint32_t>(Op::Hello);
  Reply rp;
  int in_fd = -1;
  if (dvs::core::send_record(fd, &rq, sizeof rq, -1) != 0 ||
      dvs::core::recv_record(fd, &rp, sizeof rp, &in_fd) != static_cast<long>(sizeof rp)) {
    if (in_fd >= 0) close(in_fd);
    close(fd);
    s.sock = -1;
    return EDVSDVSINIT;
  }
  s.node_id = rp.node_id;
  return 0;
}

// One request/reply on the process connection. *fd receives a passed descriptor (or -1).
int call_locked(ProcessState& s, Request& rq, Reply* rp, int* fd) {
  if (int rc = connect_locked(s, nullptr); rc != 0) return rc;
  int dummy = -1;
  int* pfd = fd ? fd : &dummy;
  if (dvs::core::send_record(s.sock, &rq, sizeof rq, -1) != 0) return EDVSDVSINIT;
  long n = dvs::core::recv_record(s.sock, rp, sizeof *rp, pfd);
  if (!fd && dummy >= 0) close(dummy);
  if (n != static_cast<long>(sizeof *rp) || rp->magic != dvs::core::kControlMagic) return EDVSDVSINIT;
  return rp->rc;
}

int call(Request& rq, Reply* rp) {
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  return call_locked(s, rq, rp, nullptr);
}

Request request(Op op, int dcid) {
  Request rq;
  rq.op = static_cast<uint32_t>(op);
  rq.dcid = dcid;
  return rq;
}

// An introspection call: on success copies the reply's `field` to *out.
template <class T>
int query(Request rq, T Reply::*field, T* out) {
  if (!out) return EDVSFAULT;
  Reply rp;
  int rc = call(rq, &rp);
  if (rc == 0) *out = rp.*field;
  return rc;
}

Binding* effective() {
  if (t_binding.b.bound) return &t_binding.b;
  ProcessState& s = state();
  if (s.process.bound) return &s.process;  // reset in a forked child by reset_after_fork
  return nullptr;
}

int current_ep() {
  Binding* b = effective();
  return b ? b->caller.endpoint : DVS_NONE;
}

// Maps (or reuses) the table of dcid from a received fd; returns the table or nullptr.
DcTable* adopt_table(ProcessState& s, int dcid, int fd) {
  auto it = s.tables.find(dcid);
  if (it != s.tables.end()) {
    if (fd >= 0) close(fd);
    return it->second.get();
  }
  if (fd < 0) return nullptr;
  auto t = std::make_unique<DcTable>();
  if (t->map_fd(fd) != 0) return nullptr;
  DcTable* raw = t.get();
  s.tables[dcid] = std::move(t);
  return raw;
}

int bind_common(int dcid, int p_nr, bool thread) {
  install_fork_handler();
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  Binding& target = thread ? t_binding.b : s.process;
  if (target.bound && (thread || s.owner == getpid())) return EDVSBUSY;
  Request rq;
  rq.op = static_cast<uint32_t>(Op::Bind);
  rq.dcid = dcid;
  rq.p_nr = p_nr;
  rq.tid = static_cast<int32_t>(gettid());
  rq.is_thread = thread ? 1 : 0;
  Reply rp;
  int fd = -1;
  int rc = call_locked(s, rq, &rp, &fd);
  if (rc < 0) {
    if (fd >= 0) close(fd);
    return rc;
  }
  DcTable* t = adopt_table(s, dcid, fd);
  if (!t || !t->valid_index(rp.index)) return EDVSBADVALUE;
  target.bound = true;
  target.dcid = dcid;
  target.caller = Caller{};
  target.caller.table = t;
  target.caller.index = rp.index;
  target.caller.endpoint = rp.ep;
  if (thread) s.thread_eps.emplace_back(dcid, rp.ep);
  return rp.ep;
}

}  // namespace

ThreadBinding::~ThreadBinding() {
  if (!b.bound) return;
  ProcessState& s = state();
  if (s.owner != getpid()) return;
  dvs_unbind(b.dcid, b.caller.endpoint);
}

extern "C" {

int dvs_open(const char* socket_path) {
  install_fork_handler();
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  return connect_locked(s, socket_path);
}

void dvs_close(void) {
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  if (s.sock < 0 || s.owner != getpid()) return;
  // Closing the connection makes dvsd unbind everything bound through it.
  close(s.sock);
  s.sock = -1;
  s.owner = 0;
  s.process = Binding{};
  s.thread_eps.clear();
  t_binding.b = Binding{};
}

int dvs_nodeid(void) {
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  if (int rc = connect_locked(s, nullptr); rc != 0) return rc;
  return s.node_id;
}

int dvs_bind(int dcid, int p_nr) { return bind_common(dcid, p_nr, false); }
int dvs_tbind(int dcid, int p_nr) { return bind_common(dcid, p_nr, true); }

// Calls that return an endpoint: dvsd sends the status in rc and the endpoint in ep (a task's
// endpoint is negative, so it cannot travel in rc).
static int call_for_endpoint(Request& rq) {
  Reply rp;
  int rc = call(rq, &rp);
  return rc < 0 ? rc : rp.ep;
}

int dvs_lclbind(int dcid, pid_t pid, int p_nr) {
  Request rq;
  rq.op = static_cast<uint32_t>(Op::LclBind);
  rq.dcid = dcid;
  rq.pid = pid;
  rq.p_nr = p_nr;
  return call_for_endpoint(rq);
}

int dvs_wait4bind_T(long timeout_ms) {
  install_fork_handler();
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  if (s.process.bound && s.owner == getpid()) return s.process.caller.endpoint;
  Request rq;
  rq.op = static_cast<uint32_t>(Op::Wait4Bind);
  rq.timeout_ms = timeout_ms;
  Reply rp;
  int fd = -1;
  int rc = call_locked(s, rq, &rp, &fd);
  if (rc < 0) {
    if (fd >= 0) close(fd);
    return rc;
  }
  DcTable* t = adopt_table(s, rp.dcid, fd);
  if (!t || !t->valid_index(rp.index)) return EDVSBADVALUE;
  s.process.bound = true;
  s.process.dcid = rp.dcid;
  s.process.caller = Caller{};
  s.process.caller.table = t;
  s.process.caller.index = rp.index;
  s.process.caller.endpoint = rp.ep;
  return rp.ep;
}

int dvs_wait4bindep_T(int dcid, int ep, long timeout_ms) {
  // A blocking control call: on its own connection so other threads keep theirs.
  const char* path = getenv("DVS_SOCKET");
  std::string sock_path;
  {
    ProcessState& s = state();
    std::lock_guard<std::mutex> g(s.mu);
    if (int rc = connect_locked(s, nullptr); rc != 0) return rc;
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    if (getpeername(s.sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0) sock_path = addr.sun_path;
  }
  if (sock_path.empty() && path) sock_path = path;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    return EDVSDVSINIT;
  }
  Request rq;
  rq.op = static_cast<uint32_t>(Op::Wait4BindEp);
  rq.dcid = dcid;
  rq.ep = ep;
  rq.timeout_ms = timeout_ms;
  Reply rp;
  int in_fd = -1;
  int rc = EDVSDVSINIT;
  if (dvs::core::send_record(fd, &rq, sizeof rq, -1) == 0 &&
      dvs::core::recv_record(fd, &rp, sizeof rp, &in_fd) == static_cast<long>(sizeof rp))
    rc = rp.rc < 0 ? rp.rc : rp.ep;
  if (in_fd >= 0) close(in_fd);
  close(fd);
  return rc;
}

int dvs_unbind(int dcid, int ep) {
  Request rq;
  rq.op = static_cast<uint32_t>(Op::Unbind);
  rq.dcid = dcid;
  rq.ep = ep;
  rq.caller_ep = current_ep();
  Reply rp;
  int rc = call(rq, &rp);
  if (rc == 0) {
    ProcessState& s = state();
    std::lock_guard<std::mutex> g(s.mu);
    if (t_binding.b.bound && t_binding.b.dcid == dcid && t_binding.b.caller.endpoint == ep) t_binding.b = Binding{};
    if (s.process.bound && s.process.dcid == dcid && s.process.caller.endpoint == ep) s.process = Binding{};
  }
  return rc;
}

int dvs_rmtbind(int dcid, int ep, int nodeid) {
  Request rq;
  rq.op = static_cast<uint32_t>(Op::RmtBind);
  rq.dcid = dcid;
  rq.ep = ep;
  rq.node = nodeid;
  Reply rp;
  return call(rq, &rp);
}

namespace {
int node_op(Op op, int dcid, int nodeid) {
  Request rq;
  rq.op = static_cast<uint32_t>(op);
  rq.dcid = dcid;
  rq.node = nodeid;
  Reply rp;
  return call(rq, &rp);
}
}  // namespace

int dvs_add_node(int dcid, int nodeid) { return node_op(Op::AddNode, dcid, nodeid); }
int dvs_del_node(int dcid, int nodeid) { return node_op(Op::DelNode, dcid, nodeid); }

int dvs_getep(pid_t pid) {
  Request rq;
  rq.op = static_cast<uint32_t>(Op::GetEp);
  rq.pid = pid;
  return call_for_endpoint(rq);
}

int dvs_self(void) {
  Binding* b = effective();
  return b ? b->caller.endpoint : EDVSNOTBIND;
}

int dvs_set_wait(dvs_wait_mode_t mode, uint32_t spin_ns) {
  Binding* b = effective();
  if (!b) return EDVSNOTBIND;
  if (mode != DVS_WAIT_SPIN && mode != DVS_WAIT_SPIN_THEN_BLOCK && mode != DVS_WAIT_BLOCK) return EDVSINVAL;
  b->caller.wait_mode = mode;
  b->caller.spin_ns = spin_ns;
  b->caller.table->slot(b->caller.index).wait_mode.store(mode, std::memory_order_relaxed);
  return 0;
}

#define DVS_CALLER_OR_RETURN(c)    \
  Binding* b_ = effective();       \
  if (!b_) return EDVSNOTBIND;     \
  Caller& c = b_->caller

int dvs_send_T(int dst_ep, dvs_message_t* m, long timeout_ms) {
  if (!m) return EDVSFAULT;
  DVS_CALLER_OR_RETURN(c);
  return static_cast<int>(dvs::metrics::metered(c, dvs::metrics::kSend, sizeof *m, [&] { return dvs::core::ipc_send(c, dst_ep, m, timeout_ms); }));
}

int dvs_receive_T(int src_ep, dvs_message_t* m, long timeout_ms) {
  if (!m) return EDVSFAULT;
  DVS_CALLER_OR_RETURN(c);
  return static_cast<int>(dvs::metrics::metered(c, dvs::metrics::kReceive, sizeof *m, [&] { return dvs::core::ipc_receive(c, src_ep, m, timeout_ms); }));
}

int dvs_sendrec_T(int dst_ep, dvs_message_t* m, long timeout_ms) {
  if (!m) return EDVSFAULT;
  DVS_CALLER_OR_RETURN(c);
  return static_cast<int>(dvs::metrics::metered(c, dvs::metrics::kSendrec, sizeof *m, [&] { return dvs::core::ipc_sendrec(c, dst_ep, m, timeout_ms); }));
}

int dvs_notify(int dst_ep) {
  DVS_CALLER_OR_RETURN(c);
  return static_cast<int>(dvs::metrics::metered(c, dvs::metrics::kNotify, 0, [&] { return dvs::core::ipc_notify(c, dst_ep); }));
}

int dvs_rcvrqst_T(dvs_message_t* m, long timeout_ms) {
  if (!m) return EDVSFAULT;
  DVS_CALLER_OR_RETURN(c);
  return static_cast<int>(dvs::metrics::metered(c, dvs::metrics::kRcvrqst, sizeof *m, [&] { return dvs::core::ipc_rcvrqst(c, m, timeout_ms); }));
}

int dvs_reply_T(int dst_ep, dvs_message_t* m, long timeout_ms) {
  if (!m) return EDVSFAULT;
  DVS_CALLER_OR_RETURN(c);
  return static_cast<int>(dvs::metrics::metered(c, dvs::metrics::kReply, sizeof *m, [&] { return dvs::core::ipc_reply(c, dst_ep, m, timeout_ms); }));
}

long dvs_vcopy(int src_ep, const void* src_addr, int dst_ep, void* dst_addr, size_t bytes) {
  DVS_CALLER_OR_RETURN(c);
  return dvs::metrics::metered(c, dvs::metrics::kVcopy, 0, [&] { return dvs::core::ipc_vcopy(c, src_ep, src_addr, dst_ep, dst_addr, bytes); });
}

int dvs_wakeup(int dcid, int ep) {
  DVS_CALLER_OR_RETURN(c);
  if (b_->dcid != dcid) return EDVSBADDCID;  // a process only reaches its own DC's table
  return dvs::core::ipc_wakeup(*c.table, ep);
}

int dvs_getdcinfo(int dcid, dvs_dcinfo_t* out) {
  return query(request(Op::GetDcInfo, dcid), &Reply::dcinfo, out);
}

int dvs_getprocinfo(int dcid, int p_nr, dvs_procinfo_t* out) {
  Request rq = request(Op::GetProcInfo, dcid);
  rq.p_nr = p_nr;
  return query(rq, &Reply::procinfo, out);
}

int dvs_getpriv(int dcid, int ep, dvs_priv_t* out) {
  Request rq = request(Op::GetPriv, dcid);
  rq.ep = ep;
  return query(rq, &Reply::priv, out);
}

int dvs_setpriv(int dcid, int ep, const dvs_priv_t* priv) {
  if (!priv) return EDVSFAULT;
  Request rq;
  rq.op = static_cast<uint32_t>(Op::SetPriv);
  rq.dcid = dcid;
  rq.ep = ep;
  rq.caller_ep = current_ep();
  rq.priv = *priv;
  Reply rp;
  return call(rq, &rp);
}

}  // extern "C"

extern "C" int dvs_internal_table_fd(int dcid) {
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  auto it = s.tables.find(dcid);
  return it == s.tables.end() ? -1 : it->second->fd();
}
