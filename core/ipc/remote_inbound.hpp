// The receiving side of remote IPC: what a command read from a link does to this node's table
// (delivery into a local endpoint, replies, acknowledgements, the auto-bind of a remote client's
// descriptor). Run by dvsd's link threads on the proxy path and, on the direct path, by the
// receiving endpoint's own thread in libdvs (core/libdvs/direct_path.hpp). Model and locking:
// remote.hpp.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "core/ipc/remote.hpp"
#include "core/ipc/shm_table.hpp"
#include "dvs/message.h"

namespace dvs::core {

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

// Takes surrogate e (a remote caller's descriptor) out of whatever it waits in: out of the queue
// of the local slot it sends to, its blocked state and pending remote command cleared. For when
// its remote caller moved on or the link to its node went down. Takes the locks it needs (the
// caller holds none); a lock it cannot take leaves that part as it is.
void abandon_surrogate_op(DcTable& t, int e);

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

}  // namespace dvs::core
