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

// The receiving side (what a link's commands do to this table) is remote_inbound.hpp; dvsd's
// per-node work lists are core/dvsd/proxy/proxy_queue.hpp.

}  // namespace dvs::core
