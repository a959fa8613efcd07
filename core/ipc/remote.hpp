// Remote IPC on the shared tables: how a call to an endpoint on another node reaches that node's
// proxy in dvsd, and how dvsd's proxies deliver and complete remote work here.
//
// Model (M3-IPC's remote descriptors, M3-IPC 1.6 Programmer's Guide): a slot is FREE, LOCAL (a bound process) or REMOTE (a descriptor
// with the node where the endpoint lives; flag DVS_REMOTE). After the endpoint slots each DC
// table has one proxy slot per node; its sender queue is the work list of dvsd's proxy for that
// node (like the original's sender-proxy queue, get2rmt):
//   - a local caller of send/sendrec/notify/reply to a REMOTE endpoint queues itself there and
//     blocks; the proxy sends the frame and completes the call when the ACK (send, reply), the
//     reply (sendrec) or the pickup (notify) comes;
//   - a surrogate (the REMOTE descriptor of a remote sender) whose message a local receive took
//     is queued there too, so that the proxy sends the SEND_ACK.
// The caller side runs in libdvs; everything named proxy_* runs in dvsd (one thread per link
// delivers and completes, one thread per DC pops). A surrogate's state is written only by the
// proxy thread of its node while it is not queued (it is that slot's "owner").
#pragma once

#include <cstdint>

#include "core/ipc/primitives.hpp"
#include "core/ipc/shm_table.hpp"
#include "dvs/message.h"

