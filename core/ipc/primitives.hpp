// The M3-IPC primitives on a shared DC table (semantics of the M3-IPC 1.6 Programmer's Guide), run in the caller's process.
//
// Every function returns >= 0 on success or an EDVS code. Blocking calls block at most until
// their timeout (ms; 0 = never block, -1 = forever) and use the caller's wait strategy.
// Message buffers belong to the caller and are used only during the call.
// Deviation from the original: blocking send/sendrec/receive(src) calls that would close a cycle
// of blocked processes fail with EDVSLOCKED (the original defined the code but never detected).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "core/ipc/shm_table.hpp"
#include "core/ipc/waiter.hpp"
#include "dvs/dvs.h"

namespace dvs::core {

// The identity a call acts as: a bound slot of a mapped table.
struct Caller {
  DcTable* table = nullptr;
  int index = kNoSlot;
  int32_t endpoint = DVS_NONE;
  int wait_mode = DVS_WAIT_SPIN_THEN_BLOCK;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;
  LinkWaiter* links = nullptr;  // set when the caller reads links of its own (waiter.hpp); owned by libdvs
};

int ipc_send(Caller& c, int dst_ep, dvs_message_t* m, long timeout_ms);
int ipc_receive(Caller& c, int src_ep, dvs_message_t* m, long timeout_ms);
int ipc_sendrec(Caller& c, int dst_ep, dvs_message_t* m, long timeout_ms);
int ipc_notify(Caller& c, int dst_ep);
int ipc_rcvrqst(Caller& c, dvs_message_t* m, long timeout_ms);
int ipc_reply(Caller& c, int dst_ep, dvs_message_t* m, long timeout_ms);
long ipc_vcopy(Caller& c, int src_ep, const void* src_addr, int dst_ep, void* dst_addr, size_t bytes);
// Forces ep out of its blocking call with EDVSWOKENUP (or makes its next receive(ANY) fail so).
int ipc_wakeup(DcTable& t, int ep);

}  // namespace dvs::core
