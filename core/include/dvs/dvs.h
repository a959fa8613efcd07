/* libdvs: the client API of dvs (plain C; C++ callers may use dvs.hpp on top).
 *
 * Model (M3-IPC): a node runs one dvsd; a DC (distributed container) has a process table of
 * nr_tasks + nr_procs slots; a process or thread binds to a slot and gets an endpoint.
 * Endpoint = generation * DVS_GEN_SIZE + p_nr; system slots (p_nr < nr_sysprocs) always have
 * generation 0 (endpoint == p_nr); user slots get a new generation at every bind, so a stale
 * endpoint is detected (EDVSENDPOINT).
 *
 * Identity: every IPC call acts as the caller's endpoint: the calling thread's (dvs_tbind) if it
 * has one, else the process's (dvs_bind). A call from an unbound caller fails with EDVSNOTBIND.
 *
 * Return values: >= 0 success (an endpoint where one is returned), < 0 an EDVS* code from
 * errors.h. Exception inherited from the original: a task's endpoint is its negative p_nr
 * (-35..-1) and reads like an error code; a call that returns an endpoint succeeded for a task
 * iff it returned the p_nr asked for (dvs_self() confirms). No call blocks longer than its timeout; untimed calls wait forever.
 * Timeouts are in milliseconds: DVS_TIMEOUT_NOWAIT (0) never blocks, DVS_TIMEOUT_FOREVER (-1).
 *
 * Control calls (those that ask dvsd: open, bind, unbind, lclbind, getep, introspection,
 * privileges, node changes) are bounded: connecting, sending the request and waiting for the
 * reply each take at most DVS_CONTROL_TIMEOUT_MS (10 s; the environment variable
 * DVS_CONTROL_TIMEOUT_MS, a positive number of milliseconds, overrides it). dvs_wait4bind_T and
 * dvs_wait4bindep_T wait for their reply their own timeout plus that bound (forever only with
 * DVS_TIMEOUT_FOREVER). A control call that gets no answer in time, or whose connection fails,
 * returns EDVSDVSINIT ("no dvsd answers") and closes the process's connection to dvsd: as after
 * dvs_close, dvsd unbinds everything bound through it and libdvs forgets those bindings; the
 * next control call connects again (to the same dvsd), so a late reply is never taken for the
 * answer to a later request.
 *
 * Authority (docs/ARCHITECTURE.md, "Authority"): management calls — binding a system slot
 * (p_nr < nr_sysprocs - nr_tasks: tasks and system processes), lclbind, rmtbind, add/del node,
 * setpriv, unbinding another process's endpoint — are carried out only for a privileged process:
 * uid 0, CAP_SYS_ADMIN in dvsd's user namespace, dvsd's own uid, or a member of dvsd's
 * --admin-group. Anyone else gets EDVSPRIVILEGES (the original's answer without CAP_SYS_ADMIN)
 * and nothing changes. A system slot confers no such authority: it is the process's, not the
 * endpoint's. Who may connect to dvsd at all is up to its socket's permissions.
 *
 * Buffers: message buffers are the caller's; a call reads/writes them only during the call.
 * Local IPC goes process-to-process through shared memory (no dvsd hop); dvsd is only asked for
 * bind/unbind/getep/privileges and cleans up after a process that dies.
 */
#ifndef DVS_DVS_H
#define DVS_DVS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dvs/errors.h"
#include "dvs/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Special endpoints of M3-IPC. */
#define DVS_ANY 0x7ace  /* receive from anyone; as a bind p_nr: any free user slot (extension) */
#define DVS_NONE 0x6ace /* no process */
#define DVS_SELF 0x8ace /* the caller */

/* Endpoint encoding (kernel/minix/endpoint.h of the original; NR_TASKS = 35). */
#define DVS_NR_TASKS_MAX 35
#define DVS_GEN_SIZE (DVS_NR_TASKS_MAX + 0x8ace + 1)
#define DVS_ENDPOINT(gen, p_nr) ((gen) * DVS_GEN_SIZE + (p_nr))
#define DVS_ENDPOINT_P(e) ((((e) + DVS_NR_TASKS_MAX) % DVS_GEN_SIZE) - DVS_NR_TASKS_MAX)
#define DVS_ENDPOINT_G(e) (((e) + DVS_NR_TASKS_MAX) / DVS_GEN_SIZE)

#define DVS_TIMEOUT_NOWAIT 0
#define DVS_TIMEOUT_FOREVER (-1)

/* Default bound of each step of a control call, in ms (see above). */
#define DVS_CONTROL_TIMEOUT_MS 10000

#define DVS_NR_DCS 32
#define DVS_NR_NODES 32

/* How a blocked caller waits. Dominates every local figure: report it with every result. */
typedef enum dvs_wait_mode {
  DVS_WAIT_SPIN = 0,            /* busy-poll its completion word (burns a core) */
  DVS_WAIT_SPIN_THEN_BLOCK = 1, /* poll for spin_ns, then futex wait */
  DVS_WAIT_BLOCK = 2            /* futex wait at once */
} dvs_wait_mode_t;

