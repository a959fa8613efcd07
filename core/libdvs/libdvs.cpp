// libdvs: the C API (include/dvs/dvs.h) on top of the shared tables and the control socket.
//
// Process state: one control connection to dvsd (guarded by a mutex; control calls are rare),
// the mapped DC tables (kept until dvs_close, so Caller pointers stay valid), the process
// binding. Thread state: the thread's own binding (tbind). After fork() the child starts with
// no connection, no bindings and no DC table (pthread_atfork, MADV_DONTFORK), as a new process
// must bind itself.
//
// Control calls are bounded (control_bound_ms(), default DVS_CONTROL_TIMEOUT_MS): connect,
// send and receive each wait at most that long; a call that blocks in dvsd (wait4bind,
// wait4bindep) waits for its reply its own timeout plus that bound. A call that runs out of time
// or whose connection fails returns EDVSDVSINIT and closes the process connection (dvsd then
// unbinds what was bound through it, and this process forgets those bindings), so a late reply
// is never read as the answer to a later request; the next call connects anew.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/ipc/control.hpp"
#include "core/ipc/primitives.hpp"
#include "core/ipc/shm_table.hpp"
#include "core/libdvs/direct_path.hpp"
#include "core/libdvs/libdvs_internal.h"
#include "core/libdvs/metrics_record.hpp"
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
  std::vector<std::unique_ptr<DcTable>> replaced_tables;  // mapped once, replaced by another table of their DC (adopt_table)
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
  // The tables were mapped MADV_DONTFORK: the child has no mapping, only the descriptors, which it
  // closes. A child is granted a table again when it binds in that DC.
  for (auto& [dcid, t] : s.tables) t->forget_after_fork();
  for (auto& t : s.replaced_tables) t->forget_after_fork();
  s.tables.clear();
  s.replaced_tables.clear();
  dvs::libdvs::forget_direct_links_after_fork();
  s.process = Binding{};
  s.thread_eps.clear();
  t_binding.b = Binding{};
}

void install_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr, reset_after_fork);
    dvs::libdvs::install_direct_path();
  });
}

// How long one step (connect, send, receive) of a control call may wait for dvsd, in ms:
// $DVS_CONTROL_TIMEOUT_MS if it is a positive number, else DVS_CONTROL_TIMEOUT_MS (dvs.h).
long control_bound_ms() {
  const char* env = getenv("DVS_CONTROL_TIMEOUT_MS");
  if (env && *env) {
    char* end = nullptr;
    long v = strtol(env, &end, 10);
    if (*end == 0 && v > 0) return v;
  }
  return DVS_CONTROL_TIMEOUT_MS;
}

// The reply bound of a call that blocks in dvsd for up to timeout_ms: -1 (forever) for FOREVER.
long blocking_reply_bound_ms(long timeout_ms) {
  if (timeout_ms < 0) return -1;
  const long bound = control_bound_ms();
  return timeout_ms > LONG_MAX - bound ? LONG_MAX : timeout_ms + bound;
}

// Makes connect and send on sock give up after ms (SO_SNDTIMEO bounds both for UNIX sockets).
void bound_sends(int sock, long ms) {
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Waits until sock has something to receive (a record, or the end of the stream): true, or
// false after ms (ms < 0, or more than a century: no limit). Signals do not extend the wait.
bool wait_readable(int sock, long ms) {
  using Clock = std::chrono::steady_clock;
  constexpr long kCenturyMs = 100L * 365 * 24 * 3600 * 1000;  // far from steady_clock's range
  if (ms > kCenturyMs) ms = -1;
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms < 0 ? 0 : ms);
  for (;;) {
    long left = -1;
    if (ms >= 0)
      left = std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    pollfd p{sock, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<long>(left, INT_MAX)));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

// A new control socket connected to path, with sends bounded. 0 and *out, or an EDVS code.
int open_control_socket(const char* path, int* out) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return EDVSNOMEM;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    close(fd);
    return EDVSNAMETOOLONG;
  }
  strcpy(addr.sun_path, path);
  bound_sends(fd, control_bound_ms());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return EDVSDVSINIT;
  }
  *out = fd;
  return 0;
}

