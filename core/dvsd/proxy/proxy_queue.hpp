// dvsd's side of a DC table's per-node work lists (remote.hpp, "Model"): the dispatcher pops what
// local callers and surrogates queued for a node's proxy, and the link's state is published in
// that node's proxy slot. dvsd only.
#pragma once

#include <cstdint>

#include "core/ipc/remote.hpp"
#include "core/ipc/shm_table.hpp"
#include "dvs/message.h"

namespace dvs::core {

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

}  // namespace dvs::core