/* Spin budget of DVS_WAIT_SPIN_THEN_BLOCK, in ns, of an endpoint that never called
 * dvs_set_wait, and the default of every tool's --spin-ns. */
#define DVS_DEFAULT_SPIN_NS 20000u

/* Privilege levels (priv_usr_t of the original). */
typedef enum dvs_priv_level {
  DVS_LEVEL_USER = 0,
  DVS_LEVEL_SERVER = 1,
  DVS_LEVEL_TASK = 2,
  DVS_LEVEL_SYSTEM = 3,
  DVS_LEVEL_KERNEL = 4,
  DVS_LEVEL_PROXY = 5
} dvs_priv_level_t;

#define DVS_MAX_SLOTS 512 /* nr_tasks + nr_procs of one DC, at most */

/* ipc_to: bit i set = the holder may send/sendrec/notify/reply to system slot index i
 * (index = p_nr + nr_tasks; only system destinations are checked, as in the original). */
typedef struct dvs_priv {
  int32_t level;
  uint64_t ipc_to[DVS_MAX_SLOTS / 64];
} dvs_priv_t;

typedef struct dvs_dcinfo {
  int32_t dcid;
  int32_t nr_procs, nr_tasks, nr_sysprocs;
  int32_t nr_nodes;
  uint32_t nodes; /* bitmap of nodes the DC spans */
  int64_t max_copylen;
  char name[16];
} dvs_dcinfo_t;

/* p_rts_flags bits (runnable iff 0). */
#define DVS_SLOT_FREE 0x0001u
#define DVS_SENDING 0x0004u
#define DVS_RECEIVING 0x0008u
#define DVS_ONCOPY 0x0100u
#define DVS_REMOTE 0x0400u

typedef struct dvs_procinfo {
  int32_t p_nr, p_endpoint, p_dcid;
  uint32_t p_rts_flags;
  int32_t p_lpid, p_tid;
  int32_t p_nodeid;
  int32_t p_getfrom, p_sendto;
  int32_t p_wait_mode;
  uint64_t p_lclsent, p_lclcopy;
  char p_name[16];
} dvs_procinfo_t;

/* Connect this process to the node's dvsd at socket_path (NULL: $DVS_SOCKET, else
 * /run/dvs/dvsd.sock). Idempotent. EDVSDVSINIT if no dvsd answers there within the control bound
 * (also when dvsd is out of descriptors and refuses the connection). */
int dvs_open(const char* socket_path);
/* Unbind everything this process bound and disconnect. */
void dvs_close(void);
/* Node id of the dvsd this process talks to, or EDVSDVSINIT. */
int dvs_nodeid(void);

/* Bind the calling process (dvs_bind) or thread (dvs_tbind) to slot p_nr of DC dcid
 * (p_nr may also be given as an endpoint; DVS_ANY picks a free user slot). Returns the endpoint.
 * EDVSSLOTUSED if taken, EDVSBADPROC out of range, EDVSBADDCID no such DC here,
 * EDVSBUSY if the caller is already bound, EDVSPRIVILEGES for a system slot without authority.
 * Opens the default socket if dvs_open was not called. */
int dvs_bind(int dcid, int p_nr);
int dvs_tbind(int dcid, int p_nr);
/* Bind process pid (of this node) to a slot on its behalf; pid then calls dvs_wait4bind. Needs
 * authority (else EDVSPRIVILEGES). The slot stays reserved until pid takes it, pid exits, or the
 * caller's connection to dvsd closes (dvs_close, exit); once taken it is pid's, as if pid had
 * bound it. */
int dvs_lclbind(int dcid, pid_t pid, int p_nr);
/* Block until dvsd has a binding for the caller's pid (made by dvs_lclbind) and take it.
 * Returns the endpoint; EDVSTIMEDOUT after timeout_ms (dvsd's answer); EDVSDVSINIT if dvsd has
 * not answered by timeout_ms plus the control bound. */
int dvs_wait4bind_T(long timeout_ms);
/* Block until endpoint ep of dcid is bound (by anyone). Timeouts as for dvs_wait4bind_T. */
int dvs_wait4bindep_T(int dcid, int ep, long timeout_ms);
/* Declare that endpoint ep of dcid lives on node nodeid (the original's rmtbind): calls to ep
 * then go through this node's proxy for nodeid. Remote clients are bound automatically when
 * their first message arrives. EDVSSLOTUSED if a local process holds that slot, EDVSPRIVILEGES
 * without authority. */
int dvs_rmtbind(int dcid, int ep, int nodeid);
/* The original's add_node / del_node, at run time on this node. add: processes of dcid may live
 * on nodeid from now on; this node must have a proxy (a configured peer) for it, else
 * EDVSNOPROXY; EDVSNODEBUSY if the DC already spans it. del: the DC no longer spans nodeid:
 * calls in flight to it and local waits for its endpoints fail (EDVSNOTCONN), its endpoints'
 * descriptors are unbound (callers blocked on them get EDVSDSTDIED / EDVSSRCDIED), later calls
 * and its inbound traffic for dcid get EDVSNODCNODE; EDVSNODCNODE if the DC did not span it.
 * Both: EDVSBADDCID, EDVSBADNODEID (out of range, or this node), EDVSPRIVILEGES without
 * authority. */