namespace dvs::core {

// Remote commands (the wire protocol's command numbers; an acknowledgement adds kAck).
enum RemoteCmd : int32_t {
  kCmdNone = 0,
  kCmdSend = 1,
  kCmdNotify = 2,
  kCmdSendrec = 3,
  kCmdReply = 4,
  kCmdVcopy = 5,  // a vcopy with one remote party: COPYIN_DATA or COPYOUT_RQST chunks on the wire
  kAck = 0x2000,
};

// The descriptor of a remote vcopy, carried in the requester's message buffer while it waits.
struct VcopyRequest {
  int32_t src_ep;
  int32_t dst_ep;
  uint64_t src_addr;
  uint64_t dst_addr;
  uint64_t bytes;
};
void pack_vcopy(const VcopyRequest& v, dvs_message_t* m);
VcopyRequest unpack_vcopy(const dvs_message_t& m);

// ---- the direct path (docs/REMOTE_PATHS.md) ----
// A call whose destination node the table marks direct (DcTable::direct_to) skips this node's
// dispatcher: the caller encodes its command and sends it on its own link to that node (libdvs
// installs the sender; dvs_core has no transports). The remote dvsd hands it to the callee; ACKs
// and replies come back as on the proxy path and complete the caller here. vcopy always takes the
// proxy path.
struct DirectCommand {
  int node = -1;        // the destination node
  int cmd = kCmdNone;   // kCmdSend, kCmdSendrec, kCmdNotify, kCmdReply
  int32_t src_ep = DVS_NONE;
  int32_t dst_ep = DVS_NONE;
  uint32_t seq = 0;      // the caller's operation sequence
  uint32_t ack_seq = 0;  // a reply: the client's operation it answers; an ACK: the operation acknowledged
  int32_t rcode = 0;     // an ACK: the result
  dvs_message_t msg{};
  LinkWaiter* sender_links = nullptr;  // the sending endpoint's own links, if it has any (Caller::links)
};
// Sends c (called without any slot lock; may block in the transport). 0, or EDVSNOTCONN when the
// caller's link to that node cannot be had or failed.
using DirectSender = int (*)(DcTable& t, const DirectCommand& c);
// Installed once by libdvs; nullptr (the default) makes every call take the proxy path.
void set_direct_sender(DirectSender sender);

// ---- caller side (libdvs) ----
// dst_index is a REMOTE slot bound to dst_ep. Queues the caller for that node's proxy and blocks
// until the proxy completes the call. EDVSNOTCONN if the node's link is down.
int remote_call(Caller& c, int dst_index, int dst_ep, int cmd, dvs_message_t* m, long timeout_ms);
// A vcopy whose remote party (src or dst) lives on node: queued for that node's proxy, which
// moves the data in pipelined chunks. Returns bytes copied or an error (30 s bound, as the
// original's TIMEOUT_MOLCALL).
long remote_vcopy(Caller& c, int node, const VcopyRequest& v);

// Called with the surrogate's lock held, when a REMOTE surrogate's operation ends here: a receive
// took its plain send (SEND_ACK, result 0), or the local party died (SEND_ACK / SNDREC_ACK with an
// error). Queues the answer (op | kAck, from local_ep) for the proxy of the surrogate's node.
void queue_remote_answer(DcTable& t, int surrogate, int op, int result, int32_t local_ep);

// A SEND_ACK a receive owes the remote sender whose message it took (surrogate: its REMOTE slot).
struct OwedAck {
  int surrogate = kNoSlot;
  int node = -1;
  int32_t dst_ep = DVS_NONE;  // the remote sender
  int32_t src_ep = DVS_NONE;  // the receiver
  uint32_t ack_seq = 0;       // the sender's operation
};
// Sends it, with no lock held: on the receiver's own link when the sender's node is on the direct
// path (ipc_receive's caller thread, no dvsd hand-off), else (or if that fails) queued for the
// proxy as queue_remote_answer does.
void send_owed_ack(DcTable& t, const OwedAck& a, LinkWaiter* receiver_links);

// Wakes dvsd's dispatcher of this table.
void ring_doorbell(DcTable& t);

// ---- proxy side (dvsd) ----
struct OutboundJob {
  int32_t cmd = kCmdNone;  // kCmdSend/Notify/Sendrec/Reply/Vcopy, or op|kAck owed by a surrogate
                           // (the numbers are the wire commands: op|kAck is the wire ACK)
  int32_t slot = -1;       // the local caller, or the surrogate
  int32_t src_ep = DVS_NONE;
  int32_t dst_ep = DVS_NONE;
  uint32_t seq = 0;      // the caller's operation sequence (echoed by the ACK)
  uint32_t ack_seq = 0;  // the remote operation this answers (ACKs and replies)
  int32_t rcode = 0;
  dvs_message_t msg{};
};

// Takes the next job queued for node's proxy: 0, or EDVSNOMSG if there is none.
int proxy_pop(DcTable& t, int node, OutboundJob* job);

// Link state of node. Going down fails every local call waiting on that node with EDVSNOTCONN,
// drops its queued work, takes its surrogates out of local queues and unbinds the descriptors its
// frames auto-bound (wire_bind_remote).
void proxy_set_up(DcTable& t, int node, bool up);
bool proxy_is_up(DcTable& t, int node);

// Results of proxy_deliver besides an error code (which the caller returns in the ACK).
constexpr int kDelivered = 1;  // the receiver took it now: ack now (send) / wait for the reply
constexpr int kQueued = 2;     // the receiver will take it later: the ACK goes through proxy_pop

// An inbound SEND / SNDREC / NTFY from src_ep on node to local dst_ep (auto-binds the surrogate).
// A SEND or SNDREC from a node whose link is down is refused with EDVSNOTCONN (no answer could go
// back, and proxy_set_up(down) has swept that node's surrogates).
int proxy_deliver(DcTable& t, int node, int cmd, int32_t src_ep, int32_t dst_ep, uint32_t seq,
                  const dvs_message_t& m);
// An inbound REPLY from src_ep on node to local dst_ep answering its sendrec ack_seq. 0 or
// EDVSPROCSTS (the client does not wait for it any more) — the caller sends REPLY_ACK with it.
int proxy_reply(DcTable& t, int node, int32_t src_ep, int32_t dst_ep, uint32_t ack_seq, const dvs_message_t& m);
// An inbound acknowledgement (cmd | kAck) for local dst_ep's operation ack_seq. Stale ACKs
// (the caller timed out or moved on) are ignored: returns EDVSACKWAIT then.
int proxy_complete(DcTable& t, int node, int cmd, int32_t dst_ep, uint32_t ack_seq, int rcode);

// An inbound remote command (the wire's numbers: kCmd*, an acknowledgement op | kAck), wherever it
// was read: a node link or process link in dvsd, or a process's own link (the direct path).
struct InboundCommand {
  int cmd = kCmdNone;
  int32_t src_ep = DVS_NONE;
  int32_t dst_ep = DVS_NONE;
  uint32_t seq = 0;
  uint32_t ack_seq = 0;
  int32_t rcode = 0;
  dvs_message_t msg{};
};
// What to send back to the command's src_ep (ack_seq = the command's seq): kCmdNone for nothing.
struct InboundAnswer {
  int cmd = kCmdNone;
  int32_t rcode = 0;
};
// Delivers c from node into t (proxy_deliver / proxy_reply / proxy_complete) and says what to
// answer: SEND_ACK for a send taken now or refused, SNDREC_ACK for a refused sendrec, REPLY_ACK for
// a reply if reply_acks (the proxy path; a direct replier waits for none), an error ACK for a
// command not handled here (vcopy). A send queued for a busy receiver is answered later, through
// the dispatcher (queue_remote_answer).
InboundAnswer handle_inbound(DcTable& t, int node, const InboundCommand& c, bool reply_acks);

// index_of_endpoint (slot_ops.hpp) for dvsd: endpoint -> slot index, EDVSENDPOINT if malformed.
int index_of_endpoint_public(DcTable& t, int ep, int* index);

// For the proxy moving vcopy data here: the pid of a local party ep that may be read or written
// now (bound here and blocked receiving, or the requester itself), else an error.
int proxy_copy_party(DcTable& t, int32_t ep, int32_t requester_ep, pid_t* pid);

// Declares that ep lives on node (rmtbind). EDVSSLOTUSED if a local process holds the slot; a
// stale REMOTE descriptor is replaced.
int admin_bind_remote(DcTable& t, int ep, int node);
// The auto-bind of a remote client by a frame from node (what a peer may do, docs/SECURITY.md):
// only into a FREE slot, over a descriptor of that same node, or over an idle descriptor another
// node's frames made (stale: the slot was unbound there and bound on the sender); never over an
// rmtbind's descriptor or one in a call (EDVSSLOTUSED);
// at most TableHeader::max_autobound of them per node (EDVSNOSPC). The descriptor is marked kMiscAutoBound; proxy_set_up(down) releases them.
int wire_bind_remote(DcTable& t, int ep, int node);

// dvsd's dispatcher: wait until the doorbell moves past `seen` or timeout_ms passes.
void proxy_wait_doorbell(DcTable& t, uint32_t seen, int timeout_ms);

}  // namespace dvs::core