// One request and its reply on sock; the reply may take reply_ms (< 0: no limit). *fd receives a
// passed descriptor (or -1; the caller owns it). False if the request could not be sent or no
// well-formed reply came in time: the connection is then unusable.
bool exchange(int sock, const Request& rq, Reply* rp, int* fd, long reply_ms) {
  *fd = -1;
  if (dvs::core::send_record(sock, &rq, sizeof rq, -1) != 0) return false;
  if (!wait_readable(sock, reply_ms)) return false;
  long n = dvs::core::recv_record(sock, rp, sizeof *rp, fd);
  return n == static_cast<long>(sizeof *rp) && rp->magic == dvs::core::kControlMagic;
}

// The dvsd whose connection drop_connection_locked closed, so that the next call of the same
// process reconnects to it rather than to $DVS_SOCKET or the default. Guarded by state().mu.
struct DroppedDvsd {
  std::string path;
  pid_t owner = 0;
};
DroppedDvsd& dropped_dvsd() {
  static DroppedDvsd* d = new DroppedDvsd;  // never destroyed, like state()
  return *d;
}

// After a failed exchange: closes the process connection and forgets what was bound through it
// (dvsd unbinds it all when the connection closes). The mapped tables stay.
void drop_connection_locked(ProcessState& s) {
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (s.sock >= 0 && getpeername(s.sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0 && addr.sun_path[0]) {
    dropped_dvsd().path = addr.sun_path;
    dropped_dvsd().owner = getpid();
  }
  dvs::libdvs::close_direct_path();
  if (s.sock >= 0) close(s.sock);
  s.sock = -1;
  s.owner = 0;
  s.node_id = -1;
  s.process = Binding{};
  s.thread_eps.clear();
  t_binding.b = Binding{};
}

int connect_locked(ProcessState& s, const char* path) {
  if (s.sock >= 0 && s.owner == getpid()) return 0;
  const std::string dropped = dropped_dvsd().owner == getpid() ? dropped_dvsd().path : std::string();
  if (!path && !dropped.empty()) path = dropped.c_str();
  if (!path) path = getenv("DVS_SOCKET");
  if (!path || !*path) path = "/run/dvs/dvsd.sock";
  int fd = -1;
  if (int rc = open_control_socket(path, &fd); rc != 0) return rc;
  Request rq;
  rq.op = static_cast<uint32_t>(Op::Hello);
  Reply rp;
  int in_fd = -1;
  bool ok = exchange(fd, rq, &rp, &in_fd, control_bound_ms());
  if (in_fd >= 0) close(in_fd);
  if (!ok) {
    close(fd);
    return EDVSDVSINIT;
  }
  s.sock = fd;
  s.owner = getpid();
  s.node_id = rp.node_id;
  dropped_dvsd() = DroppedDvsd{};
  return 0;
}

// One request/reply on the process connection; the reply may take reply_ms (< 0: no limit).
// *fd receives a passed descriptor (or -1).
int call_locked(ProcessState& s, Request& rq, Reply* rp, int* fd, long reply_ms) {
  if (int rc = connect_locked(s, nullptr); rc != 0) return rc;
  int in_fd = -1;
  if (!exchange(s.sock, rq, rp, &in_fd, reply_ms)) {
    if (in_fd >= 0) close(in_fd);
    drop_connection_locked(s);
    return EDVSDVSINIT;
  }
  if (fd)
    *fd = in_fd;
  else if (in_fd >= 0)
    close(in_fd);
  return rp->rc;
}

int call_locked(ProcessState& s, Request& rq, Reply* rp, int* fd) {
  return call_locked(s, rq, rp, fd, control_bound_ms());
}

// A link inbox for this process (core/libdvs/direct_path.hpp): a second connection to the dvsd of s.sock,
// which LinkInbox makes its inbox. The descriptor (non-blocking), or an EDVS code.
int open_link_inbox_locked(ProcessState& s) {
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (s.sock < 0 || getpeername(s.sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || !addr.sun_path[0])
    return EDVSDVSINIT;
  int fd = -1;
  if (int rc = open_control_socket(addr.sun_path, &fd); rc != 0) return rc;
  Request rq;
  rq.op = static_cast<uint32_t>(Op::LinkInbox);
  Reply rp;
  int in_fd = -1;
  const bool ok = exchange(fd, rq, &rp, &in_fd, control_bound_ms());
  if (in_fd >= 0) close(in_fd);
  if (!ok || rp.rc != 0) {
    close(fd);
    return ok ? rp.rc : EDVSDVSINIT;
  }
  const int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
    close(fd);
    return EDVSDVSINIT;
  }
  return fd;
}

// The caller's LinkWaiter on the direct path (nullptr elsewhere); s.mu held.
dvs::core::LinkWaiter* link_waiter_locked(ProcessState& s, DcTable& t, int dcid, int ep) {
  return dvs::libdvs::link_waiter_for(t, dcid, ep, [&s] { return open_link_inbox_locked(s); });
}

int call(Request& rq, Reply* rp) {
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  return call_locked(s, rq, rp, nullptr);
}

// A request of kind op about DC dcid (the other fields at their defaults).
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

bool same_file(int a, int b) {
  struct stat sa {}, sb {};
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// Maps (or reuses) the table of dcid from a received fd (-1: none received); returns the table or
// nullptr. A table mapped before is reused if fd is the same table; another one (a restarted
// dvsd's, or another node's after dvs_close/dvs_open) replaces it, and the old one stays mapped,
// unused: a thread may still be returning from a call on it.
DcTable* adopt_table(ProcessState& s, int dcid, int fd) {
  auto it = s.tables.find(dcid);
  if (it != s.tables.end() && (fd < 0 || same_file(fd, it->second->fd()))) {
    if (fd >= 0) close(fd);
    return it->second.get();
  }
  if (fd < 0) return nullptr;
  auto t = std::make_unique<DcTable>();
  if (t->map_fd(fd) != 0) return nullptr;
  DcTable* raw = t.get();
  if (it != s.tables.end()) s.replaced_tables.push_back(std::move(it->second));
  s.tables[dcid] = std::move(t);
  return raw;
}

int bind_common(int dcid, int p_nr, bool thread) {
  install_fork_handler();
  ProcessState& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  Binding& target = thread ? t_binding.b : s.process;
  if (target.bound && (thread || s.owner == getpid())) return EDVSBUSY;
  Request rq = request(Op::Bind, dcid);
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
  target.caller.links = link_waiter_locked(s, *t, dcid, rp.ep);
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
  dvs::libdvs::close_direct_path();
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
  Request rq = request(Op::LclBind, dcid);
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
  int rc = call_locked(s, rq, &rp, &fd, blocking_reply_bound_ms(timeout_ms));
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
  s.process.caller.links = link_waiter_locked(s, *t, rp.dcid, rp.ep);
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
  int fd = -1;
  if (int rc = open_control_socket(sock_path.c_str(), &fd); rc != 0) return rc;
  Request rq = request(Op::Wait4BindEp, dcid);
  rq.ep = ep;
  rq.timeout_ms = timeout_ms;
  Reply rp;
  int in_fd = -1;
  int rc = EDVSDVSINIT;
  if (exchange(fd, rq, &rp, &in_fd, blocking_reply_bound_ms(timeout_ms))) rc = rp.rc < 0 ? rp.rc : rp.ep;
  if (in_fd >= 0) close(in_fd);
  close(fd);
  return rc;
}

int dvs_unbind(int dcid, int ep) {
  {
    // Our own endpoint: let go of its links first (dvsd serves them from the unbind on).
    ProcessState& s = state();
    std::lock_guard<std::mutex> g(s.mu);
    for (Binding* b : {&t_binding.b, &s.process})
      if (b->bound && b->dcid == dcid && b->caller.endpoint == ep && b->caller.links) {
        dvs::libdvs::release_link_waiter(b->caller.links);
        b->caller.links = nullptr;
      }
  }
  Request rq = request(Op::Unbind, dcid);
  rq.ep = ep;
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
  Request rq = request(Op::RmtBind, dcid);
  rq.ep = ep;
  rq.node = nodeid;
  Reply rp;
  return call(rq, &rp);
}

namespace {
int node_op(Op op, int dcid, int nodeid) {
  Request rq = request(op, dcid);
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
  Request rq = request(Op::SetPriv, dcid);
  rq.ep = ep;
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