int dvs_add_node(int dcid, int nodeid);
int dvs_del_node(int dcid, int nodeid);
/* Unbind ep: any endpoint of this process; another process's only with authority (else
 * EDVSPRIVILEGES). Blocked peers get errors. */
int dvs_unbind(int dcid, int ep);
/* Endpoint of a bound local process (its process binding). Answered only if the caller's
 * process is itself bound (process or thread binding) in the DC of that binding, as in the
 * original; otherwise, and if pid has no process binding, EDVSNOTBIND (so nothing is learnt of
 * processes of other DCs). */
int dvs_getep(pid_t pid);
/* The calling thread's effective endpoint, or EDVSNOTBIND. */
int dvs_self(void);
/* Wait strategy of the caller's endpoint. spin_ns: poll budget for SPIN_THEN_BLOCK. */
int dvs_set_wait(dvs_wait_mode_t mode, uint32_t spin_ns);

/* ---- IPC primitives (rendezvous, M3-IPC semantics) ----
 * Errors every primitive may return besides its own:
 *   EDVSTIMEDOUT  the timeout passed (a timeout of more than about 100 years waits forever);
 *   EDVSINTR      a caught signal interrupted the caller while it slept in the call (any handler,
 *                 SA_RESTART or not, like select(2); a DVS_WAIT_SPIN caller is not interrupted:
 *                 give it a timeout). Nothing was delivered; retry if wanted;
 *   EDVSSHUTDOWN  the caller's endpoint was unbound while it was blocked (by a system process or
 *                 dvsd); nothing was delivered. Later calls get EDVSNOTBIND;
 *   EDVSNOTBIND   the caller is not bound, or no longer (unbound, its slot bound to another);
 *   EDVSDVSINIT   the node's dvsd died or exited: blocked calls end so within about 0.2 s, later
 *                 ones at once. dvs_close(), dvs_open() and a new bind continue on the restarted
 *                 dvsd's new table;
 *   EDVSBUSY      a slot lock stayed held past the lock bound (2 s): the call was abandoned,
 *                 nothing will be delivered into it; the caller's next call cleans up first. */
/* send: returns when dst has taken the message. */
int dvs_send_T(int dst_ep, dvs_message_t* m, long timeout_ms);
/* receive from src_ep or DVS_ANY; pending notifications come before queued messages. */
int dvs_receive_T(int src_ep, dvs_message_t* m, long timeout_ms);
/* send then wait for the reply of the same endpoint, into the same buffer. */
int dvs_sendrec_T(int dst_ep, dvs_message_t* m, long timeout_ms);
/* non-blocking signal; coalesced while pending. */
int dvs_notify(int dst_ep);
/* server receive from ANY (system processes only). */
int dvs_rcvrqst_T(dvs_message_t* m, long timeout_ms);
/* server reply: dst must already wait for a reply from the caller (a sendrec to it, or a
 * receive from exactly it; a receive from DVS_ANY does not count), else EDVSPROCSTS at once: a
 * client that gave up (timed out) and moved on never takes a late reply as a new message. */
int dvs_reply_T(int dst_ep, dvs_message_t* m, long timeout_ms);
/* third-party copy of bytes from (src_ep, src_addr) to (dst_ep, dst_addr); the caller
 * (a system process) may be either party or neither. Parties other than the caller must be
 * blocked receiving. bytes <= max_copylen. Returns bytes copied. */
long dvs_vcopy(int src_ep, const void* src_addr, int dst_ep, void* dst_addr, size_t bytes);
/* force ep out of a blocking call with EDVSWOKENUP. */
int dvs_wakeup(int dcid, int ep);

#define dvs_send(d, m) dvs_send_T((d), (m), DVS_TIMEOUT_FOREVER)
#define dvs_receive(s, m) dvs_receive_T((s), (m), DVS_TIMEOUT_FOREVER)
#define dvs_sendrec(d, m) dvs_sendrec_T((d), (m), DVS_TIMEOUT_FOREVER)
#define dvs_rcvrqst(m) dvs_rcvrqst_T((m), DVS_TIMEOUT_FOREVER)
#define dvs_reply(d, m) dvs_reply_T((d), (m), DVS_TIMEOUT_FOREVER)

/* ---- introspection and privileges ---- */
int dvs_getdcinfo(int dcid, dvs_dcinfo_t* out);
int dvs_getprocinfo(int dcid, int p_nr, dvs_procinfo_t* out);
int dvs_getpriv(int dcid, int ep, dvs_priv_t* out);
/* Change the privileges of ep: needs authority (else EDVSPRIVILEGES), whether or not the caller
 * is bound. */
int dvs_setpriv(int dcid, int ep, const dvs_priv_t* priv);

#ifdef __cplusplus
}
#endif
#endif
